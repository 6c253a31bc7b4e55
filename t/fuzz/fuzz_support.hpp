// SPDX-License-Identifier: BSD-2-Clause
// Shared pieces of the libFuzzer targets (t/fuzz/fuzz_*.cpp, `make fuzz`).
//
// Targets abort (FUZZ_CHECK) when an invariant of the core breaks, so a
// wrong answer counts as a crash just like a sanitizer report does.
#pragma once

#include <jansson.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/delivery.hpp"
#include "core/encoding.hpp"
#include "core/json.hpp"

#define FUZZ_CHECK(condition)                                                   \
    do {                                                                        \
        if (!(condition)) {                                                     \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,     \
                         __LINE__, #condition);                                 \
            std::abort();                                                       \
        }                                                                       \
    } while (0)

namespace mailhook::fuzz {

// Reads the input front to back; running out yields zeros / empty values,
// so every input is valid.
class Reader {
  public:
    Reader(const std::uint8_t* data, std::size_t size)
        : rest_(reinterpret_cast<const char*>(data), size) {}

    std::uint8_t byte() {
        if (rest_.empty()) return 0;
        const auto b = static_cast<std::uint8_t>(rest_.front());
        rest_.remove_prefix(1);
        return b;
    }
    std::int64_t int64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
        return static_cast<std::int64_t>(v);
    }
    // Up to the next '\n' (not included); the whole rest when there is none.
    std::string_view line() {
        const std::size_t nl = rest_.find('\n');
        const std::string_view out = rest_.substr(0, nl);
        rest_ = nl == std::string_view::npos ? std::string_view{} : rest_.substr(nl + 1);
        return out;
    }
    std::string_view rest() {
        const std::string_view out = rest_;
        rest_ = {};
        return out;
    }
    bool empty() const { return rest_.empty(); }

  private:
    std::string_view rest_;
};

// Request headers as nginx holds them: a list, names may repeat.
class ListHeaders final : public HeaderLookup {
  public:
    void add(std::string name, std::string value) {
        headers_.emplace_back(std::move(name), std::move(value));
    }
    // Replaces every occurrence (signers use it).
    void set(const std::string& name, std::string value) {
        std::vector<std::pair<std::string, std::string>> kept;
        for (auto& header : headers_) {
            if (!iequals_ascii(header.first, name)) kept.push_back(std::move(header));
        }
        headers_ = std::move(kept);
        add(name, std::move(value));
    }
    std::optional<std::string_view> find(std::string_view name) const override {
        for (const auto& [key, value] : headers_) {
            if (iequals_ascii(key, name)) return std::string_view(value);
        }
        return std::nullopt;
    }
    std::size_t count(std::string_view name) const override {
        std::size_t n = 0;
        for (const auto& header : headers_) n += iequals_ascii(header.first, name);
        return n;
    }

  private:
    std::vector<std::pair<std::string, std::string>> headers_;
};

// "Name: value" lines up to an empty line, like an HTTP header block; a
// trailing '\r' is dropped and the value's leading blanks are trimmed, as
// nginx does. Lines without ':' are ignored.
inline void read_header_block(Reader& in, ListHeaders& headers) {
    while (!in.empty()) {
        std::string_view line = in.line();
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) return;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) continue;
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
            value.remove_prefix(1);
        }
        headers.add(std::string(line.substr(0, colon)), std::string(value));
    }
}

// What jansson would accept as a JSON document, NUL escapes included.
inline JsonPtr reparse(std::string_view text) {
    json_error_t error;
    return JsonPtr(json_loadb(text.data(), text.size(),
                              JSON_DECODE_ANY | JSON_ALLOW_NUL, &error));
}

}  // namespace mailhook::fuzz
