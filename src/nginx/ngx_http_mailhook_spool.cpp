// SPDX-License-Identifier: BSD-2-Clause
// The spool's appending side: lanes, journals, group commit, disk budget.
// Replay is in ngx_http_mailhook_spool_replay.cpp.
#include "ngx_http_mailhook_spool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "../core/spool_journal.hpp"
#include "../core/spool_record.hpp"
#include "ngx_http_mailhook_spool_files.hpp"

namespace mailhook::nginx {

Spool::Spool(SpoolSettings settings, SpoolDone done, MetricsRecorder* metrics,
             ngx_log_t* log)
    : settings_(std::move(settings)), done_(done), metrics_(metrics) {
    if (settings_.tracking_max_bytes < 0) {
        settings_.tracking_max_bytes = settings_.max_bytes / 10;
    }
    log_ = *log;
    log_.action = const_cast<char*>("spooling webhook events");
    ngx_memzero(&event_owner_, sizeof(event_owner_));
    event_owner_.fd = (ngx_socket_t) -1;
    event_owner_.data = this;
    for (ngx_event_t* ev : {&commit_event_, &replay_timer_}) {
        ngx_memzero(ev, sizeof(*ev));
        ev->data = &event_owner_;
        ev->log = &log_;
        ev->cancelable = 1;
    }
    commit_event_.handler = on_commit_event;
    replay_timer_.handler = on_replay_timer;
}

Spool::~Spool() { shutdown(); }

void Spool::append(std::string_view script_sha1, const RespArgs& args, void* ticket,
                   SpoolLane lane) {
    const auto script = std::find_if(scripts_.begin(), scripts_.end(),
                                     [&](const RedisScript* s) { return s->sha1 == script_sha1; });
    pending(lane).push_back({encode_spool_record(script_sha1, args),
                             script != scripts_.end() ? std::string_view((*script)->sha1)
                                                      : std::string_view(),
                             ticket});
    if (!commit_event_.posted) {
        ngx_post_event(&commit_event_, &ngx_posted_events);
    }
}

void Spool::on_commit_event(ngx_event_t* ev) {
    auto* spool = static_cast<Spool*>(static_cast<ngx_connection_t*>(ev->data)->data);
    spool->commit();
}

// Group commit: one write and one fsync per lane for every append of this
// loop iteration, then every waiting request hears the outcome.
void Spool::commit() {
    bool any_ok = false;
    for (const SpoolLane lane : {SpoolLane::webhooks, SpoolLane::tracking}) {
        std::vector<PendingAppend> batch;
        batch.swap(pending(lane));
        if (batch.empty()) {
            continue;
        }
        const std::uint64_t failures_before = stats_.append_failures;
        commit_lane(lane, batch);
        any_ok = any_ok || stats_.append_failures == failures_before;
    }
    if (any_ok) {
        kick();  // Redis may already be back (a timeout, not an outage)
    }
}

void Spool::commit_lane(SpoolLane lane, std::vector<PendingAppend>& batch) {
    off_t incoming = 0;
    std::vector<Outgoing> records;
    records.reserve(batch.size());
    for (const PendingAppend& append : batch) {
        incoming += static_cast<off_t>(append.record.size());
        records.push_back({append.record, append.script_sha1, source_of(append.script_sha1)});
    }
    std::string why;
    const bool ok = fits(lane, incoming, why) && write_records(lane, records);
    if (ok) {
        stats_.records_spooled += batch.size();
        metrics_->spool_appended(batch.size());
        ngx_log_error(NGX_LOG_NOTICE, &log_, 0,
                      "mailhook: spooled %uz %s to %s; spool holds %O bytes", batch.size(),
                      lane == SpoolLane::tracking ? "tracking event(s)" : "request(s)",
                      journal(lane).path.c_str(), stats_.bytes_on_disk);
    } else {
        stats_.append_failures += batch.size();
        metrics_->spool_failed(batch.size());
        std::uint64_t held_back = 0;
        if (!why.empty() && full_log_.allow(why.substr(0, why.find(' ')),
                                            static_cast<std::int64_t>(ngx_current_msec),
                                            held_back)) {
            ngx_log_error(NGX_LOG_ERR, &log_, 0, "mailhook: %s, %s%s", why.c_str(),
                          lane == SpoolLane::tracking ? "tracking events not stored"
                                                      : "answering 503",
                          held_back > 0 ? " (and earlier ones not logged)" : "");
        }
    }
    for (const PendingAppend& append : batch) {
        if (append.ticket != nullptr) {
            done_(append.ticket, ok);
        }
    }
}

// Webhooks may use the whole spool; tracking only its own share, so opens
// and clicks never take the room a verified webhook needs.
bool Spool::fits(SpoolLane lane, off_t incoming, std::string& why) {
    const off_t total = scan_disk();
    if (total + incoming > settings_.max_bytes) {
        why = "spool full (" + std::to_string(total) + " of " +
              std::to_string(settings_.max_bytes) + " bytes in " +
              std::to_string(stats_.segments_on_disk) + " journals)";
        return false;
    }
    if (lane == SpoolLane::tracking &&
        stats_.tracking_bytes + incoming > settings_.tracking_max_bytes) {
        why = "tracking spool full (" + std::to_string(stats_.tracking_bytes) + " of " +
              std::to_string(settings_.tracking_max_bytes) + " bytes)";
        return false;
    }
    return true;
}

std::string_view Spool::source_of(std::string_view sha1) const {
    for (const RedisScript* script : scripts_) {
        if (script->sha1 == sha1) return script->source;
    }
    return {};
}

// Appends `records` to the lane's active journal in one write and one
// fsync, each script's source first unless the journal holds it already.
bool Spool::write_records(SpoolLane lane, const std::vector<Outgoing>& records) {
    if (!open_active(lane)) {
        return false;
    }
    Journal& active = journal(lane);
    std::vector<std::string> definitions;
    std::vector<std::string> defined = active.scripts;
    for (const Outgoing& record : records) {
        if (record.script_source.empty() ||
            std::find(defined.begin(), defined.end(), record.script_sha1) != defined.end()) {
            continue;
        }
        definitions.push_back(encode_spool_script(record.script_sha1, record.script_source));
        defined.emplace_back(record.script_sha1);
    }
    std::vector<iovec> parts;
    parts.reserve(definitions.size() + records.size());
    off_t bytes = 0;
    for (std::string& definition : definitions) {
        parts.push_back({definition.data(), definition.size()});
        bytes += static_cast<off_t>(definition.size());
    }
    for (const Outgoing& record : records) {
        parts.push_back({const_cast<char*>(record.record.data()), record.record.size()});
        bytes += static_cast<off_t>(record.record.size());
    }
    const off_t before = active.size;
    if (!write_all(active.fd, parts) || fsync(active.fd) != 0) {
        ngx_log_error(NGX_LOG_ERR, &log_, ngx_errno, "mailhook: spool write to %s failed",
                      active.path.c_str());
        // Never leave a partial record in front of later ones.
        if (ftruncate(active.fd, before) != 0) {
            seal(lane);
        }
        return false;
    }
    active.size += bytes;
    active.scripts = std::move(defined);
    stats_.bytes_on_disk += bytes;
    if (lane == SpoolLane::tracking) stats_.tracking_bytes += bytes;
    metrics_->spool_disk(static_cast<std::uint64_t>(stats_.bytes_on_disk),
                         stats_.segments_on_disk);
    return true;
}

bool Spool::open_active(SpoolLane lane) {
    Journal& active = journal(lane);
    if (active.fd >= 0 && active.size < settings_.segment_bytes) {
        return true;
    }
    seal(lane);
    const ngx_time_t* now = ngx_timeofday();
    active.path = settings_.dir + "/" +
                  journal_name(static_cast<std::uint64_t>(now->sec) * 1000 + now->msec,
                               ngx_pid, ++sequence_, lane == SpoolLane::tracking);
    const int fd = open(active.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                        0600);
    if (fd < 0) {
        ngx_log_error(NGX_LOG_ERR, &log_, ngx_errno, "mailhook: cannot create spool journal %s",
                      active.path.c_str());
        return false;
    }
    // The lock says "being written": replay skips locked journals.
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return false;
    }
    sync_directory(settings_.dir);  // the new name must survive a crash too
    active.fd = fd;
    active.size = 0;
    active.scripts.clear();
    ++stats_.segments_on_disk;
    return true;
}

