// SPDX-License-Identifier: BSD-2-Clause
// connection_health.hpp: which rejections of a worker are written (at most
// one write per interval per connection, the held-back ones counted with
// the next), and the health script in a real redis-server.
#include <gtest/gtest.h>

#include <map>

#include "core/connection_health.hpp"
#include "redis_server.hpp"

namespace mailhook {
namespace {

using test::Reply;

TEST(RejectionThrottle, OneWritePerIntervalPerConnection) {
    RejectionThrottle throttle(100, 1000);
    EXPECT_EQ(throttle.note("c1", 10'000), 1);
    for (EpochMillis at = 10'001; at < 11'000; at += 100) {
        EXPECT_EQ(throttle.note("c1", at), std::nullopt) << at;
    }
    EXPECT_EQ(throttle.note("c2", 10'500), 1) << "another connection has its own second";
    EXPECT_EQ(throttle.note("c1", 11'000), 11) << "this one and the ten held back";
    EXPECT_EQ(throttle.note("c1", 11'999), std::nullopt);
    EXPECT_EQ(throttle.note("c1", 30'000), 2);
    EXPECT_EQ(throttle.note("c1", 20'000), 1) << "a clock set back writes at once";
}

TEST(RejectionThrottle, ItsMemoryIsBounded) {
    RejectionThrottle throttle(2, 1000);
    EXPECT_EQ(throttle.note("a", 0), 1);
    EXPECT_EQ(throttle.note("b", 0), 1);
    EXPECT_EQ(throttle.note("c", 0), 1);
    EXPECT_EQ(throttle.note("a", 1), 1) << "a was forgotten: written again";
    EXPECT_EQ(throttle.note("c", 1), std::nullopt);
}

TEST(HealthRejectionArgs, Layout) {
    StoreKeys names;
    names.use_buckets(64);
    const RequestKeys keys(names, "acme");
    const RespArgs args =
        health_rejection_args(keys, "c42", 401, "signature", 1705314600123, 3);
    EXPECT_EQ(args.count(), 5u);
    EXPECT_EQ(std::string(args.encoded()),
              "$1\r\n1\r\n$" + std::to_string(keys.health("c42").size()) + "\r\n" +
                  keys.health("c42") +
                  "\r\n$24\r\n2024-01-15T10:30:00.123Z\r\n$13\r\n401 signature\r\n$1\r\n3\r\n");
}

class HealthScriptInRedis : public test::RedisSuite<> {
  protected:
    Reply reject(unsigned status, std::string_view label, EpochMillis at, std::int64_t count) {
        const StoreKeys names;
        return redis_->command({"EVAL", health_script_source()},
                               health_rejection_args(RequestKeys(names, "acme"), "c42", status,
                                                     label, at, count));
    }
    std::map<std::string, std::string> health() {
        std::map<std::string, std::string> fields;
        const auto& list = redis_->command({"HGETALL", "mailhook:health:c42"}).elements;
        for (std::size_t i = 0; i + 1 < list.size(); i += 2) fields[list[i].text] = list[i + 1].text;
        return fields;
    }
};

TEST_F(HealthScriptInRedis, RecordsTheLastRejectionAndCountsThem) {
    redis_->command({"HSET", "mailhook:health:c42", "accepted", "7"});
    EXPECT_EQ(reject(401, "signature", 1705314600123, 1).integer, 1);
    EXPECT_EQ(reject(400, "format", 1705314601200, 4).integer, 5);
    using Fields = std::map<std::string, std::string>;
    EXPECT_EQ(health(), (Fields{{"accepted", "7"},
                                {"last_rejected_at", "2024-01-15T10:30:01.200Z"},
                                {"last_rejection", "400 format"},
                                {"rejected", "5"}}));
}

TEST_F(HealthScriptInRedis, AKeyOfAnotherTypeIsLeftAlone) {
    redis_->command({"SET", "mailhook:health:c42", "x"});
    EXPECT_TRUE(reject(401, "signature", 0, 1).is_error());
    EXPECT_EQ(redis_->command({"GET", "mailhook:health:c42"}).text, "x");
}

TEST(HealthScript, Sha1IsOfTheSource) {
    EXPECT_EQ(health_script_sha1().size(), 40u);
    EXPECT_NE(health_script_source().find("HINCRBY"), std::string_view::npos);
}

}  // namespace
}  // namespace mailhook
