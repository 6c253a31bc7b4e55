// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/encoding.hpp"

namespace mailhook {
namespace {

TEST(Base64, RoundTripsEveryLength) {
    std::string bytes;
    for (int i = 0; i < 40; ++i) {
        bytes.push_back(static_cast<char>(i * 37));
        EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
        EXPECT_EQ(base64_decode(base64_encode(bytes, Base64Alphabet::url, false),
                                Base64Alphabet::url),
                  bytes);
    }
}

TEST(Hex, EncodesEveryByteAndDecodesBack) {
    EXPECT_EQ(hex_encode(""), "");
    EXPECT_EQ(hex_encode(std::string("\x00\x0f\xa5\xff", 4)), "000fa5ff");
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    EXPECT_EQ(hex_decode(hex_encode(all)), all);
}

TEST(Base64, RejectsForeignBytes) {
    EXPECT_FALSE(base64_decode("ab$d"));
    EXPECT_FALSE(base64_decode("a"));
    EXPECT_FALSE(base64_decode("ab-_", Base64Alphabet::standard));
    EXPECT_TRUE(base64_decode("ab-_", Base64Alphabet::url));
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "abcd"));
    EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Form, DecodesPlusAndPercent) {
    const auto fields = parse_form("a=1+2&b=%7B%22x%22%7D&empty=&flag");
    ASSERT_TRUE(fields);
    ASSERT_EQ(fields->size(), 4u);
    EXPECT_EQ((*fields)[0].second, "1 2");
    EXPECT_EQ((*fields)[1].second, "{\"x\"}");
    EXPECT_EQ((*fields)[2].second, "");
    EXPECT_EQ((*fields)[3].first, "flag");
    EXPECT_FALSE(parse_form("a=%zz"));
    EXPECT_FALSE(parse_form("a=%4"));
}

TEST(Utf8, ValidatesAndSanitizes) {
    EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9"));
    EXPECT_FALSE(is_valid_utf8("\xc3"));
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));  // surrogate
    EXPECT_EQ(sanitize_utf8("a\xffz"), "a\xef\xbf\xbdz");
}

// Found by fuzz_vendor (crash-smtp2go-form-nul-name): a NUL in a form
// field name became a JSON key jansson cannot read back ("a\u0000b") and
// was truncated in metadata. Form bodies refuse NUL like JSON bodies do.
TEST(ParseForm, RefusesNulBytes) {
    EXPECT_FALSE(parse_form(std::string_view("a\0b=1", 5)));
    EXPECT_FALSE(parse_form(std::string_view("a=1\0", 4)));
    EXPECT_FALSE(parse_form("a%00b=1"));
    EXPECT_FALSE(parse_form("a=%00"));
    EXPECT_TRUE(parse_form("a=%01&b=%7F"));
}

}  // namespace
}  // namespace mailhook
