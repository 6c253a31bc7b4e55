// SPDX-License-Identifier: BSD-2-Clause
// Per-cycle C++ state: static connections, the worker's Redis link and its
// cache of connections loaded from Redis.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "../core/connection.hpp"
#include "../core/connection_health.hpp"
#include "../core/lru_map.hpp"
#include "../core/rate_limit.hpp"
#include "../core/store_script.hpp"
#include "../core/tracking_store.hpp"
#include "ngx_http_mailhook.hpp"
#include "ngx_http_mailhook_consumer_groups.hpp"
#include "ngx_http_mailhook_detached.hpp"
#include "ngx_http_mailhook_known.hpp"
#include "ngx_http_mailhook_log.hpp"
#include "ngx_http_mailhook_metrics.hpp"
#include "ngx_http_mailhook_outbound.hpp"
#include "ngx_http_mailhook_redis.hpp"
#include "ngx_http_mailhook_spool.hpp"
#include "ngx_http_mailhook_watchdog.hpp"

namespace mailhook::nginx {

// A connection as the handler sees it: usable, unknown (404), or present
// but unusable (500, its secret cannot be parsed).
struct ResolvedConnection {
    enum class Kind { usable, unknown, unusable };
    Kind kind = Kind::unknown;
    std::shared_ptr<const Connection> connection;
    std::string error;
    // The fields it was made from (usable ones): what other workers and the
    // snapshot keep.
    std::shared_ptr<const FieldList> fields;
};

// The worker's connections loaded from Redis. Usable ones and the ids Redis
// did not know (or could not be used) are kept apart: unknown ids, which
// anyone can make up, only ever evict each other, never a usable connection
// (security review L4). Look-ups that find an unknown id spend a token of a
// per-worker budget; while it is spent, ids no cache knows are not looked up.
class ConnectionCache {
  public:
    static constexpr std::size_t kMaxUsable = 65536;
    static constexpr std::size_t kMaxUnknown = 4096;
    static constexpr std::uint32_t kUnknownBurst = 100;
    static constexpr std::uint32_t kUnknownPerSecond = 20;

    // Connections resolved here are shared with every worker through
    // `known` (when there is a spool); null detaches.
    void attach(KnownConnections* known) { known_ = known; }
    // nullptr when absent or expired; `stale_ok` also returns an expired
    // usable entry, or one another worker (or the snapshot) knows (used
    // while Redis cannot be asked).
    const ResolvedConnection* find(std::string_view id, ngx_msec_t now,
                                   bool stale_ok = false);
    void put(std::string_view id, ResolvedConnection resolved, ngx_msec_t expires);
    // False while look-ups keep finding unknown ids faster than the budget.
    bool may_look_up(ngx_msec_t now);

    std::size_t usable_count() const { return usable_.size(); }
    std::size_t unknown_count() const { return unknown_.size(); }

  private:
    struct Entry {
        ResolvedConnection resolved;
        ngx_msec_t expires;
    };
    LruMap<Entry> usable_{kMaxUsable};
    LruMap<Entry> unknown_{kMaxUnknown};
    TokenBucket unknown_lookups_{kUnknownBurst, kUnknownPerSecond, 1000};
    KnownConnections* known_ = nullptr;
    const ResolvedConnection* find_known(std::string_view id, ngx_msec_t now);
};

class ModuleState {
  public:
    // Static connections, prepared (keys parsed) at configuration time.
    std::unordered_map<std::string, ResolvedConnection> static_connections;
    ConnectionCache cache;
    // The scripts every Redis connection loads.
    RedisScript store_batch_script{"store batch", store_batch_script_source(),
                                   store_batch_script_sha1(), nullptr, store_batch_args};
    RedisScript store_script{"store", store_script_source(), store_script_sha1(),
                             &store_batch_script};
    RedisScript tracking_script{"tracking", tracking_script_source(), tracking_script_sha1()};
    RedisScript health_script{"health", health_script_source(), health_script_sha1()};
    RedisSettings redis_settings;  // read by the links: lives as long as they do
    ConsumerGroupCreator consumer_groups;  // mailhook_consumer_group
    std::optional<SpoolSettings> spool_settings;
    MetricsRecorder metrics{nullptr};
    DetachedCounters detached;
    DetachedWatchdog watchdog{&detached.in_flight};
    RequestLogThrottle rejection_log;
    RejectionThrottle rejection_health;  // health writes of rejections
    // SNS signing certificates: pinned at configuration, fetched per worker.
    CertificateStore certificates;
    CertificateFetches fetches;
    // Created in the worker only. The spool is declared first so that it
    // outlives the links: calls still end (into the spool) while they are freed.
    std::unique_ptr<Spool> spool;
    std::unique_ptr<KnownConnections> known;  // with a spool
    std::unique_ptr<RedisClient> redis;
};

// Vendor check + key parsing of connection fields.
ResolvedConnection resolve_fields(std::string_view id, const FieldList& fields);

}  // namespace mailhook::nginx
