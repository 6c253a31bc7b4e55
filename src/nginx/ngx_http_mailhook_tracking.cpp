// SPDX-License-Identifier: BSD-2-Clause
// The tracking pixel and click redirect (README "Tracking").
#include "ngx_http_mailhook_tracking.hpp"

#include <cstring>

#include "../core/tracking_event.hpp"
#include "../core/tracking_store.hpp"
#include "ngx_http_mailhook_detached.hpp"
#include "ngx_http_mailhook_log.hpp"
#include "ngx_http_mailhook_state.hpp"

namespace mailhook::nginx {
namespace {

struct TrackingState {
    TrackingKeyring keys;
};

struct TrackingMainConf {
    time_t click_window;  // seconds; NGX_CONF_UNSET until init_main_conf
    time_t open_repeat;   // mailhook_tracking_repeat_window, seconds
    time_t click_repeat;
    ngx_flag_t used;      // some location has `mailhook_tracking;`
    TrackingState* state;
};

// For $mailhook_tracking_result.
struct TrackingCtx {
    ngx_str_t result;
};

constexpr time_t kDefaultClickWindow = 10;
constexpr time_t kDefaultOpenRepeat = 10;
constexpr time_t kDefaultClickRepeat = 1;

TrackingMainConf* tracking_main_conf(ngx_http_request_t* r) {
    return static_cast<TrackingMainConf*>(
        ngx_http_get_module_main_conf(r, ngx_http_mailhook_tracking_module));
}

void set_result(ngx_http_request_t* r, std::string_view result) {
    auto* ctx = static_cast<TrackingCtx*>(
        ngx_http_get_module_ctx(r, ngx_http_mailhook_tracking_module));
    if (ctx == nullptr) {
        ctx = static_cast<TrackingCtx*>(ngx_pcalloc(r->pool, sizeof(TrackingCtx)));
        if (ctx == nullptr) return;
        ngx_http_set_ctx(r, ctx, ngx_http_mailhook_tracking_module);
    }
    ctx->result = copy_to_pool(r->pool, result);
}

// 200, the 43-byte GIF, never cached (each open must reach us).
ngx_int_t send_pixel(ngx_http_request_t* r) {
    const std::string_view gif = tracking_pixel_gif();
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = static_cast<off_t>(gif.size());
    ngx_str_set(&r->headers_out.content_type, "image/gif");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    if (push_header(r, "Cache-Control", "no-store") != NGX_OK) {
        return NGX_ERROR;
    }
    const ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    auto* b = static_cast<ngx_buf_t*>(ngx_pcalloc(r->pool, sizeof(ngx_buf_t)));
    if (b == nullptr) {
        return NGX_ERROR;
    }
    b->pos = reinterpret_cast<u_char*>(const_cast<char*>(gif.data()));
    b->last = b->pos + gif.size();
    b->memory = 1;  // read-only static bytes
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    ngx_chain_t out = {b, nullptr};
    return ngx_http_output_filter(r, &out);
}

// 302 to the URL the token carries (checked: absolute http(s), printable).
ngx_int_t send_redirect(ngx_http_request_t* r, std::string_view url) {
    ngx_table_elt_t* location = nullptr;
    if (push_header(r, "Location", url, &location) != NGX_OK ||
        push_header(r, "Cache-Control", "no-store") != NGX_OK) {
        return NGX_ERROR;
    }
    r->headers_out.location = location;
    r->headers_out.status = NGX_HTTP_MOVED_TEMPORARILY;
    r->headers_out.content_length_n = 0;
    const ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    return ngx_http_send_special(r, NGX_HTTP_LAST);
}

// "/any/prefix/{o|c}/{token}": the last two path segments.
bool split_route(const ngx_str_t& uri, std::string_view& kind, std::string_view& token) {
    const std::string_view path = to_view(uri);
    const std::size_t token_slash = path.rfind('/');
    if (token_slash == std::string_view::npos || token_slash == 0) {
        return false;
    }
    const std::size_t kind_slash = path.rfind('/', token_slash - 1);
    if (kind_slash == std::string_view::npos) {
        return false;
    }
    kind = path.substr(kind_slash + 1, token_slash - kind_slash - 1);
    token = path.substr(token_slash + 1);
    return true;
}

// Builds the event and hands it to Redis without waiting.
void record(ngx_http_request_t* r, TrackingKind kind, std::string_view token,
            const TrackingClaims& claims, EpochMillis now) {
    const TrackingMainConf* tmcf = tracking_main_conf(r);
    const LocConf* lcf = loc_conf(r);
    MainConf* mcf = main_conf(r);

    TrackingHit hit;
    hit.kind = kind;
    hit.token = std::string(token);
    hit.head = r->method == NGX_HTTP_HEAD;
    if (r->headers_in.user_agent != nullptr) {
        hit.user_agent = std::string(to_view(r->headers_in.user_agent->value));
    }
    // The client as nginx sees it: the realip module has rewritten it by now.
    hit.ip = std::string(to_view(r->connection->addr_text));
    hit.received_at = now;
    hit.include_raw = lcf->include_raw != 0;
    const TrackingEvent event = make_tracking_event(claims, hit, random_event_id());

    TrackingStoreConfig config;
    config.stream_maxlen = lcf->stream_maxlen;
    config.click_window_seconds = tmcf->click_window;
    config.dedup_ttl_seconds = lcf->dedup_ttl;
    config.open_repeat_seconds = tmcf->open_repeat;
    config.click_repeat_seconds = tmcf->click_repeat;
    std::optional<StoreKeys> storage;

    auto job = std::make_unique<DetachedStore>();
    job->script = &mcf->state->tracking_script;
    job->args = std::make_shared<const RespArgs>(
        tracking_script_args(event, now, store_keys_for(r, storage), config));
    job->event_json = event.json();
    job->timeout = lcf->redis_timeout;
    job->describe = "vendor=tracking connection=" + log_safe(claims.connection) +
                    " type=" + std::string(to_string(event.type)) + " id=" + event.id;
    if (kind == TrackingKind::open) {
        mcf->state->metrics.tracking_open(true);
    } else {
        mcf->state->metrics.tracking_click(true);
    }
    set_result(r, event.machine.machine() ? (kind == TrackingKind::open ? "opened:machine"
                                                                        : "clicked:machine")
                                          : to_string(event.type));
    submit_detached(*mcf->state, std::move(job));
}

ngx_int_t tracking_handler(ngx_http_request_t* r) noexcept {
    try {
        if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
            return NGX_HTTP_NOT_ALLOWED;
        }
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        std::string_view kind_name;
        std::string_view token;
        if (!split_route(r->uri, kind_name, token) || (kind_name != "o" && kind_name != "c")) {
            set_result(r, "rejected:route");
            return NGX_HTTP_NOT_FOUND;
        }
        const TrackingKind kind = kind_name == "o" ? TrackingKind::open : TrackingKind::click;
        constexpr std::string_view kGif = ".gif";
        if (kind == TrackingKind::open && token.size() >= kGif.size() &&
            token.substr(token.size() - kGif.size()) == kGif) {
            token.remove_suffix(kGif.size());
        }

        const TrackingMainConf* tmcf = tracking_main_conf(r);
        const EpochMillis now = static_cast<EpochMillis>(r->start_sec) * 1000 + r->start_msec;
        const TokenVerdict verdict = verify_tracking_token(token, tmcf->state->keys, now, kind);
        if (!verdict.ok()) {
            MetricsRecorder& metrics = main_conf(r)->state->metrics;
            if (kind == TrackingKind::open) {
                metrics.tracking_open(false);
            } else {
                metrics.tracking_click(false);
            }
            const std::string_view label = to_string(verdict.error);
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mailhook: tracking %s token rejected: %*s: %s, nothing stored",
                          kind == TrackingKind::open ? "open" : "click", label.size(),
                          label.data(), log_text(verdict.reason).c_str());
            set_result(r, "rejected:" + std::string(label));
            // A broken image never shows in a mailbox; a bad link is no redirect.
            return kind == TrackingKind::open ? send_pixel(r) : NGX_HTTP_NOT_FOUND;
        }

