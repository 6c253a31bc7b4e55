// Shared helpers for the unit tests.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "core/delivery.hpp"
#include "core/encoding.hpp"
#include "core/json.hpp"

namespace mailhook::test {

// Headers for a Delivery, looked up case-insensitively like nginx does.
class MapHeaders final : public HeaderLookup {
  public:
    MapHeaders() = default;
    MapHeaders(std::initializer_list<std::pair<const std::string, std::string>> init)
        : headers_(init) {}

    void set(const std::string& name, const std::string& value) {
        headers_[name] = value;
    }

    std::optional<std::string_view> find(std::string_view name) const override {
        for (const auto& [key, value] : headers_) {
            if (iequals_ascii(key, name)) return std::string_view(value);
        }
        return std::nullopt;
    }

  private:
    std::map<std::string, std::string> headers_;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Test vectors from the vendors' SDK tests, copied into t/vectors/.
inline JsonPtr load_vector(const std::string& name) {
    return parse_json(read_file("t/vectors/" + name));
}

inline std::string vector_string(const json_t* vector, const char* key) {
    const auto value = json_string_at(vector, key);
    return value ? std::string(*value) : std::string();
}

// Epoch milliseconds from epoch seconds.
constexpr EpochMillis at_seconds(std::int64_t seconds) { return seconds * 1000; }

}  // namespace mailhook::test
