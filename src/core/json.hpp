// jansson behind RAII, plus the small look-ups every vendor parser needs.
#pragma once

#include <jansson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mailhook {

struct JsonDecref {
    void operator()(json_t* value) const { json_decref(value); }
};
using JsonPtr = std::unique_ptr<json_t, JsonDecref>;

// Parses exactly the given bytes (no NUL terminator needed). Rejects NUL
// bytes inside strings and anything nested deeper than jansson's limit.
JsonPtr parse_json(std::string_view text);

// A borrowed string member; nullopt when absent or not a string.
std::optional<std::string_view> json_string_at(const json_t* object,
                                               const char* key);
// A string member, or a number rendered as text (vendors mix both).
std::optional<std::string> json_text_at(const json_t* object, const char* key);
std::optional<double> json_number_at(const json_t* object, const char* key);
// Follows a path of object keys; nullptr when any step is missing.
const json_t* json_path(const json_t* object,
                        std::initializer_list<const char*> keys);

// Compact serialization of a value (used for `raw`, `metadata`).
std::string json_dump_compact(const json_t* value);

// Appends `text` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view text);

}  // namespace mailhook
