// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_detached.hpp"

#include "ngx_http_mailhook_state.hpp"

namespace mailhook::nginx {
namespace {

// The call's data: the job, and the state it counts in.
struct InFlight {
    ModuleState* state;
    std::unique_ptr<DetachedStore> job;
};

void lost(ModuleState& state, const DetachedStore& job, std::string_view why) noexcept {
    ++state.detached.lost;
    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "mailhook: event not stored %*s: %*s (%uL lost in this worker)",
                  job.describe.size(), job.describe.data(), why.size(), why.data(),
                  static_cast<uint64_t>(state.detached.lost));
}

// Redis could not take the job: the spool keeps it when there is one.
void not_sent(ModuleState& state, const DetachedStore& job, std::string_view why) noexcept {
    if (state.spool) {
        ++state.detached.spooled;
        state.spool->append(job.script->sha1, *job.args, nullptr, SpoolLane::tracking);
        return;
    }
    lost(state, job, why);
}

void on_outcome(void* data, const RedisOutcome& outcome) noexcept {
    std::unique_ptr<InFlight> in_flight(static_cast<InFlight*>(data));
    ModuleState& state = *in_flight->state;
    --state.detached.in_flight;
    state.watchdog.answered();
    switch (outcome.failure) {
        case RedisFailure::none:
            ++state.detached.stored;
            return;
        case RedisFailure::transient:
            not_sent(state, *in_flight->job, outcome.error);
            return;
        case RedisFailure::permanent:
            lost(state, *in_flight->job,
                 "store script failed: " + std::string(outcome.error));
            return;
    }
}

}  // namespace

void submit_detached(ModuleState& state, std::unique_ptr<DetachedStore> job) noexcept {
    ++state.detached.submitted;
    try {
        if (state.detached.in_flight >= kMaxDetachedInFlight) {
            not_sent(state, *job, "too many stores waiting for redis");
            return;
        }
        auto in_flight = std::make_unique<InFlight>(InFlight{&state, std::move(job)});
        const DetachedStore& sent = *in_flight->job;
        ++state.detached.in_flight;
        if (!state.redis ||
            !state.redis->eval(*sent.script, sent.args, on_outcome, in_flight.get())) {
            --state.detached.in_flight;
            not_sent(state, sent, "redis is not connected");
            return;
        }
        in_flight.release();
        state.watchdog.sent(state.redis.get(), sent.timeout);
    } catch (const std::exception& e) {
        if (job) {
            lost(state, *job, e.what());
        }
    }
}

}  // namespace mailhook::nginx
