// SPDX-License-Identifier: BSD-2-Clause
// Per-request state and the request's way through the module.
#pragma once

#include <memory>
#include <string>

#include "../core/connection.hpp"
#include "../core/resp.hpp"
#include "../core/vendor.hpp"
#include "ngx_http_mailhook.hpp"

namespace mailhook::nginx {

struct RequestCtx;

// hiredis privdata. It can outlive the request (a reply after the timeout),
// so it points back only while the request waits for it.
struct PendingReply {
    enum class Purpose { lookup, store, spool };
    RequestCtx* ctx;
    Purpose purpose;
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
    const Vendor* vendor = nullptr;
    ngx_str_t vendor_name = ngx_null_string;
    ngx_str_t connection_id = ngx_null_string;
    std::string_view body;
    std::shared_ptr<const Connection> connection;
    PendingReply* pending = nullptr;
    RequestTimer timer;
    RespArgs store_args;      // kept for the EVAL fallback after NOSCRIPT
    bool sent_full_script = false;
    bool answered = false;

    // For log variables and metrics.
    ngx_int_t events = -1;
    ngx_int_t duplicates = -1;
    std::string result;       // stored, duplicate, rejected:<label>, ...
    std::uint64_t redis_started_usec = 0;
    std::uint64_t redis_usec = 0;
    bool redis_timed = false;

    // Requests on the vendor's behalf (ngx_http_mailhook_outbound.cpp).
    std::string fetch_url;  // what $mailhook_fetch_* describe
    ngx_http_request_t* fetch_request = nullptr;
    bool fetch_attempted = false;
    bool fetching = false;
    bool fetch_done = false;
    bool confirm_reported = false;
    std::string confirm_url;  // confirmed once the control entry is stored
};

ngx_int_t content_handler(ngx_http_request_t* r) noexcept;

// The spool's completion callback for a request's append.
void on_spooled(void* ticket, bool ok) noexcept;

RequestCtx* request_ctx(ngx_http_request_t* r);

}  // namespace mailhook::nginx
