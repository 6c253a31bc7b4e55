// SPDX-License-Identifier: BSD-2-Clause
// The content handler, written in the order a request goes through it:
// receive the body, resolve the connection, verify and normalize, store
// through Redis (or the spool), answer. Every asynchronous step (a Redis
// reply, its timeout, a spool append, a key fetch) ends in advance(), which
// goes on from the request's stage.
#include <algorithm>
#include <string>

#include "../core/intake.hpp"
#include "../core/store_script.hpp"
#include "ngx_http_mailhook_log.hpp"
#include "ngx_http_mailhook_metrics.hpp"
#include "ngx_http_mailhook_outbound.hpp"
#include "ngx_http_mailhook_request.hpp"
#include "ngx_http_mailhook_request_io.hpp"
#include "ngx_http_mailhook_state.hpp"
#include "ngx_http_mailhook_tracking.hpp"

namespace mailhook::nginx {
namespace {

// What the asynchronous step a request waited for brought back.
struct StepResult {
    enum class Kind { redis, timed_out, spooled, spool_failed, key_fetched, key_failed };
    StepResult(Kind k, const RedisOutcome* outcome = nullptr, std::string_view text = {})
        : kind(k), redis(outcome), why(text) {}

    Kind kind;
    const RedisOutcome* redis;  // Kind::redis, valid during advance()
    std::string_view why;       // Kind::key_failed
};

// An answer: the status and the JSON body.
struct Answer {
    ngx_uint_t status;
    std::string body;
};

void body_handler(ngx_http_request_t* r) noexcept;
void resolve(RequestCtx* ctx);
void use_connection(RequestCtx* ctx, const ResolvedConnection& resolved);
void verify(RequestCtx* ctx);
void store(RequestCtx* ctx, const Intake& intake);
void spool(RequestCtx* ctx, std::string_view why);
void advance(RequestCtx* ctx, const StepResult& step);
void looked_up(RequestCtx* ctx, const StepResult& step);
void lookup_failed(RequestCtx* ctx, std::string_view why);
void key_fetched(RequestCtx* ctx, const StepResult& step);
void stored(RequestCtx* ctx, const StepResult& step);
void spooled(RequestCtx* ctx, const StepResult& step);
ngx_int_t respond(RequestCtx* ctx, const Answer& answer);
void finish(RequestCtx* ctx, const Answer& answer);
Answer rejected(RequestCtx* ctx, ngx_uint_t status, std::string_view label,
                std::string_view reason, ngx_uint_t level = NGX_LOG_WARN);
void note_health(RequestCtx* ctx, ngx_uint_t status, std::string_view label);
Answer unavailable(RequestCtx* ctx, std::string_view why, ngx_uint_t level = NGX_LOG_ERR);
Answer internal_error(RequestCtx* ctx, const std::exception& e);
std::string error_body(std::string_view label);

ModuleState& state_of(const RequestCtx* ctx) { return *main_conf(ctx->r)->state; }

}  // namespace

// --- receive ------------------------------------------------------------------

ngx_int_t content_handler(ngx_http_request_t* r) noexcept {
    try {
        RequestCtx* ctx = pool_new<RequestCtx>(r->pool, r);
        if (ctx == nullptr) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ngx_http_set_ctx(r, ctx, ngx_http_mailhook_module);
        ngx_str_t vendor_name;
        ngx_str_t connection_id;
        if (split_route(r->uri, vendor_name, connection_id)) {
            ctx->vendor_name = vendor_name;
            ctx->connection_id = connection_id;
            ctx->vendor = find_vendor(to_view(vendor_name));
        }
        if (!(r->method & (NGX_HTTP_POST | NGX_HTTP_HEAD))) {
            return respond(ctx, rejected(ctx, NGX_HTTP_NOT_ALLOWED, "method", "not POST"));
        }
        if (ctx->vendor == nullptr || !is_valid_connection_id(to_view(connection_id))) {
            return respond(ctx, rejected(ctx, NGX_HTTP_NOT_FOUND, "unknown_connection",
                                         "no such vendor or malformed connection id"));
        }
        if (r->method == NGX_HTTP_HEAD) {
            return respond(ctx, ctx->vendor->accepts_head()
                                    ? Answer{NGX_HTTP_OK, ""}
                                    : rejected(ctx, NGX_HTTP_NOT_ALLOWED, "method", "HEAD"));
        }
        const ngx_int_t rc = ngx_http_read_client_request_body(r, body_handler);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            // nginx refused the body itself (413 over client_max_body_size).
            ctx->stage = Stage::answered;
            ctx->result = rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE ? "rejected:size"
                                                                  : "rejected:format";
            MetricsRecorder& metrics = state_of(ctx).metrics;
            metrics.request(to_view(ctx->vendor_name), static_cast<ngx_uint_t>(rc));
            metrics.rejection(to_view(ctx->vendor_name), ctx->result.substr(9));
            return rc;
        }
        return NGX_DONE;
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "mailhook: %s", e.what());
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

namespace {

void body_handler(ngx_http_request_t* r) noexcept {
    RequestCtx* ctx = request_ctx(r);
    try {
        if (!collect_body(r, ctx->body)) {
            finish(ctx, {NGX_HTTP_INTERNAL_SERVER_ERROR, error_body("internal")});
            return;
        }
        resolve(ctx);
    } catch (const std::exception& e) {
        finish(ctx, internal_error(ctx, e));
    }
}

// --- resolve: static connections, the cache, else Redis ------------------------

std::string connection_key(const RequestCtx* ctx, std::string_view id) {
    return std::string(to_view(main_conf(ctx->r)->key_prefix)) + "connection:" +
           std::string(id);
}

void on_redis_outcome(void* data, const RedisOutcome& outcome) noexcept;
void wait_for(RequestCtx* ctx, WaitTicket* ticket);

void resolve(RequestCtx* ctx) {
    ctx->stage = Stage::resolving;
    ModuleState& state = state_of(ctx);
    const std::string id(to_view(ctx->connection_id));
    if (const auto it = state.static_connections.find(id);
        it != state.static_connections.end()) {
        use_connection(ctx, it->second);
        return;
    }
    const ResolvedConnection* cached = state.cache.find(id, ngx_current_msec);
    if (cached == nullptr && !state.cache.may_look_up(ngx_current_msec)) {
        // Made-up ids arrive faster than the budget: what is known is still
        // served (if stale), nothing new is asked of Redis.
        cached = state.cache.find(id, ngx_current_msec, true);
        if (cached == nullptr) {
            finish(ctx, rejected(ctx, NGX_HTTP_SERVICE_UNAVAILABLE, "lookup_budget",
                                 "too many look-ups of unknown connection ids in this worker"));
            return;
        }
    }
    if (cached != nullptr) {
        const ResolvedConnection copy = *cached;  // the cache may change later
        use_connection(ctx, copy);
        return;
    }
    const std::string key = connection_key(ctx, id);
    auto* ticket = new WaitTicket{ctx};
    if (!state.redis ||
        !state.redis->call(key, resp_command({"HGETALL", key}), on_redis_outcome, ticket)) {
        delete ticket;
        lookup_failed(ctx, "redis is not connected");
        return;
    }
    wait_for(ctx, ticket);
}

void looked_up(RequestCtx* ctx, const StepResult& step) {
    if (step.kind == StepResult::Kind::timed_out) {
        lookup_failed(ctx, "redis did not answer in time");
        return;
    }
    const RedisOutcome& outcome = *step.redis;
    if (outcome.failure != RedisFailure::none) {
        lookup_failed(ctx, "connection look-up failed: " + std::string(outcome.error));
        return;
    }
    const redisReply* reply = outcome.reply;
    if (reply->type != REDIS_REPLY_ARRAY) {
        lookup_failed(ctx, "connection look-up failed: unexpected reply");
        return;
    }
    FieldList fields;
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const redisReply* name = reply->element[i];
        const redisReply* value = reply->element[i + 1];
        if (name->type == REDIS_REPLY_STRING && value->type == REDIS_REPLY_STRING) {
            fields.emplace_back(std::string(name->str, name->len),
                                std::string(value->str, value->len));
        }
    }
    const std::string id(to_view(ctx->connection_id));
    ResolvedConnection resolved;
    if (!fields.empty()) {
        resolved = resolve_fields(id, fields);
    }
    const MainConf* mcf = main_conf(ctx->r);
    // Unknown ids are remembered briefly: a new connection shows up fast.
    const ngx_msec_t ttl = resolved.kind == ResolvedConnection::Kind::usable
                               ? mcf->connection_cache_ttl
                               : std::min<ngx_msec_t>(mcf->connection_cache_ttl, 1000);
    mcf->state->cache.put(id, resolved, ngx_current_msec + ttl);
    use_connection(ctx, resolved);
}

// Redis cannot be asked now: a connection known before is used even if its
// cache entry expired.
void lookup_failed(RequestCtx* ctx, std::string_view why) {
    const ResolvedConnection* stale =
        state_of(ctx).cache.find(to_view(ctx->connection_id), ngx_current_msec, true);
    if (stale == nullptr) {
        finish(ctx, unavailable(ctx, why));
        return;
    }
    const ResolvedConnection copy = *stale;
    use_connection(ctx, copy);
}

void use_connection(RequestCtx* ctx, const ResolvedConnection& resolved) {
    switch (resolved.kind) {
        case ResolvedConnection::Kind::unknown:
            finish(ctx, rejected(ctx, NGX_HTTP_NOT_FOUND, "unknown_connection",
                                 "no such connection, or disabled"));
            return;
        case ResolvedConnection::Kind::unusable:
            finish(ctx, rejected(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, "connection_config",
                                 resolved.error, NGX_LOG_ERR));
            return;
        case ResolvedConnection::Kind::usable:
            break;
    }
    if (resolved.connection->vendor != ctx->vendor->name()) {
        finish(ctx, rejected(ctx, NGX_HTTP_NOT_FOUND, "unknown_connection",
                             "connection belongs to vendor " + resolved.connection->vendor));
        return;
    }
    ctx->connection = resolved.connection;
    verify(ctx);
}

// --- verify and normalize (the core's take_in) -----------------------------------

void on_key_fetched(RequestCtx* ctx, std::string_view why);

EpochMillis received_at(const ngx_http_request_t* r) {
    return static_cast<EpochMillis>(r->start_sec) * 1000 + r->start_msec;
}

void verify(RequestCtx* ctx) {
    ngx_http_request_t* r = ctx->r;
    const LocConf* lcf = loc_conf(r);
    const Connection& connection = *ctx->connection;

    RequestHeaders headers(r);
    Delivery delivery(ctx->body, headers, now_millis());
    delivery.set_certificates(&state_of(ctx).certificates);
    const std::string url = public_url(r, lcf);
    delivery.set_public_url(url);
    delivery.set_configured_tolerance(configured_tolerance(lcf, ctx->vendor->name()));
    delivery.set_max_events(lcf->max_events);
    delivery.set_max_recipients(lcf->max_recipients);
    delivery.set_max_json_depth(lcf->max_json_depth);

    EventOrigin origin;
    origin.vendor = ctx->vendor->name();
    origin.connection = connection.id;
    if (connection.tenant) origin.tenant = *connection.tenant;
    origin.received_at = received_at(r);
    origin.include_raw = lcf->include_raw;

    Intake intake = take_in(*ctx->vendor, delivery, connection, origin);
    if (!intake.notice.empty()) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0, "mailhook: %s: %s",
                      log_route(ctx->vendor_name, ctx->connection_id).c_str(),
                      log_text(intake.notice).c_str());
    }
    if (!intake.verdict.ok()) {
        const Rejection rejection = intake.verdict.rejection;
        if (rejection == Rejection::key_unavailable &&
            start_certificate_fetch(ctx, intake.key_url, on_key_fetched)) {
            ctx->stage = Stage::fetching_key;  // verified again once the key is in
            return;
        }
        finish(ctx, rejected(ctx, http_status(rejection), rejection_label(rejection),
                             intake.verdict.reason,
                             rejection == Rejection::misconfigured ||
                                     rejection == Rejection::key_unavailable
                                 ? NGX_LOG_ERR
                                 : NGX_LOG_WARN));
        return;
    }
    if (intake.confirm_url) {
        ctx->confirm_url = std::move(*intake.confirm_url);
    }
    ctx->events = static_cast<ngx_int_t>(intake.events.size());
    if (intake.events.empty() && !intake.replay_guard) {
        ctx->duplicates = 0;
        ctx->result = "stored";
        finish(ctx, {NGX_HTTP_OK, "{\"stored\":0,\"duplicates\":0}\n"});
        return;
    }
    store(ctx, intake);
}

