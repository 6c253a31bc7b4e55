// SPDX-License-Identifier: BSD-2-Clause
// The durable local spool: when Redis cannot take a verified request, its
// store-script arguments go to an append-only journal on disk (fsync'd
// before the vendor hears 200) and are replayed through the same dedup
// script once Redis is back, so a replay never duplicates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/resp.hpp"
#include "ngx_http_mailhook.hpp"
#include "ngx_http_mailhook_metrics.hpp"
#include "ngx_http_mailhook_redis.hpp"

namespace mailhook::nginx {

struct SpoolSettings {
    std::string dir;
    off_t max_bytes = 256 * 1024 * 1024;
    off_t segment_bytes = 16 * 1024 * 1024;
    ngx_msec_t replay_interval = 1000;
};

// Called once per append, after the record reached the disk (ok) or could
// not (full, I/O error). `ticket` is what append() was given.
using SpoolDone = void (*)(void* ticket, bool ok);

struct SpoolStats {
    std::uint64_t records_spooled = 0;
    std::uint64_t records_replayed = 0;
    std::uint64_t append_failures = 0;
    off_t bytes_on_disk = 0;     // as of the last scan
    std::size_t segments_on_disk = 0;
};

class Spool {
  public:
    Spool(SpoolSettings settings, SpoolDone done, MetricsRecorder* metrics,
          ngx_log_t* log);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Queues a call of the script `script_sha1` (one of those given to
    // start()); it is written and fsync'd together with the other appends
    // of this event-loop iteration (group commit). `ticket` may be null when
    // nobody waits for the outcome.
    void append(std::string_view script_sha1, const RespArgs& args, void* ticket);

    // Starts replaying sealed journals when Redis is usable; safe to call
    // often (from the link's ready hook and a periodic timer). `scripts` are
    // the scripts a record may name (loaded by the link).
    void start(RedisClient* redis, std::vector<const RedisScript*> scripts);
    void kick();
    // Worker exit: close (and unlock) the active journal.
    void shutdown();

    const SpoolStats& stats() const { return stats_; }

  private:
    struct PendingAppend {
        std::string record;
        void* ticket;
    };
    struct ReplayRun;

    static void on_commit_event(ngx_event_t* ev);
    static void on_replay_timer(ngx_event_t* ev);
    static void on_replay_outcome(void* data, const RedisOutcome& outcome) noexcept;

    void commit();
    bool write_pending(off_t incoming);
    bool open_active();
    void seal_active();
    off_t scan_disk();
    std::vector<std::string> sealed_journals();
    void replay_next();
    void replay_finished(ReplayRun* run);

    SpoolSettings settings_;
    SpoolDone done_;
    MetricsRecorder* metrics_;
    ngx_log_t log_;
    std::vector<PendingAppend> pending_;
    int active_fd_ = -1;
    off_t active_size_ = 0;
    std::string active_path_;
    std::uint64_t sequence_ = 0;
    RedisClient* redis_ = nullptr;
    std::vector<const RedisScript*> scripts_;
    ReplayRun* replaying_ = nullptr;
    bool stopping_ = false;
    SpoolStats stats_;
    ngx_connection_t event_owner_;
    ngx_event_t commit_event_;
    ngx_event_t replay_timer_;
};

}  // namespace mailhook::nginx
