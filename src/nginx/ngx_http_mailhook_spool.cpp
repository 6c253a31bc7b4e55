// SPDX-License-Identifier: BSD-2-Clause
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

#include "../core/spool_record.hpp"

namespace mailhook::nginx {
namespace {

constexpr std::string_view kJournalPrefix = "spool-";
constexpr std::string_view kJournalSuffix = ".log";

bool is_journal_name(std::string_view name) {
    return name.size() > kJournalPrefix.size() + kJournalSuffix.size() &&
           name.substr(0, kJournalPrefix.size()) == kJournalPrefix &&
           name.substr(name.size() - kJournalSuffix.size()) == kJournalSuffix;
}

bool read_whole(int fd, std::string& out) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return false;
    }
    out.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = pread(fd, &out[done], out.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

bool write_all(int fd, const std::vector<iovec>& parts) {
    std::vector<iovec> rest = parts;
    size_t first = 0;
    while (first < rest.size()) {
        const int count = static_cast<int>(std::min<size_t>(rest.size() - first, IOV_MAX));
        ssize_t n = writev(fd, &rest[first], count);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        while (n > 0 && first < rest.size()) {
            const auto len = static_cast<ssize_t>(rest[first].iov_len);
            if (n >= len) {
                n -= len;
                ++first;
            } else {
                rest[first].iov_base = static_cast<char*>(rest[first].iov_base) + n;
                rest[first].iov_len -= static_cast<size_t>(n);
                n = 0;
            }
        }
    }
    return true;
}

}  // namespace

// One journal being replayed: its records are pipelined to Redis and the
// file is deleted only when every one of them was acknowledged.
struct Spool::ReplayRun {
    Spool* spool = nullptr;
    int fd = -1;
    std::string path;
    std::string data;
    std::size_t records = 0;
    std::size_t outstanding = 0;
    std::size_t failed = 0;
    bool lost_connection = false;
    std::string last_error;
};

Spool::Spool(SpoolSettings settings, SpoolDone done, MetricsRecorder* metrics,
             ngx_log_t* log)
    : settings_(std::move(settings)), done_(done), metrics_(metrics) {
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

void Spool::append(std::string_view script_sha1, const RespArgs& args, void* ticket) {
    pending_.push_back({encode_spool_record(script_sha1, args), ticket});
    if (!commit_event_.posted) {
        ngx_post_event(&commit_event_, &ngx_posted_events);
    }
}

void Spool::on_commit_event(ngx_event_t* ev) {
    auto* spool = static_cast<Spool*>(static_cast<ngx_connection_t*>(ev->data)->data);
    spool->commit();
}

// Group commit: one write and one fsync for every append of this loop
// iteration, then every waiting request hears the outcome.
void Spool::commit() {
    std::vector<PendingAppend> batch;
    batch.swap(pending_);
    if (batch.empty()) {
        return;
    }
    off_t incoming = 0;
    for (const PendingAppend& append : batch) {
        incoming += static_cast<off_t>(append.record.size());
    }
    std::vector<iovec> parts;
    parts.reserve(batch.size());
    for (PendingAppend& append : batch) {
        parts.push_back({append.record.data(), append.record.size()});
    }
    bool ok = scan_disk() + incoming <= settings_.max_bytes;
    if (!ok) {
        ngx_log_error(NGX_LOG_ERR, &log_, 0,
                      "mailhook: spool full (%O of %O bytes in %uz journals), "
                      "answering 503",
                      stats_.bytes_on_disk, settings_.max_bytes, stats_.segments_on_disk);
    } else if (open_active()) {
        const off_t before = active_size_;
        ok = write_all(active_fd_, parts) && fsync(active_fd_) == 0;
        if (ok) {
            active_size_ += incoming;
            stats_.records_spooled += batch.size();
            stats_.bytes_on_disk += incoming;
            metrics_->spool_appended(batch.size());
            scan_disk();
            ngx_log_error(NGX_LOG_NOTICE, &log_, 0,
                          "mailhook: spooled %uz request(s) to %s; spool holds %O bytes",
                          batch.size(), active_path_.c_str(), stats_.bytes_on_disk);
        } else {
            ngx_log_error(NGX_LOG_ERR, &log_, ngx_errno, "mailhook: spool write to %s failed",
                          active_path_.c_str());
            // Never leave a partial record in front of later ones.
            if (ftruncate(active_fd_, before) != 0) {
                seal_active();
            }
        }
    } else {
        ok = false;
    }
    if (!ok) {
        stats_.append_failures += batch.size();
        metrics_->spool_failed(batch.size());
    }
    for (PendingAppend& append : batch) {
        if (append.ticket != nullptr) {
            done_(append.ticket, ok);
        }
    }
    if (ok) {
        kick();  // Redis may already be back (a timeout, not an outage)
    }
}

bool Spool::open_active() {
    if (active_fd_ >= 0 && active_size_ < settings_.segment_bytes) {
        return true;
    }
    seal_active();
    char name[96];
    const ngx_time_t* now = ngx_timeofday();
    snprintf(name, sizeof(name), "spool-%013llu-%010d-%06llu.log",
             static_cast<unsigned long long>(now->sec) * 1000 + now->msec,
             static_cast<int>(ngx_pid), static_cast<unsigned long long>(++sequence_));
    active_path_ = settings_.dir + "/" + name;
    const int fd = open(active_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                        0600);
    if (fd < 0) {
        ngx_log_error(NGX_LOG_ERR, &log_, ngx_errno, "mailhook: cannot create spool journal %s",
                      active_path_.c_str());
        return false;
    }
    // The lock says "being written": replay skips locked journals.
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return false;
    }
    const int dir_fd = open(settings_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        (void) fsync(dir_fd);  // the new name must survive a crash too
        close(dir_fd);
    }
    active_fd_ = fd;
    active_size_ = 0;
    return true;
}

void Spool::seal_active() {
    if (active_fd_ >= 0) {
        close(active_fd_);  // releases the lock: the journal may be replayed
        active_fd_ = -1;
        active_size_ = 0;
    }
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
    std::size_t count = 0;
    for (const std::string& name : sealed_journals()) {
        struct stat st;
        if (stat((settings_.dir + "/" + name).c_str(), &st) == 0) {
            total += st.st_size;
            ++count;
        }
    }
    stats_.bytes_on_disk = total;
    stats_.segments_on_disk = count;
    metrics_->spool_disk(static_cast<std::uint64_t>(total), count);
    return total;
}

void Spool::start(RedisClient* redis, std::vector<const RedisScript*> scripts) {
    redis_ = redis;
    scripts_ = std::move(scripts);
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
    if (stopping_ || replaying_ != nullptr || redis_ == nullptr || !redis_->ready() ||
        !pending_.empty()) {
        return;
    }
    // Our own journal is sealed once Redis answers again, so it can go too.
    seal_active();
    replay_next();
}

void Spool::replay_next() {
    for (const std::string& name : sealed_journals()) {
        const std::string path = settings_.dir + "/" + name;
        const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            close(fd);  // being written, or replayed by another worker
            continue;
        }
        auto* run = new ReplayRun();
        run->spool = this;
        run->fd = fd;
        run->path = path;
        if (!read_whole(fd, run->data)) {
            ngx_log_error(NGX_LOG_ERR, &log_, ngx_errno, "mailhook: cannot read %s", path.c_str());
            close(fd);
            delete run;
            continue;
        }
        if (run->data.empty()) {
            unlink(path.c_str());  // created, never written (append failed)
            close(fd);
            delete run;
            continue;
        }
        replaying_ = run;
        std::vector<std::pair<const RedisScript*, std::shared_ptr<const RespArgs>>> calls;
        std::string_view rest = run->data;
        while (!rest.empty()) {
            const SpoolRecordView record = decode_spool_record(rest);
            if (record.status != SpoolRecordView::Status::ok) {
                const ngx_uint_t level = record.status == SpoolRecordView::Status::incomplete
                                             ? NGX_LOG_WARN
                                             : NGX_LOG_ERR;
                ngx_log_error(level, &log_, 0,
                              "mailhook: %s: %uz trailing bytes are %s; the requests "
                              "in them were never acknowledged",
                              path.c_str(), rest.size(),
                              record.status == SpoolRecordView::Status::incomplete
                                  ? "a torn write" : "not a record");
                break;
            }
            const auto script =
                std::find_if(scripts_.begin(), scripts_.end(), [&](const RedisScript* s) {
                    return s->sha1 == record.script_sha1;
                });
            if (script == scripts_.end()) {
                ++run->failed;
                run->last_error = "a record names a script this version does not have";
            } else {
                calls.emplace_back(*script, std::make_shared<const RespArgs>(
                                                record.arg_count, record.args));
            }
            rest.remove_prefix(record.size);
            ++run->records;
        }
        for (const auto& [script, args] : calls) {
            if (!redis_->eval(*script, args, on_replay_outcome, run)) {
                run->lost_connection = true;
                break;
            }
            ++run->outstanding;
        }
        if (run->outstanding == 0) {
            replay_finished(run);
        }
        return;  // one journal at a time keeps the order
    }
}

