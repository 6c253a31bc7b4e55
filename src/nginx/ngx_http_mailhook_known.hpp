// SPDX-License-Identifier: BSD-2-Clause
// Connections any worker resolved from Redis, kept where every worker sees
// them: a shared memory zone (the connection's id and Redis fields; each
// worker parses the keys itself on first use), and a snapshot of it in the
// spool directory, read back when nginx starts. So during a Redis outage
// every worker spools for every connection known to any of them, and a
// restart during the outage still serves the connections it had. The
// snapshot holds the connections' secrets, like Redis does: mode 0600, in a
// directory only the workers' user can read.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "../core/connection.hpp"
#include "ngx_http_mailhook.hpp"

namespace mailhook::nginx {

struct KnownZoneConf;

class KnownConnections {
  public:
    static constexpr std::string_view kSnapshotName = "connections.snapshot";

    // Configuration time: a zone of `size` bytes whose snapshot is
    // `snapshot_path` (loaded into the zone when nginx creates it).
    static ngx_shm_zone_t* add_zone(ngx_conf_t* cf, size_t size, std::string snapshot_path);

    // In a worker, on the zone added above.
    KnownConnections(ngx_shm_zone_t* zone, ngx_log_t* log);
    ~KnownConnections();
    KnownConnections(const KnownConnections&) = delete;
    KnownConnections& operator=(const KnownConnections&) = delete;

    void remember(std::string_view id, const FieldList& fields);
    void forget(std::string_view id);
    std::optional<FieldList> find(std::string_view id);
    // Writes the snapshot when the zone changed since the last one (any
    // worker; one at a time). Also runs from a timer every second.
    void save_snapshot();

  private:
    static void on_save_timer(ngx_event_t* ev);

    KnownZoneConf* conf_;
    ngx_slab_pool_t* pool_;
    ngx_log_t log_;
    ngx_connection_t timer_owner_;
    ngx_event_t save_timer_;
};

}  // namespace mailhook::nginx
