// SPDX-License-Identifier: BSD-2-Clause
// key_slot.hpp: CRC16/XMODEM and Redis Cluster's hash-tag rule, checked
// against a real redis-server's CLUSTER KEYSLOT.
#include <gtest/gtest.h>

#include <random>

#include "core/key_slot.hpp"
#include "redis_server.hpp"

namespace mailhook {
namespace {

TEST(KeySlot, Crc16CheckValue) {
    // The CRC-16/XMODEM check value, as in the Redis Cluster specification.
    EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);
    EXPECT_EQ(crc16_xmodem(""), 0);
}

TEST(KeySlot, HashTagEdgeCases) {
    EXPECT_EQ(hash_tag("{user1000}.following"), "user1000");
    EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");  // empty first tag: whole key
    EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");
    EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
    EXPECT_EQ(hash_tag("{}"), "{}");
    EXPECT_EQ(hash_tag("foo{bar"), "foo{bar");
    EXPECT_EQ(hash_tag("foo}bar{"), "foo}bar{");
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
}

class ClusterKeySlot : public test::RedisSuite<true> {
  protected:
    static long long redis_slot(std::string_view key) {
        const test::Reply reply = redis_->command({"CLUSTER", "KEYSLOT", key});
        if (reply.kind != test::Reply::Kind::integer) {
            throw std::runtime_error("CLUSTER KEYSLOT: " + reply.text);
        }
        return reply.integer;
    }
};

TEST_F(ClusterKeySlot, EdgeCasesAsRedisComputesThem) {
    for (const char* key : {"", "{}", "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "{",
                            "}", "{a", "a}", "}{", "{}{}", "{{}}", "123456789", "foo",
                            "mailhook:dedup:{7}:0123", "mailhook:events:{acme}"}) {
        EXPECT_EQ(key_slot(key), redis_slot(key)) << '"' << key << '"';
    }
}

TEST_F(ClusterKeySlot, RandomKeysAsRedisComputesThem) {
    std::mt19937 random(20261201);
    // Bytes biased towards braces, so tags of every shape occur.
    const std::string alphabet = "{}{}{}ab:cd\x01\xff";
    for (int i = 0; i < 2000; ++i) {
        std::string key(random() % 24, '\0');
        for (char& c : key) {
            c = random() % 4 == 0 ? static_cast<char>(random() % 256)
                                  : alphabet[random() % alphabet.size()];
        }
        ASSERT_EQ(key_slot(key), redis_slot(key)) << testing::PrintToString(key);
    }
}

}  // namespace
}  // namespace mailhook
