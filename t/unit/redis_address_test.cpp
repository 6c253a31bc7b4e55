// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/redis_address.hpp"

namespace mailhook {
namespace {

std::optional<RedisTarget> parse(std::vector<std::string_view> args, std::string* why = nullptr) {
    std::string error;
    auto target = parse_redis_target(args, error);
    if (why != nullptr) *why = error;
    return target;
}

TEST(RedisEndpoint, HostsPortsAndSockets) {
    auto e = parse_redis_endpoint("redis.internal:6380");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "redis.internal");
    EXPECT_EQ(e->port, 6380);
    EXPECT_EQ(e->describe(), "redis.internal:6380");

    e = parse_redis_endpoint("10.0.0.7");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "10.0.0.7");
    EXPECT_EQ(e->port, 6379);

    e = parse_redis_endpoint("[2001:db8::1]:7000");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "2001:db8::1");
    EXPECT_EQ(e->port, 7000);
    EXPECT_EQ(e->describe(), "[2001:db8::1]:7000");

    e = parse_redis_endpoint("[::1]");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "::1");
    EXPECT_EQ(e->port, 6379);

    e = parse_redis_endpoint("unix:/run/redis/redis.sock");
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->is_unix());
    EXPECT_EQ(e->unix_path, "/run/redis/redis.sock");
    EXPECT_EQ(e->describe(), "unix:/run/redis/redis.sock");
}

TEST(RedisEndpoint, RefusesMalformedAddresses) {
    for (const char* bad : {"", ":6379", "host:", "host:0", "host:65536", "host:12a",
                            "host:123456", "::1", "[::1", "[]:6379", "[::1]6379", "[::1]:",
                            "unix:", "a b:1", "host/x:1"}) {
        EXPECT_FALSE(parse_redis_endpoint(bad)) << bad;
    }
}

TEST(RedisTarget, OptionsInAnyOrder) {
    const auto t = parse({"db=3", "redis:6380", "password=s3cret", "tls", "user=mailhook"});
    ASSERT_TRUE(t);
    ASSERT_EQ(t->endpoints.size(), 1u);
    EXPECT_EQ(t->endpoints[0].describe(), "redis:6380");
    EXPECT_TRUE(t->tls);
    EXPECT_EQ(t->user, "mailhook");
    EXPECT_EQ(t->password, "s3cret");
    EXPECT_EQ(t->db, 3);
}

TEST(RedisTarget, TheOldSyntaxKeepsWorking) {
    const auto t = parse({"127.0.0.1:6379", "password=x", "db=0"});
    ASSERT_TRUE(t);
    EXPECT_FALSE(t->tls);
    EXPECT_TRUE(t->user.empty());
    EXPECT_EQ(t->password, "x");
    EXPECT_EQ(t->db, 0);
}

TEST(RedisTarget, ClusterTakesSeedNodes) {
    const auto t = parse({"10.0.0.1:7000", "cluster", "10.0.0.2:7000", "tls", "password=x"});
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->cluster);
    ASSERT_EQ(t->endpoints.size(), 2u);
    EXPECT_EQ(t->endpoints[1].host, "10.0.0.2");
    EXPECT_FALSE(parse({"a"})->cluster);
    std::string why;
    EXPECT_FALSE(parse({"a", "cluster", "db=0"}, &why));
    EXPECT_EQ(why, "\"db=\" with \"cluster\" (a cluster has database 0 only)");
    EXPECT_FALSE(parse({"a", "cluster", "cluster"}, &why));
}

TEST(RedisTarget, SaysWhatIsWrong) {
    std::string why;
    EXPECT_FALSE(parse({"redis", "db=x"}, &why));
    EXPECT_EQ(why, "invalid \"db=x\"");
    EXPECT_FALSE(parse({"redis", "db=1", "db=2"}, &why));
    EXPECT_FALSE(parse({"redis", "colour=blue"}, &why));
    EXPECT_EQ(why, "invalid parameter \"colour=blue\"");
    EXPECT_FALSE(parse({"tls"}, &why));
    EXPECT_EQ(why, "no address");
    EXPECT_FALSE(parse({"a", "b"}, &why));
    EXPECT_EQ(why, "more than one address (seed nodes of a cluster need \"cluster\")");
    EXPECT_FALSE(parse({"a", "user=u"}, &why));
    EXPECT_EQ(why, "\"user=\" needs \"password=\"");
    EXPECT_FALSE(parse({"a", "password="}, &why));
    EXPECT_FALSE(parse({"a", "tls", "tls"}, &why));
    EXPECT_FALSE(parse({"a:b"}, &why));
    EXPECT_EQ(why, "invalid address \"a:b\"");
}

TEST(RedisTarget, SentinelsFindThePrimaryByName) {
    const auto t = parse({"s1:26379", "s2:26379", "[::1]:26380", "sentinel=mymaster",
                          "sentinel_user=watcher", "sentinel_password=pw", "password=x"});
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->uses_sentinel());
    ASSERT_EQ(t->endpoints.size(), 3u);
    EXPECT_EQ(t->endpoints[2].describe(), "[::1]:26380");
    EXPECT_EQ(t->sentinel, "mymaster");
    EXPECT_EQ(t->sentinel_user, "watcher");
    EXPECT_EQ(t->sentinel_password, "pw");
    EXPECT_EQ(t->password, "x");
    EXPECT_FALSE(parse({"redis"})->uses_sentinel());
}

TEST(RedisTarget, SentinelOptionsSayWhatIsWrong) {
    std::string why;
    EXPECT_FALSE(parse({"s1", "sentinel="}, &why));
    EXPECT_EQ(why, "\"sentinel=\" is empty");
    EXPECT_FALSE(parse({"s1", "sentinel=a", "sentinel=b"}, &why));
    EXPECT_EQ(why, "\"sentinel=\" is given twice");
    EXPECT_FALSE(parse({"s1", "sentinel_password=pw"}, &why));
    EXPECT_EQ(why, "\"sentinel_user=\" and \"sentinel_password=\" need \"sentinel=\"");
    EXPECT_FALSE(parse({"s1", "sentinel=m", "sentinel_user=u"}, &why));
    EXPECT_EQ(why, "\"sentinel_user=\" needs \"sentinel_password=\"");
    EXPECT_FALSE(parse({"sentinel=m"}, &why));
    EXPECT_EQ(why, "no address");
    EXPECT_FALSE(parse({"s1", "s2", "sentinel=m", "cluster"}, &why));
    EXPECT_EQ(why, "\"sentinel=\" with \"cluster\"");
}

}  // namespace
}  // namespace mailhook
