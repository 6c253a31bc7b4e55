// SPDX-License-Identifier: BSD-2-Clause
#include "redis_error.hpp"

#include <array>

namespace mailhook {
namespace {

// The replies Redis gives while it cannot serve writes for a while.
constexpr std::array<std::string_view, 7> kTransientCodes = {
    "LOADING",      // a restart loading its dataset
    "READONLY",     // a primary demoted by a failover
    "MASTERDOWN",   // a replica that lost its primary
    "BUSY",         // a script running past busy-reply-threshold
    "TRYAGAIN",     // a cluster slot being migrated
    "CLUSTERDOWN",  // a cluster without quorum or slot coverage
    "OOM",          // maxmemory reached: consumers catching up frees it
};

bool is_code_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }

}  // namespace

std::string_view redis_error_code(std::string_view message) {
    std::size_t end = 0;
    while (end < message.size() && is_code_char(message[end])) {
        ++end;
    }
    const bool whole_word = end == message.size() || message[end] == ' ';
    if (end == 0 || !whole_word) {
        return "ERR";
    }
    return message.substr(0, end);
}

RedisFailure classify_redis_error(std::string_view message) {
    const std::string_view code = redis_error_code(message);
    for (const std::string_view transient : kTransientCodes) {
        if (code == transient) {
            return RedisFailure::transient;
        }
    }
    return RedisFailure::permanent;
}

}  // namespace mailhook
