// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "core/json.hpp"

namespace mailhook {
namespace {

TEST(JsonRef, MovesWithoutTouchingTheCount) {
    const JsonPtr value = parse_json("{}");
    JsonRef first(value.get());
    JsonRef second(std::move(first));
    EXPECT_FALSE(first);
    EXPECT_EQ(second.get(), value.get());
    EXPECT_EQ(value->refcount, 2u);
    static_assert(std::is_nothrow_move_constructible_v<JsonRef>);
}

TEST(JsonString, EscapesWhatJsonNeedsAndKeepsRunsAsTheyAre) {
    std::string out = "x";
    append_json_string(out, "plain text");
    EXPECT_EQ(out, "x\"plain text\"");
    out.clear();
    append_json_string(out, "a\"b\\c\nd\re\tf\x01g\x7f");
    EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\x7f\"");
    out.clear();
    append_json_string(out, "caf\xc3\xa9 \xff!");  // valid UTF-8 kept, a stray byte replaced
    EXPECT_EQ(out, "\"caf\xc3\xa9 \xef\xbf\xbd!\"");
    out.clear();
    append_json_string(out, "");
    EXPECT_EQ(out, "\"\"");
}

TEST(JsonDepth, CountsNestingOutsideStrings) {
    EXPECT_FALSE(json_depth_exceeds("{\"a\":[1,{\"b\":[]}]}", 4));
    EXPECT_TRUE(json_depth_exceeds("{\"a\":[1,{\"b\":[]}]}", 3));
    EXPECT_FALSE(json_depth_exceeds("{\"a\":\"[[[[{{{{\\\"[[[\"}", 1));
    // Every '[', '{' and ',' counts; not what strings hold.
    EXPECT_FALSE(json_values_exceed("[{},{},{}]", 6));
    EXPECT_TRUE(json_values_exceed("[{},{},{}]", 5));
    EXPECT_FALSE(json_values_exceed("{\"a\":\",,,[[{{\\\",\"}", 1));
    EXPECT_TRUE(json_values_exceed("{\"a\":1,\"b\":2}", 1));
    EXPECT_TRUE(json_depth_exceeds(std::string(65, '[') + std::string(65, ']'), 64));
    EXPECT_FALSE(json_depth_exceeds(std::string(64, '[') + std::string(64, ']'), 64));
    // escaped quotes and backslashes inside strings
    EXPECT_FALSE(json_depth_exceeds("[\"\\\"[[\", \"\\\\\", \"x\\\\\\\"{\"]", 1));
    EXPECT_TRUE(json_depth_exceeds("[\"\\\\\", [\"\\\\\\\"\"]]", 1));
    EXPECT_FALSE(json_depth_exceeds("[\"unterminated [[[", 1));
    EXPECT_EQ(parse_json(std::string(65, '[') + std::string(65, ']')), nullptr);
    EXPECT_NE(parse_json(std::string(64, '[') + std::string(64, ']')), nullptr);
}

// The plain look-ups (verify() uses them) answer "absent" for a member of
// another type and note nothing: only Fields (vendor_fields.hpp) is strict.
TEST(JsonLookup, AnotherTypeIsAbsent) {
    const JsonPtr value = parse_json(R"({"a":{"b":1},"n":7,"s":"x"})");
    ASSERT_NE(value, nullptr);
    EXPECT_FALSE(json_string_at(value.get(), "a"));
    EXPECT_FALSE(json_string_at(value.get(), "n"));
    EXPECT_EQ(json_string_at(value.get(), "s"), "x");
    EXPECT_FALSE(json_string_at(value.get(), "missing"));
}

}  // namespace
}  // namespace mailhook
