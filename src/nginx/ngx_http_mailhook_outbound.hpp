// SPDX-License-Identifier: BSD-2-Clause
// Requests nginx makes on a vendor's behalf, as subrequests to internal
// locations the user configures (so DNS, TLS verification and timeouts are
// ordinary proxy settings): fetching an SNS signing certificate
// (`mailhook_sns_fetch`) and confirming a subscription
// (`mailhook_auto_confirm`). Also the worker's store of signing certificates.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../core/crypto.hpp"
#include "../core/delivery.hpp"
#include "../core/lru_map.hpp"
#include "../core/rate_limit.hpp"
#include "ngx_http_mailhook.hpp"

namespace mailhook::nginx {

struct RequestCtx;

// The end of a certificate fetch: `why` is empty when the key is in the
// worker's store, else what went wrong.
using KeyFetched = void (*)(RequestCtx* ctx, std::string_view why);

// A request's requests on the vendor's behalf (held in RequestCtx).
struct FetchState {
    std::string url;  // what $mailhook_fetch_* describe
    ngx_http_request_t* request = nullptr;
    KeyFetched on_fetched = nullptr;
    bool attempted = false;
    bool fetching = false;
    bool done = false;
    bool confirm_reported = false;
};

// SNS signing certificates: pinned from `mailhook_sns_certificates` at
// configuration time (looked up by the file name of the certificate URL), or
// fetched by this worker and kept (by URL). Parsed once either way.
class CertificateStore final : public CertificateLookup {
  public:
    const PublicKey* find(std::string_view url) const override;
    // False when a certificate of that file name is already pinned.
    bool pin(std::string file_name, PublicKey key);
    void remember(std::string_view url, PublicKey key);

  private:
    static constexpr std::size_t kMaxFetched = 256;
    std::unordered_map<std::string, PublicKey> pinned_;
    std::unordered_map<std::string, PublicKey> fetched_;
};

struct FetchWaiter;

// Certificate fetches that requests set off before anything in them is
// verified (security review L1), bounded per worker: one fetch in flight per
// URL, and the other requests for that URL wait for its outcome; a URL whose
// fetch failed is not fetched again for a minute; at most kMaxInFlight URLs
// at once and kPerMinute fetches a minute (a burst of as many). Beyond that a
// request is answered 503 at once, without a fetch.
class CertificateFetches {
  public:
    static constexpr std::size_t kMaxInFlight = 4;
    static constexpr std::uint32_t kPerMinute = 20;
    static constexpr ngx_msec_t kFailureMemory = 60000;
    static constexpr std::size_t kMaxFailures = 1024;
    static constexpr std::size_t kMaxWaiters = 1000;

    CertificateFetches();
    ~CertificateFetches();
    CertificateFetches(const CertificateFetches&) = delete;
    CertificateFetches& operator=(const CertificateFetches&) = delete;

    enum class Admission { fetch, wait, refused };
    // What to do for a request needing `url`; `why` says why it was refused.
    Admission admit(std::string_view url, ngx_msec_t now, std::string& why);
    // The request that fetches `url`, and those waiting for it. False when
    // the request's pool has no memory left.
    bool started(RequestCtx* fetcher, std::string_view url);
    bool wait(RequestCtx* waiter, std::string_view url);
    // The fetch of `url` ended: each waiter's on_fetched runs from a posted
    // event, with `reason` when it failed.
    void finished(std::string_view url, bool ok, std::string reason, ngx_msec_t now);
    // A waiter or fetcher request that ends first (pool cleanup).
    void forget(FetchWaiter* waiter);

    std::size_t in_flight() const { return flights_.size(); }

  private:
    struct Flight {
        FetchWaiter* fetcher = nullptr;
        std::vector<FetchWaiter*> waiters;
    };
    struct Woken {
        FetchWaiter* waiter;
        bool ok;
        std::string reason;
    };
    static void on_wake(ngx_event_t* ev);
    void wake_next();
    void end_flight(std::string_view url, bool ok, const std::string& reason);

    std::unordered_map<std::string, Flight> flights_;
    std::deque<Woken> woken_;
    LruMap<ngx_msec_t> failed_{kMaxFailures};  // url -> not before
    TokenBucket budget_{kPerMinute, kPerMinute, 60000};
    ngx_connection_t event_owner_;
    ngx_event_t wake_event_;
};

// mailhook_sns_certificates <directory>;
char* set_sns_certificates(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
// mailhook_sns_fetch <uri> | off;  mailhook_auto_confirm <uri> | off;
char* set_internal_uri(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
// $mailhook_fetch_url, $mailhook_fetch_host, $mailhook_fetch_uri
ngx_int_t add_outbound_variables(ngx_conf_t* cf) noexcept;

// Fetches the certificate at `url` (already validated by the vendor) through
// the `mailhook_sns_fetch` location, or waits for the fetch of it already
// under way; `on_fetched` runs when it has ended. False when fetching is off,
// was tried already for this request, or is refused by CertificateFetches.
bool start_certificate_fetch(RequestCtx* ctx, std::string_view url, KeyFetched on_fetched);
// Fire-and-forget GET of a subscription confirmation URL (already validated
// by the vendor) through the `mailhook_auto_confirm` location; the answer to
// the vendor does not wait for it. Call before finalizing the request.
void start_confirmation(RequestCtx* ctx, std::string_view url);

}  // namespace mailhook::nginx
