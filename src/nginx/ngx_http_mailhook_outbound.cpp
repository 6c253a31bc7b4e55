// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_outbound.hpp"

#include <algorithm>
#include <string>

#include "../core/https_url.hpp"
#include "ngx_http_mailhook_log.hpp"
#include "ngx_http_mailhook_request.hpp"
#include "ngx_http_mailhook_state.hpp"
#include "ngx_http_mailhook_variables.hpp"

namespace mailhook::nginx {

const PublicKey* CertificateStore::find(std::string_view url) const {
    const std::size_t slash = url.rfind('/');
    const std::string file_name(url.substr(slash == std::string_view::npos ? 0 : slash + 1));
    if (const auto it = pinned_.find(file_name); it != pinned_.end()) {
        return &it->second;
    }
    if (const auto it = fetched_.find(std::string(url)); it != fetched_.end()) {
        return &it->second;
    }
    return nullptr;
}

bool CertificateStore::pin(std::string file_name, PublicKey key) {
    return pinned_.emplace(std::move(file_name), std::move(key)).second;
}

void CertificateStore::remember(std::string_view url, PublicKey key) {
    if (fetched_.size() >= kMaxFetched) {
        fetched_.clear();  // bounded; SNS uses a handful of certificates
    }
    fetched_.insert_or_assign(std::string(url), std::move(key));
}

// Lives in the pool of a request that fetches or waits for a certificate:
// CertificateFetches learns when the request ends before the fetch does.
struct FetchWaiter {
    FetchWaiter(CertificateFetches* owner, RequestCtx* request, std::string_view certificate)
        : fetches(owner), ctx(request), url(certificate) {}
    ~FetchWaiter() {
        if (fetches != nullptr) fetches->forget(this);
    }
    FetchWaiter(const FetchWaiter&) = delete;
    FetchWaiter& operator=(const FetchWaiter&) = delete;