void on_key_fetched(RequestCtx* ctx, std::string_view why) {
    if (ctx->stage != Stage::fetching_key) {
        return;  // reported once already
    }
    advance(ctx, why.empty() ? StepResult{StepResult::Kind::key_fetched}
                             : StepResult{StepResult::Kind::key_failed, nullptr, why});
}

void key_fetched(RequestCtx* ctx, const StepResult& step) {
    if (step.kind != StepResult::Kind::key_fetched) {
        finish(ctx, rejected(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                             rejection_label(Rejection::key_unavailable), step.why,
                             NGX_LOG_ERR));
        return;
    }
    verify(ctx);
}

// --- store: one script call, else the spool -----------------------------------------

StorePolicy store_policy(ngx_http_request_t* r) {
    const LocConf* lcf = loc_conf(r);
    StorePolicy policy;
    policy.dedup_ttl_seconds = lcf->dedup_ttl;
    policy.replay_ttl_seconds = lcf->dedup_ttl;
    policy.stream_maxlen = lcf->stream_maxlen;
    if (lcf->stream_max_age > 0) {  // MINID ~ now - age, by this worker's clock
        const ngx_time_t* now = ngx_timeofday();
        policy.stream_min_id_ms =
            static_cast<std::int64_t>(now->sec - lcf->stream_max_age) * 1000 + now->msec;
    }
    policy.soft_bounce_limit = lcf->soft_bounce_limit;
    policy.soft_bounce_window_seconds = lcf->soft_bounce_window;
    policy.delivered_ttl_seconds = tracking_delivered_ttl(r);
    return policy;
}

