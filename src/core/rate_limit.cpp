// SPDX-License-Identifier: BSD-2-Clause
#include "rate_limit.hpp"

#include <algorithm>

namespace mailhook {

TokenBucket::TokenBucket(std::uint32_t capacity, std::uint32_t refill, std::int64_t period_ms)
    : capacity_(static_cast<std::int64_t>(capacity) * std::max<std::int64_t>(period_ms, 1)),
      refill_(refill),
      unit_(std::max<std::int64_t>(period_ms, 1)),
      units_(capacity_) {}

void TokenBucket::top_up(std::int64_t now_ms) {
    if (!started_) {
        started_ = true;
        last_ms_ = now_ms;
        return;
    }
    if (now_ms <= last_ms_) {
        return;
    }
    const std::int64_t elapsed = std::min<std::int64_t>(now_ms - last_ms_, unit_ * 1000);
    units_ = std::min(capacity_, units_ + elapsed * refill_);
    last_ms_ = now_ms;
}

bool TokenBucket::take(std::int64_t now_ms) {
    top_up(now_ms);
    if (units_ < unit_) {
        return false;
    }
    units_ -= unit_;
    return true;
}

bool TokenBucket::empty(std::int64_t now_ms) {
    top_up(now_ms);
    return units_ < unit_;
}

LogThrottle::LogThrottle(std::uint32_t burst, std::uint32_t per_second, std::size_t max_keys)
    : burst_(burst), per_second_(per_second), max_keys_(max_keys) {}

bool LogThrottle::allow(std::string_view key, std::int64_t now_ms, std::uint64_t& suppressed) {
    suppressed = 0;
    auto it = slots_.find(std::string(key));
    if (it == slots_.end()) {
        if (slots_.size() >= max_keys_) {
            return true;  // keys are a fixed vocabulary; never silence the unexpected
        }
        it = slots_.emplace(std::string(key), Slot{TokenBucket(burst_, per_second_, 1000), 0})
                 .first;
    }
    if (!it->second.bucket.take(now_ms)) {
        ++it->second.held_back;
        return false;
    }
    suppressed = it->second.held_back;
    it->second.held_back = 0;
    return true;
}

}  // namespace mailhook
