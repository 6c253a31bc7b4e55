// SPDX-License-Identifier: BSD-2-Clause
// The content handler: read the body, resolve the connection, verify and
// normalize, store through Redis, answer.
#include <cstring>

#include "../core/intake.hpp"
#include "../core/store_script.hpp"
#include "ngx_http_mailhook_metrics.hpp"
#include "ngx_http_mailhook_outbound.hpp"
#include "ngx_http_mailhook_request.hpp"
#include "ngx_http_mailhook_state.hpp"
#include "ngx_http_mailhook_tracking.hpp"

namespace mailhook::nginx {
namespace {

class RequestHeaders final : public HeaderLookup {
  public:
    explicit RequestHeaders(ngx_http_request_t* r) : r_(r) {}

    std::optional<std::string_view> find(std::string_view name) const override {
        std::optional<std::string_view> found;
        visit(name, [&](const ngx_table_elt_t& h) {
            if (!found) found = to_view(h.value);
        });
        return found;
    }

    // Repeated headers count as absent in the core (Delivery::header).
    std::size_t count(std::string_view name) const override {
        std::size_t n = 0;
        visit(name, [&](const ngx_table_elt_t&) { ++n; });
        return n;
    }

  private:
    template <typename F>
    void visit(std::string_view name, F&& f) const {
        for (ngx_list_part_t* part = &r_->headers_in.headers.part; part != nullptr;
             part = part->next) {
            auto* headers = static_cast<ngx_table_elt_t*>(part->elts);
            for (ngx_uint_t i = 0; i < part->nelts; ++i) {
                const ngx_table_elt_t& h = headers[i];
                if (h.key.len == name.size() &&
                    ngx_strncasecmp(h.key.data,
                                    reinterpret_cast<u_char*>(const_cast<char*>(name.data())),
                                    name.size()) == 0) {
                    f(h);
                }
            }
        }
    }

    ngx_http_request_t* r_;
};

EpochMillis now_millis() {
    const ngx_time_t* tp = ngx_timeofday();
    return static_cast<EpochMillis>(tp->sec) * 1000 + tp->msec;
}

ModuleState& state_of(ngx_http_request_t* r) { return *main_conf(r)->state; }

ngx_int_t send_response(ngx_http_request_t* r, ngx_uint_t status,
                        std::string_view body) {
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }
    if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        const LocConf* lcf = loc_conf(r);
        if (push_header(r, "Retry-After", std::to_string(lcf->retry_after)) != NGX_OK) {
            return NGX_ERROR;
        }
    }
    if (status == NGX_HTTP_NOT_ALLOWED &&
        push_header(r, "Allow", "POST") != NGX_OK) {
        return NGX_ERROR;
    }
    if (status == NGX_HTTP_UNAUTHORIZED) {
        // Some vendors send Basic credentials only after a challenge.
        const RequestCtx* ctx = request_ctx(r);
        if (ctx != nullptr && ctx->vendor != nullptr && ctx->connection) {
            const std::string_view challenge =
                ctx->vendor->www_authenticate(*ctx->connection);
            if (!challenge.empty() &&
                push_header(r, "WWW-Authenticate", challenge) != NGX_OK) {
                return NGX_ERROR;
            }
        }
    }
    return send_body(r, status, "application/json", body);
}

std::string error_body(std::string_view label) {
    return "{\"error\":\"" + std::string(label) + "\"}\n";
}

// Answers the request; every path goes through here exactly once.
ngx_int_t answer(RequestCtx* ctx, ngx_uint_t status, std::string_view body) {
    ctx->answered = true;
    if (ctx->timer.event.timer_set) {
        ngx_del_timer(&ctx->timer.event);
    }
    if (ctx->pending != nullptr) {
        ctx->pending->ctx = nullptr;
        ctx->pending = nullptr;
    }
    MetricsRecorder& metrics = state_of(ctx->r).metrics;
    if (ctx->redis_timed) {
        ctx->redis_usec = monotonic_usec() - ctx->redis_started_usec;
        metrics.redis_latency(ctx->redis_usec);
    }
    metrics.request(to_view(ctx->vendor_name), status);
    return send_response(ctx->r, status, body);
}