// The next script call of the request.
void send_store_call(RequestCtx* ctx) {
    ModuleState& state = state_of(ctx);
    auto* ticket = new WaitTicket{ctx};
    if (!state.redis || !state.redis->eval(state.store_script,
                                           ctx->store_calls[ctx->calls_stored],
                                           on_redis_outcome, ticket)) {
        delete ticket;
        spool(ctx, "redis is not connected");
        return;
    }
    wait_for(ctx, ticket);
}

void store(RequestCtx* ctx, const Intake& intake) {
    ctx->stage = Stage::storing;
    std::optional<StoreKeys> evaluated;
    const Connection& connection = *ctx->connection;
    const StoreTarget target{ctx->vendor->name(), connection.id,
                             connection.suppression_scope(), received_at(ctx->r)};
    for (RespArgs& call : store_script_calls(intake, target, store_keys_for(ctx->r, evaluated),
                                             store_policy(ctx->r))) {
        ctx->store_calls.push_back(std::make_shared<const RespArgs>(std::move(call)));
    }
    send_store_call(ctx);
}

void stored(RequestCtx* ctx, const StepResult& step) {
    if (step.kind == StepResult::Kind::timed_out) {
        spool(ctx, "redis did not answer in time");
        return;
    }
    const RedisOutcome& outcome = *step.redis;
    if (outcome.failure == RedisFailure::transient) {
        spool(ctx, outcome.error);
        return;
    }
    if (outcome.failure == RedisFailure::permanent) {
        // Replaying it would fail the same way: never to the spool.
        finish(ctx, unavailable(ctx, "redis refused the store script (" +
                                         std::string(redis_error_code(outcome.error)) +
                                         "; the cause is logged once)",
                                NGX_LOG_WARN));
        return;
    }
    const redisReply* reply = outcome.reply;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_INTEGER) {
        finish(ctx, unavailable(ctx, "store script failed: unexpected reply"));
        return;
    }
    if (reply->element[0]->integer < 0) {
        finish(ctx, rejected(ctx, NGX_HTTP_UNAUTHORIZED, "replay",
                             "one-time token already used for another event"));
        return;
    }
    ctx->stored_events += reply->element[0]->integer;
    ctx->duplicate_events += reply->element[1]->integer;
    if (++ctx->calls_stored < ctx->store_calls.size()) {
        send_store_call(ctx);
        return;
    }
    const std::int64_t stored = ctx->stored_events;
    const std::int64_t duplicates = ctx->duplicate_events;
    ctx->duplicates = static_cast<ngx_int_t>(duplicates);
    ctx->result = stored == 0 && duplicates > 0 ? "duplicate" : "stored";
    state_of(ctx).metrics.events(ctx->vendor->name(), static_cast<std::uint64_t>(stored),
                                 static_cast<std::uint64_t>(duplicates));
    if (!ctx->confirm_url.empty() && stored > 0) {
        // A repeated confirmation (same MessageId) was confirmed the first time.
        start_confirmation(ctx, ctx->confirm_url);
    }
    finish(ctx, {NGX_HTTP_OK, "{\"stored\":" + std::to_string(stored) +
                                  ",\"duplicates\":" + std::to_string(duplicates) + "}\n"});
}

