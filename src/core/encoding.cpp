// SPDX-License-Identifier: BSD-2-Clause
#include "encoding.hpp"

#include <openssl/crypto.h>

#include <array>
#include <cstdint>

namespace mailhook {
namespace {

constexpr std::string_view kStandardDigits =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlDigits =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr int kInvalid = -1;

using DecodeTable = std::array<int, 256>;

constexpr DecodeTable make_decode_table(std::string_view digits) {
    DecodeTable table{};
    for (auto& entry : table) {
        entry = kInvalid;
    }
    for (std::size_t i = 0; i < digits.size(); ++i) {
        table[static_cast<unsigned char>(digits[i])] = static_cast<int>(i);
    }
    return table;
}

constexpr DecodeTable kStandardTable = make_decode_table(kStandardDigits);
constexpr DecodeTable kUrlTable = make_decode_table(kUrlDigits);

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return kInvalid;
}

}  // namespace

std::string base64_encode(std::string_view bytes, Base64Alphabet alphabet,
                          bool pad) {
    const std::string_view digits =
        alphabet == Base64Alphabet::url ? kUrlDigits : kStandardDigits;
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n =
            (std::uint32_t(static_cast<unsigned char>(bytes[i])) << 16) |
            (std::uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8) |
            std::uint32_t(static_cast<unsigned char>(bytes[i + 2]));
        out.push_back(digits[(n >> 18) & 63]);
        out.push_back(digits[(n >> 12) & 63]);
        out.push_back(digits[(n >> 6) & 63]);
        out.push_back(digits[n & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t n = std::uint32_t(static_cast<unsigned char>(bytes[i]))
                          << 16;
        if (rest == 2) {
            n |= std::uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8;
        }
        out.push_back(digits[(n >> 18) & 63]);
        out.push_back(digits[(n >> 12) & 63]);
        if (rest == 2) {
            out.push_back(digits[(n >> 6) & 63]);
        }
        if (pad) {
            out.append(rest == 1 ? "==" : "=");
        }
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text,
                                         Base64Alphabet alphabet) {
    const DecodeTable& table =
        alphabet == Base64Alphabet::url ? kUrlTable : kStandardTable;
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t accumulator = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = table[static_cast<unsigned char>(c)];
        if (value == kInvalid) {
            return std::nullopt;
        }
        accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((accumulator >> bits) & 0xff));
        }
    }
    return out;
}

std::string hex_encode(std::string_view bytes) {
    constexpr std::string_view digits = "0123456789abcdef";
    std::string out(bytes.size() * 2, '\0');
    char* next = out.data();
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        *next++ = digits[byte >> 4];
        *next++ = digits[byte & 15];
    }
    return out;
}

std::optional<std::string> hex_decode(std::string_view text) {
    if (text.size() % 2 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int high = hex_value(text[i]);
        const int low = hex_value(text[i + 1]);
        if (high == kInvalid || low == kInvalid) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>((high << 4) | low));
    }
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    if (a.empty()) {
        return true;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_lower_ascii(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) {
            return false;
        }
    }
    return true;
}

std::string_view trim_ascii(std::string_view text) {
    const auto is_space = [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    };
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

std::optional<std::string> percent_decode_form(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= text.size()) {
                return std::nullopt;
            }
            const int high = hex_value(text[i + 1]);
            const int low = hex_value(text[i + 2]);
            if (high == kInvalid || low == kInvalid) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>((high << 4) | low));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<FormFields> parse_form(std::string_view body) {
    FormFields fields;
    while (!body.empty()) {
        const std::size_t amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{}
                                             : body.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const std::size_t eq = pair.find('=');
        auto key = percent_decode_form(pair.substr(0, eq));
        auto value = percent_decode_form(
            eq == std::string_view::npos ? std::string_view{}
                                         : pair.substr(eq + 1));
        if (!key || !value || key->find('\0') != std::string::npos ||
            value->find('\0') != std::string::npos) {
            return std::nullopt;
        }
        fields.emplace_back(std::move(*key), std::move(*value));
    }
    return fields;
}

}  // namespace mailhook

namespace mailhook {

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) {
        return static_cast<unsigned char>(text[k]);
    };
    const unsigned char lead = byte(i);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0) low = 0xa0;
        if (lead == 0xed) high = 0x9f;  // no UTF-16 surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0) low = 0x90;
        if (lead == 0xf4) high = 0x8f;
    } else {
        return 0;
    }
    if (i + length > text.size()) return 0;
    if (byte(i + 1) < low || byte(i + 1) > high) return 0;
    for (std::size_t k = 2; k < length; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
    }
    return length;
}

bool is_valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = utf8_sequence_length(text, i);
        if (length == 0) return false;
        i += length;
    }
    return true;
}

std::string sanitize_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = utf8_sequence_length(text, i);
        if (length == 0) {
            out.append("\xef\xbf\xbd");
            ++i;
        } else {
            out.append(text.substr(i, length));
            i += length;
        }
    }
    return out;
}

}  // namespace mailhook
