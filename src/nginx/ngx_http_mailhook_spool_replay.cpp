// SPDX-License-Identifier: BSD-2-Clause
// The spool's replaying side. One journal at a time (keeping the order),
// in windows of records pipelined to Redis. After each window, the progress
// is saved: a record Redis acknowledged is never sent again. A record Redis
// refuses (a permanent error) goes to the end of the spool with its attempt
// count, or into failed/ once it reached max_attempts; damaged bytes and
// calls of scripts nobody has go to failed/ at once. A transient failure
// (connection lost, OOM, LOADING, ...) ends the run: the next one starts at
// the first record not done, with a window of one record that doubles after
// each window Redis took whole.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <memory>

#include "../core/crypto.hpp"
#include "../core/encoding.hpp"
#include "../core/spool_journal.hpp"
#include "../core/spool_record.hpp"
#include "ngx_http_mailhook_spool.hpp"
#include "ngx_http_mailhook_spool_files.hpp"

namespace mailhook::nginx {
namespace {

constexpr std::size_t kMaxWindow = 256;
constexpr std::size_t kMaxWindowBytes = 8 * 1024 * 1024;

}  // namespace

struct Spool::ReplaySlot {
    enum class State { waiting, done, refused, unanswered };
    ReplayRun* run = nullptr;
    std::size_t entry = 0;
    State state = State::waiting;
    bool final = false;  // retrying cannot help: straight to failed/
    std::string error;
};

struct Spool::ReplayRun {
    // A call to replay, or damaged bytes to set aside.
    struct Entry {
        std::size_t offset;
        std::size_t size;
        bool damaged;
        SpoolRecordView record;  // when not damaged
    };

    Spool* spool = nullptr;
    int fd = -1;
    SpoolLane lane = SpoolLane::webhooks;
    std::string name;
    std::string path;
    std::string data;
    std::vector<std::unique_ptr<RedisScript>> scripts;  // sources the journal carries
    std::vector<Entry> entries;  // from the saved progress on
    std::size_t torn = 0;        // bytes of a write cut short at the end
    std::uint64_t progress = 0;  // everything before it is done with
    std::size_t next = 0;        // the first entry not sent yet
    std::vector<ReplaySlot> window;
    std::size_t outstanding = 0;
    std::size_t replayed = 0;
    std::size_t retried = 0;
    std::size_t quarantined = 0;
    bool stopped = false;
    std::string stop_reason;
};

void Spool::replay_next() {
    for (const std::string& name : sealed_journals()) {
        auto run = std::make_unique<ReplayRun>();
        if (!open_run(name, *run)) {
            continue;
        }
        run->spool = this;
        replaying_ = run.release();
        // Scripts only the journal knows (written by another version) carry
        // their source: the link's EVAL on NOSCRIPT loads them where needed.
        send_window(replaying_);
        return;  // one journal at a time keeps the order
    }
}

// Locks and reads the journal, then lists what is left to do in it.
bool Spool::open_run(const std::string& name, ReplayRun& run) {
    run.name = name;
    run.path = settings_.dir + "/" + name;
    run.lane = is_tracking_journal(name) ? SpoolLane::tracking : SpoolLane::webhooks;
    const int fd = open(run.path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);  // being written, or replayed by another worker
        return false;
    }
    if (!read_whole(fd, run.data)) {
        ngx_log_error(NGX_LOG_ERR, &log_, ngx_errno, "mailhook: cannot read %s",
                      run.path.c_str());
        close(fd);
        return false;
    }
    if (run.data.empty()) {
        unlink(run.path.c_str());  // created, never written (append failed)
        remove_progress(run.path);
        close(fd);
        return false;
    }
    run.fd = fd;
    const std::string_view data = run.data;
    std::vector<ReplayRun::Entry> all;
    std::size_t at = 0;
    while (at < data.size()) {
        const SpoolRecordView view = decode_spool_record(data.substr(at));
        if (view.status == SpoolRecordView::Status::ok) {
            if (view.kind == SpoolRecordKind::call) {
                all.push_back({at, view.size, false, view});
            } else if (hex_encode(sha1(view.args)) == view.script_sha1) {
                run.scripts.push_back(std::make_unique<RedisScript>(
                    RedisScript{"spooled", view.args, std::string(view.script_sha1)}));
            }
            at += view.size;
            continue;
        }
        // Damage: skip to the next record that decodes, if there is one.
        const std::size_t skip = next_spool_record(data.substr(at));
        if (skip == std::string_view::npos && view.status == SpoolRecordView::Status::incomplete) {
            run.torn = data.size() - at;  // never acknowledged: the write did not finish
            break;
        }
        const std::size_t size = skip == std::string_view::npos ? data.size() - at : skip;
        all.push_back({at, size, true, {}});
        at += size;
    }
    // Progress only ever ends at an entry; anything else is not ours.
    std::uint64_t progress = read_progress(run.path);
    const auto first = std::find_if(all.begin(), all.end(), [&](const ReplayRun::Entry& e) {
        return e.offset >= progress;
    });
    const std::uint64_t end = data.size() - run.torn;
    if ((first == all.end() && progress != end) ||
        (first != all.end() && first->offset != progress)) {
        progress = 0;
    }
    run.progress = progress;
    for (const ReplayRun::Entry& entry : all) {
        if (entry.offset >= progress) run.entries.push_back(entry);
    }
    return true;
}

