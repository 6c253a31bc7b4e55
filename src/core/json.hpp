// SPDX-License-Identifier: BSD-2-Clause
// jansson behind RAII, plus the small look-ups every vendor parser needs.
#pragma once

#include <jansson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailhook {

struct JsonDecref {
    void operator()(json_t* value) const { json_decref(value); }
};
using JsonPtr = std::unique_ptr<json_t, JsonDecref>;

// A shared reference to a jansson value (copies add a reference), so an
// event can keep the value it came from alive past the vendor's parser.
class JsonRef {
  public:
    JsonRef() = default;
    explicit JsonRef(const json_t* value)
        : value_(json_incref(const_cast<json_t*>(value))) {}
    JsonRef(const JsonRef& other) : value_(json_incref(other.value_)) {}
    // noexcept, so that vectors of events move them when they grow (a
    // throwing move makes std::vector copy every string of every event).
    JsonRef(JsonRef&& other) noexcept : value_(other.value_) { other.value_ = nullptr; }
    JsonRef& operator=(JsonRef other) noexcept {
        std::swap(value_, other.value_);
        return *this;
    }
    ~JsonRef() { json_decref(value_); }
    const json_t* get() const { return value_; }
    explicit operator bool() const { return value_ != nullptr; }

  private:
    json_t* value_ = nullptr;
};

// The byte ranges of the direct children of a JSON array or object, in
// order: for an array, each element; for an object, each member's value.
// `text` must be valid JSON (already parsed by jansson).
std::vector<std::string_view> json_child_spans(std::string_view text);

// Parses exactly the given bytes (no NUL terminator needed). Rejects NUL
// bytes inside strings and anything nested deeper than jansson's limit.
// Deeper than `max_depth` is refused too (see json_depth_exceeds).
inline constexpr std::size_t kDefaultMaxJsonDepth = 64;
JsonPtr parse_json(std::string_view text, std::size_t max_depth = kDefaultMaxJsonDepth);

// The parser behind parse_json(), without its depth check: what
// json_loadb(text, JSON_DECODE_ANY) accepts, and the same tree
// (json_reader.cpp).
JsonPtr read_json(std::string_view text);

// JSON type name for messages: "object", "array", "string", "number", ...
std::string_view json_type_name(const json_t* value);

// Plain look-ups: no type errors are noted (vendor parsers use the strict
// readers of vendor_fields.hpp). A borrowed string member; nullopt when
// absent, null or not a string.
std::optional<std::string_view> json_string_at(const json_t* object,
                                               const char* key);
// A string member, or a number rendered as text (vendors mix both for ids
// and codes); nullopt for other types.
std::optional<std::string> json_text_at(const json_t* object, const char* key);
std::optional<double> json_number_at(const json_t* object, const char* key);
// Follows a path of object keys; nullptr when any step is missing.
const json_t* json_path(const json_t* object,
                        std::initializer_list<const char*> keys);

// Deepest nesting of arrays and objects in JSON text (strings skipped), by a
// byte scan that stops once `limit` is passed: checked before jansson, which
// recurses per level, and because consumers (Python's json: ~1000) choke on
// what it would accept (2048).
bool json_depth_exceeds(std::string_view text, std::size_t limit);
// Whether `text` holds more than `limit` of '[', '{' and ',' outside
// strings (about one per value), by one scan of its bytes without parsing:
// a bound on what parsing it would allocate.
bool json_values_exceed(std::string_view text, std::size_t limit);

// Compact serialization of a value (used for `raw`, `metadata`).
std::string json_dump_compact(const json_t* value);

// Appends `text` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view text);

}  // namespace mailhook