// Answers and finalizes a request that waited (body read, Redis reply).
void finish(RequestCtx* ctx, ngx_uint_t status, std::string_view body) {
    if (!ctx->answered) {
        ngx_http_finalize_request(ctx->r, answer(ctx, status, body));
    }
}

ngx_int_t rejection(RequestCtx* ctx, ngx_uint_t status, std::string_view label,
                    std::string_view reason, ngx_uint_t level = NGX_LOG_WARN) {
    const ngx_str_t id = request_id(ctx->r);
    ngx_log_error(level, ctx->r->connection->log, 0,
                  "mailhook: rejected vendor=%V connection=%V status=%ui "
                  "reason=%*s request_id=%V: %*s",
                  &ctx->vendor_name, &ctx->connection_id, status,
                  label.size(), label.data(), &id, reason.size(), reason.data());
    ctx->result = "rejected:" + std::string(label);
    state_of(ctx->r).metrics.rejection(to_view(ctx->vendor_name), label);
    return answer(ctx, status, error_body(label));
}

void reject(RequestCtx* ctx, ngx_uint_t status, std::string_view label,
            std::string_view reason, ngx_uint_t level = NGX_LOG_WARN) {
    if (!ctx->answered) {
        ngx_http_finalize_request(ctx->r, rejection(ctx, status, label, reason, level));
    }
}

void unavailable(RequestCtx* ctx, std::string_view why) {
    const ngx_str_t id = request_id(ctx->r);
    ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                  "mailhook: not stored vendor=%V connection=%V request_id=%V: %*s",
                  &ctx->vendor_name, &ctx->connection_id, &id, why.size(), why.data());
    ctx->result = "unavailable";
    finish(ctx, NGX_HTTP_SERVICE_UNAVAILABLE, error_body("unavailable"));
}

void redis_failed(RequestCtx* ctx, std::string_view why);

void on_timeout(ngx_event_t* ev) {
    RequestCtx* ctx = reinterpret_cast<RequestTimer*>(ev)->ctx;
    ngx_connection_t* c = ctx->r->connection;
    ModuleState& state = state_of(ctx->r);
    const bool waited_for_redis = ctx->pending != nullptr;
    redis_failed(ctx, "redis did not answer in time");
    if (waited_for_redis && state.link) {
        state.link->note_timeout();
    }
    ngx_http_run_posted_requests(c);
}

void on_redis_reply(redisAsyncContext* ac, void* reply, void* privdata) noexcept;

// Stops waiting for Redis: a late reply is ignored (the store script is
// idempotent, so a store that lands after all is harmless).
void stop_waiting(RequestCtx* ctx) {
    if (ctx->timer.event.timer_set) {
        ngx_del_timer(&ctx->timer.event);
    }
    if (ctx->pending != nullptr) {
        ctx->pending->ctx = nullptr;
        ctx->pending = nullptr;
    }
}

// Verified events Redis could not take: to the spool when there is one.
void spool_or_unavailable(RequestCtx* ctx, std::string_view why) {
    Spool* spool = state_of(ctx->r).spool.get();
    if (spool == nullptr) {
        unavailable(ctx, why);
        return;
    }
    stop_waiting(ctx);
    const ngx_str_t id = request_id(ctx->r);
    ngx_log_error(NGX_LOG_INFO, ctx->r->connection->log, 0,
                  "mailhook: spooling vendor=%V connection=%V request_id=%V: %*s",
                  &ctx->vendor_name, &ctx->connection_id, &id, why.size(), why.data());
    auto* ticket = new PendingReply{ctx, PendingReply::Purpose::spool};
    ctx->pending = ticket;
    spool->append(state_of(ctx->r).script_sha1, ctx->store_args, ticket);
}

// Queues one Redis command for the request and arms its deadline.
bool send_to_redis(RequestCtx* ctx, std::string_view command,
                   PendingReply::Purpose purpose) {
    ModuleState& state = state_of(ctx->r);
    if (!state.link || !state.link->accepts_commands()) {
        return false;
    }
    auto* pending = new PendingReply{ctx, purpose};
    if (!state.link->send(command, on_redis_reply, pending)) {
        delete pending;
        return false;
    }
    ctx->pending = pending;
    if (!ctx->redis_timed) {
        ctx->redis_timed = true;
        ctx->redis_started_usec = monotonic_usec();
    }
    if (!ctx->timer.event.timer_set) {
        ctx->timer.event.handler = on_timeout;
        ctx->timer.event.data = ctx->r->connection;
        ctx->timer.event.log = ctx->r->connection->log;
        ngx_add_timer(&ctx->timer.event, loc_conf(ctx->r)->redis_timeout);
    }
    return true;
}

