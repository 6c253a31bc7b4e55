// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/sentinel_reply.hpp"

namespace mailhook {
namespace {

RedisReplyPtr reply_of(std::string_view resp) {
    RedisReplyReader reader;
    EXPECT_TRUE(reader.feed(resp));
    return reader.next();
}

std::string described(const std::optional<RedisEndpoint>& endpoint) {
    return endpoint ? endpoint->describe() : "none";
}

TEST(SentinelReply, TheAddressOfThePrimary) {
    EXPECT_EQ(described(sentinel_primary(*reply_of("*2\r\n$8\r\n10.0.0.7\r\n$4\r\n6380\r\n"))),
              "10.0.0.7:6380");
    EXPECT_EQ(described(sentinel_primary(*reply_of("*2\r\n$7\r\nfd00::1\r\n$4\r\n6379\r\n"))),
              "[fd00::1]:6379");
    EXPECT_EQ(described(sentinel_primary(
                  *reply_of("*2\r\n$18\r\nredis-0.redis.svc.\r\n$4\r\n6379\r\n"))),
              "redis-0.redis.svc.:6379");
}

TEST(SentinelReply, NothingForUnknownNamesOrMalformedAnswers) {
    EXPECT_EQ(described(sentinel_primary(*reply_of("*-1\r\n"))), "none");
    EXPECT_EQ(described(sentinel_primary(*reply_of("$-1\r\n"))), "none");
    EXPECT_EQ(described(sentinel_primary(*reply_of("-IDONTKNOW\r\n"))), "none");
    EXPECT_EQ(described(sentinel_primary(*reply_of("*1\r\n$1\r\na\r\n"))), "none");
    EXPECT_EQ(described(sentinel_primary(*reply_of("*2\r\n$1\r\na\r\n:6379\r\n"))), "none");
    EXPECT_EQ(described(sentinel_primary(*reply_of("*2\r\n$1\r\na\r\n$1\r\n0\r\n"))), "none");
    EXPECT_EQ(described(sentinel_primary(*reply_of("*2\r\n$3\r\n[a]\r\n$2\r\n80\r\n"))), "none");
    EXPECT_EQ(described(sentinel_primary(*reply_of("*2\r\n$0\r\n\r\n$2\r\n80\r\n"))), "none");
}

TEST(SentinelReply, SwitchMasterForOurName) {
    EXPECT_EQ(described(switched_primary("mymaster 127.0.0.1 6379 127.0.0.1 6380", "mymaster")),
              "127.0.0.1:6380");
    EXPECT_EQ(described(switched_primary("other 127.0.0.1 6379 127.0.0.1 6380", "mymaster")),
              "none");
    EXPECT_EQ(described(switched_primary("mymaster 127.0.0.1 6379 127.0.0.1", "mymaster")),
              "none");
    EXPECT_EQ(described(switched_primary("mymaster a 1 b x", "mymaster")), "none");
    EXPECT_EQ(described(switched_primary("", "mymaster")), "none");
}

}  // namespace
}  // namespace mailhook