    CertificateFetches* fetches;  // nullptr once the outcome is delivered
    RequestCtx* ctx;
    std::string url;
};

CertificateFetches::CertificateFetches() {
    ngx_memzero(&event_owner_, sizeof(event_owner_));
    event_owner_.fd = (ngx_socket_t) -1;
    event_owner_.data = this;
    ngx_memzero(&wake_event_, sizeof(wake_event_));
    wake_event_.data = &event_owner_;
    wake_event_.handler = on_wake;
}

CertificateFetches::~CertificateFetches() {
    if (wake_event_.posted) {
        ngx_delete_posted_event(&wake_event_);
    }
    for (auto& [url, flight] : flights_) {
        if (flight.fetcher != nullptr) flight.fetcher->fetches = nullptr;
        for (FetchWaiter* waiter : flight.waiters) waiter->fetches = nullptr;
    }
    for (Woken& woken : woken_) woken.waiter->fetches = nullptr;
}

CertificateFetches::Admission CertificateFetches::admit(std::string_view url, ngx_msec_t now,
                                                        std::string& why) {
    if (const ngx_msec_t* not_before = failed_.find(url)) {
        if ((ngx_msec_int_t) (*not_before - now) > 0) {
            why = "its fetch failed less than " + std::to_string(kFailureMemory / 1000) +
                  "s ago";
            return Admission::refused;
        }
        failed_.erase(url);
    }
    if (const auto it = flights_.find(std::string(url)); it != flights_.end()) {
        if (it->second.waiters.size() >= kMaxWaiters) {
            why = "too many requests wait for its fetch";
            return Admission::refused;
        }
        return Admission::wait;
    }
    if (flights_.size() >= kMaxInFlight) {
        why = std::to_string(kMaxInFlight) + " certificate fetches are under way already";
        return Admission::refused;
    }
    if (!budget_.take(static_cast<std::int64_t>(now))) {
        why = "this worker's budget of " + std::to_string(kPerMinute) +
              " certificate fetches a minute is spent";
        return Admission::refused;
    }
    return Admission::fetch;
}

bool CertificateFetches::started(RequestCtx* fetcher, std::string_view url) {
    auto* ticket = pool_new<FetchWaiter>(fetcher->r->pool, this, fetcher, url);
    if (ticket == nullptr) {
        return false;
    }
    flights_[std::string(url)].fetcher = ticket;
    return true;
}

bool CertificateFetches::wait(RequestCtx* waiter, std::string_view url) {
    const auto it = flights_.find(std::string(url));
    if (it == flights_.end()) {
        return false;
    }
    auto* ticket = pool_new<FetchWaiter>(waiter->r->pool, this, waiter, url);
    if (ticket == nullptr) {
        return false;
    }
    it->second.waiters.push_back(ticket);
    return true;
}

void CertificateFetches::finished(std::string_view url, bool ok, std::string reason,
                                  ngx_msec_t now) {
    if (!ok) {
        failed_.put(url, now + kFailureMemory);
    }
    end_flight(url, ok, reason);
}

void CertificateFetches::end_flight(std::string_view url, bool ok, const std::string& reason) {
    const auto it = flights_.find(std::string(url));
    if (it == flights_.end()) {
        return;
    }
    if (it->second.fetcher != nullptr) {
        it->second.fetcher->fetches = nullptr;
    }
    for (FetchWaiter* waiter : it->second.waiters) {
        woken_.push_back({waiter, ok, reason});
    }
    flights_.erase(it);
    // The waiters go on from the event loop, not from inside the fetcher's
    // handler (or its pool cleanup).
    if (!woken_.empty() && !wake_event_.posted) {
        wake_event_.log = ngx_cycle->log;
        ngx_post_event(&wake_event_, &ngx_posted_events);
    }
}

void CertificateFetches::forget(FetchWaiter* waiter) {
    waiter->fetches = nullptr;
    if (const auto it = flights_.find(waiter->url); it != flights_.end()) {
        if (it->second.fetcher == waiter) {
            it->second.fetcher = nullptr;
            end_flight(waiter->url, false, "the request that fetched it ended first");
            return;
        }
        auto& waiters = it->second.waiters;
        waiters.erase(std::remove(waiters.begin(), waiters.end(), waiter), waiters.end());
    }
    woken_.erase(std::remove_if(woken_.begin(), woken_.end(),
                                [&](const Woken& woken) { return woken.waiter == waiter; }),
                 woken_.end());
}

void CertificateFetches::on_wake(ngx_event_t* ev) {
    static_cast<CertificateFetches*>(static_cast<ngx_connection_t*>(ev->data)->data)
        ->wake_next();
}

// One waiter at a time: answering one may end others (an HTTP/2 connection
// closing), whose cleanups then take them out of woken_.
void CertificateFetches::wake_next() {
    while (!woken_.empty()) {
        Woken next = std::move(woken_.front());
        woken_.pop_front();
        next.waiter->fetches = nullptr;
        RequestCtx* ctx = next.waiter->ctx;
        ngx_connection_t* c = ctx->r->connection;
        ctx->fetch.fetching = false;
        ctx->fetch.on_fetched(ctx, next.ok ? std::string() : next.reason);
        ngx_http_run_posted_requests(c);
    }
}

namespace {

constexpr std::string_view kPemSuffix = ".pem";
constexpr off_t kMaxCertificateFile = 64 * 1024;

bool read_small_file(const std::string& path, std::string& out) {
    ngx_fd_t fd = ngx_open_file(reinterpret_cast<const u_char*>(path.c_str()),
                                NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return false;
    }
    ngx_file_info_t info;
    bool ok = ngx_fd_info(fd, &info) != NGX_FILE_ERROR &&
              ngx_file_size(&info) <= kMaxCertificateFile;
    if (ok) {
        out.resize(static_cast<std::size_t>(ngx_file_size(&info)));
        const ssize_t n = ngx_read_fd(fd, out.data(), out.size());
        ok = n == static_cast<ssize_t>(out.size());
    }
    ngx_close_file(fd);
    return ok;
}

// Every *.pem file of the directory, parsed now; the first unusable one
// fails the configuration.
char* load_pinned(ngx_conf_t* cf, const ngx_str_t& directory, CertificateStore& store) {
    ngx_dir_t dir;
    if (ngx_open_dir(const_cast<ngx_str_t*>(&directory), &dir) == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_dir_n " \"%V\" failed", &directory);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    char* result = NGX_CONF_OK;
    for (;;) {
        ngx_set_errno(0);
        if (ngx_read_dir(&dir) == NGX_ERROR) {
            const ngx_err_t err = ngx_errno;
            if (err != NGX_ENOMOREFILES) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                                   ngx_read_dir_n " \"%V\" failed", &directory);
                result = static_cast<char*>(NGX_CONF_ERROR);
            }
            break;
        }
        const std::string name(reinterpret_cast<const char*>(ngx_de_name(&dir)),
                               ngx_de_namelen(&dir));
        if (name.empty() || name[0] == '.' || name.size() <= kPemSuffix.size() ||
            name.compare(name.size() - kPemSuffix.size(), kPemSuffix.size(),
                         kPemSuffix) != 0) {
            continue;
        }
        const std::string path = std::string(to_view(directory)) + "/" + name;
        std::string pem;
        std::optional<PublicKey> key;
        if (read_small_file(path, pem)) {
            key = PublicKey::from_certificate_pem(pem);
        }
        if (!key) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\" is not a readable PEM certificate",
                               path.c_str());
            result = static_cast<char*>(NGX_CONF_ERROR);
            break;
        }
        if (!store.pin(name, std::move(*key))) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "certificate \"%s\" is pinned twice", name.c_str());
            result = static_cast<char*>(NGX_CONF_ERROR);
            break;
        }
    }
    ngx_close_dir(&dir);
    return result;
}