std::optional<std::int64_t> configured_tolerance(const LocConf* lcf,
                                                 std::string_view vendor) {
    if (lcf->tolerances == nullptr) {
        return std::nullopt;
    }
    const auto* entries = static_cast<TimestampTolerance*>(lcf->tolerances->elts);
    for (ngx_uint_t i = 0; i < lcf->tolerances->nelts; ++i) {
        if (to_view(entries[i].vendor) == vendor) {
            return static_cast<std::int64_t>(entries[i].seconds);
        }
    }
    return std::nullopt;
}

// The URL the vendor was given, for vendors that sign it.
std::string public_url(ngx_http_request_t* r, const LocConf* lcf) {
    if (lcf->public_url != nullptr) {
        return complex_value_or(r, lcf->public_url, "");
    }
    std::string url;
#if (NGX_HTTP_SSL)
    url = r->connection->ssl ? "https://" : "http://";
#else
    url = "http://";
#endif
    if (r->headers_in.host != nullptr) {
        url.append(to_view(r->headers_in.host->value));
    }
    url.append(to_view(r->unparsed_uri));
    return url;
}

void store(RequestCtx* ctx, Intake& intake) {
    ngx_http_request_t* r = ctx->r;
    const LocConf* lcf = loc_conf(r);
    const StoreKeys* keys = lcf->store_keys;
    StoreKeys evaluated;
    if (lcf->store_keys_vary) {
        evaluated = *keys;
        evaluated.stream = complex_value_or(r, lcf->stream, "mailhook:events");
        evaluated.suppression_stream =
            complex_value_or(r, lcf->suppression_stream, "mailhook:suppression-events");
        keys = &evaluated;
    }

    StorePolicy policy;
    policy.dedup_ttl_seconds = lcf->dedup_ttl;
    policy.replay_ttl_seconds = lcf->dedup_ttl;
    policy.stream_maxlen = lcf->stream_maxlen;
    policy.soft_bounce_limit = lcf->soft_bounce_limit;
    policy.soft_bounce_window_seconds = lcf->soft_bounce_window;
    policy.delivered_ttl_seconds = tracking_delivered_ttl(r);

    const Connection& connection = *ctx->connection;
    ctx->store_args = store_script_args(intake, ctx->vendor->name(), connection.id,
                                        connection.suppression_scope(), *keys, policy);
    const std::string command =
        resp_command({"EVALSHA", state_of(r).script_sha1}, ctx->store_args);
    if (!send_to_redis(ctx, command, PendingReply::Purpose::store)) {
        spool_or_unavailable(ctx, "redis is not connected");
    }
}

void process(RequestCtx* ctx) {
    ngx_http_request_t* r = ctx->r;
    const LocConf* lcf = loc_conf(r);
    const Connection& connection = *ctx->connection;

    RequestHeaders headers(r);
    Delivery delivery(ctx->body, headers, now_millis());
    delivery.set_certificates(&state_of(r).certificates);
    const std::string url = public_url(r, lcf);
    delivery.set_public_url(url);
    delivery.set_configured_tolerance(configured_tolerance(lcf, ctx->vendor->name()));
    delivery.set_max_events(lcf->max_events);
    delivery.set_max_json_depth(lcf->max_json_depth);

    EventOrigin origin;
    origin.vendor = ctx->vendor->name();
    origin.connection = connection.id;
    if (connection.tenant) origin.tenant = *connection.tenant;
    origin.received_at = static_cast<EpochMillis>(r->start_sec) * 1000 + r->start_msec;
    origin.include_raw = lcf->include_raw;

    Intake intake = take_in(*ctx->vendor, delivery, connection, origin);
    if (!intake.notice.empty()) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mailhook: vendor=%V connection=%V: %s", &ctx->vendor_name,
                      &ctx->connection_id, intake.notice.c_str());
    }
    if (!intake.verdict.ok()) {
        const Rejection rejection = intake.verdict.rejection;
        if (rejection == Rejection::key_unavailable &&
            start_certificate_fetch(ctx, intake.key_url)) {
            return;  // verified again once the certificate is in
        }
        reject(ctx, http_status(rejection), rejection_label(rejection),
               intake.verdict.reason,
               rejection == Rejection::misconfigured ||
                       rejection == Rejection::key_unavailable
                   ? NGX_LOG_ERR
                   : NGX_LOG_WARN);
        return;
    }
    if (intake.confirm_url) {
        ctx->confirm_url = std::move(*intake.confirm_url);
    }
    ctx->events = static_cast<ngx_int_t>(intake.events.size());
    if (intake.events.empty() && !intake.replay_guard) {
        ctx->duplicates = 0;
        ctx->result = "stored";
        finish(ctx, NGX_HTTP_OK, "{\"stored\":0,\"duplicates\":0}\n");
        return;
    }
    store(ctx, intake);
}