const RedisScript* Spool::script_for(const ReplayRun& run, std::string_view sha1) const {
    for (const RedisScript* script : scripts_) {
        if (script->sha1 == sha1) return script;
    }
    for (const auto& script : run.scripts) {
        if (script->sha1 == sha1) return script.get();
    }
    return nullptr;
}

void Spool::send_window(ReplayRun* run) {
    run->window.clear();
    std::size_t bytes = 0;
    while (run->next < run->entries.size() && run->window.size() < window_ &&
           bytes < kMaxWindowBytes) {
        ReplaySlot slot;
        slot.run = run;
        slot.entry = run->next++;
        bytes += run->entries[slot.entry].size;
        run->window.push_back(std::move(slot));
    }
    bool connected = true;
    for (ReplaySlot& slot : run->window) {
        const ReplayRun::Entry& entry = run->entries[slot.entry];
        if (entry.damaged) {
            slot.state = ReplaySlot::State::refused;
            slot.final = true;
            slot.error = "not a valid record (damaged on disk)";
            continue;
        }
        const RedisScript* script = script_for(*run, entry.record.script_sha1);
        if (script == nullptr) {
            slot.state = ReplaySlot::State::refused;
            slot.final = true;
            slot.error = "calls script " + std::string(entry.record.script_sha1) +
                         ", which neither this version nor the journal has";
            continue;
        }
        if (connected) {
            connected = redis_->eval(
                *script, std::make_shared<const RespArgs>(entry.record.arg_count, entry.record.args),
                on_replay_outcome, &slot);
        }
        if (connected) {
            ++run->outstanding;
        } else {
            slot.state = ReplaySlot::State::unanswered;
            slot.error = "redis is not connected";
        }
    }
    if (run->outstanding == 0) {
        window_done(run);
    }
}

void Spool::on_replay_outcome(void* data, const RedisOutcome& outcome) noexcept {
    auto* slot = static_cast<ReplaySlot*>(data);
    ReplayRun* run = slot->run;
    try {
        if (outcome.failure == RedisFailure::none) {
            slot->state = ReplaySlot::State::done;
        } else {
            slot->state = outcome.failure == RedisFailure::permanent
                              ? ReplaySlot::State::refused
                              : ReplaySlot::State::unanswered;
            slot->error.assign(outcome.error);
        }
        if (--run->outstanding == 0) {
            run->spool->window_done(run);
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, &run->spool->log_, 0, "mailhook: %s", e.what());
    }
}