        try {
            record(r, kind, token, verdict.claims, now);
        } catch (const std::exception& e) {
            // The reader is answered all the same.
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mailhook: tracking event not stored: %s", e.what());
            set_result(r, "error");
        }
        return kind == TrackingKind::open ? send_pixel(r) : send_redirect(r, *verdict.claims.url);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "mailhook: %s", e.what());
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

ngx_int_t handler_entry(ngx_http_request_t* r) { return tracking_handler(r); }

// mailhook_tracking;
char* set_tracking(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    if (clcf->handler != nullptr) {
        return const_cast<char*>("is duplicate, or the location has another content handler");
    }
    clcf->handler = handler_entry;
    auto* tmcf = static_cast<TrackingMainConf*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_mailhook_tracking_module));
    tmcf->used = 1;
    // The worker needs its Redis link.
    auto* mcf = static_cast<MainConf*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_mailhook_module));
    mcf->used = 1;
    return NGX_CONF_OK;
}

// mailhook_tracking_key <id> <secret>;
char* set_key(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* tmcf = static_cast<TrackingMainConf*>(conf);
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    try {
        std::string error;
        if (!tmcf->state->keys.add(to_view(args[1]), to_view(args[2]), error)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "mailhook_tracking_key \"%V\": %s",
                               &args[1], error.c_str());
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    } catch (const std::exception& e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "mailhook: %s", e.what());
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    return NGX_CONF_OK;
}

