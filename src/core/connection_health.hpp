// SPDX-License-Identifier: BSD-2-Clause
// Rejections in a connection's health hash (docs/events.md "Connection
// health"). The store script records accepted requests; a rejection of a
// known connection is one small script call, at most once per interval per
// connection in each worker, so rejections cannot be turned into Redis load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "key_layout.hpp"
#include "lru_map.hpp"
#include "resp.hpp"
#include "timestamp.hpp"

namespace mailhook {

std::string_view health_script_source();
std::string health_script_sha1();

// numkeys, KEYS and ARGV of the health script: `count` rejections more,
// the last at `at` with "status label".
RespArgs health_rejection_args(const RequestKeys& keys, std::string_view connection,
                               unsigned status, std::string_view label, EpochMillis at,
                               std::int64_t count);

// Which rejections of a worker are written now. A rejection within the
// interval of the connection's last write is held back and counted with
// its next write.
class RejectionThrottle {
  public:
    static constexpr std::size_t kMaxConnections = 10000;
    static constexpr EpochMillis kInterval = 1000;

    explicit RejectionThrottle(std::size_t max_connections = kMaxConnections,
                               EpochMillis interval = kInterval)
        : interval_(interval), connections_(max_connections) {}

    // The rejections to write now (this one and those held back), or
    // nullopt: held back.
    std::optional<std::int64_t> note(std::string_view connection, EpochMillis now);

  private:
    struct Entry {
        EpochMillis written_at = 0;
        std::int64_t held_back = 0;
    };
    EpochMillis interval_;
    LruMap<Entry> connections_;
};

}  // namespace mailhook