// Every call of the window has its outcome: settle them in journal order,
// save how far the journal is done, go on or stop.
void Spool::window_done(ReplayRun* run) {
    std::uint64_t progress = run->progress;
    std::deque<std::string> retry_records;
    std::vector<Outgoing> retries;
    std::uint64_t first_retry = 0;
    for (const ReplaySlot& slot : run->window) {
        const ReplayRun::Entry& entry = run->entries[slot.entry];
        if (slot.state == ReplaySlot::State::waiting ||
            slot.state == ReplaySlot::State::unanswered) {
            run->stopped = true;
            run->stop_reason = slot.error.empty() ? "no answer" : slot.error;
            break;
        }
        if (slot.state == ReplaySlot::State::done) {
            ++run->replayed;
        } else {
            const unsigned attempts = entry.damaged ? 0 : entry.record.attempts + 1u;
            if (slot.final || attempts >= settings_.max_attempts) {
                if (!quarantine(*run, entry.offset, entry.size, attempts, slot.error)) {
                    run->stopped = true;
                    run->stop_reason = "cannot write to " + std::string(kQuarantineDir) + "/";
                    break;
                }
                ++run->quarantined;
            } else {
                if (retries.empty()) first_retry = entry.offset;
                retry_records.push_back(encode_spool_record(
                    entry.record.script_sha1,
                    RespArgs(entry.record.arg_count, entry.record.args),
                    static_cast<std::uint8_t>(attempts)));
                const RedisScript* script = script_for(*run, entry.record.script_sha1);
                retries.push_back({retry_records.back(), entry.record.script_sha1,
                                   script != nullptr ? script->source : std::string_view()});
                ngx_log_error(NGX_LOG_WARN, &log_, 0,
                              "mailhook: redis refused a spooled record of %s (attempt %ud "
                              "of %ud), to be tried again: %s",
                              run->path.c_str(), attempts, settings_.max_attempts,
                              slot.error.c_str());
            }
        }
        progress = entry.offset + entry.size;
    }
    if (!retries.empty()) {
        if (write_records(run->lane, retries)) {
            run->retried += retries.size();
        } else {
            progress = std::min(progress, first_retry);  // they stay here
            run->stopped = true;
            run->stop_reason = "records to try again could not be written";
        }
    }
    if (progress != run->progress) {
        if (!write_progress(run->path, progress)) {
            ngx_log_error(NGX_LOG_WARN, &log_, ngx_errno,
                          "mailhook: cannot save the replay progress of %s",
                          run->path.c_str());
        }
        run->progress = progress;
    }
    if (run->stopped) {
        window_ = 1;
        run_finished(run);
        return;
    }
    window_ = std::min(window_ * 2, kMaxWindow);
    if (run->next < run->entries.size() && !stopping_) {
        send_window(run);
        return;
    }
    run_finished(run);
}

bool Spool::quarantine(const ReplayRun& run, std::uint64_t offset, std::size_t size,
                       unsigned attempts, std::string_view error) {
    const std::string dir = settings_.dir + "/" + std::string(kQuarantineDir);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        ngx_log_error(NGX_LOG_ERR, &log_, ngx_errno, "mailhook: cannot create %s", dir.c_str());
        return false;
    }
    const std::string_view bytes = std::string_view(run.data).substr(offset, size);
    std::string journal;
    const SpoolRecordView record = decode_spool_record(bytes);
    if (record.status == SpoolRecordView::Status::ok) {
        // A journal of its own: moved back into the spool, it replays.
        if (const RedisScript* script = script_for(run, record.script_sha1)) {
            journal = encode_spool_script(script->sha1, script->source);
        }
        journal += encode_spool_record(record.script_sha1,
                                       RespArgs(record.arg_count, record.args), 0);
    } else {
        journal.assign(bytes);
    }
    const std::string name = quarantine_name(run.name, offset);
    struct stat st;
    if (!write_new_file(dir, name, journal) && stat((dir + "/" + name).c_str(), &st) != 0) {
        ngx_log_error(NGX_LOG_ERR, &log_, ngx_errno, "mailhook: cannot write %s/%s",
                      dir.c_str(), name.c_str());
        return false;
    }
    const std::string note = run.name + " offset " + std::to_string(offset) + ", " +
                             std::to_string(attempts) + " attempt(s): " + std::string(error) +
                             "\n";
    (void) write_new_file(dir, name + ".error", note);
    ++stats_.records_quarantined;
    metrics_->spool_quarantined(1);
    ngx_log_error(NGX_LOG_ERR, &log_, 0,
                  "mailhook: spooled record quarantined to %s/%s after %ud attempt(s): %*s",
                  dir.c_str(), name.c_str(), attempts, error.size(), error.data());
    return true;
}

void Spool::run_finished(ReplayRun* run) {
    replaying_ = nullptr;
    stats_.records_replayed += run->replayed;
    metrics_->spool_replayed(run->replayed);
    const bool complete = !run->stopped && run->next == run->entries.size();
    if (complete) {
        if (run->torn > 0) {
            ngx_log_error(NGX_LOG_WARN, &log_, 0,
                          "mailhook: %s: %uz trailing bytes are a torn write; the requests "
                          "in them were never acknowledged",
                          run->path.c_str(), run->torn);
        }
        unlink(run->path.c_str());
        remove_progress(run->path);
        scan_disk();
        ngx_log_error(NGX_LOG_NOTICE, &log_, 0,
                      "mailhook: replayed %uz request(s) from %s (%uz to try again, %uz "
                      "quarantined)",
                      run->replayed, run->path.c_str(), run->retried, run->quarantined);
    } else {
        ngx_log_error(NGX_LOG_ERR, &log_, 0,
                      "mailhook: replay of %s stopped after %uz request(s): %s; the rest "
                      "is kept for the next attempt",
                      run->path.c_str(), run->replayed, run->stop_reason.c_str());
    }
    close(run->fd);
    delete run;
    if (complete && !stopping_) {
        replay_next();
    }
}

}  // namespace mailhook::nginx
