// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_detached.hpp"

#include <cstring>

#include "ngx_http_mailhook_state.hpp"

namespace mailhook::nginx {
namespace {

// hiredis privdata: the job, and the state to resend it through.
struct InFlight {
    ModuleState* state;
    std::unique_ptr<DetachedStore> job;
};

void on_reply(redisAsyncContext* ac, void* reply, void* privdata) noexcept;

void lost(ModuleState& state, std::unique_ptr<DetachedStore> job,
          std::string_view why) noexcept {
    ++state.detached.lost;
    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "mailhook: event not stored %*s: %*s (%uL lost in this worker)",
                  job->describe.size(), job->describe.data(), why.size(), why.data(),
                  static_cast<uint64_t>(state.detached.lost));
}

// Redis could not take the job: the spool keeps it when there is one.
void not_sent(ModuleState& state, std::unique_ptr<DetachedStore> job,
              std::string_view why) noexcept {
    if (state.spool) {
        ++state.detached.spooled;
        state.spool->append(job->script_sha1, job->args, nullptr);
        return;
    }
    lost(state, std::move(job), why);
}

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
    ++state.detached.in_flight;
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
    ModuleState& state = *in_flight->state;
    --state.detached.in_flight;
    try {
        auto* r = static_cast<const redisReply*>(reply);
        if (r == nullptr) {
            not_sent(state, std::move(in_flight->job), "redis connection lost");
            return;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            const bool noscript = r->len >= 8 && std::strncmp(r->str, "NOSCRIPT", 8) == 0;
            if (noscript && !in_flight->job->sent_full_script) {
                // Script cache empty (restart, SCRIPT FLUSH): send the source.
                in_flight->job->sent_full_script = true;
                if (!send(state, in_flight->job)) {
                    not_sent(state, std::move(in_flight->job), "redis is not connected");
                }
                return;
            }
            lost(state, std::move(in_flight->job),
                 "store script failed: " + std::string(reply_text(r)));
            return;
        }
        ++state.detached.stored;
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0, "mailhook: %s", e.what());
    }
}

}  // namespace

void submit_detached(ModuleState& state, std::unique_ptr<DetachedStore> job) noexcept {
    ++state.detached.submitted;
    try {
        if (state.detached.in_flight >= kMaxDetachedInFlight) {
            not_sent(state, std::move(job), "too many stores waiting for redis");
        } else if (!send(state, job)) {
            not_sent(state, std::move(job), "redis is not connected");
        }
    } catch (const std::exception& e) {
        if (job) {
            lost(state, std::move(job), e.what());
        }
    }
}

}  // namespace mailhook::nginx
