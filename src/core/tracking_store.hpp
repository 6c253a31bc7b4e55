// SPDX-License-Identifier: BSD-2-Clause
// The Lua script that stores one open or click: XADD to the event stream,
// choosing the metadata variant by the message's delivery time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "resp.hpp"
#include "tracking_event.hpp"

namespace mailhook {

std::string_view tracking_script_source();
std::string tracking_script_sha1();

struct TrackingStoreConfig {
    std::string stream = "mailhook:events";
    std::int64_t stream_maxlen = 0;                        // 0: no trimming
    std::string delivered_prefix = "mailhook:delivered:";  // see delivered_key()
    std::int64_t click_window_seconds = 0;                 // 0: no delivery check
};

// Everything after the script reference: numkeys, KEYS, ARGV. The event is
// compared with the delivery time only when it has a variant for that, and
// the window is on.
RespArgs tracking_script_args(const TrackingEvent& event, EpochMillis received_at,
                              const TrackingStoreConfig& config);

}  // namespace mailhook
