// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include <string>

#include "core/form_data.hpp"

namespace mailhook {
namespace {

TEST(MultipartBoundary, OnlyFromAFormDataType) {
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
    EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"a b;c\""), "a b;c");
    EXPECT_EQ(multipart_boundary("multipart/form-data; charset=utf-8; boundary=x1"), "x1");
    EXPECT_FALSE(multipart_boundary("multipart/mixed; boundary=abc"));
    EXPECT_FALSE(multipart_boundary("application/x-www-form-urlencoded"));
    EXPECT_FALSE(multipart_boundary("multipart/form-data"));
    EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary="));
    EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'b')));
}

constexpr std::string_view kBody =
    "preamble\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"event\"\r\n"
    "\r\n"
    "delivered\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=\"attachment-1\"; filename=\"a.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "file bytes\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"message-headers\"\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "[[\"To\", \"a@example.com\"]]\r\n"
    "line two\r\n"
    "--XyZ--\r\n"
    "epilogue";

TEST(MultipartForm, TextFieldsInOrderFilesLeftOut) {
    const auto fields = parse_multipart_form(kBody, "XyZ");
    ASSERT_TRUE(fields);
    ASSERT_EQ(fields->size(), 2u);
    EXPECT_EQ((*fields)[0], (std::pair<std::string, std::string>{"event", "delivered"}));
    EXPECT_EQ((*fields)[1].first, "message-headers");
    EXPECT_EQ((*fields)[1].second, "[[\"To\", \"a@example.com\"]]\r\nline two");
}

TEST(MultipartForm, EmptyFormAndNoPreamble) {
    const auto fields = parse_multipart_form("--b\r\nContent-Disposition: form-data; "
                                             "name=\"a\"\r\n\r\n\r\n--b--",
                                             "b");
    ASSERT_TRUE(fields);
    ASSERT_EQ(fields->size(), 1u);
    EXPECT_EQ((*fields)[0].second, "");
    EXPECT_TRUE(parse_multipart_form("--b--", "b"));
}

TEST(MultipartForm, RefusesWhatIsNotDelimitedAsRfc2046Says) {
    const std::string part = "Content-Disposition: form-data; name=\"a\"\r\n\r\n1";
    // no delimiter, another boundary, no close delimiter
    EXPECT_FALSE(parse_multipart_form("event=delivered", "b"));
    EXPECT_FALSE(parse_multipart_form("--b\r\n" + part + "\r\n--b--", "c"));
    EXPECT_FALSE(parse_multipart_form("--b\r\n" + part, "b"));
    // a part without its blank line, without a name, not form-data
    EXPECT_FALSE(parse_multipart_form("--b\r\nContent-Disposition: form-data; name=a\r\n--b--", "b"));
    EXPECT_FALSE(parse_multipart_form("--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--", "b"));
    EXPECT_FALSE(parse_multipart_form("--b\r\nContent-Disposition: attachment; name=a\r\n\r\n1\r\n--b--", "b"));
    // garbage after a delimiter, an unterminated quoted name
    EXPECT_FALSE(parse_multipart_form("--bX\r\n" + part + "\r\n--b--", "b"));
    EXPECT_FALSE(parse_multipart_form("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n1\r\n--b--", "b"));
}

TEST(MultipartForm, RefusesNulBytesLikeUrlencodedForms) {
    const std::string nul_value = std::string("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1") +
                                  '\0' + "2\r\n--b--";
    EXPECT_FALSE(parse_multipart_form(nul_value, "b"));
    const std::string nul_in_file = std::string("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n") +
                                    '\0' + "\r\n--b--";
    EXPECT_TRUE(parse_multipart_form(nul_in_file, "b"));  // file bytes are not read
}

}  // namespace
}  // namespace mailhook