// Verified events Redis could not take: to the spool when there is one.
void spool(RequestCtx* ctx, std::string_view why) {
    ModuleState& state = state_of(ctx);
    if (!state.spool) {
        finish(ctx, unavailable(ctx, why));
        return;
    }
    ctx->stage = Stage::spooling;
    const ngx_str_t id = request_id(ctx->r);
    ngx_log_error(NGX_LOG_INFO, ctx->r->connection->log, 0,
                  "mailhook: spooling %s request_id=%V: %*s",
                  log_route(ctx->vendor_name, ctx->connection_id).c_str(), &id,
                  why.size(), why.data());
    auto* ticket = new WaitTicket{ctx};
    ctx->waiting = ticket;  // no deadline: the append ends in this loop iteration
    // The calls not stored yet, in one group commit: the last one's outcome
    // is every one's.
    for (std::size_t i = ctx->calls_stored; i + 1 < ctx->store_calls.size(); ++i) {
        state.spool->append(state.store_script.sha1, *ctx->store_calls[i], nullptr);
    }
    state.spool->append(state.store_script.sha1, *ctx->store_calls.back(), ticket);
}

void spooled(RequestCtx* ctx, const StepResult& step) {
    if (step.kind != StepResult::Kind::spooled) {
        finish(ctx, unavailable(ctx, "redis is unavailable and the spool cannot take the "
                                     "events"));
        return;
    }
    ctx->result = "spooled";
    ctx->duplicates = static_cast<ngx_int_t>(ctx->duplicate_events);
    // Calls stored before Redis failed count as stored; the rest is spooled.
    const std::int64_t spooled = ctx->events - ctx->stored_events - ctx->duplicate_events;
    state_of(ctx).metrics.spooled(ctx->vendor->name(), static_cast<std::uint64_t>(spooled));
    if (!ctx->confirm_url.empty()) {
        // The control entry is durable in the spool: confirm now.
        start_confirmation(ctx, ctx->confirm_url);
    }
    finish(ctx, {NGX_HTTP_OK, "{\"stored\":" + std::to_string(ctx->stored_events) +
                                  ",\"duplicates\":" + std::to_string(ctx->duplicate_events) +
                                  ",\"spooled\":" + std::to_string(spooled) + "}\n"});
}