// "https://host/path?query" of a URL the vendor validated.
struct Target {
    std::string_view host;
    std::string_view uri;  // path and query
};

std::optional<Target> target_of(std::string_view url) {
    const auto parsed = parse_https_url(url);
    if (!parsed) return std::nullopt;
    const std::size_t uri_start = url.find('/', std::string_view("https://").size());
    return Target{parsed->host, url.substr(uri_start)};
}

enum class FetchField { url, host, uri };

ngx_int_t get_fetch_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                             uintptr_t data) noexcept {
    try {
        // The subrequest asks; its main request (the webhook) knows.
        const RequestCtx* ctx = request_ctx(r->main);
        const auto target =
            ctx != nullptr ? target_of(ctx->fetch.url) : std::optional<Target>();
        if (!target) {
            v->not_found = 1;
            return NGX_OK;
        }
        std::string_view text = ctx->fetch.url;
        switch (static_cast<FetchField>(data)) {
            case FetchField::url: break;
            case FetchField::host: text = target->host; break;
            case FetchField::uri: text = target->uri; break;
        }
        return set_variable_value(r, v, text);
    } catch (...) {
        return NGX_ERROR;
    }
}

// A subrequest to an internal location that carries nothing of the
// vendor's request: no body, fresh headers (its Authorization header above
// all). The target is in $mailhook_fetch_*.
ngx_http_request_t* start_subrequest(RequestCtx* ctx, ngx_str_t* location,
                                     std::string_view url,
                                     ngx_http_post_subrequest_t* post,
                                     ngx_uint_t flags) {
    ngx_http_request_t* r = ctx->r;
    ctx->fetch.url = std::string(url);
    ngx_http_request_t* sr = nullptr;
    if (ngx_http_subrequest(r, location, nullptr, &sr, post, flags) != NGX_OK) {
        return nullptr;
    }
    sr->request_body = nullptr;
    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));
    if (ngx_list_init(&sr->headers_in.headers, r->pool, 1,
                      sizeof(ngx_table_elt_t)) != NGX_OK) {
        sr->headers_in.headers.part.nelts = 0;  // stays an empty list
    }
    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;
    return sr;
}

ngx_http_post_subrequest_t* post_handler(ngx_http_request_t* r,
                                         ngx_http_post_subrequest_pt handler,
                                         RequestCtx* ctx) {
    auto* post = static_cast<ngx_http_post_subrequest_t*>(
        ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t)));
    if (post != nullptr) {
        post->handler = handler;
        post->data = ctx;
    }
    return post;
}

std::string_view body_of(const ngx_http_request_t* sr) {
    if (sr->out == nullptr || sr->out->buf == nullptr) return {};
    const ngx_buf_t* b = sr->out->buf;
    return {reinterpret_cast<const char*>(b->pos), static_cast<size_t>(b->last - b->pos)};
}

