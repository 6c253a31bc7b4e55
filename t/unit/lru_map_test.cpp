// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include <string>

#include "core/lru_map.hpp"

namespace mailhook {
namespace {

TEST(LruMap, ForgetsTheLeastRecentlyUsedWhenFull) {
    LruMap<int> map(2);
    map.put("a", 1);
    map.put("b", 2);
    ASSERT_NE(map.find("a"), nullptr);  // a is now the most recent
    map.put("c", 3);
    EXPECT_EQ(map.find("b"), nullptr);
    EXPECT_EQ(*map.find("a"), 1);
    EXPECT_EQ(*map.find("c"), 3);
    EXPECT_EQ(map.size(), 2u);
}

TEST(LruMap, PutReplacesAndEraseRemoves) {
    LruMap<std::string> map(3);
    map.put("k", "one");
    map.put("k", "two");
    EXPECT_EQ(map.size(), 1u);
    EXPECT_EQ(*map.find("k"), "two");
    map.erase("k");
    map.erase("absent");
    EXPECT_EQ(map.find("k"), nullptr);
    EXPECT_EQ(map.size(), 0u);
}

TEST(LruMap, StaysBoundedUnderManyDistinctKeys) {
    LruMap<int> map(100);
    for (int i = 0; i < 10000; ++i) map.put("id" + std::to_string(i), i);
    EXPECT_EQ(map.size(), 100u);
    EXPECT_EQ(*map.find("id9999"), 9999);
    EXPECT_EQ(map.find("id9899"), nullptr);
}

}  // namespace
}  // namespace mailhook
