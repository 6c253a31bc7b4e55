// SPDX-License-Identifier: BSD-2-Clause
#include "json.hpp"

#include "encoding.hpp"

#include <cmath>
#include <cstdio>

namespace mailhook {

std::string_view json_type_name(const json_t* value) {
    switch (value ? json_typeof(value) : JSON_NULL) {
        case JSON_OBJECT: return "an object";
        case JSON_ARRAY: return "an array";
        case JSON_STRING: return "a string";
        case JSON_INTEGER:
        case JSON_REAL: return "a number";
        case JSON_TRUE:
        case JSON_FALSE: return "a boolean";
        case JSON_NULL: return "null";
    }
    return "unknown";
}

JsonPtr parse_json(std::string_view text, std::size_t max_depth) {
    if (json_depth_exceeds(text, max_depth)) {
        return nullptr;
    }
    return read_json(text);
}

namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// End of the string starting at text[open] (the opening quote): one past the
// closing quote, or text.size(). Most of a payload is inside strings, so this
// jumps from quote to quote (memchr): a quote ends the string unless an odd
// number of backslashes precedes it.
std::size_t skip_string(std::string_view text, std::size_t open) {
    for (std::size_t from = open + 1;;) {
        const std::size_t quote = text.find('"', from);
        if (quote == std::string_view::npos) return text.size();
        std::size_t backslashes = 0;
        while (quote - backslashes > open + 1 && text[quote - backslashes - 1] == '\\') {
            ++backslashes;
        }
        if (backslashes % 2 == 0) return quote + 1;
        from = quote + 1;
    }
}

// End of the value starting at text[i].
std::size_t skip_value(std::string_view text, std::size_t i) {
    if (text[i] == '"') return skip_string(text, i);
    if (text[i] != '[' && text[i] != '{') {
        while (i < text.size() && text[i] != ',' && text[i] != ']' && text[i] != '}' &&
               !is_json_space(text[i])) {
            ++i;
        }
        return i;
    }
    std::size_t depth = 0;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            i = skip_string(text, i) - 1;
        } else if (c == '[' || c == '{') {
            ++depth;
        } else if ((c == ']' || c == '}') && --depth == 0) {
            return i + 1;
        }
    }
    return text.size();
}

}  // namespace

std::vector<std::string_view> json_child_spans(std::string_view text) {
    std::vector<std::string_view> spans;
    std::size_t i = 0;
    while (i < text.size() && is_json_space(text[i])) ++i;
    if (i == text.size() || (text[i] != '[' && text[i] != '{')) return spans;
    const bool object = text[i] == '{';
    ++i;
    while (i < text.size()) {
        while (i < text.size() && (is_json_space(text[i]) || text[i] == ',')) ++i;
        if (i == text.size() || text[i] == ']' || text[i] == '}') break;
        if (object) {
            i = skip_string(text, i);
            while (i < text.size() && (is_json_space(text[i]) || text[i] == ':')) ++i;
        }
        const std::size_t end = skip_value(text, i);
        spans.push_back(text.substr(i, end - i));
        i = end;
    }
    return spans;
}

namespace {

// Calls `on(c)` for every byte of `text` outside strings; stops (true) when
// it returns true.
template <typename OnStructural>
bool scan_outside_strings(std::string_view text, OnStructural on) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            i = skip_string(text, i) - 1;
        } else if (on(c)) {
            return true;
        }
    }
    return false;
}

}  // namespace

bool json_depth_exceeds(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    return scan_outside_strings(text, [&](char c) {
        if (c == '[' || c == '{') return ++depth > limit;
        if ((c == ']' || c == '}') && depth > 0) --depth;
        return false;
    });
}

bool json_values_exceed(std::string_view text, std::size_t limit) {
    std::size_t values = 0;
    return scan_outside_strings(text, [&](char c) {
        return (c == ',' || c == '[' || c == '{') && ++values > limit;
    });
}

std::optional<std::string_view> json_string_at(const json_t* object,
                                               const char* key) {
    const json_t* value = json_object_get(object, key);
    if (!json_is_string(value)) return std::nullopt;
    return std::string_view(json_string_value(value), json_string_length(value));
}

std::optional<std::string> json_text_at(const json_t* object, const char* key) {
    const json_t* value = json_object_get(object, key);
    if (json_is_string(value)) {
        return std::string(json_string_value(value), json_string_length(value));
    }
    if (json_is_integer(value)) {
        return std::to_string(json_integer_value(value));
    }
    if (json_is_real(value)) {
        char buffer[64];
        std::snprintf(buffer, sizeof(buffer), "%.17g", json_real_value(value));
        return std::string(buffer);
    }
    return std::nullopt;
}

std::optional<double> json_number_at(const json_t* object, const char* key) {
    const json_t* value = json_object_get(object, key);
    if (!json_is_number(value)) {
        return std::nullopt;
    }
    const double number = json_number_value(value);
    if (!std::isfinite(number)) {
        return std::nullopt;
    }
    return number;
}

const json_t* json_path(const json_t* object,
                        std::initializer_list<const char*> keys) {
    const json_t* current = object;
    for (const char* key : keys) {
        current = json_object_get(current, key);
        if (current == nullptr) {
            return nullptr;
        }
    }
    return current;
}

namespace {

int append_to_string(const char* buffer, size_t size, void* data) {
    static_cast<std::string*>(data)->append(buffer, size);
    return 0;
}

}  // namespace

std::string json_dump_compact(const json_t* value) {
    std::string out;
    json_dump_callback(value, append_to_string, &out,
                       JSON_COMPACT | JSON_ENCODE_ANY);
    return out;
}

// One pass: ASCII is escaped as needed, multi-byte UTF-8 is copied when
// well-formed and replaced by U+FFFD when not (form fields and headers are
// not validated by anyone before us).
void append_json_string(std::string& out, std::string_view text) {
    constexpr std::string_view hex = "0123456789abcdef";
    out.reserve(out.size() + text.size() + 2);
    out.push_back('"');
    std::size_t i = 0;
    while (i < text.size()) {
        // Bytes that need no escaping go out as one run.
        std::size_t run = i;
        while (run < text.size()) {
            const auto c = static_cast<unsigned char>(text[run]);
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
            ++run;
        }
        if (run > i) {
            out.append(text.data() + i, run - i);
            i = run;
            continue;
        }
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x80) {
            const std::size_t length = utf8_sequence_length(text, i);
            if (length == 0) {
                out.append("\xef\xbf\xbd");
                ++i;
            } else {
                out.append(text.substr(i, length));
                i += length;
            }
            continue;
        }
        switch (byte) {
            case '"': out.append("\\\""); break;
            case '\\': out.append("\\\\"); break;
            case '\n': out.append("\\n"); break;
            case '\r': out.append("\\r"); break;
            case '\t': out.append("\\t"); break;
            default:
                if (byte < 0x20) {
                    out.append("\\u00");
                    out.push_back(hex[byte >> 4]);
                    out.push_back(hex[byte & 15]);
                } else {
                    out.push_back(static_cast<char>(byte));
                }
        }
        ++i;
    }
    out.push_back('"');
}

}  // namespace mailhook