// --- waiting and going on -----------------------------------------------------------

void on_timeout(ngx_event_t* ev) noexcept;

// The request waits for `ticket` under mailhook_redis_timeout.
void wait_for(RequestCtx* ctx, WaitTicket* ticket) {
    ctx->waiting = ticket;
    if (!ctx->redis_timed) {
        ctx->redis_timed = true;
        ctx->redis_started_usec = monotonic_usec();
    }
    ngx_event_t* timer = &ctx->timer.event;
    timer->handler = on_timeout;
    timer->data = ctx->r->connection;
    timer->log = ctx->r->connection->log;
    ngx_add_timer(timer, loc_conf(ctx->r)->redis_timeout);
}

// Stops waiting: a late reply or append outcome is ignored (the store
// script is idempotent, so a store that lands after all is harmless).
void stop_waiting(RequestCtx* ctx) {
    if (ctx->timer.event.timer_set) {
        ngx_del_timer(&ctx->timer.event);
    }
    if (ctx->waiting != nullptr) {
        ctx->waiting->ctx = nullptr;
        ctx->waiting = nullptr;
    }
}

void advance(RequestCtx* ctx, const StepResult& step) {
    stop_waiting(ctx);
    switch (ctx->stage) {
        case Stage::resolving:
            looked_up(ctx, step);
            return;
        case Stage::fetching_key:
            key_fetched(ctx, step);
            return;
        case Stage::storing:
            stored(ctx, step);
            return;
        case Stage::spooling:
            spooled(ctx, step);
            return;
        case Stage::receiving:
        case Stage::answered:
            return;
    }
}

