// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/resp.hpp"

namespace mailhook {
namespace {

TEST(Resp, CommandsAreArraysOfBulkStrings) {
    RespArgs args;
    args.add(std::int64_t{1});
    args.add("mailhook:events");
    EXPECT_EQ(resp_command({"EVALSHA", "abc"}, args),
              "*4\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$15\r\nmailhook:events\r\n");
}

TEST(Resp, NumbersAndJoinedPartsAreOneBulkStringEach) {
    RespArgs args;
    args.add(std::int64_t{-1234567890123});
    args.add_joined({"{\"a\":1", ",\"raw\":", "{}", "}"});
    args.add_joined({});
    EXPECT_EQ(args.count(), 3u);
    EXPECT_EQ(args.encoded(),
              "$14\r\n-1234567890123\r\n$16\r\n{\"a\":1,\"raw\":{}}\r\n$0\r\n\r\n");
}

TEST(Resp, BulkStringsReadBack) {
    RespArgs args;
    args.add(std::int64_t{2});
    args.add("a:b");
    args.add(std::string("bin\r\nary", 8));
    args.add("");
    const auto all = resp_bulk_strings(args.encoded(), 10);
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0], "2");
    EXPECT_EQ(all[1], "a:b");
    EXPECT_EQ(all[2], std::string_view("bin\r\nary", 8));
    EXPECT_EQ(all[3], "");
    EXPECT_EQ(resp_bulk_strings(args.encoded(), 2).size(), 2u);
    EXPECT_TRUE(resp_bulk_strings("*2\r\n", 3).empty());
    EXPECT_TRUE(resp_bulk_strings("$5\r\nab", 3).empty());
    EXPECT_TRUE(resp_bulk_strings("$x\r\nab\r\n", 3).empty());
}

}  // namespace
}  // namespace mailhook
