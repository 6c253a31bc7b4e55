// SPDX-License-Identifier: BSD-2-Clause
// Opens and clicks served by nginx: GET .../o/{token}.gif answers the pixel,
// GET .../c/{token} redirects, and both feed the event stream without making
// the reader wait for Redis. A second nginx module in the same .so, with its
// own directives (mailhook_tracking, mailhook_tracking_key,
// mailhook_tracking_click_window).
#pragma once

#include <cstdint>

#include "ngx_http_mailhook.hpp"

extern "C" {
extern ngx_module_t ngx_http_mailhook_tracking_module;
}

namespace mailhook::nginx {

// Seconds a `delivered` event's time is kept for the click check, as the
// webhook store script should record it; 0: not recorded.
std::int64_t tracking_delivered_ttl(ngx_http_request_t* r);

}  // namespace mailhook::nginx
