// Regression tests for bugs found by sanitizer builds, fuzzing (t/fuzz/) and
// the hostile-input catalog (t/hostile.t). Each test names what it guards.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "core/timestamp.hpp"

namespace mailhook {
namespace {

// The sanitizer build failed with -Wformat-truncation: the buffer was too
// small for the widest values the format can produce. Any int64 must give a
// complete timestamp.
TEST(Rfc3339, ExtremeValuesAreNotTruncated) {
    for (const EpochMillis at : {std::numeric_limits<EpochMillis>::min(),
                                 std::numeric_limits<EpochMillis>::max(),
                                 EpochMillis{-1}, EpochMillis{0}}) {
        const std::string seconds = format_rfc3339_seconds(at);
        const std::string millis = format_rfc3339_millis(at);
        ASSERT_FALSE(seconds.empty());
        EXPECT_EQ(seconds.back(), 'Z') << seconds;
        EXPECT_EQ(millis.back(), 'Z') << millis;
    }
    EXPECT_EQ(format_rfc3339_millis(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace mailhook
