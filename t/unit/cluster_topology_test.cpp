// SPDX-License-Identifier: BSD-2-Clause
#include "../../src/core/cluster_topology.hpp"

#include <gtest/gtest.h>

#include <string>

#include "../../src/core/redis_reply.hpp"

namespace mailhook {
namespace {

std::string bulk(std::string_view s) {
    return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
std::string integer(long long n) { return ":" + std::to_string(n) + "\r\n"; }
std::string array(std::initializer_list<std::string> items) {
    std::string out = "*" + std::to_string(items.size()) + "\r\n";
    for (const std::string& item : items) out += item;
    return out;
}

RedisReplyPtr reply_of(const std::string& resp) {
    RedisReplyReader reader;
    EXPECT_TRUE(reader.feed(resp));
    RedisReplyPtr reply = reader.next();
    EXPECT_TRUE(reply);
    return reply;
}

// As Redis 7.0 answers CLUSTER SHARDS over RESP2.
std::string shard_node(std::string_view ip, long long port, std::string_view role,
                       std::string_view health, long long tls_port = 0) {
    if (tls_port > 0) {
        return array({bulk("id"), bulk("abc"), bulk("port"), integer(port), bulk("tls-port"),
                      integer(tls_port), bulk("ip"), bulk(ip), bulk("endpoint"), bulk(ip),
                      bulk("role"), bulk(role), bulk("replication-offset"), integer(1),
                      bulk("health"), bulk(health)});
    }
    return array({bulk("id"), bulk("abc"), bulk("port"), integer(port), bulk("ip"), bulk(ip),
                  bulk("endpoint"), bulk(ip), bulk("role"), bulk(role),
                  bulk("replication-offset"), integer(1), bulk("health"), bulk(health)});
}

TEST(ClusterShards, EachShardsOnlinePrimaryAndItsRanges) {
    const std::string resp = array({
        array({bulk("slots"), array({integer(0), integer(5460), integer(10923), integer(10999)}),
               bulk("nodes"), array({shard_node("127.0.0.1", 7001, "replica", "online"),
                                     shard_node("127.0.0.1", 7000, "master", "online")})}),
        // A failed-over shard: the old primary failed, the promoted one online.
        array({bulk("slots"), array({integer(5461), integer(10922)}), bulk("nodes"),
               array({shard_node("127.0.0.1", 7002, "master", "failed"),
                      shard_node("127.0.0.1", 7003, "master", "online")})}),
        // A primary without slots yet (just added).
        array({bulk("slots"), array({}), bulk("nodes"),
               array({shard_node("127.0.0.1", 7004, "master", "online")})}),
    });
    const auto shards = parse_cluster_shards(*reply_of(resp), false, "seed");
    ASSERT_TRUE(shards);
    ASSERT_EQ(shards->size(), 2u);
    EXPECT_EQ((*shards)[0].primary.describe(), "127.0.0.1:7000");
    ASSERT_EQ((*shards)[0].slots.size(), 2u);
    EXPECT_EQ((*shards)[0].slots[1], std::make_pair(10923u, 10999u));
    EXPECT_EQ((*shards)[1].primary.describe(), "127.0.0.1:7003");
}

TEST(ClusterShards, TlsPortWhenTlsAndUnknownAddressIsTheReplyingNode) {
    const std::string resp = array({array(
        {bulk("slots"), array({integer(0), integer(16383)}), bulk("nodes"),
         array({shard_node("", 7000, "master", "online", 8000)})})});
    auto shards = parse_cluster_shards(*reply_of(resp), true, "10.1.1.1");
    ASSERT_TRUE(shards && shards->size() == 1);
    EXPECT_EQ((*shards)[0].primary.describe(), "10.1.1.1:8000");
    shards = parse_cluster_shards(*reply_of(resp), false, "10.1.1.1");
    EXPECT_EQ((*shards)[0].primary.port, 7000);
}

TEST(ClusterShards, OtherShapesAreRefused) {
    EXPECT_FALSE(parse_cluster_shards(*reply_of("+OK\r\n"), false, ""));
    EXPECT_FALSE(parse_cluster_shards(*reply_of(array({bulk("x")})), false, ""));
    EXPECT_FALSE(parse_cluster_shards(
        *reply_of(array({array({bulk("slots"), array({integer(0), integer(16384)}),
                                bulk("nodes"), array({})})})),
        false, ""));
}

TEST(ClusterSlots, RangesGroupedByPrimary) {
    const std::string resp = array({
        array({integer(0), integer(99), array({bulk("127.0.0.1"), integer(7000), bulk("id0")}),
               array({bulk("127.0.0.1"), integer(7003), bulk("id3")})}),
        array({integer(100), integer(16000), array({bulk(""), integer(7001), bulk("id1")})}),
        array({integer(16001), integer(16383),
               array({bulk("127.0.0.1"), integer(7000), bulk("id0")})}),
    });
    const auto shards = parse_cluster_slots(*reply_of(resp), "seed");
    ASSERT_TRUE(shards);
    ASSERT_EQ(shards->size(), 2u);
    EXPECT_EQ((*shards)[0].slots.size(), 2u);
    EXPECT_EQ((*shards)[1].primary.describe(), "seed:7001");
    EXPECT_FALSE(parse_cluster_slots(*reply_of(array({array({integer(0)})})), ""));
}

TEST(ClusterRedirect, MovedAndAsk) {
    auto r = parse_cluster_redirect("MOVED 3999 127.0.0.1:6381", "x");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, ClusterRedirect::Kind::moved);
    EXPECT_EQ(r->slot, 3999u);
    EXPECT_EQ(r->target.describe(), "127.0.0.1:6381");
    r = parse_cluster_redirect("ASK 0 :7000", "10.0.0.9");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, ClusterRedirect::Kind::ask);
    EXPECT_EQ(r->target.describe(), "10.0.0.9:7000");
    r = parse_cluster_redirect("MOVED 16383 ::1:7000", "x");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->target.host, "::1");
    for (const char* bad : {"MOVED", "MOVED 16384 a:1", "MOVED x a:1", "MOVED 1 a", "MOVED 1 a:",
                            "MOVED 1 a:70000", "ERR MOVED 1 a:1", "TRYAGAIN x", "ASK 1 a:1 b"}) {
        EXPECT_FALSE(parse_cluster_redirect(bad, "x")) << bad;
    }
}

TEST(ClusterSlotTable, AssignForgetCount) {
    ClusterSlotTable table;
    EXPECT_EQ(table.unknown_slots(), kClusterSlots);
    table.assign(0, 8191, 0);
    table.assign(8192, 16383, 1);
    EXPECT_EQ(table.node(8191), 0);
    EXPECT_EQ(table.node(8192), 1);
    EXPECT_EQ(table.node(16384), ClusterSlotTable::kUnknown);
    EXPECT_EQ(table.unknown_slots(), 0u);
    table.forget(0);
    EXPECT_EQ(table.unknown_slots(), 8192u);
    EXPECT_EQ(table.node(0), ClusterSlotTable::kUnknown);
}

}  // namespace
}  // namespace mailhook
