// SPDX-License-Identifier: BSD-2-Clause
// Log lines about requests. Whatever came from the request (URI segments,
// reasons quoting request fields) is escaped with log_safe(), and lines an
// unauthenticated client can cause are throttled per reason, so the log
// cannot be forged or flooded 1:1 by hostile traffic.
#pragma once

#include <string>
#include <string_view>

#include "../core/log_safe.hpp"
#include "../core/rate_limit.hpp"
#include "ngx_http_mailhook.hpp"

namespace mailhook::nginx {

// Text built from request data (a reason naming a request field), escaped.
inline std::string log_text(std::string_view text) { return log_safe(text, 512); }

// "vendor=<v> connection=<c>", both escaped: they are the decoded URI.
std::string log_route(const ngx_str_t& vendor, const ngx_str_t& connection);

// Per worker: every reason may write a burst of lines, then a steady rate;
// what is held back is counted in the next line written for that reason.
class RequestLogThrottle {
  public:
    static constexpr std::uint32_t kBurst = 100;
    static constexpr std::uint32_t kPerSecond = 20;

    // True: write the line, ending it with `note` (empty, or " (N similar
    // lines not logged)").
    bool allow(std::string_view reason, std::string& note);

  private:
    LogThrottle throttle_{kBurst, kPerSecond};
};

}  // namespace mailhook::nginx
