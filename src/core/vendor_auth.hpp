// SPDX-License-Identifier: BSD-2-Clause
// Authenticating a delivery: credentials, shared-secret HMACs, public keys
// pasted as text, and the freshness of signed timestamps. Payload reading is
// in vendor_fields.hpp; a scheme described by connection options is in
// configured_hmac.hpp.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "crypto.hpp"
#include "delivery.hpp"
#include "json.hpp"
#include "verdict.hpp"

namespace mailhook {

// The challenge for vendors whose HTTP client sends Basic credentials only
// after a 401 (AWS SNS, OCI Notifications).
inline constexpr std::string_view kBasicChallenge = "Basic realm=\"mailhook\"";

Verdict require_secret(const Connection& connection);

// Seconds of clock skew accepted for a signed timestamp: the connection's
// `timestamp_tolerance` option, else the configured value, else the
// vendor's default. 0 turns the check off.
std::int64_t timestamp_tolerance(const Delivery& delivery,
                                 const Connection& connection,
                                 std::int64_t vendor_default);
Verdict check_timestamp(EpochMillis signed_at, const Delivery& delivery,
                        std::int64_t tolerance_seconds);

// Work before authentication (security review M2): vendors whose credential
// sits in the body (Mailgun, SmartLead, SNS) or whose signature covers the
// parsed form (Mandrill) must read the body first. These bound what that
// reading may cost, by a scan of the bytes before any parser runs: more
// JSON values, or more form fields, is refused 413 `size`.
inline constexpr std::size_t kPreAuthJsonValues = 10000;
Verdict json_pre_auth_budget(const Delivery& delivery,
                             std::size_t max_values = kPreAuthJsonValues);
Verdict form_pre_auth_budget(const Delivery& delivery, std::size_t max_fields);

// Which Authorization schemes a connection accepts.
enum class HttpAuthScheme { any, basic, bearer };

// `secret` holds "user:password" (Basic) or a token (Bearer); either secret
// of a rotation passes.
Verdict check_authorization_header(const Delivery& delivery,
                                   const Connection& connection,
                                   HttpAuthScheme accepted = HttpAuthScheme::any);
// Whether `presented` equals one of the connection's secrets (constant time
// per secret, and every secret is compared).
bool secret_matches_any(const Connection& connection, std::string_view presented);

// HMAC over `parts` with each signing key; the header value matches any of
// them in hex (either case) or base64. Constant time per comparison.
bool hmac_matches_any(const std::vector<std::string>& keys,
                      DigestAlgorithm algorithm,
                      std::initializer_list<std::string_view> parts,
                      std::string_view presented);

// A public key pasted as text: PEM ("-----BEGIN PUBLIC KEY-----") or base64
// DER SubjectPublicKeyInfo, in which whitespace (line breaks) is ignored.
std::optional<PublicKey> public_key_from_text(std::string_view text);
// The RSA keys of a JWK ({"kty":"RSA","n":..,"e":..}) or of a JWK Set
// ({"keys":[...]}); members of other key types are skipped.
std::vector<PublicKey> rsa_keys_from_jwk(const json_t* jwk_or_set);

}  // namespace mailhook
