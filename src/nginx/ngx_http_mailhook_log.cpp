// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_log.hpp"

namespace mailhook::nginx {
namespace {

// Longer than any valid vendor name or connection id (128).
constexpr std::size_t kMaxRouteSegment = 160;

}  // namespace

std::string log_route(const ngx_str_t& vendor, const ngx_str_t& connection) {
    return "vendor=" + log_safe(to_view(vendor), kMaxRouteSegment) +
           " connection=" + log_safe(to_view(connection), kMaxRouteSegment);
}

bool RequestLogThrottle::allow(std::string_view reason, std::string& note) {
    std::uint64_t held_back = 0;
    note.clear();
    if (!throttle_.allow(reason, static_cast<std::int64_t>(ngx_current_msec), held_back)) {
        return false;
    }
    if (held_back > 0) {
        note = " (" + std::to_string(held_back) + " similar lines not logged)";
    }
    return true;
}

}  // namespace mailhook::nginx
