// SPDX-License-Identifier: BSD-2-Clause
// The Lua script that stores one open or click: XADD to the event stream,
// choosing the metadata variant by the message's delivery time, at most once
// per event id and once per token inside a short repeat window.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "key_layout.hpp"
#include "resp.hpp"
#include "tracking_event.hpp"

namespace mailhook {

std::string_view tracking_script_source();
std::string tracking_script_sha1();

struct TrackingStoreConfig {
    std::int64_t stream_maxlen = 0;          // 0: no trimming
    std::int64_t click_window_seconds = 0;   // 0: no delivery check
    // How long a stored hit's id is remembered, so a resent spool record is
    // not stored twice (mailhook_dedup_ttl).
    std::int64_t dedup_ttl_seconds = 26 * 3600;
    // Further hits of one token and kind inside this many seconds after a
    // stored one are counted, not stored; 0: every hit is stored.
    std::int64_t open_repeat_seconds = 10;
    std::int64_t click_repeat_seconds = 1;
};

// What the script answers.
enum class TrackingStoreResult : std::int64_t {
    stored = 0,
    stored_soon_after_delivery = 1,  // a click within the window after delivery
    repeat = 2,                      // inside the token's repeat window: counted
    duplicate = 3,                   // this event id is stored already
};

// Everything after the script reference: numkeys, KEYS, ARGV. The event is
// compared with the delivery time only when it has a variant for that, and
// the window is on.
RespArgs tracking_script_args(const TrackingEvent& event, EpochMillis received_at,
                              const StoreKeys& keys, const TrackingStoreConfig& config);

}  // namespace mailhook
