// SPDX-License-Identifier: BSD-2-Clause
// The subcommands of `mailhook`, and what they share: parsing with the
// Redis and key flags, --help, aligned output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "args.hpp"
#include "key_names.hpp"
#include "redis_client.hpp"
#include "redis_options.hpp"

namespace mailhook::cli {

using Words = std::vector<std::string>;

// Each takes the words after its own name and returns the exit code.
int connection_command(const Words& words);
int health_command(const Words& words);
int suppression_command(const Words& words);
int spool_command(const Words& words);
int tail_command(const Words& words);
int sign_command(const Words& words);
int token_command(const Words& words);

// A command line of a command that talks to Redis: its own flags plus the
// Redis and key flags and --help.
struct StoreCommand {
    Args args;
    RedisOptions redis;
    KeyNames keys;
};

// nullopt after printing `help` for --help; throws UsageError.
std::optional<StoreCommand> parse_store_command(const Words& words, std::vector<Flag> flags,
                                                std::string_view help);
// The same for commands that do not talk to Redis.
std::optional<Args> parse_command(const Words& words, std::vector<Flag> flags,
                                  std::string_view help);

// The first word (a subcommand such as "add") and the rest.
std::pair<std::string, Words> split_subcommand(const Words& words, std::string_view usage);

// "name          value", names padded to one column.
void print_field(std::string_view name, std::string_view value);

std::int64_t now_millis();
// "2026-12-01T10:30:00.123Z (5m ago)" for an RFC 3339 text or epoch ms.
std::string when(std::string_view stored, std::int64_t now_ms);

// Escapes glob characters for SCAN MATCH.
std::string glob_escape(std::string_view text);
// Every key matching the pattern (SCAN, in pages), sorted.
std::vector<std::string> scan_keys(RedisClient& redis, const std::string& pattern);
// A HGETALL reply as name/value pairs.
std::vector<std::pair<std::string, std::string>> hash_pairs(const Reply& reply);

// MULTI, the commands, EXEC: false when a WATCHed key changed meanwhile
// (nothing was written); throws Failure when Redis refuses a command.
bool commit(RedisClient& redis, const std::vector<std::vector<std::string>>& commands);

// A secret from --secret VALUE, --secret-file PATH or "--secret -" (stdin);
// nullopt when none was given.
std::optional<std::string> read_secret(const Args& args, std::string_view flag,
                                       std::string_view file_flag);

}  // namespace mailhook::cli