// Takes the ticket; the request may be gone or no longer waiting.
RequestCtx* redeem(void* data) {
    auto* ticket = static_cast<WaitTicket*>(data);
    RequestCtx* ctx = ticket->ctx;
    delete ticket;
    if (ctx != nullptr) {
        ctx->waiting = nullptr;
    }
    return ctx;
}

void resume(RequestCtx* ctx, const StepResult& step) noexcept {
    ngx_connection_t* c = ctx->r->connection;
    try {
        advance(ctx, step);
    } catch (const std::exception& e) {
        finish(ctx, internal_error(ctx, e));
    }
    ngx_http_run_posted_requests(c);
}

void on_redis_outcome(void* data, const RedisOutcome& outcome) noexcept {
    if (RequestCtx* ctx = redeem(data)) {
        resume(ctx, {StepResult::Kind::redis, &outcome});
    }
}

void on_timeout(ngx_event_t* ev) noexcept {
    RequestCtx* ctx = reinterpret_cast<RequestTimer*>(ev)->ctx;
    ModuleState& state = state_of(ctx);  // the request may be freed by resume()
    resume(ctx, {StepResult::Kind::timed_out});
    if (state.redis) {
        state.redis->note_timeout();
    }
}

// --- answer -------------------------------------------------------------------------

ngx_int_t send_response(RequestCtx* ctx, const Answer& answer) {
    ngx_http_request_t* r = ctx->r;
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }
    if (answer.status == NGX_HTTP_SERVICE_UNAVAILABLE &&
        push_header(r, "Retry-After", std::to_string(loc_conf(r)->retry_after)) != NGX_OK) {
        return NGX_ERROR;
    }
    if (answer.status == NGX_HTTP_NOT_ALLOWED && push_header(r, "Allow", "POST") != NGX_OK) {
        return NGX_ERROR;
    }
    if (answer.status == NGX_HTTP_UNAUTHORIZED && ctx->vendor != nullptr && ctx->connection) {
        // Some vendors send Basic credentials only after a challenge.
        const std::string_view challenge = ctx->vendor->www_authenticate(*ctx->connection);
        if (!challenge.empty() && push_header(r, "WWW-Authenticate", challenge) != NGX_OK) {
            return NGX_ERROR;
        }
    }
    return send_body(r, answer.status, "application/json", answer.body);
}

