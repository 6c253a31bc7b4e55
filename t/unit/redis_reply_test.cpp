// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/redis_reply.hpp"

namespace mailhook {
namespace {

TEST(RedisReplyReader, RepliesSplitAnywhere) {
    const std::string stream = "+OK\r\n*2\r\n:3\r\n$5\r\nab\r\nc\r\n-NOPERM no\r\n$-1\r\n";
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        RedisReplyReader reader;
        ASSERT_TRUE(reader.feed(std::string_view(stream).substr(0, cut)));
        std::vector<RedisReplyPtr> replies;
        while (auto reply = reader.next()) replies.push_back(std::move(reply));
        ASSERT_TRUE(reader.feed(std::string_view(stream).substr(cut)));
        while (auto reply = reader.next()) replies.push_back(std::move(reply));
        ASSERT_FALSE(reader.failed()) << reader.error();
        ASSERT_EQ(replies.size(), 4u) << "cut at " << cut;
        EXPECT_EQ(replies[0]->type, REDIS_REPLY_STATUS);
        ASSERT_EQ(replies[1]->type, REDIS_REPLY_ARRAY);
        ASSERT_EQ(replies[1]->elements, 2u);
        EXPECT_EQ(replies[1]->element[0]->integer, 3);
        EXPECT_EQ(reply_text(*replies[1]->element[1]), std::string_view("ab\r\nc"));
        EXPECT_EQ(replies[2]->type, REDIS_REPLY_ERROR);
        EXPECT_EQ(reply_text(*replies[2]), "NOPERM no");
        EXPECT_EQ(replies[3]->type, REDIS_REPLY_NIL);
        EXPECT_EQ(reader.buffered(), 0u);
    }
}

TEST(RedisReplyReader, NotRespIsAnError) {
    RedisReplyReader reader;
    ASSERT_TRUE(reader.feed("HTTP/1.1 400 Bad Request\r\n"));
    EXPECT_FALSE(reader.next());
    EXPECT_TRUE(reader.failed());
    EXPECT_FALSE(reader.feed("+OK\r\n"));
}

TEST(RedisReplyReader, AHugeBulkIsRefusedNotBuffered) {
    RedisReplyReader reader;
    ASSERT_TRUE(reader.feed("$9000000000000\r\n"));
    EXPECT_FALSE(reader.next());
    EXPECT_FALSE(reader.failed());  // waits for the bytes ...
    const std::string chunk(1024 * 1024, 'x');
    bool refused = false;
    for (int i = 0; i < 40 && !refused; ++i) refused = !reader.feed(chunk);
    EXPECT_TRUE(refused);  // ... but not for ever
    EXPECT_TRUE(reader.failed());
}

TEST(RedisReplyReader, DeepNestingIsAnError) {
    RedisReplyReader reader;
    ASSERT_TRUE(reader.feed("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"));
    EXPECT_FALSE(reader.next());
    EXPECT_TRUE(reader.failed());
}

}  // namespace
}  // namespace mailhook
