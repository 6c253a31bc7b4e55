// SPDX-License-Identifier: BSD-2-Clause
// L3 (security review 2026-12-01): untrusted bytes never start a log line.
#include <gtest/gtest.h>

#include <string>

#include "core/log_safe.hpp"

namespace mailhook {
namespace {

TEST(LogSafe, PrintableAsciiStaysAsItIs) {
    EXPECT_EQ(log_safe("inboxroad c1 arn:aws:sns:us-east-1:1:topic"),
              "inboxroad c1 arn:aws:sns:us-east-1:1:topic");
    EXPECT_EQ(log_safe(""), "");
}

TEST(LogSafe, ControlBytesAreEscaped) {
    EXPECT_EQ(log_safe("c1\n[emerg] forged"), "c1\\x0A[emerg] forged");
    EXPECT_EQ(log_safe("a\rb\x1b[31mc\x7f"), "a\\x0Db\\x1B[31mc\\x7F");
    EXPECT_EQ(log_safe(std::string("nul\0byte", 8)), "nul\\x00byte");
    EXPECT_EQ(log_safe("tab\there"), "tab\\x09here");
}

TEST(LogSafe, BackslashIsEscapedSoTheOutputIsUnambiguous) {
    EXPECT_EQ(log_safe("a\\x0Ab"), "a\\x5Cx0Ab");
}

TEST(LogSafe, ValidUtf8StaysInvalidUtf8IsEscaped) {
    EXPECT_EQ(log_safe("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"),
              "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7");
    EXPECT_EQ(log_safe("\xff\xfe"), "\\xFF\\xFE");
    EXPECT_EQ(log_safe("\xc0\xaf"), "\\xC0\\xAF");            // overlong '/'
    EXPECT_EQ(log_safe("\xe0\x80\xaf"), "\\xE0\\x80\\xAF");    // overlong
    EXPECT_EQ(log_safe("\xed\xa0\x80"), "\\xED\\xA0\\x80");    // surrogate
    EXPECT_EQ(log_safe("\xf4\x90\x80\x80"), "\\xF4\\x90\\x80\\x80");  // > U+10FFFF
    EXPECT_EQ(log_safe("\xe2\x82"), "\\xE2\\x82");            // cut short
    EXPECT_EQ(log_safe("\xc3"), "\\xC3");
}

TEST(LogSafe, C1ControlsAreEscaped) {
    // U+009B is CSI for terminals that honour C1 controls.
    EXPECT_EQ(log_safe("a\xc2\x9b" "31m"), "a\\xC2\\x9B31m");
    EXPECT_EQ(log_safe("\xc2\xa0"), "\xc2\xa0");  // NBSP is text
}

TEST(LogSafe, LengthIsCappedAtACharacterBoundary) {
    EXPECT_EQ(log_safe(std::string(300, 'a')), std::string(253, 'a') + "...");
    EXPECT_EQ(log_safe(std::string(256, 'a')), std::string(256, 'a'));
    EXPECT_EQ(log_safe("abcdefghij", 10), "abcdefghij");
    EXPECT_EQ(log_safe("abcdefghijk", 10), "abcdefg...");
    // An escape is never cut in half.
    EXPECT_EQ(log_safe("abcde\n\n\n", 10), "abcde...");
    const std::string out = log_safe(std::string(1000, '\n'), 64);
    EXPECT_LE(out.size(), 64u);
    EXPECT_EQ(out.substr(out.size() - 3), "...");
    EXPECT_EQ(out.substr(0, 8), "\\x0A\\x0A");
}

TEST(LogSafe, NoOutputByteIsAControlByte) {
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
    const std::string out = log_safe(all, 4096);
    for (const char c : out) {
        const auto byte = static_cast<unsigned char>(c);
        EXPECT_TRUE(byte >= 0x20 && byte != 0x7f) << static_cast<int>(byte);
    }
}

}  // namespace
}  // namespace mailhook
