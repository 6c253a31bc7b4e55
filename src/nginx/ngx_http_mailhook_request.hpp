// SPDX-License-Identifier: BSD-2-Clause
// Per-request state and the request's way through the module.
#pragma once

#include <memory>
#include <string>

#include "../core/connection.hpp"
#include "../core/resp.hpp"
#include "../core/vendor.hpp"
#include "ngx_http_mailhook.hpp"
#include "ngx_http_mailhook_outbound.hpp"

namespace mailhook::nginx {

struct RequestCtx;

// Where the request is on its way: receive → resolve → verify (maybe
// fetching a signing key) → store (maybe spooling) → answered. Each
// asynchronous step ends in advance(), which goes on from the stage.
enum class Stage { receiving, resolving, fetching_key, storing, spooling, answered };

// What a Redis call or a spool append hands back to the request. It can
// outlive the request (a reply after the timeout), so it points back only
// while the request waits for it.
struct WaitTicket {
    RequestCtx* ctx;
};

// An nginx timer whose owner can be found from the event (the event is the
// first member of a standard-layout struct).
struct RequestTimer {
    ngx_event_t event;
    RequestCtx* ctx;
};

struct RequestCtx {
    explicit RequestCtx(ngx_http_request_t* request) : r(request) {
        ngx_memzero(&timer, sizeof(timer));
        timer.ctx = this;
    }
    ~RequestCtx();
    RequestCtx(const RequestCtx&) = delete;
    RequestCtx& operator=(const RequestCtx&) = delete;

    ngx_http_request_t* r;
    Stage stage = Stage::receiving;
    const Vendor* vendor = nullptr;
    ngx_str_t vendor_name = ngx_null_string;
    ngx_str_t connection_id = ngx_null_string;
    std::string_view body;
    std::shared_ptr<const Connection> connection;
    WaitTicket* waiting = nullptr;  // the Redis call or spool append waited for
    RequestTimer timer;             // mailhook_redis_timeout of that call
    // The request's script calls (store_script_calls), sent one after the
    // other; the spool keeps those not stored yet.
    std::vector<std::shared_ptr<const RespArgs>> store_calls;
    std::size_t calls_stored = 0;
    std::int64_t stored_events = 0;
    std::int64_t duplicate_events = 0;
    std::string confirm_url;  // confirmed once the control entry is stored
    FetchState fetch;         // requests on the vendor's behalf

    // For log variables and metrics.
    ngx_int_t events = -1;
    ngx_int_t duplicates = -1;
    std::string result;       // stored, duplicate, rejected:<label>, ...
    std::uint64_t redis_started_usec = 0;
    std::uint64_t redis_usec = 0;
    bool redis_timed = false;
};

ngx_int_t content_handler(ngx_http_request_t* r) noexcept;

// The spool's completion callback for a request's append.
void on_spooled(void* ticket, bool ok) noexcept;

RequestCtx* request_ctx(ngx_http_request_t* r);

}  // namespace mailhook::nginx
