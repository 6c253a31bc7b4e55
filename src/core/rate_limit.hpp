// SPDX-License-Identifier: BSD-2-Clause
// Budgets for work that unauthenticated requests can trigger (certificate
// fetches, look-ups of unknown connection ids, log lines): a token bucket,
// and a per-key throttle for log lines built on it. Time comes from the
// caller (milliseconds on any monotonic clock).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mailhook {

class TokenBucket {
  public:
    // Holds at most `capacity` tokens; gains `refill` tokens every
    // `period_ms`. Starts full.
    TokenBucket(std::uint32_t capacity, std::uint32_t refill, std::int64_t period_ms);

    // Takes one token if there is one.
    bool take(std::int64_t now_ms);
    bool empty(std::int64_t now_ms);

  private:
    void top_up(std::int64_t now_ms);

    std::int64_t capacity_;    // in 1/period_ms token units
    std::int64_t refill_;      // units gained per millisecond
    std::int64_t unit_;        // units per token
    std::int64_t units_;
    std::int64_t last_ms_ = 0;
    bool started_ = false;
};

// At most a burst of lines per key, then a steady rate; what is held back is
// counted and reported with the next line that is written.
class LogThrottle {
  public:
    LogThrottle(std::uint32_t burst, std::uint32_t per_second, std::size_t max_keys = 64);

    // True: write the line now; `suppressed` is how many lines of this key
    // were held back since the last one written.
    bool allow(std::string_view key, std::int64_t now_ms, std::uint64_t& suppressed);

  private:
    struct Slot {
        TokenBucket bucket;
        std::uint64_t held_back = 0;
    };
    std::uint32_t burst_;
    std::uint32_t per_second_;
    std::size_t max_keys_;
    std::unordered_map<std::string, Slot> slots_;
};

}  // namespace mailhook
