// SPDX-License-Identifier: BSD-2-Clause
// The JSON parser behind parse_json(). It accepts exactly what jansson's
// json_loadb(JSON_DECODE_ANY) accepts and builds the same tree with jansson's
// own constructors, so every reader of json_t stays as it is; it only
// replaces jansson's lexer, which reads one byte at a time through a callback
// and copies every token: that lexer was ~40% of the request path (make
// bench-core). t/fuzz/fuzz_json checks the two parsers against each other.
// One difference, on purpose: jansson skips a NUL byte right after a number
// or a literal (its lexer takes NUL for "nothing buffered"), so it accepts
// `1\0` and `[true\0]`; here every NUL outside a string, like inside one, is
// refused.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>

#include "json.hpp"

namespace mailhook {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The length of the well-formed UTF-8 sequence at text[0] (2 to 4 bytes:
// no overlong forms, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_sequence(std::string_view text) {
    const auto byte = [&text](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char first = byte(0);
    std::size_t length;
    std::uint32_t code;
    if (first >= 0xC2 && first <= 0xDF) {
        length = 2;
        code = first & 0x1F;
    } else if (first >= 0xE0 && first <= 0xEF) {
        length = 3;
        code = first & 0x0F;
    } else if (first >= 0xF0 && first <= 0xF4) {
        length = 4;
        code = first & 0x07;
    } else {
        return 0;
    }
    if (text.size() < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
        code = (code << 6) | (byte(i) & 0x3F);
    }
    if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
    if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000)) return 0;
    return length;
}

