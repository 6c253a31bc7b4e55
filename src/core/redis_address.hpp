// SPDX-License-Identifier: BSD-2-Clause
// The `mailhook_redis` directive's arguments: where Redis is and how to
// talk to it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailhook {

// One Redis node: a host (name or IP address) and port, or a unix socket.
struct RedisEndpoint {
    std::string host;
    std::uint16_t port = 6379;
    std::string unix_path;  // set instead of host:port

    bool is_unix() const { return !unix_path.empty(); }
    // "host:port", "[v6]:port" or "unix:/path", for logs.
    std::string describe() const;
};

// "host", "host:port", "[v6 address]:port", "[v6 address]", "unix:/path".
std::optional<RedisEndpoint> parse_redis_endpoint(std::string_view address);

// What `mailhook_redis address ... [cluster | sentinel=master_name] [tls]
// [user=name] [password=secret] [db=number] [sentinel_user=name]
// [sentinel_password=secret]` says. With `cluster` the addresses are seed
// nodes of a Redis Cluster (any number), with `sentinel=` the Sentinels that
// know where the primary named master_name is; else there is exactly one.
struct RedisTarget {
    std::vector<RedisEndpoint> endpoints;
    bool cluster = false;
    bool tls = false;
    std::string user;      // ACL user (Redis 6+); empty: AUTH password only
    std::string password;  // empty: no AUTH
    std::int64_t db = 0;
    std::string sentinel;           // the primary's name; empty: no Sentinel
    std::string sentinel_user;      // how to AUTH to the Sentinels
    std::string sentinel_password;

    bool uses_sentinel() const { return !sentinel.empty(); }
};

// Parses the directive's arguments (without the directive name); on failure
// `error` says which argument is wrong.
std::optional<RedisTarget> parse_redis_target(const std::vector<std::string_view>& args,
                                              std::string& error);

}  // namespace mailhook
