// SPDX-License-Identifier: BSD-2-Clause
// Storing events that no request waits for (tracking opens and clicks): the
// person was answered already, Redis gets the events when it can.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "../core/resp.hpp"
#include "ngx_http_mailhook.hpp"
#include "ngx_http_mailhook_redis.hpp"

namespace mailhook::nginx {

class ModuleState;

// One script call, self-contained: it outlives the request that made it.
struct DetachedStore {
    const RedisScript* script = nullptr;    // the worker's (ModuleState)
    std::shared_ptr<const RespArgs> args;   // numkeys, KEYS, ARGV
    std::string event_json;                 // the event as stored in the common case
    std::string describe;                   // "vendor=.. connection=.. type=.. id=..", for logs
    ngx_msec_t timeout = 2000;              // mailhook_redis_timeout where it was made
};

// Per-worker counts, kept in the worker's ModuleState.
struct DetachedCounters {
    std::uint64_t submitted = 0;
    std::uint64_t stored = 0;
    std::uint64_t spooled = 0;
    std::uint64_t lost = 0;
    std::uint64_t in_flight = 0;
};

// At most this many stores wait for Redis at once per worker; more go to
// store_detached() at once instead of piling up in memory.
constexpr std::uint64_t kMaxDetachedInFlight = 10000;

// Queues the script call on the worker's Redis. Never blocks. When Redis cannot take it (down, connection
// lost, too many waiting), it goes to the spool when there is one; a
// script error is logged and counted as lost.
void submit_detached(ModuleState& state, std::unique_ptr<DetachedStore> job) noexcept;

}  // namespace mailhook::nginx
