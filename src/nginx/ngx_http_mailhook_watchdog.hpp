// SPDX-License-Identifier: BSD-2-Clause
// A deadline for the calls no request waits for (tracking stores). A
// request that times out tells the link, which reconnects after several in
// a row (a hung Redis); detached calls have no request, so without this a
// hung Redis behind tracking-only traffic kept its connection, and every
// later event piled up in memory or went to the spool (security review I7).
#pragma once

#include <cstdint>

#include "ngx_http_mailhook.hpp"
#include "ngx_http_mailhook_redis.hpp"

namespace mailhook::nginx {

class DetachedWatchdog {
  public:
    explicit DetachedWatchdog(const std::uint64_t* in_flight);
    ~DetachedWatchdog();
    DetachedWatchdog(const DetachedWatchdog&) = delete;
    DetachedWatchdog& operator=(const DetachedWatchdog&) = delete;

    // A detached call was sent through `redis`; it should have an outcome within
    // `timeout`.
    void sent(RedisClient* redis, ngx_msec_t timeout);
    // A detached call had its outcome.
    void answered() { answered_ = true; }

  private:
    static void on_timer(ngx_event_t* ev);

    const std::uint64_t* in_flight_;
    RedisClient* redis_ = nullptr;
    ngx_msec_t timeout_ = 0;
    bool answered_ = false;
    ngx_connection_t timer_owner_;
    ngx_event_t timer_;
};

}  // namespace mailhook::nginx