void use_connection(RequestCtx* ctx, const ResolvedConnection& resolved) {
    switch (resolved.kind) {
        case ResolvedConnection::Kind::unknown:
            reject(ctx, NGX_HTTP_NOT_FOUND, "unknown_connection",
                   "no such connection, or disabled");
            return;
        case ResolvedConnection::Kind::unusable:
            reject(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, "connection_config",
                   resolved.error, NGX_LOG_ERR);
            return;
        case ResolvedConnection::Kind::usable:
            break;
    }
    if (resolved.connection->vendor != ctx->vendor->name()) {
        reject(ctx, NGX_HTTP_NOT_FOUND, "unknown_connection",
               "connection belongs to vendor " + resolved.connection->vendor);
        return;
    }
    ctx->connection = resolved.connection;
    process(ctx);
}

std::string connection_key(ngx_http_request_t* r, std::string_view id) {
    return std::string(to_view(main_conf(r)->key_prefix)) + "connection:" +
           std::string(id);
}

void resolve_connection(RequestCtx* ctx) {
    ngx_http_request_t* r = ctx->r;
    ModuleState& state = state_of(r);
    const std::string id(to_view(ctx->connection_id));
    if (const auto it = state.static_connections.find(id);
        it != state.static_connections.end()) {
        use_connection(ctx, it->second);
        return;
    }
    if (const ResolvedConnection* cached = state.cache.find(id, ngx_current_msec)) {
        const ResolvedConnection copy = *cached;  // the cache may change later
        use_connection(ctx, copy);
        return;
    }
    const std::string command = resp_command({"HGETALL", connection_key(r, id)});
    if (!send_to_redis(ctx, command, PendingReply::Purpose::lookup)) {
        redis_failed(ctx, "redis is not connected");
    }
}

// Redis cannot be used right now. Events already verified go to the spool;
// a connection not yet known is taken from the cache even if expired.
void redis_failed(RequestCtx* ctx, std::string_view why) {
    if (!ctx->store_args.empty()) {
        spool_or_unavailable(ctx, why);
        return;
    }
    stop_waiting(ctx);
    ModuleState& state = state_of(ctx->r);
    if (const ResolvedConnection* stale =
            state.cache.find(to_view(ctx->connection_id), ngx_current_msec, true)) {
        const ResolvedConnection copy = *stale;
        use_connection(ctx, copy);
        return;
    }
    unavailable(ctx, why);
}

