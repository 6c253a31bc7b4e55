// SPDX-License-Identifier: BSD-2-Clause
#include "vendor_auth.hpp"

#include <charconv>
#include <cstdlib>

#include "encoding.hpp"
#include "form_data.hpp"

namespace mailhook {

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

Verdict json_pre_auth_budget(const Delivery& delivery, std::size_t max_values) {
    // Too deep is not JSON to json() (400 `format`), whatever its size.
    if (!json_depth_exceeds(delivery.body(), delivery.max_json_depth()) &&
        json_values_exceed(delivery.body(), max_values)) {
        return Verdict::reject(Rejection::too_large,
                               "more than " + std::to_string(max_values) +
                                   " JSON values to read before authentication");
    }
    return Verdict::accept();
}

namespace {

// Form fields in the body, counted up to `limit + 1`: multipart parts by
// their boundary lines, else '&'-separated pairs.
std::size_t form_fields_up_to(const Delivery& delivery, std::size_t limit) {
    const auto content_type = delivery.header("Content-Type");
    const auto boundary = content_type ? multipart_boundary(*content_type) : std::nullopt;
    const std::string separator = boundary ? "--" + *boundary : "&";
    const std::string_view body = delivery.body();
    std::size_t count = boundary ? 0 : 1;
    for (std::size_t at = body.find(separator); at != std::string_view::npos && count <= limit;
         at = body.find(separator, at + separator.size())) {
        ++count;
    }
    // A multipart body has one boundary line more than it has parts.
    return boundary && count > 0 ? count - 1 : count;
}

}  // namespace

Verdict form_pre_auth_budget(const Delivery& delivery, std::size_t max_fields) {
    if (form_fields_up_to(delivery, max_fields + 1) > max_fields) {
        return Verdict::reject(Rejection::too_large,
                               "more than " + std::to_string(max_fields) +
                                   " form fields to read before authentication");
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

bool hmac_matches_any(const std::vector<std::string>& keys,
                      DigestAlgorithm algorithm,
                      std::initializer_list<std::string_view> parts,
                      std::string_view presented) {
    presented = trim_ascii(presented);
    const std::string presented_lower = to_lower_ascii(presented);
    bool matched = false;
    for (const std::string& key : keys) {
        const std::string mac = hmac(algorithm, key, parts);
        if (mac.empty()) continue;
        matched |= constant_time_equal(hex_encode(mac), presented_lower);
        matched |= constant_time_equal(base64_encode(mac), presented);
    }
    return matched;
}


std::optional<PublicKey> public_key_from_text(std::string_view text) {
    text = trim_ascii(text);
    if (text.find("-----BEGIN") != std::string_view::npos) {
        return PublicKey::from_pem(text);
    }
    std::string base64;
    base64.reserve(text.size());
    for (const char c : text) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') base64.push_back(c);
    }
    const auto der = base64_decode(base64);
    if (!der || der->empty()) return std::nullopt;
    return PublicKey::from_der(*der);
}

namespace {

std::optional<PublicKey> rsa_key_from_jwk(const json_t* jwk) {
    const auto type = json_string_at(jwk, "kty");
    const auto modulus = json_string_at(jwk, "n");
    const auto exponent = json_string_at(jwk, "e");
    if (!type || *type != "RSA" || !modulus || !exponent) return std::nullopt;
    const auto n = base64_decode(*modulus, Base64Alphabet::url);
    const auto e = base64_decode(*exponent, Base64Alphabet::url);
    if (!n || !e) return std::nullopt;
    return PublicKey::from_rsa_components(*n, *e);
}

}  // namespace

std::vector<PublicKey> rsa_keys_from_jwk(const json_t* jwk_or_set) {
    std::vector<PublicKey> keys;
    const json_t* set = json_object_get(jwk_or_set, "keys");
    if (!json_is_array(set)) {
        if (auto key = rsa_key_from_jwk(jwk_or_set)) keys.push_back(std::move(*key));
        return keys;
    }
    std::size_t index;
    const json_t* member;
    json_array_foreach(set, index, member) {
        if (auto key = rsa_key_from_jwk(member)) keys.push_back(std::move(*key));
    }
    return keys;
}

}  // namespace mailhook