// Answers the request; every path goes through here exactly once. Until
// content_handler() has returned NGX_DONE its rc is returned to nginx, later
// finish() finalizes the request with it.
ngx_int_t respond(RequestCtx* ctx, const Answer& answer) {
    ctx->stage = Stage::answered;
    stop_waiting(ctx);
    MetricsRecorder& metrics = state_of(ctx).metrics;
    if (ctx->redis_timed) {
        ctx->redis_usec = monotonic_usec() - ctx->redis_started_usec;
        metrics.redis_latency(ctx->redis_usec);
    }
    metrics.request(to_view(ctx->vendor_name), answer.status);
    return send_response(ctx, answer);
}

void finish(RequestCtx* ctx, const Answer& answer) {
    if (ctx->stage != Stage::answered) {
        ngx_http_finalize_request(ctx->r, respond(ctx, answer));
    }
}

std::string error_body(std::string_view label) {
    return "{\"error\":\"" + std::string(label) + "\"}\n";
}

Answer rejected(RequestCtx* ctx, ngx_uint_t status, std::string_view label,
                std::string_view reason, ngx_uint_t level) {
    std::string held_back;
    if (state_of(ctx).rejection_log.allow(label, held_back)) {
        const ngx_str_t id = request_id(ctx->r);
        ngx_log_error(level, ctx->r->connection->log, 0,
                      "mailhook: rejected %s status=%ui reason=%*s request_id=%V: %s%s",
                      log_route(ctx->vendor_name, ctx->connection_id).c_str(), status,
                      label.size(), label.data(), &id, log_text(reason).c_str(),
                      held_back.c_str());
    }
    ctx->result = "rejected:" + std::string(label);
    state_of(ctx).metrics.rejection(to_view(ctx->vendor_name), label);
    if (ctx->connection) {
        note_health(ctx, status, label);
    }
    return {status, error_body(label)};
}

void on_health_written(void*, const RedisOutcome&) noexcept {}

// A rejection of a known connection in its health hash (docs/events.md
// "Connection health"); best effort, at most once a second per connection
// in this worker.
void note_health(RequestCtx* ctx, ngx_uint_t status, std::string_view label) {
    ModuleState& state = state_of(ctx);
    const Connection& connection = *ctx->connection;
    const EpochMillis now = now_millis();
    const auto count = state.rejection_health.note(connection.id, now);
    if (!count || !state.redis) {
        return;
    }
    std::optional<StoreKeys> evaluated;
    const RequestKeys keys(store_keys_for(ctx->r, evaluated), connection.suppression_scope());
    state.redis->eval(state.health_script,
                      std::make_shared<const RespArgs>(health_rejection_args(
                          keys, connection.id, static_cast<unsigned>(status), label, now, *count)),
                      on_health_written, nullptr);
}

Answer unavailable(RequestCtx* ctx, std::string_view why, ngx_uint_t level) {
    const ngx_str_t id = request_id(ctx->r);
    ngx_log_error(level, ctx->r->connection->log, 0,
                  "mailhook: not stored %s request_id=%V: %s",
                  log_route(ctx->vendor_name, ctx->connection_id).c_str(), &id,
                  log_text(why).c_str());
    ctx->result = "unavailable";
    return {NGX_HTTP_SERVICE_UNAVAILABLE, error_body("unavailable")};
}

Answer internal_error(RequestCtx* ctx, const std::exception& e) {
    ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0, "mailhook: %s", e.what());
    return {NGX_HTTP_INTERNAL_SERVER_ERROR, error_body("internal")};
}

}  // namespace

// --- callbacks from other files, and the context ------------------------------------

void on_spooled(void* ticket, bool ok) noexcept {
    if (RequestCtx* ctx = redeem(ticket)) {
        resume(ctx, {ok ? StepResult::Kind::spooled : StepResult::Kind::spool_failed});
    }
}

RequestCtx::~RequestCtx() {
    if (waiting != nullptr) {
        waiting->ctx = nullptr;
    }
    if (timer.event.timer_set) {
        ngx_del_timer(&timer.event);
    }
}

RequestCtx* request_ctx(ngx_http_request_t* r) {
    return static_cast<RequestCtx*>(ngx_http_get_module_ctx(r, ngx_http_mailhook_module));
}

}  // namespace mailhook::nginx