void append_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
        out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (code >> 6)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (code >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (code >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
}

class Reader {
  public:
    explicit Reader(std::string_view text) : text_(text) {}

    // The one value the text holds (whitespace around it), or nullptr.
    json_t* document() {
        JsonPtr value(this->value(1));
        skip_space();
        return value && at_ == text_.size() ? value.release() : nullptr;
    }

  private:
    // A value at nesting `depth` (1: the document): jansson refuses values
    // deeper than JSON_PARSER_MAX_DEPTH.
    json_t* value(std::size_t depth) {
        if (depth > JSON_PARSER_MAX_DEPTH) return nullptr;
        skip_space();
        if (at_ == text_.size()) return nullptr;
        switch (text_[at_]) {
            case '{': return object(depth);
            case '[': return array(depth);
            case '"': {
                const std::optional<std::string_view> text = string();
                // jansson refuses NUL (from \u0000) without JSON_ALLOW_NUL.
                if (!text || text->find('\0') != std::string_view::npos) return nullptr;
                return json_stringn_nocheck(text->data(), text->size());
            }
            case 't': return literal("true", json_true());
            case 'f': return literal("false", json_false());
            case 'n': return literal("null", json_null());
            default: return number();
        }
    }

    json_t* object(std::size_t depth) {
        ++at_;  // '{'
        JsonPtr object(json_object());
        if (!object) return nullptr;
        skip_space();
        if (take('}')) return object.release();
        for (;;) {
            skip_space();
            if (at_ == text_.size() || text_[at_] != '"') return nullptr;
            std::optional<std::string_view> key = string();
            if (!key || key->find('\0') != std::string_view::npos) return nullptr;
            // An escaped key lives in scratch_, which the value reuses.
            std::string escaped_key;
            if (escaped_) key = escaped_key.assign(*key);
            skip_space();
            if (!take(':')) return nullptr;
            json_t* member = value(depth + 1);
            // A repeated key replaces the value, in place, as jansson does.
            if (member == nullptr ||
                json_object_setn_new_nocheck(object.get(), key->data(), key->size(), member) !=
                    0) {
                return nullptr;
            }
            skip_space();
            if (take('}')) return object.release();
            if (!take(',')) return nullptr;
        }
    }

    json_t* array(std::size_t depth) {
        ++at_;  // '['
        JsonPtr array(json_array());
        if (!array) return nullptr;
        skip_space();
        if (take(']')) return array.release();
        for (;;) {
            json_t* element = value(depth + 1);
            if (element == nullptr || json_array_append_new(array.get(), element) != 0) {
                return nullptr;
            }
            skip_space();
            if (take(']')) return array.release();
            if (!take(',')) return nullptr;
        }
    }

    // The string at text_[at_] (its opening quote), unescaped: a view of the
    // text when it has no escapes, else (escaped_) of scratch_.
    std::optional<std::string_view> string() {
        escaped_ = false;
        const std::size_t start = ++at_;
        while (at_ < text_.size()) {
            const char c = text_[at_];
            if (c == '"') {
                return text_.substr(start, at_++ - start);
            }
            if (c == '\\') {
                escaped_ = true;
                scratch_.assign(text_.data() + start, at_ - start);
                return escaped_string();
            }
            if (!plain_character()) return std::nullopt;
        }
        return std::nullopt;
    }

    // The rest of a string with escapes, from the first backslash.
    std::optional<std::string_view> escaped_string() {
        while (at_ < text_.size()) {
            const char c = text_[at_];
            if (c == '"') {
                ++at_;
                return std::string_view(scratch_);
            }
            if (c == '\\') {
                if (!escape()) return std::nullopt;
                continue;
            }
            const std::size_t from = at_;
            if (!plain_character()) return std::nullopt;
            scratch_.append(text_.data() + from, at_ - from);
        }
        return std::nullopt;
    }

    // Steps over one unescaped character of a string: no control character,
    // and well-formed UTF-8.
    bool plain_character() {
        const auto c = static_cast<unsigned char>(text_[at_]);
        if (c < 0x20) return false;
        if (c < 0x80) {
            ++at_;
            return true;
        }
        const std::size_t length = utf8_sequence(text_.substr(at_));
        at_ += length;
        return length != 0;
    }

    // One escape at text_[at_] (the backslash), appended to scratch_.
    bool escape() {
        if (at_ + 1 >= text_.size()) return false;
        const char kind = text_[at_ + 1];
        at_ += 2;
        switch (kind) {
            case '"': case '\\': case '/': scratch_.push_back(kind); return true;
            case 'b': scratch_.push_back('\b'); return true;
            case 'f': scratch_.push_back('\f'); return true;
            case 'n': scratch_.push_back('\n'); return true;
            case 'r': scratch_.push_back('\r'); return true;
            case 't': scratch_.push_back('\t'); return true;
            case 'u': return unicode_escape();
            default: return false;
        }
    }

    // \uXXXX after its "\u": a surrogate only as a high-low pair.
    bool unicode_escape() {
        const int first = hex4();
        if (first < 0 || (first >= 0xDC00 && first <= 0xDFFF)) return false;
        std::uint32_t code = static_cast<std::uint32_t>(first);
        if (first >= 0xD800 && first <= 0xDBFF) {
            if (at_ + 1 >= text_.size() || text_[at_] != '\\' || text_[at_ + 1] != 'u') {
                return false;
            }
            at_ += 2;
            const int second = hex4();
            if (second < 0xDC00 || second > 0xDFFF) return false;
            code = ((code - 0xD800) << 10) + (static_cast<std::uint32_t>(second) - 0xDC00) +
                   0x10000;
        }
        append_utf8(scratch_, code);
        return true;
    }

    int hex4() {
        if (text_.size() - at_ < 4) return -1;
        int value = 0;
        for (int i = 0; i < 4; ++i) {
            const int digit = hex_value(text_[at_ + static_cast<std::size_t>(i)]);
            if (digit < 0) return -1;
            value = value * 16 + digit;
        }
        at_ += 4;
        return value;
    }

    // jansson's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; an
    // integer is a long long (out of range is refused), the rest a double.
    json_t* number() {
        const std::size_t start = at_;
        take('-');
        // A digit after a leading 0 is left over, and refused by the caller.
        if (!take('0') && !digits()) return nullptr;
        bool real = false;
        if (take('.')) {
            if (!digits()) return nullptr;
            real = true;
        }
        if (take('e') || take('E')) {
            if (!take('+')) take('-');
            if (!digits()) return nullptr;
            real = true;
        }
        const std::string_view token = text_.substr(start, at_ - start);
        if (real) return real_number(token);
        json_int_t integer = 0;
        const auto [end, error] =
            std::from_chars(token.data(), token.data() + token.size(), integer);
        if (error != std::errc() || end != token.data() + token.size()) return nullptr;
        return json_integer(integer);
    }

    // jansson's own conversion (strtod in the C locale's terms, overflow
    // refused, underflow kept): reals are rare in webhooks.
    static json_t* real_number(std::string_view token) {
        return json_loadb(token.data(), token.size(), JSON_DECODE_ANY, nullptr);
    }

    bool digits() {
        const std::size_t from = at_;
        while (at_ < text_.size() && is_digit(text_[at_])) ++at_;
        return at_ > from;
    }

    json_t* literal(std::string_view word, json_t* value) {
        if (text_.substr(at_, word.size()) != word) return nullptr;
        at_ += word.size();
        return value;
    }

    bool take(char c) {
        if (at_ < text_.size() && text_[at_] == c) {
            ++at_;
            return true;
        }
        return false;
    }

    void skip_space() {
        while (at_ < text_.size() && is_space(text_[at_])) ++at_;
    }

    std::string_view text_;
    std::size_t at_ = 0;
    std::string scratch_;  // an escaped string's unescaped bytes
    bool escaped_ = false;  // the last string() is in scratch_
};

}  // namespace

JsonPtr read_json(std::string_view text) { return JsonPtr(Reader(text).document()); }

}  // namespace mailhook