// May run more than once (an error page follows a failed upstream); the
// parent looks at the final state when it is woken.
ngx_int_t on_fetch_done(ngx_http_request_t*, void* data, ngx_int_t rc) noexcept {
    static_cast<RequestCtx*>(data)->fetch.done = true;
    return rc;
}

// The parent's write_event_handler: nginx runs it once the certificate
// subrequest is finalized.
void on_fetch_resumed(ngx_http_request_t* r) noexcept {
    RequestCtx* ctx = request_ctx(r);
    if (ctx == nullptr || !ctx->fetch.fetching || !ctx->fetch.done) {
        return;
    }
    FetchState& fetch = ctx->fetch;
    fetch.fetching = false;
    r->write_event_handler = ngx_http_request_empty_handler;
    ngx_http_request_t* sr = fetch.request;
    fetch.request = nullptr;
    ModuleState& state = *main_conf(r)->state;
    try {
        const ngx_uint_t status = sr->headers_out.status;
        std::optional<PublicKey> key;
        if (status == NGX_HTTP_OK) {
            key = PublicKey::from_certificate_pem(body_of(sr));
        }
        if (!key) {
            const std::string failure =
                "fetching signing certificate " + fetch.url +
                (status == NGX_HTTP_OK ? std::string(" gave no PEM certificate")
                                       : " failed with status " + std::to_string(status));
            state.fetches.finished(fetch.url, false, failure, ngx_current_msec);
            fetch.on_fetched(ctx, failure);
            return;
        }
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "mailhook: fetched signing certificate %s",
                      log_text(fetch.url).c_str());
        state.certificates.remember(fetch.url, std::move(*key));
        state.fetches.finished(fetch.url, true, {}, ngx_current_msec);
        fetch.on_fetched(ctx, {});
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "mailhook: %s", e.what());
        const std::string failure = "internal error after the certificate fetch";
        state.fetches.finished(fetch.url, false, failure, ngx_current_msec);
        fetch.on_fetched(ctx, failure);
    }
}

ngx_int_t on_confirm_done(ngx_http_request_t* sr, void* data, ngx_int_t rc) noexcept {
    auto* ctx = static_cast<RequestCtx*>(data);
    if (ctx->fetch.confirm_reported) {
        return rc;
    }
    ctx->fetch.confirm_reported = true;
    ngx_uint_t status = sr->headers_out.status;
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        status = static_cast<ngx_uint_t>(rc);
    } else if (rc == NGX_ERROR) {
        status = 0;
    }
    // The URL's query carries the subscription token: log the host only.
    const auto target = target_of(ctx->fetch.url);
    const std::string host = log_text(target ? target->host : std::string_view("?"));
    const std::string route = log_route(ctx->vendor_name, ctx->connection_id);
    if (status >= 200 && status < 300) {
        ngx_log_error(NGX_LOG_NOTICE, sr->connection->log, 0,
                      "mailhook: subscription confirmed at %s (status %ui) %s",
                      host.c_str(), status, route.c_str());
    } else {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "mailhook: confirming the subscription at %s failed "
                      "(status %ui) %s; confirm it by hand "
                      "with the subscribe_url of the stored control entry",
                      host.c_str(), status, route.c_str());
    }
    return rc;
}

const struct {
    ngx_str_t name;
    FetchField field;
} kVariables[] = {
    {ngx_string("mailhook_fetch_url"), FetchField::url},
    {ngx_string("mailhook_fetch_host"), FetchField::host},
    {ngx_string("mailhook_fetch_uri"), FetchField::uri},
};

}  // namespace

char* set_sns_certificates(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    try {
        auto* mcf = static_cast<MainConf*>(conf);
        ngx_str_t directory = static_cast<ngx_str_t*>(cf->args->elts)[1];
        if (ngx_conf_full_name(cf->cycle, &directory, 1) != NGX_OK) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        return load_pinned(cf, directory, mcf->state->certificates);
    } catch (const std::exception& e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "mailhook: %s", e.what());
        return static_cast<char*>(NGX_CONF_ERROR);
    }
}

