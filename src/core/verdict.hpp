// SPDX-License-Identifier: BSD-2-Clause
// Why a delivery was refused, and the HTTP answer for it (docs/design.md §3.5).
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace mailhook {

enum class Rejection {
    none,
    malformed,          // 400: not the vendor's format
    unauthenticated,    // 401: missing or wrong signature
    bad_credentials,    // 401: missing or wrong Basic/Bearer/token credentials
    stale_timestamp,    // 401: outside the vendor's tolerance
    replayed,           // 401: one-time token used again for another event
    unsupported,        // 400: a message kind this connection refuses
    too_large,          // 413: too many events in one request
    misconfigured,      // 500: the connection's secret is unusable
    key_unavailable,    // 503: the signing key (e.g. an SNS certificate) is
                        // not available yet; the vendor retries
};

int http_status(Rejection rejection);
// Short label used in logs and metrics ("signature", "timestamp", ...).
std::string_view rejection_label(Rejection rejection);

struct Verdict {
    Rejection rejection = Rejection::none;
    std::string reason;  // for the error log; never contains a secret

    bool ok() const { return rejection == Rejection::none; }

    static Verdict accept() { return {}; }
    static Verdict reject(Rejection rejection, std::string reason) {
        return {rejection, std::move(reason)};
    }
};

}  // namespace mailhook
