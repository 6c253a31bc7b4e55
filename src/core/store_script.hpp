// SPDX-License-Identifier: BSD-2-Clause
// The one Lua script that stores a request: dedup + XADD + suppression, all
// or nothing per call (docs/design.md §3.4). Every key it touches is declared in
// KEYS, all in the slot of the request's suppression scope (key_layout.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "intake.hpp"
#include "key_layout.hpp"
#include "resp.hpp"

namespace mailhook {

std::string_view store_script_source();
// SHA-1 hex of the source, as EVALSHA wants it.
std::string store_script_sha1();

// The same store for the calls of several requests in one script call: the
// script call itself and what the calls of a connection share are a quarter
// of what Redis spends on a one-event request (make bench-redis).
// Its answer has one element per request: that call's answer, or its error.
std::string_view store_batch_script_source();
std::string store_batch_script_sha1();
// The batch script's numkeys, KEYS and ARGV for these store calls (each as
// store_script_calls() makes them): what calls of one connection share (5
// keys, 8 arguments) is sent once. Nothing when a call is not a store call.
std::optional<RespArgs> store_batch_args(const std::vector<const RespArgs*>& calls);

struct StorePolicy {
    std::int64_t dedup_ttl_seconds = 26 * 3600;
    std::int64_t stream_maxlen = 0;  // 0: no trimming
    // mailhook_stream_max_age: XADD trims with MINID ~ (entries older than
    // this many ms since the epoch) instead of MAXLEN; 0: off.
    std::int64_t stream_min_id_ms = 0;
    std::int64_t soft_bounce_limit = 0;  // 0: off
    std::int64_t soft_bounce_window_seconds = 0;
    std::int64_t replay_ttl_seconds = 26 * 3600;
    // How long the time of a `delivered` event is kept for the tracking
    // click window (mailhook_tracking_click_window); 0: not recorded.
    std::int64_t delivered_ttl_seconds = 0;
};

// Where the events of a request go.
struct StoreTarget {
    std::string_view vendor;
    std::string_view connection;
    std::string_view scope;  // suppression scope: tenant, else connection id
    EpochMillis received_at = 0;  // the connection's health: last_accepted_at
};

// How big one script call may be: managed Redis services cap the arguments
// of a command (3,999 is a common cap), and one long call blocks the shard.
struct ScriptCallLimits {
    std::size_t max_events = 500;
    // Every argument of the command: EVALSHA, the SHA, numkeys, KEYS, ARGV.
    std::size_t max_arguments = 3999;
    // A call of up to this many arguments (a request of a few events) joins
    // the batch script call of its event-loop iteration: for it the script
    // call itself and what calls of a connection share are a quarter of
    // Redis's work (make bench-redis).
    std::size_t max_batched_arguments = 64;
};

// The script calls that store a request, in order: each is everything after
// the script reference (numkeys, KEYS, ARGV) for consecutive events of the
// request. Each call deduplicates its events, so a request retried after
// some calls succeeded stores every event exactly once. A request without
// events (but with a replay guard) is one call.
std::vector<RespArgs> store_script_calls(const Intake& intake, const StoreTarget& target,
                                         const StoreKeys& keys, const StorePolicy& policy,
                                         const ScriptCallLimits& limits = {});

// All events of a request in one call (no limits).
RespArgs store_script_args(const Intake& intake, const StoreTarget& target,
                           const StoreKeys& keys, const StorePolicy& policy);

// The script's answer: events stored and duplicates skipped, or a replay.
struct StoreResult {
    std::int64_t stored = 0;
    std::int64_t duplicates = 0;
    bool replayed = false;
};

}  // namespace mailhook
