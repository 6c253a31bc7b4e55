// SPDX-License-Identifier: BSD-2-Clause
// Byte encodings used by vendor signatures: base64, hex, percent-encoding,
// and the constant-time comparison every secret check goes through.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailhook {

enum class Base64Alphabet { standard, url };

std::string base64_encode(std::string_view bytes,
                          Base64Alphabet alphabet = Base64Alphabet::standard,
                          bool pad = true);

// Accepts input with or without '=' padding; rejects any other stray byte.
std::optional<std::string> base64_decode(
    std::string_view text, Base64Alphabet alphabet = Base64Alphabet::standard);

std::string hex_encode(std::string_view bytes);
std::optional<std::string> hex_decode(std::string_view text);

// Lengths are not secret; the contents are compared without early exit.
bool constant_time_equal(std::string_view a, std::string_view b);

std::string to_lower_ascii(std::string_view text);
bool iequals_ascii(std::string_view a, std::string_view b);
std::string_view trim_ascii(std::string_view text);

// application/x-www-form-urlencoded: '+' is a space, %XX decoded.
// nullopt when a percent escape is malformed.
std::optional<std::string> percent_decode_form(std::string_view text);

using FormFields = std::vector<std::pair<std::string, std::string>>;
// nullopt when an escape is malformed or a name or value holds a NUL byte
// (raw or %00): like JSON bodies (parse_json), form bodies never carry NUL,
// and a NUL in a name cannot survive the trip through JSON.
std::optional<FormFields> parse_form(std::string_view body);

}  // namespace mailhook

namespace mailhook {

bool is_valid_utf8(std::string_view text);
// Length of the well-formed UTF-8 sequence starting at text[i], 0 if none.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);
// Replaces every invalid sequence with U+FFFD.
std::string sanitize_utf8(std::string_view text);

}  // namespace mailhook
