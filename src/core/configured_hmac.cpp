// SPDX-License-Identifier: BSD-2-Clause
#include "configured_hmac.hpp"

#include "encoding.hpp"
#include "vendor_auth.hpp"

namespace mailhook {
namespace {

Verdict misconfigured(std::string reason) {
    return Verdict::reject(Rejection::misconfigured, std::move(reason));
}

std::string_view without_base64_padding(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    return text;
}

// `encoding` is one of raw, base64, hex (checked by the caller).
std::optional<std::string> decode_secret(std::string_view secret,
                                         std::string_view encoding) {
    if (encoding == "base64") return base64_decode(trim_ascii(secret));
    if (encoding == "hex") return hex_decode(trim_ascii(secret));
    return std::string(secret);
}

}  // namespace

bool has_hmac_scheme(const Connection& connection) {
    return connection.option("signature_header").has_value();
}

Verdict read_hmac_scheme(const Connection& connection, HmacScheme& scheme) {
    const auto header = connection.option("signature_header");
    if (!header) return misconfigured("option signature_header is required");
    scheme.signature_header = *header;

    const std::string_view algorithm = connection.option("algorithm").value_or("sha256");
    if (algorithm == "sha256") {
        scheme.algorithm = DigestAlgorithm::sha256;
    } else if (algorithm == "sha1") {
        scheme.algorithm = DigestAlgorithm::sha1;
    } else {
        return misconfigured("option algorithm must be sha256 or sha1");
    }

    const std::string_view encoding = connection.option("encoding").value_or("hex");
    if (encoding == "hex") {
        scheme.encoding = SignatureEncoding::hex;
    } else if (encoding == "base64") {
        scheme.encoding = SignatureEncoding::base64;
    } else {
        return misconfigured("option encoding must be hex or base64");
    }

    scheme.prefix = connection.option("prefix").value_or("");
    scheme.timestamp_header = connection.option("timestamp_header");
    scheme.separator = connection.option("signed_payload_separator").value_or("");
    return Verdict::accept();
}

Verdict prepare_hmac_scheme(Connection& connection) {
    HmacScheme scheme;
    if (Verdict verdict = read_hmac_scheme(connection, scheme); !verdict.ok()) {
        return verdict;
    }
    const std::string_view encoding =
        connection.option("secret_encoding").value_or("raw");
    if (encoding != "raw" && encoding != "base64" && encoding != "hex") {
        return misconfigured("option secret_encoding must be raw, base64 or hex");
    }
    connection.signing_keys.clear();
    for (const std::string& secret : connection.secrets) {
        auto key = decode_secret(secret, encoding);
        if (!key || key->empty()) {
            return misconfigured("secret is not " + std::string(encoding) +
                                 " or decodes to no bytes");
        }
        connection.signing_keys.push_back(std::move(*key));
    }
    return require_secret(connection);
}

bool hmac_matches_encoded(const std::vector<std::string>& keys,
                          DigestAlgorithm algorithm,
                          std::initializer_list<std::string_view> parts,
                          std::string_view presented, SignatureEncoding encoding) {
    presented = trim_ascii(presented);
    const std::string presented_hex =
        encoding == SignatureEncoding::hex ? to_lower_ascii(presented) : std::string();
    bool matched = false;
    for (const std::string& key : keys) {
        const std::string mac = hmac(algorithm, key, parts);
        if (mac.empty()) continue;
        if (encoding == SignatureEncoding::hex) {
            matched |= constant_time_equal(hex_encode(mac), presented_hex);
        } else {
            const std::string expected = base64_encode(mac);
            matched |= constant_time_equal(without_base64_padding(expected),
                                           without_base64_padding(presented));
        }
    }
    return matched;
}

Verdict verify_hmac_scheme(const Delivery& delivery, const Connection& connection) {
    // Re-read per request: a few option look-ups, and Connection has no slot
    // for vendor-specific parsed state. prepare() already refused bad values.
    HmacScheme scheme;
    if (Verdict verdict = read_hmac_scheme(connection, scheme); !verdict.ok()) {
        return verdict;
    }
    const auto header = delivery.header(scheme.signature_header);
    if (!header) {
        return Verdict::reject(Rejection::unauthenticated,
                               "missing " + std::string(scheme.signature_header) +
                                   " header");
    }
    std::string_view signature = trim_ascii(*header);
    if (!scheme.prefix.empty()) {
        if (signature.size() < scheme.prefix.size() ||
            !iequals_ascii(signature.substr(0, scheme.prefix.size()), scheme.prefix)) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "signature lacks the configured prefix");
        }
        signature.remove_prefix(scheme.prefix.size());
    }

    std::optional<std::string_view> timestamp;
    if (scheme.timestamp_header) {
        timestamp = delivery.header(*scheme.timestamp_header);
        if (!timestamp) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "missing " + std::string(*scheme.timestamp_header) +
                                       " header");
        }
    }
    const bool matched =
        timestamp ? hmac_matches_encoded(connection.signing_keys, scheme.algorithm,
                                         {*timestamp, scheme.separator, delivery.body()},
                                         signature, scheme.encoding)
                  : hmac_matches_encoded(connection.signing_keys, scheme.algorithm,
                                         {delivery.body()}, signature, scheme.encoding);
    if (!matched) {
        return Verdict::reject(Rejection::unauthenticated, "signature mismatch");
    }

    const std::int64_t tolerance = timestamp_tolerance(delivery, connection, 0);
    if (!timestamp || tolerance <= 0) return Verdict::accept();
    const auto signed_at = parse_vendor_time(trim_ascii(*timestamp));
    if (!signed_at) {
        return Verdict::reject(Rejection::stale_timestamp,
                               "timestamp is neither epoch seconds nor ISO 8601");
    }
    return check_timestamp(*signed_at, delivery, tolerance);
}

std::optional<std::int64_t> configured_hmac_tolerance(const Connection& connection) {
    if (has_hmac_scheme(connection) && connection.option("timestamp_header")) return 0;
    return std::nullopt;
}

}  // namespace mailhook
