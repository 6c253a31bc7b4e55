// SPDX-License-Identifier: BSD-2-Clause
#include "args.hpp"

#include <charconv>

#include "cli.hpp"

namespace mailhook::cli {
namespace {

const Flag* find_flag(const std::vector<Flag>& flags, std::string_view name) {
    for (const Flag& flag : flags) {
        if (flag.name == name) return &flag;
    }
    return nullptr;
}

}  // namespace

Args::Args(const std::vector<std::string>& words, const std::vector<Flag>& flags) {
    bool flags_done = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string& word = words[i];
        if (flags_done || word.size() < 2 || word[0] != '-') {
            positional_.push_back(word);
            continue;
        }
        if (word == "--") {
            flags_done = true;
            continue;
        }
        const std::size_t equals = word.find('=');
        const std::string name = word.substr(0, equals);
        const Flag* flag = find_flag(flags, name);
        if (flag == nullptr) throw UsageError("unknown option " + name);
        if (!flag->takes_value) {
            if (equals != std::string::npos) {
                throw UsageError(name + " takes no value");
            }
            given_.emplace_back(name, std::string());
        } else if (equals != std::string::npos) {
            given_.emplace_back(name, word.substr(equals + 1));
        } else if (i + 1 < words.size()) {
            given_.emplace_back(name, words[++i]);
        } else {
            throw UsageError(name + " needs a value");
        }
    }
}

bool Args::has(std::string_view flag) const {
    for (const auto& [name, value] : given_) {
        if (name == flag) return true;
    }
    return false;
}

std::optional<std::string> Args::value(std::string_view flag) const {
    std::optional<std::string> last;
    for (const auto& [name, value] : given_) {
        if (name == flag) last = value;
    }
    return last;
}

std::vector<std::string> Args::values(std::string_view flag) const {
    std::vector<std::string> out;
    for (const auto& [name, value] : given_) {
        if (name == flag) out.push_back(value);
    }
    return out;
}

std::optional<std::int64_t> Args::number(std::string_view flag) const {
    const auto text = value(flag);
    if (!text) return std::nullopt;
    const auto number = parse_integer(*text);
    if (!number) throw UsageError(std::string(flag) + " needs a number");
    return number;
}

void Args::expect_positional(std::size_t min, std::size_t max,
                             std::string_view what) const {
    if (positional_.size() < min) {
        throw UsageError("missing " + std::string(what));
    }
    if (positional_.size() > max) {
        throw UsageError("unexpected argument \"" + positional_[max] + "\"");
    }
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
    return value;
}

}  // namespace mailhook::cli
