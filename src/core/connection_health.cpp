// SPDX-License-Identifier: BSD-2-Clause
#include "connection_health.hpp"

#include "crypto.hpp"
#include "encoding.hpp"

namespace mailhook {
namespace {

// KEYS: 1 the health hash. ARGV: 1 time (RFC 3339), 2 "status label",
// 3 rejections to add. HSET fails first on a key of another type, so a
// failure writes nothing.
constexpr std::string_view kSource = R"lua(
redis.call('HSET', KEYS[1], 'last_rejected_at', ARGV[1], 'last_rejection', ARGV[2])
return redis.call('HINCRBY', KEYS[1], 'rejected', ARGV[3])
)lua";

}  // namespace

std::string_view health_script_source() { return kSource; }

std::string health_script_sha1() { return hex_encode(sha1(kSource)); }

RespArgs health_rejection_args(const RequestKeys& keys, std::string_view connection,
                               unsigned status, std::string_view label, EpochMillis at,
                               std::int64_t count) {
    RespArgs args;
    args.add(std::int64_t{1});
    args.add(keys.health(connection));
    args.add(format_rfc3339_millis(at));
    args.add(std::to_string(status) + " " + std::string(label));
    args.add(count);
    return args;
}

std::optional<std::int64_t> RejectionThrottle::note(std::string_view connection,
                                                    EpochMillis now) {
    Entry* entry = connections_.find(connection);
    if (entry == nullptr) {
        connections_.put(connection, Entry{now, 0});
        return 1;
    }
    if (now >= entry->written_at && now - entry->written_at < interval_) {
        ++entry->held_back;
        return std::nullopt;
    }
    const std::int64_t count = entry->held_back + 1;
    *entry = Entry{now, 0};
    return count;
}

}  // namespace mailhook