void on_lookup_reply(RequestCtx* ctx, const redisReply* reply) {
    if (reply->type != REDIS_REPLY_ARRAY) {
        unavailable(ctx, "connection look-up failed: " +
                             std::string(reply->str ? reply->str : "unexpected reply"));
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

bool is_noscript(const redisReply* reply) {
    return reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
           std::strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

void on_store_reply(RequestCtx* ctx, const redisReply* reply) {
    if (is_noscript(reply) && !ctx->sent_full_script) {
        // Script cache empty (restart, SCRIPT FLUSH): send the source once.
        ctx->sent_full_script = true;
        const std::string command =
            resp_command({"EVAL", store_script_source()}, ctx->store_args);
        if (!send_to_redis(ctx, command, PendingReply::Purpose::store)) {
            spool_or_unavailable(ctx, "redis is not connected");
        }
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_INTEGER) {
        unavailable(ctx, "store script failed: " +
                             std::string(reply->type == REDIS_REPLY_ERROR && reply->str
                                             ? std::string_view(reply->str, reply->len)
                                             : std::string_view("unexpected reply")));
        return;
    }
    const long long stored = reply->element[0]->integer;
    const long long duplicates = reply->element[1]->integer;
    if (stored < 0) {
        reject(ctx, NGX_HTTP_UNAUTHORIZED, "replay",
               "one-time token already used for another event");
        return;
    }
    ctx->duplicates = static_cast<ngx_int_t>(duplicates);
    ctx->result = stored == 0 && duplicates > 0 ? "duplicate" : "stored";
    state_of(ctx->r).metrics.events(ctx->vendor->name(), static_cast<std::uint64_t>(stored),
                                    static_cast<std::uint64_t>(duplicates));
    if (!ctx->confirm_url.empty() && stored > 0) {
        // A repeated confirmation (same MessageId) was confirmed the first time.
        start_confirmation(ctx, ctx->confirm_url);
    }
    finish(ctx, NGX_HTTP_OK,
           "{\"stored\":" + std::to_string(stored) +
               ",\"duplicates\":" + std::to_string(duplicates) + "}\n");
}

void on_redis_reply(redisAsyncContext* ac, void* reply, void* privdata) noexcept {
    if (reply != nullptr) {
        // Even a reply nobody waits for any more shows Redis is alive.
        static_cast<RedisLink*>(ac->data)->note_reply();
    }
    auto* pending = static_cast<PendingReply*>(privdata);
    RequestCtx* ctx = pending->ctx;
    const PendingReply::Purpose purpose = pending->purpose;
    delete pending;
    if (ctx == nullptr) {
        return;  // the request was answered (timeout) or is gone
    }
    ctx->pending = nullptr;
    ngx_connection_t* c = ctx->r->connection;
    try {
        const auto* redis_reply = static_cast<const redisReply*>(reply);
        if (redis_reply == nullptr) {
            redis_failed(ctx, "redis connection lost");
        } else if (purpose == PendingReply::Purpose::lookup) {
            on_lookup_reply(ctx, redis_reply);
        } else {
            on_store_reply(ctx, redis_reply);
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "mailhook: %s", e.what());
        finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, error_body("internal"));
    }
    ngx_http_run_posted_requests(c);
}

std::size_t buffered_size(const ngx_buf_t* b) {
    if (ngx_buf_in_memory(b)) {
        return static_cast<size_t>(b->last - b->pos);
    }
    if (b->in_file) {
        return static_cast<size_t>(b->file_last - b->file_pos);
    }
    return 0;  // a special buffer (last_buf, flush) carries no bytes
}

// The whole body as one view: the buffer itself when nginx kept it in one
// piece of memory, else a pool copy of the memory and temp-file parts.
bool collect_body(ngx_http_request_t* r, std::string_view& body) {
    body = {};
    ngx_http_request_body_t* rb = r->request_body;
    if (rb == nullptr || rb->bufs == nullptr) {
        return true;
    }
    size_t total = 0;
    std::size_t parts = 0;
    ngx_buf_t* only = nullptr;
    for (ngx_chain_t* cl = rb->bufs; cl != nullptr; cl = cl->next) {
        const std::size_t size = buffered_size(cl->buf);
        if (size > 0) {
            total += size;
            ++parts;
            only = cl->buf;
        }
    }
    if (parts == 0) {
        return true;
    }
    if (parts == 1 && ngx_buf_in_memory(only)) {
        body = {reinterpret_cast<const char*>(only->pos), total};
        return true;
    }
    u_char* data = static_cast<u_char*>(ngx_pnalloc(r->pool, total));
    if (data == nullptr) {
        return false;
    }
    u_char* p = data;
    for (ngx_chain_t* cl = rb->bufs; cl != nullptr; cl = cl->next) {
        ngx_buf_t* b = cl->buf;
        const std::size_t size = buffered_size(b);
        if (size == 0) {
            continue;
        }
        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, size);
            continue;
        }
        const ssize_t n = ngx_read_file(b->file, p, size, b->file_pos);
        if (n != static_cast<ssize_t>(size)) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mailhook: short read of request body temp file");
            return false;
        }
        p += size;
    }
    body = {reinterpret_cast<const char*>(data), total};
    return true;
}

