// SPDX-License-Identifier: BSD-2-Clause
#include "vendor.hpp"

#include <charconv>
#include <cstdlib>

#include "encoding.hpp"

namespace mailhook {

Verdict Vendor::prepare(Connection& connection) const {
    connection.signing_keys = connection.secrets;
    return require_secret(connection);
}

Verdict require_secret(const Connection& connection) {
    if (connection.secrets.empty()) {
        return Verdict::reject(Rejection::misconfigured, "connection has no secret");
    }
    return Verdict::accept();
}

std::int64_t timestamp_tolerance(const Delivery& delivery,
                                 const Connection& connection,
                                 std::int64_t vendor_default) {
    if (const auto option = connection.option("timestamp_tolerance")) {
        std::int64_t seconds = 0;
        const auto* end = option->data() + option->size();
        const auto result = std::from_chars(option->data(), end, seconds);
        if (result.ec == std::errc() && result.ptr == end && seconds >= 0) {
            return seconds;
        }
    }
    return delivery.configured_tolerance().value_or(vendor_default);
}

Verdict check_timestamp(EpochMillis signed_at, const Delivery& delivery,
                        std::int64_t tolerance_seconds) {
    if (tolerance_seconds <= 0) {
        return Verdict::accept();
    }
    const std::int64_t skew = std::llabs(delivery.now() - signed_at) / 1000;
    if (skew > tolerance_seconds) {
        return Verdict::reject(Rejection::stale_timestamp,
                               "timestamp " + std::to_string(skew) +
                                   "s away, tolerance " +
                                   std::to_string(tolerance_seconds) + "s");
    }
    return Verdict::accept();
}

bool secret_matches_any(const Connection& connection, std::string_view presented) {
    bool matched = false;
    for (const auto& secret : connection.secrets) {
        matched |= constant_time_equal(secret, presented);
    }
    return matched;
}

Verdict check_authorization_header(const Delivery& delivery,
                                   const Connection& connection,
                                   HttpAuthScheme accepted) {
    const auto header = delivery.header("Authorization");
    if (!header) {
        return Verdict::reject(Rejection::bad_credentials,
                               "no Authorization header");
    }
    const std::string_view value = trim_ascii(*header);
    const std::size_t space = value.find(' ');
    if (space == std::string_view::npos) {
        return Verdict::reject(Rejection::bad_credentials,
                               "malformed Authorization header");
    }
    const std::string_view scheme = value.substr(0, space);
    const std::string_view credentials = trim_ascii(value.substr(space + 1));
    if (iequals_ascii(scheme, "Bearer") && accepted != HttpAuthScheme::basic) {
        if (secret_matches_any(connection, credentials)) return Verdict::accept();
        return Verdict::reject(Rejection::bad_credentials, "wrong bearer token");
    }
    if (iequals_ascii(scheme, "Basic") && accepted != HttpAuthScheme::bearer) {
        const auto decoded = base64_decode(credentials);
        if (decoded && secret_matches_any(connection, *decoded)) {
            return Verdict::accept();
        }
        return Verdict::reject(Rejection::bad_credentials,
                               "wrong basic credentials");
    }
    return Verdict::reject(Rejection::bad_credentials,
                           "Authorization scheme not accepted here");
}

}  // namespace mailhook
