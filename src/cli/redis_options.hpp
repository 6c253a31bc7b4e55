// SPDX-License-Identifier: BSD-2-Clause
// Where Redis is and how to talk to it: the module's Redis settings
// (mailhook_redis and the mailhook_redis_ssl_* directives) as flags and
// environment variables. A flag wins over its variable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "args.hpp"

namespace mailhook::cli {

struct RedisOptions {
    std::string address = "127.0.0.1:6379";  // host:port, [v6]:port, unix:/path
    bool tls = false;
    std::string user;      // ACL user; empty: AUTH with the password alone
    std::string password;  // empty: no AUTH
    std::int64_t db = 0;
    std::string trusted_certificate;  // CA file; empty: the system's CAs
    bool verify = true;
    std::string server_name;  // empty: the address's host
    std::string certificate;
    std::string certificate_key;
    int timeout_ms = 5000;
    // With sentinel=name (the words of mailhook_redis): the Sentinels to ask
    // where the primary `sentinel_master` is, and their credentials; the
    // primary's are the ones above (tls applies to both, as in the module).
    std::vector<std::string> sentinels;
    std::string sentinel_master;
    std::string sentinel_user;
    std::string sentinel_password;
};

// The flags every command that talks to Redis accepts.
std::vector<Flag> redis_flags();
// Throws UsageError for a value that does not parse.
RedisOptions redis_options(const Args& args);

// The flags and variables, for --help.
extern const char* const kRedisHelp;

// An nginx time ("500ms", "2s", "1m", or plain seconds) in milliseconds;
// -1 when it does not parse.
std::int64_t parse_duration_ms(std::string_view text);

}  // namespace mailhook::cli