void body_handler(ngx_http_request_t* r) noexcept {
    RequestCtx* ctx = request_ctx(r);
    ngx_connection_t* c = r->connection;
    try {
        if (!collect_body(r, ctx->body)) {
            finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, error_body("internal"));
            return;
        }
        resolve_connection(ctx);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "mailhook: %s", e.what());
        finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, error_body("internal"));
    }
}

// "/any/prefix/{vendor}/{connectionId}": the last two path segments.
bool split_route(const ngx_str_t& uri, ngx_str_t& vendor, ngx_str_t& id) {
    const std::string_view path = to_view(uri);
    const std::size_t id_slash = path.rfind('/');
    if (id_slash == std::string_view::npos || id_slash == 0) {
        return false;
    }
    const std::size_t vendor_slash = path.rfind('/', id_slash - 1);
    if (vendor_slash == std::string_view::npos) {
        return false;
    }
    vendor.data = uri.data + vendor_slash + 1;
    vendor.len = id_slash - vendor_slash - 1;
    id.data = uri.data + id_slash + 1;
    id.len = path.size() - id_slash - 1;
    return true;
}

}  // namespace

void on_spooled(void* ticket, bool ok) noexcept {
    auto* pending = static_cast<PendingReply*>(ticket);
    RequestCtx* ctx = pending->ctx;
    delete pending;
    if (ctx == nullptr) {
        return;
    }
    ctx->pending = nullptr;
    ngx_connection_t* c = ctx->r->connection;
    try {
        if (ok) {
            ctx->result = "spooled";
            ctx->duplicates = 0;
            state_of(ctx->r).metrics.spooled(ctx->vendor->name(),
                                             static_cast<std::uint64_t>(ctx->events));
            if (!ctx->confirm_url.empty()) {
                // The control entry is durable in the spool: confirm now.
                start_confirmation(ctx, ctx->confirm_url);
            }
            finish(ctx, NGX_HTTP_OK,
                   "{\"stored\":0,\"duplicates\":0,\"spooled\":" +
                       std::to_string(ctx->events) + "}\n");
        } else {
            unavailable(ctx, "redis is unavailable and the spool cannot take the events");
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "mailhook: %s", e.what());
        finish(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, error_body("internal"));
    }
    ngx_http_run_posted_requests(c);
}

void resume_processing(RequestCtx* ctx) { process(ctx); }

void answer_unavailable(RequestCtx* ctx, std::string_view reason) {
    reject(ctx, NGX_HTTP_SERVICE_UNAVAILABLE, rejection_label(Rejection::key_unavailable),
           reason, NGX_LOG_ERR);
}

RequestCtx::~RequestCtx() {
    if (pending != nullptr) {
        pending->ctx = nullptr;
    }
    if (timer.event.timer_set) {
        ngx_del_timer(&timer.event);
    }
}

RequestCtx* request_ctx(ngx_http_request_t* r) {
    return static_cast<RequestCtx*>(ngx_http_get_module_ctx(r, ngx_http_mailhook_module));
}

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
            return rejection(ctx, NGX_HTTP_NOT_ALLOWED, "method", "not POST");
        }
        if (ctx->vendor == nullptr || !is_valid_connection_id(to_view(connection_id))) {
            return rejection(ctx, NGX_HTTP_NOT_FOUND, "unknown_connection",
                             "no such vendor or malformed connection id");
        }
        if (r->method == NGX_HTTP_HEAD) {
            return ctx->vendor->accepts_head()
                       ? answer(ctx, NGX_HTTP_OK, "")
                       : rejection(ctx, NGX_HTTP_NOT_ALLOWED, "method", "HEAD");
        }
        const ngx_int_t rc = ngx_http_read_client_request_body(r, body_handler);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            // nginx refused the body itself (413 over client_max_body_size).
            ctx->result = rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE ? "rejected:size"
                                                                  : "rejected:format";
            MetricsRecorder& metrics = state_of(r).metrics;
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

}  // namespace mailhook::nginx
