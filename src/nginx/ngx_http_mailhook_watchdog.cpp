// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_watchdog.hpp"

namespace mailhook::nginx {

DetachedWatchdog::DetachedWatchdog(const std::uint64_t* in_flight) : in_flight_(in_flight) {
    ngx_memzero(&timer_owner_, sizeof(timer_owner_));
    timer_owner_.fd = (ngx_socket_t) -1;
    timer_owner_.data = this;
    ngx_memzero(&timer_, sizeof(timer_));
    timer_.data = &timer_owner_;
    timer_.handler = on_timer;
    timer_.cancelable = 1;
}

DetachedWatchdog::~DetachedWatchdog() {
    if (timer_.timer_set) {
        ngx_del_timer(&timer_);
    }
}

void DetachedWatchdog::sent(RedisClient* redis, ngx_msec_t timeout) {
    redis_ = redis;
    if (timer_.timer_set) {
        return;  // the running period covers this call too
    }
    timeout_ = timeout;
    answered_ = false;
    timer_.log = ngx_cycle->log;
    ngx_add_timer(&timer_, timeout_);
}

// A whole period with calls outstanding and not one outcome: as if a
// request had timed out.
void DetachedWatchdog::on_timer(ngx_event_t* ev) {
    auto* dog = static_cast<DetachedWatchdog*>(static_cast<ngx_connection_t*>(ev->data)->data);
    if (*dog->in_flight_ == 0 || dog->redis_ == nullptr) {
        return;
    }
    if (!dog->answered_) {
        dog->redis_->note_timeout();
    }
    dog->answered_ = false;
    if (*dog->in_flight_ > 0 && !ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(&dog->timer_, dog->timeout_);
    }
}

}  // namespace mailhook::nginx
