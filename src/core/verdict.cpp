// SPDX-License-Identifier: BSD-2-Clause
#include "verdict.hpp"

namespace mailhook {

int http_status(Rejection rejection) {
    switch (rejection) {
        case Rejection::none: return 200;
        case Rejection::malformed: return 400;
        case Rejection::unsupported: return 400;
        case Rejection::unauthenticated: return 401;
        case Rejection::bad_credentials: return 401;
        case Rejection::stale_timestamp: return 401;
        case Rejection::replayed: return 401;
        case Rejection::too_large: return 413;
        case Rejection::misconfigured: return 500;
        case Rejection::key_unavailable: return 503;
    }
    return 500;
}

std::string_view rejection_label(Rejection rejection) {
    switch (rejection) {
        case Rejection::none: return "none";
        case Rejection::malformed: return "format";
        case Rejection::unsupported: return "unsupported";
        case Rejection::unauthenticated: return "signature";
        case Rejection::bad_credentials: return "auth";
        case Rejection::stale_timestamp: return "timestamp";
        case Rejection::replayed: return "replay";
        case Rejection::too_large: return "size";
        case Rejection::misconfigured: return "connection_config";
        case Rejection::key_unavailable: return "key_unavailable";
    }
    return "unknown";
}

}  // namespace mailhook
