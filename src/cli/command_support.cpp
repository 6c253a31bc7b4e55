// SPDX-License-Identifier: BSD-2-Clause
#include "commands.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli.hpp"
#include "core/timestamp.hpp"

namespace mailhook::cli {
namespace {

std::vector<Flag> with_help(std::vector<Flag> flags) {
    flags.push_back({"--help", false});
    flags.push_back({"-h", false});
    return flags;
}

std::string trim_final_newlines(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

std::string read_all(std::istream& in) {
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::optional<Args> parse_command(const Words& words, std::vector<Flag> flags,
                                  std::string_view help) {
    Args args(words, with_help(std::move(flags)));
    if (args.has("--help") || args.has("-h")) {
        std::cout << help;
        return std::nullopt;
    }
    return args;
}

std::optional<StoreCommand> parse_store_command(const Words& words, std::vector<Flag> flags,
                                                std::string_view help) {
    for (const Flag& flag : redis_flags()) flags.push_back(flag);
    for (const Flag& flag : key_flags()) flags.push_back(flag);
    auto args = parse_command(words, std::move(flags), help);
    if (!args) return std::nullopt;
    return StoreCommand{*args, redis_options(*args), key_names(*args)};
}

std::pair<std::string, Words> split_subcommand(const Words& words, std::string_view usage) {
    if (words.empty()) throw UsageError(std::string(usage));
    if (words.front() == "--help" || words.front() == "-h") return {"--help", {}};
    return {words.front(), Words(words.begin() + 1, words.end())};
}

void print_field(std::string_view name, std::string_view value) {
    std::string line(name);
    if (line.size() < 18) line.resize(18, ' ');
    else line += ' ';
    std::cout << line << value << "\n";
}

std::int64_t now_millis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string when(std::string_view stored, std::int64_t now_ms) {
    std::optional<EpochMillis> at = parse_vendor_time(stored);
    if (!at) return std::string(stored);
    const std::int64_t seconds = (now_ms - *at) / 1000;
    std::string ago;
    if (seconds < 0) ago = "in the future";
    else if (seconds < 120) ago = std::to_string(seconds) + "s ago";
    else if (seconds < 7200) ago = std::to_string(seconds / 60) + "m ago";
    else if (seconds < 172800) ago = std::to_string(seconds / 3600) + "h ago";
    else ago = std::to_string(seconds / 86400) + "d ago";
    return format_rfc3339_millis(*at) + " (" + ago + ")";
}

std::string glob_escape(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

std::vector<std::string> scan_keys(RedisClient& redis, const std::string& pattern) {
    std::vector<std::string> keys;
    std::string cursor = "0";
    do {
        const Reply page = redis.run({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
        if (!page.is_array() || page.elements.size() != 2) {
            throw Failure("redis: unexpected SCAN reply " + describe(page));
        }
        cursor = page.elements[0].text;
        for (const Reply& key : page.elements[1].elements) keys.push_back(key.text);
    } while (cursor != "0");
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
}

std::vector<std::pair<std::string, std::string>> hash_pairs(const Reply& reply) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        pairs.emplace_back(reply.elements[i].text, reply.elements[i + 1].text);
    }
    return pairs;
}

bool commit(RedisClient& redis, const std::vector<std::vector<std::string>>& commands) {
    std::vector<std::vector<std::string>> transaction{{"MULTI"}};
    transaction.insert(transaction.end(), commands.begin(), commands.end());
    transaction.push_back({"EXEC"});
    const std::vector<Reply> replies = redis.pipeline(transaction);
    for (const Reply& reply : replies) {
        if (reply.is_error()) throw Failure("redis: " + reply.text);
    }
    const Reply& exec = replies.back();
    for (const Reply& element : exec.elements) {
        if (element.is_error()) throw Failure("redis: " + element.text);
    }
    return !exec.is_nil();
}

std::optional<std::string> read_secret(const Args& args, std::string_view flag,
                                       std::string_view file_flag) {
    if (const auto path = args.value(file_flag)) {
        std::ifstream in(*path, std::ios::binary);
        if (!in) throw Failure("cannot read " + *path);
        return trim_final_newlines(read_all(in));
    }
    const auto value = args.value(flag);
    if (value && *value == "-") return trim_final_newlines(read_all(std::cin));
    return value;
}

}  // namespace mailhook::cli