void Spool::on_replay_outcome(void* data, const RedisOutcome& outcome) noexcept {
    auto* run = static_cast<ReplayRun*>(data);
    try {
        if (outcome.reply == nullptr) {
            run->lost_connection = true;
        } else if (outcome.failure != RedisFailure::none) {
            ++run->failed;
            run->last_error.assign(outcome.error);
        }
        if (--run->outstanding == 0) {
            run->spool->replay_finished(run);
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, &run->spool->log_, 0, "mailhook: %s", e.what());
    }
}

void Spool::replay_finished(ReplayRun* run) {
    replaying_ = nullptr;
    if (!run->lost_connection && run->failed == 0) {
        unlink(run->path.c_str());
        stats_.records_replayed += run->records;
        metrics_->spool_replayed(run->records);
        scan_disk();
        ngx_log_error(NGX_LOG_NOTICE, &log_, 0, "mailhook: replayed %uz request(s) from %s",
                      run->records, run->path.c_str());
    } else {
        ngx_log_error(NGX_LOG_ERR, &log_, 0,
                      "mailhook: replay of %s incomplete (%s%uz error(s)%s%s); kept for "
                      "the next attempt",
                      run->path.c_str(), run->lost_connection ? "connection lost, " : "",
                      run->failed, run->last_error.empty() ? "" : ", last: ",
                      run->last_error.c_str());
    }
    close(run->fd);
    const bool again = !run->lost_connection && run->failed == 0;
    delete run;
    if (again && !stopping_) {
        replay_next();
    }
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
    seal_active();
}

}  // namespace mailhook::nginx
