// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/rate_limit.hpp"

namespace mailhook {
namespace {

TEST(TokenBucket, BurstThenSteadyRate) {
    TokenBucket bucket(3, 1, 1000);  // 3 at once, then one a second
    EXPECT_TRUE(bucket.take(0));
    EXPECT_TRUE(bucket.take(0));
    EXPECT_TRUE(bucket.take(0));
    EXPECT_FALSE(bucket.take(0));
    EXPECT_TRUE(bucket.empty(999));
    EXPECT_TRUE(bucket.take(1000));
    EXPECT_FALSE(bucket.take(1500));
    EXPECT_TRUE(bucket.take(2000));
}

TEST(TokenBucket, NeverHoldsMoreThanItsCapacity) {
    TokenBucket bucket(2, 20, 60000);  // 20 a minute, at most 2 at once
    EXPECT_TRUE(bucket.take(0));
    EXPECT_TRUE(bucket.take(0));
    EXPECT_FALSE(bucket.take(0));
    EXPECT_FALSE(bucket.take(2999));
    EXPECT_TRUE(bucket.take(3000));  // one per 3 s
    // An hour of quiet still gives only the capacity.
    EXPECT_TRUE(bucket.take(3600000));
    EXPECT_TRUE(bucket.take(3600000));
    EXPECT_FALSE(bucket.take(3600000));
}

TEST(TokenBucket, ClockGoingBackwardsAddsNothing) {
    TokenBucket bucket(1, 1, 1000);
    EXPECT_TRUE(bucket.take(5000));
    EXPECT_FALSE(bucket.take(1000));
    EXPECT_FALSE(bucket.take(5999));
    EXPECT_TRUE(bucket.take(6000));
}

TEST(LogThrottle, HoldsBackPerKeyAndReportsTheCount) {
    LogThrottle throttle(2, 1);
    std::uint64_t suppressed = 99;
    EXPECT_TRUE(throttle.allow("signature", 0, suppressed));
    EXPECT_EQ(suppressed, 0u);
    EXPECT_TRUE(throttle.allow("signature", 0, suppressed));
    EXPECT_FALSE(throttle.allow("signature", 0, suppressed));
    EXPECT_FALSE(throttle.allow("signature", 10, suppressed));
    EXPECT_TRUE(throttle.allow("format", 10, suppressed));  // another key
    EXPECT_EQ(suppressed, 0u);
    EXPECT_TRUE(throttle.allow("signature", 1000, suppressed));
    EXPECT_EQ(suppressed, 2u);
    EXPECT_FALSE(throttle.allow("signature", 1000, suppressed));
    EXPECT_TRUE(throttle.allow("signature", 2000, suppressed));
    EXPECT_EQ(suppressed, 1u);
}

TEST(LogThrottle, KeysBeyondTheTableAreNeverSilenced) {
    LogThrottle throttle(1, 1, 2);
    std::uint64_t suppressed = 0;
    EXPECT_TRUE(throttle.allow("a", 0, suppressed));
    EXPECT_TRUE(throttle.allow("b", 0, suppressed));
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(throttle.allow("c", 0, suppressed));
}

}  // namespace
}  // namespace mailhook