void Spool::seal(SpoolLane lane) {
    Journal& active = journal(lane);
    if (active.fd >= 0) {
        close(active.fd);  // releases the lock: the journal may be replayed
        active.fd = -1;
        active.size = 0;
        active.scripts.clear();
    }
}

void Spool::seal_all() {
    seal(SpoolLane::webhooks);
    seal(SpoolLane::tracking);
}

std::vector<std::string> Spool::sealed_journals() {
    std::vector<std::string> names;
    DIR* dir = opendir(settings_.dir.c_str());
    if (dir == nullptr) {
        return names;
    }
    while (const dirent* entry = readdir(dir)) {
        if (is_journal_name(entry->d_name)) {
            names.emplace_back(entry->d_name);
        }
    }
    closedir(dir);
    std::sort(names.begin(), names.end());  // creation time first
    return names;
}

off_t Spool::scan_disk() {
    off_t total = 0;
    off_t tracking = 0;
    std::size_t count = 0;
    for (const std::string& name : sealed_journals()) {
        struct stat st;
        if (stat((settings_.dir + "/" + name).c_str(), &st) == 0) {
            total += st.st_size;
            if (is_tracking_journal(name)) tracking += st.st_size;
            ++count;
        }
    }
    stats_.bytes_on_disk = total;
    stats_.tracking_bytes = tracking;
    stats_.segments_on_disk = count;
    metrics_->spool_disk(static_cast<std::uint64_t>(total), count);
    return total;
}

void Spool::start(RedisClient* redis, std::vector<const RedisScript*> scripts) {
    redis_ = redis;
    scripts_ = std::move(scripts);
    remove_orphan_progress(settings_.dir);
    scan_disk();
    if (stats_.segments_on_disk > 0) {
        ngx_log_error(NGX_LOG_NOTICE, &log_, 0,
                      "mailhook: spool holds %O bytes in %uz journal(s) to replay",
                      stats_.bytes_on_disk, stats_.segments_on_disk);
    }
    ngx_add_timer(&replay_timer_, settings_.replay_interval);
}

void Spool::on_replay_timer(ngx_event_t* ev) {
    auto* spool = static_cast<Spool*>(static_cast<ngx_connection_t*>(ev->data)->data);
    if (spool->stopping_ || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }
    spool->kick();
    ngx_add_timer(&spool->replay_timer_, spool->settings_.replay_interval);
}

void Spool::kick() {
    if (stopping_ || replaying_ != nullptr || redis_ == nullptr || !redis_->ready() || !pending_[0].empty() ||
        !pending_[1].empty()) {
        return;
    }
    // Our own journals are sealed once Redis answers again, so they can go too.
    seal_all();
    replay_next();
}

void Spool::shutdown() {
    stopping_ = true;
    if (commit_event_.posted) {
        ngx_delete_posted_event(&commit_event_);
        commit();  // never drop an append a request is waiting for
    }
    if (replay_timer_.timer_set) {
        ngx_del_timer(&replay_timer_);
    }
    seal_all();
}

}  // namespace mailhook::nginx