char* set_internal_uri(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    auto* field = reinterpret_cast<ngx_str_t*>(static_cast<char*>(conf) + cmd->offset);
    if (field->data != nullptr) {
        return const_cast<char*>("is duplicate");
    }
    const ngx_str_t value = static_cast<ngx_str_t*>(cf->args->elts)[1];
    const std::string_view text = to_view(value);
    if (text == "off") {
        ngx_str_set(field, "");
        return NGX_CONF_OK;
    }
    if (text.empty() || text[0] != '/' || text.find('?') != std::string_view::npos) {
        return const_cast<char*>("must be \"off\" or a URI (of an internal location) "
                                 "without arguments");
    }
    *field = value;
    return NGX_CONF_OK;
}

ngx_int_t add_outbound_variables(ngx_conf_t* cf) noexcept {
    for (const auto& spec : kVariables) {
        ngx_str_t name = spec.name;
        ngx_http_variable_t* var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
        if (var == nullptr) {
            return NGX_ERROR;
        }
        var->get_handler = get_fetch_variable;
        var->data = static_cast<uintptr_t>(spec.field);
    }
    return NGX_OK;
}

bool start_certificate_fetch(RequestCtx* ctx, std::string_view url, KeyFetched on_fetched) {
    ngx_http_request_t* r = ctx->r;
    LocConf* lcf = loc_conf(r);
    FetchState& fetch = ctx->fetch;
    if (lcf->sns_fetch.len == 0 || fetch.attempted || !target_of(url)) {
        return false;
    }
    fetch.attempted = true;
    ModuleState& state = *main_conf(r)->state;
    std::string why;
    const CertificateFetches::Admission admission =
        state.fetches.admit(url, ngx_current_msec, why);
    if (admission == CertificateFetches::Admission::refused) {
        std::string held_back;
        if (state.rejection_log.allow("fetch_refused", held_back)) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mailhook: not fetching signing certificate %s for %s: %s%s",
                          log_text(url).c_str(),
                          log_route(ctx->vendor_name, ctx->connection_id).c_str(),
                          why.c_str(), held_back.c_str());
        }
        return false;
    }
    if (admission == CertificateFetches::Admission::wait) {
        fetch.on_fetched = on_fetched;
        fetch.fetching = true;
        return state.fetches.wait(ctx, url);
    }
    ngx_http_post_subrequest_t* post = post_handler(r, on_fetch_done, ctx);
    if (post == nullptr || !state.fetches.started(ctx, url)) {
        return false;
    }
    fetch.done = false;
    ngx_http_request_t* sr =
        start_subrequest(ctx, &lcf->sns_fetch, url, post,
                         NGX_HTTP_SUBREQUEST_IN_MEMORY | NGX_HTTP_SUBREQUEST_WAITED);
    if (sr == nullptr) {
        state.fetches.finished(url, false, "could not start the fetch", ngx_current_msec);
        return false;
    }
    fetch.request = sr;
    fetch.on_fetched = on_fetched;
    fetch.fetching = true;
    r->write_event_handler = on_fetch_resumed;
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mailhook: fetching signing certificate %s", log_text(fetch.url).c_str());
    return true;
}

void start_confirmation(RequestCtx* ctx, std::string_view url) {
    ngx_http_request_t* r = ctx->r;
    LocConf* lcf = loc_conf(r);
    if (lcf->auto_confirm.len == 0) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "mailhook: subscription recorded, not confirmed "
                      "(mailhook_auto_confirm is off) %s",
                      log_route(ctx->vendor_name, ctx->connection_id).c_str());
        return;
    }
    ngx_http_post_subrequest_t* post = post_handler(r, on_confirm_done, ctx);
    ngx_http_request_t* sr =
        post != nullptr ? start_subrequest(ctx, &lcf->auto_confirm, url, post,
                                           NGX_HTTP_SUBREQUEST_BACKGROUND)
                        : nullptr;
    if (sr == nullptr) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mailhook: could not start the subscription confirmation %s",
                      log_route(ctx->vendor_name, ctx->connection_id).c_str());
        return;
    }
    sr->header_only = 1;  // only the status matters
}

}  // namespace mailhook::nginx
