// SPDX-License-Identifier: BSD-2-Clause
// Command-line words after the subcommand: --flags (with or without a
// value, "--flag value" or "--flag=value", repeatable) and positionals.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailhook::cli {

struct Flag {
    std::string_view name;  // "--vendor"
    bool takes_value = true;
};

class Args {
  public:
    // Throws UsageError for a flag not in `flags` or a value that is missing.
    // "--" ends the flags; a lone "-" is a positional (stdin).
    Args(const std::vector<std::string>& words, const std::vector<Flag>& flags);

    bool has(std::string_view flag) const;
    // The last value given (a later flag overrides an earlier one).
    std::optional<std::string> value(std::string_view flag) const;
    // Every value of a repeated flag, in order.
    std::vector<std::string> values(std::string_view flag) const;
    std::optional<std::int64_t> number(std::string_view flag) const;

    const std::vector<std::string>& positional() const { return positional_; }
    // Throws UsageError unless there are between min and max positionals.
    void expect_positional(std::size_t min, std::size_t max,
                           std::string_view what) const;

  private:
    std::vector<std::pair<std::string, std::string>> given_;
    std::vector<std::string> positional_;
};

// Decimal integer, the whole text; nullopt otherwise.
std::optional<std::int64_t> parse_integer(std::string_view text);

}  // namespace mailhook::cli
