// SPDX-License-Identifier: BSD-2-Clause
// The one Lua script that stores a request: dedup + XADD + suppression, all
// or nothing (docs/design.md §3.4).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "intake.hpp"
#include "resp.hpp"

namespace mailhook {

std::string_view store_script_source();
// SHA-1 hex of the source, as EVALSHA wants it.
std::string store_script_sha1();

struct StoreKeys {
    std::string stream = "mailhook:events";
    std::string suppression = "mailhook:suppression:";  // + scope
    std::string suppression_stream = "mailhook:suppression-events";
    std::string dedup_prefix = "mailhook:dedup:";
    std::string soft_bounce_prefix = "mailhook:softbounce:";  // + scope + ":"
    std::string replay_prefix = "mailhook:replay:";
    std::string delivered_prefix = "mailhook:delivered:";  // + connection + ":" + message id
};

struct StorePolicy {
    std::int64_t dedup_ttl_seconds = 26 * 3600;
    std::int64_t stream_maxlen = 0;  // 0: no trimming
    std::int64_t soft_bounce_limit = 0;  // 0: off
    std::int64_t soft_bounce_window_seconds = 0;
    std::int64_t replay_ttl_seconds = 26 * 3600;
    // How long the time of a `delivered` event is kept for the tracking
    // click check (mailhook_tracking_click_window); 0: not recorded.
    std::int64_t delivered_ttl_seconds = 0;
};

// The key holding the epoch second of the last `delivered` event of a message
// on a connection. Message ids are compared without surrounding whitespace and
// angle brackets ("<id@host>" and "id@host" are one message).
std::string delivered_key(std::string_view prefix, std::string_view connection,
                          std::string_view message_id);
// The message id as delivered_key() compares it; empty: nothing to compare.
std::string_view comparable_message_id(std::string_view message_id);

// Everything after the script reference: numkeys, KEYS, ARGV.
RespArgs store_script_args(const Intake& intake, std::string_view vendor,
                           std::string_view connection, std::string_view scope,
                           const StoreKeys& keys, const StorePolicy& policy);

// The script's answer: events stored and duplicates skipped, or a replay.
struct StoreResult {
    std::int64_t stored = 0;
    std::int64_t duplicates = 0;
    bool replayed = false;
};

}  // namespace mailhook
