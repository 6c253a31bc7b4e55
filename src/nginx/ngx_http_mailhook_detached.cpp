#include "ngx_http_mailhook_detached.hpp"

#include <cstring>

#include "ngx_http_mailhook_state.hpp"

namespace mailhook::nginx {
namespace {

// Per worker process (each worker has its own copy after fork). Trivial
// type: no destructor runs at dlclose.
DetachedCounters counters;

// hiredis privdata: the job, and the state to resend it through.
struct InFlight {
    ModuleState* state;
    std::unique_ptr<DetachedStore> job;
};

void on_reply(redisAsyncContext* ac, void* reply, void* privdata) noexcept;

bool send(ModuleState& state, std::unique_ptr<DetachedStore>& job) {
    if (!state.link || !state.link->accepts_commands()) {
        return false;
    }
    const std::string command =
        job->sent_full_script
            ? resp_command({"EVAL", job->script_source}, job->args)
            : resp_command({"EVALSHA", job->script_sha1}, job->args);
    auto* in_flight = new InFlight{&state, std::move(job)};
    if (!state.link->send(command, on_reply, in_flight)) {
        job = std::move(in_flight->job);
        delete in_flight;
        return false;
    }
    ++counters.in_flight;
    return true;
}

std::string_view reply_text(const redisReply* reply) {
    if (reply->str != nullptr && reply->len > 0) {
        return {reply->str, reply->len};
    }
    return "unexpected reply";
}

void on_reply(redisAsyncContext*, void* reply, void* privdata) noexcept {
    std::unique_ptr<InFlight> in_flight(static_cast<InFlight*>(privdata));
    --counters.in_flight;
    try {
        auto* r = static_cast<const redisReply*>(reply);
        if (r == nullptr) {
            store_detached(std::move(in_flight->job), "redis connection lost");
            return;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            const bool noscript = r->len >= 8 && std::strncmp(r->str, "NOSCRIPT", 8) == 0;
            if (noscript && !in_flight->job->sent_full_script) {
                // Script cache empty (restart, SCRIPT FLUSH): send the source.
                in_flight->job->sent_full_script = true;
                if (!send(*in_flight->state, in_flight->job)) {
                    store_detached(std::move(in_flight->job), "redis is not connected");
                }
                return;
            }
            store_detached(std::move(in_flight->job),
                           "store script failed: " + std::string(reply_text(r)));
            return;
        }
        ++counters.stored;
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0, "mailhook: %s", e.what());
    }
}

}  // namespace

const DetachedCounters& detached_counters() { return counters; }

void submit_detached(ModuleState& state, std::unique_ptr<DetachedStore> job) noexcept {
    ++counters.submitted;
    if (counters.in_flight >= kMaxDetachedInFlight) {
        store_detached(std::move(job), "too many stores waiting for redis");
        return;
    }
    try {
        if (!send(state, job)) {
            store_detached(std::move(job), "redis is not connected");
        }
    } catch (const std::exception& e) {
        if (job) {
            store_detached(std::move(job), e.what());
        }
    }
}

void store_detached(std::unique_ptr<DetachedStore> job, std::string_view why) noexcept {
    ++counters.lost;
    if (!job) {
        return;
    }
    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "mailhook: event not stored %*s: %*s (%uL lost in this worker)",
                  job->describe.size(), job->describe.data(), why.size(), why.data(),
                  static_cast<uint64_t>(counters.lost));
}

}  // namespace mailhook::nginx