// mailhook_tracking_repeat_window open_time [click_time];
char* set_repeat_window(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* tmcf = static_cast<TrackingMainConf*>(conf);
    if (tmcf->open_repeat != NGX_CONF_UNSET) {
        return const_cast<char*>("is duplicate");
    }
    auto* args = static_cast<ngx_str_t*>(cf->args->elts);
    const time_t open = ngx_parse_time(&args[1], 1);
    const time_t click = cf->args->nelts > 2 ? ngx_parse_time(&args[2], 1) : open;
    if (open == static_cast<time_t>(NGX_ERROR) || click == static_cast<time_t>(NGX_ERROR)) {
        return const_cast<char*>("invalid value");
    }
    tmcf->open_repeat = open;
    tmcf->click_repeat = click;
    return NGX_CONF_OK;
}

ngx_command_t commands[] = {
    {ngx_string("mailhook_tracking"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, set_tracking,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_tracking_key"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE2, set_key,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    {ngx_string("mailhook_tracking_click_window"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_sec_slot, NGX_HTTP_MAIN_CONF_OFFSET,
     offsetof(TrackingMainConf, click_window), nullptr},
    {ngx_string("mailhook_tracking_repeat_window"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12,
     set_repeat_window, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    ngx_null_command};

ngx_int_t get_result(ngx_http_request_t* r, ngx_http_variable_value_t* v, uintptr_t) noexcept {
    const auto* ctx = static_cast<TrackingCtx*>(
        ngx_http_get_module_ctx(r, ngx_http_mailhook_tracking_module));
    if (ctx == nullptr || ctx->result.data == nullptr) {
        v->not_found = 1;
        return NGX_OK;
    }
    v->data = ctx->result.data;
    v->len = ctx->result.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return NGX_OK;
}

ngx_int_t preconfiguration(ngx_conf_t* cf) noexcept {
    ngx_str_t name = ngx_string("mailhook_tracking_result");
    ngx_http_variable_t* var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == nullptr) {
        return NGX_ERROR;
    }
    var->get_handler = get_result;
    return NGX_OK;
}

void* create_main_conf(ngx_conf_t* cf) noexcept {
    try {
        auto* tmcf =
            static_cast<TrackingMainConf*>(ngx_pcalloc(cf->pool, sizeof(TrackingMainConf)));
        if (tmcf == nullptr) {
            return nullptr;
        }
        tmcf->click_window = NGX_CONF_UNSET;
        tmcf->open_repeat = NGX_CONF_UNSET;
        tmcf->click_repeat = NGX_CONF_UNSET;
        tmcf->state = pool_new<TrackingState>(cf->pool);
        return tmcf->state == nullptr ? nullptr : tmcf;
    } catch (const std::exception& e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "mailhook: %s", e.what());
        return nullptr;
    }
}

char* init_main_conf(ngx_conf_t* cf, void* conf) noexcept {
    auto* tmcf = static_cast<TrackingMainConf*>(conf);
    if (tmcf->click_window == NGX_CONF_UNSET) {
        // Recorded only where tracking is served, unless asked for.
        tmcf->click_window = tmcf->used ? kDefaultClickWindow : 0;
    }
    if (tmcf->open_repeat == NGX_CONF_UNSET) {
        tmcf->open_repeat = kDefaultOpenRepeat;
        tmcf->click_repeat = kDefaultClickRepeat;
    }
    if (tmcf->used && tmcf->state->keys.empty()) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mailhook_tracking\" needs at least one \"mailhook_tracking_key\"");
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    return NGX_CONF_OK;
}

ngx_http_module_t module_ctx = {
    preconfiguration, nullptr, create_main_conf, init_main_conf,
    nullptr,          nullptr, nullptr,          nullptr};

}  // namespace

std::int64_t tracking_delivered_ttl(ngx_http_request_t* r) {
    const TrackingMainConf* tmcf = tracking_main_conf(r);
    return tmcf == nullptr ? 0 : static_cast<std::int64_t>(tmcf->click_window);
}

}  // namespace mailhook::nginx

__attribute__((visibility("default"))) ngx_module_t ngx_http_mailhook_tracking_module = {
    NGX_MODULE_V1,
    &mailhook::nginx::module_ctx,
    mailhook::nginx::commands,
    NGX_HTTP_MODULE,
    nullptr,  // init master
    nullptr,  // init module
    nullptr,  // init process
    nullptr,  // init thread
    nullptr,  // exit thread
    nullptr,  // exit process
    nullptr,  // exit master
    NGX_MODULE_V1_PADDING};
