// SPDX-License-Identifier: BSD-2-Clause
// Requests nginx makes on a vendor's behalf, as subrequests to internal
// locations the user configures (so DNS, TLS verification and timeouts are
// ordinary proxy settings): fetching an SNS signing certificate
// (`mailhook_sns_fetch`) and confirming a subscription
// (`mailhook_auto_confirm`). Also the worker's store of signing certificates.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "../core/crypto.hpp"
#include "../core/delivery.hpp"
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

// mailhook_sns_certificates <directory>;
char* set_sns_certificates(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
// mailhook_sns_fetch <uri> | off;  mailhook_auto_confirm <uri> | off;
char* set_internal_uri(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
// $mailhook_fetch_url, $mailhook_fetch_host, $mailhook_fetch_uri
ngx_int_t add_outbound_variables(ngx_conf_t* cf) noexcept;

// Fetches the certificate at `url` (already validated by the vendor) through
// the `mailhook_sns_fetch` location; `on_fetched` runs when it has ended.
// False when fetching is off or was tried already for this request.
bool start_certificate_fetch(RequestCtx* ctx, std::string_view url, KeyFetched on_fetched);
// Fire-and-forget GET of a subscription confirmation URL (already validated
// by the vendor) through the `mailhook_auto_confirm` location; the answer to
// the vendor does not wait for it. Call before finalizing the request.
void start_confirmation(RequestCtx* ctx, std::string_view url);

}  // namespace mailhook::nginx
