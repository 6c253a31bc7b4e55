// SPDX-License-Identifier: BSD-2-Clause
// read_json() against jansson's own parser: the same answer for every input
// (t/fuzz/fuzz_json checks the same on generated inputs).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/json.hpp"

namespace mailhook {
namespace {

// The tree as text, keys in order, reals as reals: "(none)" when refused.
std::string tree(const json_t* value) {
    if (value == nullptr) return "(none)";
    char* text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    std::string out = text != nullptr ? text : "(undumpable)";
    free(text);
    return out;
}

std::string jansson(std::string_view text) {
    const JsonPtr value(json_loadb(text.data(), text.size(), JSON_DECODE_ANY, nullptr));
    return tree(value.get());
}

std::string ours(std::string_view text) { return tree(read_json(text).get()); }

TEST(JsonReader, AgreesWithJanssonOnEveryCase) {
    using namespace std::string_literals;
    const std::vector<std::string> cases = {
        // documents
        "", " ", "{}", "[]", " {\"a\":1} ", "\t\r\n[1]\n", "{}{}", "[]]", "{}x", "1", "\"s\"",
        "true", "false", "null", "nul", "truex", "[true1]", "[1true]", "True", "[1,]", "[,1]",
        "{,}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "{1:2}", "{\"a\":1 \"b\":2}",
        "[1 2]", "[", "{", "[[[]]]", "\xef\xbb\xbf{}", "{}\0"s, "\0"s,
        // keys: order, repeats (the last value, in the first place), escapes
        R"({"b":1,"a":2,"b":3})", R"({"a\u0062":1,"ab":2})", R"({"\"":{"\\":[]}})",
        R"({"a\u0000b":1})", R"({"":0})",
        // strings
        R"("plain")", R"("a\"b\\c\/d\be\ff\ng\rh\ti")", R"("\u00e9\u20AC\ud83d\ude00")",
        R"("\ud83d")", R"("\ude00")", R"("\ud83dx")", R"("\ud83d\u0041")", R"("\u12")",
        R"("\u12G4")", R"("\x")", R"("\)", "\"abc", "\"a\nb\"", "\"a\tb\"", "\"a\x1f\"",
        "\"a\x7f\"", R"("\u0000")", "\"a\0b\""s, "\"\xc3\xa9\"", "\"\xc3\"", "\"\xc3(\"",
        "\"\xc0\x80\"", "\"\xc1\xbf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"",
        "\"\xef\xbf\xbf\"", "\"\xf0\x9f\x98\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"",
        "\"\x80\"", "\"\xff\"", "\"\xe2\x82\"", "[\"\xe2\x82\xac\",\"\\u20ac\"]",
        // numbers
        "0", "-0", "00", "01", "-01", "1.", ".5", "-", "+1", "1.5", "-1.5e10", "1e400",
        "-1e400", "1e-400", "1E+2", "1e", "1e+", "2.5E-3", "0.1", "1.7976931348623157e308",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "123456789012345678901234567890", "[0,-0,0.0,-0.0]", "1x",
        "[1.5.3]", "[01]", "[-]", "{\"n\":1e5}", "4e-324", "5e-325",
    };
    for (const std::string& text : cases) {
        EXPECT_EQ(ours(text), jansson(text)) << "input: " << text;
    }
}

// jansson skips a NUL right after a number or a literal; a NUL is never
// JSON, so read_json refuses it everywhere.
TEST(JsonReader, RefusesTheStrayNulJanssonSkips) {
    using namespace std::string_literals;
    for (const std::string& text : {"1\0"s, "[1\0]"s, "true\0"s, "{\"a\":0\0}"s}) {
        EXPECT_NE(jansson(text), "(none)") << text;
        EXPECT_EQ(ours(text), "(none)") << text;
    }
}

TEST(JsonReader, RefusesWhatJanssonRefusesOnDepth) {
    for (const std::size_t depth : {2047, 2048, 2049}) {
        const std::string empty = std::string(depth, '[') + std::string(depth, ']');
        const std::string filled = std::string(depth, '[') + "1" + std::string(depth, ']');
        EXPECT_EQ(ours(empty), jansson(empty)) << depth;
        EXPECT_EQ(ours(filled), jansson(filled)) << depth;
    }
    EXPECT_EQ(ours(std::string(2048, '[') + std::string(2048, ']')).size(), 2 * 2048u);
}

TEST(JsonReader, AWebhookBody) {
    const std::string body =
        R"([{"email":"a@example.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>",)"
        R"("event":"processed","category":["cat facts"],"sg_event_id":"sg_event_id","score":0.5,)"
        R"("unique_args":{"k":"v \u00e9"},"ok":true,"none":null}])";
    EXPECT_EQ(ours(body), jansson(body));
    EXPECT_NE(ours(body), "(none)");
}

}  // namespace
}  // namespace mailhook
