// SPDX-License-Identifier: BSD-2-Clause
// The durable local spool: when Redis cannot take a verified request, its
// store-script arguments go to an append-only journal on disk (fsync'd
// before the vendor hears 200) and are replayed through the same dedup
// script once Redis is back, so a replay never duplicates.
//
// Journals carry the sources of the scripts their records call, so any
// module version can replay them. Replay keeps its progress per record (a
// `.ack` file beside the journal): what Redis acknowledged is never sent
// again. A record Redis refuses goes to the end of the spool to be tried
// again, and after SpoolSettings::max_attempts refusals into `failed/` (with
// an error line and a metric), so it never holds up the records after it.
// Tracking records (opens, clicks) have their own, smaller budget, so they
// can never fill the spool webhooks need.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/rate_limit.hpp"
#include "../core/resp.hpp"
#include "ngx_http_mailhook.hpp"
#include "ngx_http_mailhook_metrics.hpp"
#include "ngx_http_mailhook_redis.hpp"

namespace mailhook::nginx {

// Journals of one lane hold one kind of record, and count against its budget.
enum class SpoolLane { webhooks, tracking };

struct SpoolSettings {
    std::string dir;
    off_t max_bytes = 256 * 1024 * 1024;  // every journal together
    off_t tracking_max_bytes = -1;        // tracking journals; -1: max_bytes / 10
    off_t segment_bytes = 16 * 1024 * 1024;
    ngx_msec_t replay_interval = 1000;
    unsigned max_attempts = 3;            // refusals before a record is quarantined
};

// Called once per append, after the record reached the disk (ok) or could
// not (full, I/O error). `ticket` is what append() was given.
using SpoolDone = void (*)(void* ticket, bool ok);

struct SpoolStats {
    std::uint64_t records_spooled = 0;
    std::uint64_t records_replayed = 0;
    std::uint64_t records_quarantined = 0;
    std::uint64_t append_failures = 0;
    off_t bytes_on_disk = 0;  // as of the last scan
    off_t tracking_bytes = 0;
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
    void append(std::string_view script_sha1, const RespArgs& args, void* ticket,
                SpoolLane lane = SpoolLane::webhooks);

    // Starts replaying sealed journals when Redis is usable; safe to call
    // often (from the link's ready hook and a periodic timer). `scripts` are
    // the scripts a record may name (loaded by the link).
    void start(RedisClient* redis, std::vector<const RedisScript*> scripts);
    void kick();
    // Worker exit: close (and unlock) the active journals.
    void shutdown();

    const SpoolStats& stats() const { return stats_; }

  private:
    struct PendingAppend {
        std::string record;
        std::string_view script_sha1;  // a script of scripts_
        void* ticket;
    };
    // A record to write, and the script it calls (whose source the journal
    // must hold before it).
    struct Outgoing {
        std::string_view record;
        std::string_view script_sha1;
        std::string_view script_source;
    };
    struct Journal {
        int fd = -1;
        off_t size = 0;
        std::string path;
        std::vector<std::string> scripts;  // SHA-1s whose source it holds
    };
    struct ReplayRun;
    struct ReplaySlot;

    static void on_commit_event(ngx_event_t* ev);
    static void on_replay_timer(ngx_event_t* ev);
    static void on_replay_outcome(void* data, const RedisOutcome& outcome) noexcept;

    // Appending (ngx_http_mailhook_spool.cpp).
    void commit();
    void commit_lane(SpoolLane lane, std::vector<PendingAppend>& batch);
    bool fits(SpoolLane lane, off_t incoming, std::string& why);
    bool write_records(SpoolLane lane, const std::vector<Outgoing>& records);
    bool open_active(SpoolLane lane);
    void seal(SpoolLane lane);
    void seal_all();
    off_t scan_disk();
    std::vector<std::string> sealed_journals();
    std::string_view source_of(std::string_view sha1) const;
    Journal& journal(SpoolLane lane) { return active_[static_cast<int>(lane)]; }
    std::vector<PendingAppend>& pending(SpoolLane lane) {
        return pending_[static_cast<int>(lane)];
    }

    // Replaying (ngx_http_mailhook_spool_replay.cpp).
    void replay_next();
    bool open_run(const std::string& name, ReplayRun& run);
    void send_window(ReplayRun* run);
    void window_done(ReplayRun* run);
    void run_finished(ReplayRun* run);
    bool quarantine(const ReplayRun& run, std::uint64_t offset, std::size_t size,
                    unsigned attempts, std::string_view error);
    const RedisScript* script_for(const ReplayRun& run, std::string_view sha1) const;

    SpoolSettings settings_;
    SpoolDone done_;
    MetricsRecorder* metrics_;
    ngx_log_t log_;
    std::vector<PendingAppend> pending_[2];
    Journal active_[2];
    std::uint64_t sequence_ = 0;
    RedisClient* redis_ = nullptr;
    std::vector<const RedisScript*> scripts_;
    ReplayRun* replaying_ = nullptr;
    std::size_t window_ = 1;  // records per pipelined batch: 1 after a failure, then doubling
    bool stopping_ = false;
    SpoolStats stats_;
    LogThrottle full_log_{5, 1};
    ngx_connection_t event_owner_;
    ngx_event_t commit_event_;
    ngx_event_t replay_timer_;
};

}  // namespace mailhook::nginx
