// SPDX-License-Identifier: BSD-2-Clause
// An HMAC signature scheme described by connection options, for senders
// that publish no scheme of their own: the `generic` vendor, and SMTP.com and
// SmartLead when their connection sets `signature_header`.
//
// Options (connection fields, or name=value on `mailhook_connection`):
//   signature_header          header carrying the signature (required)
//   algorithm                 sha256 (default) | sha1
//   encoding                  hex (default, any case) | base64 (padding optional)
//   prefix                    text before the signature, e.g. "sha256=";
//                             stripped (any case) before the compare
//   timestamp_header          when set, the signed bytes are
//                             timestamp + signed_payload_separator + body
//   signed_payload_separator  default "" (nothing between them)
//   secret_encoding           raw (default) | base64 | hex: how `secret` and
//                             `secret_next` are written
//   timestamp_tolerance       seconds of skew accepted for timestamp_header;
//                             default 0 = not checked
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "crypto.hpp"
#include "delivery.hpp"
#include "verdict.hpp"

namespace mailhook {

enum class SignatureEncoding { hex, base64 };

struct HmacScheme {
    std::string_view signature_header;
    DigestAlgorithm algorithm = DigestAlgorithm::sha256;
    SignatureEncoding encoding = SignatureEncoding::hex;
    std::string_view prefix;
    std::optional<std::string_view> timestamp_header;
    std::string_view separator;
};

// Whether the connection asks for this scheme (it names a signature_header).
bool has_hmac_scheme(const Connection& connection);

// The scheme the options describe; misconfigured when an option holds an
// unknown value or signature_header is missing. The views borrow from the
// connection's options.
Verdict read_hmac_scheme(const Connection& connection, HmacScheme& scheme);

// For Vendor::prepare: checks the options once and decodes the secrets
// (secret_encoding) into the connection's signing keys.
Verdict prepare_hmac_scheme(Connection& connection);

// For Vendor::verify: the signature header against every signing key, then
// the timestamp tolerance when one is configured.
Verdict verify_hmac_scheme(const Delivery& delivery, const Connection& connection);
// Vendor::default_tolerance of a connection with these options: 0 (checked
// only when configured) with a timestamp_header, else nullopt (no signed
// time).
std::optional<std::int64_t> configured_hmac_tolerance(const Connection& connection);

// The HMAC of `parts` under any of `keys`, written in `encoding`, equals
// `presented` (surrounding blanks ignored). Every key is tried.
bool hmac_matches_encoded(const std::vector<std::string>& keys,
                          DigestAlgorithm algorithm,
                          std::initializer_list<std::string_view> parts,
                          std::string_view presented, SignatureEncoding encoding);

}  // namespace mailhook
