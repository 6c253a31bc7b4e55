// SPDX-License-Identifier: BSD-2-Clause
// Signed tracking tokens for the open pixel and the click redirect.
//
//   token   = base64url(payload) "." base64url(HMAC-SHA256(secret, payload))
//   payload = compact JSON object with short keys (README "Tracking"):
//     "v"  version, 1                       (required)
//     "k"  key id: which secret signed it   (required)
//     "c"  connection id                    (required)
//     "r"  recipient                        (required)
//     "m"  message id                       (optional)
//     "cp" campaign id                      (optional)
//     "t"  tenant                           (optional)
//     "u"  target URL, http(s) only         (clicks: required)
//     "x"  expiry, epoch seconds            (optional)
// base64url without padding; the MAC covers the payload's bytes as decoded.
// Both parts must be in canonical form, so every changed byte of a token
// fails (no two spellings of one token).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "timestamp.hpp"

namespace mailhook {

enum class TrackingKind { open, click };

struct TrackingClaims {
    std::int64_t version = 1;
    std::string key_id;
    std::string connection;
    std::string recipient;
    std::optional<std::string> message_id;
    std::optional<std::string> campaign_id;
    std::optional<std::string> tenant;
    std::optional<std::string> url;
    std::optional<std::int64_t> expires_at;  // epoch seconds
};

// The secrets that verify tokens, by key id. Several at once: a rotation
// keeps the old key until links signed with it may be dropped.
class TrackingKeyring {
  public:
    static constexpr std::size_t kMinSecretBytes = 16;

    // False (with `error`) for a malformed id, a short secret, or an id
    // already present.
    bool add(std::string_view id, std::string_view secret, std::string& error);
    bool remove(std::string_view id);
    const std::string* secret_for(std::string_view id) const;
    bool empty() const { return keys_.empty(); }
    std::size_t size() const { return keys_.size(); }

  private:
    std::vector<std::pair<std::string, std::string>> keys_;
};

bool is_valid_key_id(std::string_view id);

// An absolute http:// or https:// URL with a host, printable ASCII only (no
// space, control byte, backslash or raw non-ASCII): safe to send as Location.
bool is_safe_redirect_url(std::string_view url);

// The payload as signed: compact JSON, keys in the order documented above.
std::string tracking_payload_json(const TrackingClaims& claims);
// Signs `claims` (its key_id names the key) with `secret`. Empty when the
// claims cannot make a valid token (see check_claims).
std::string sign_tracking_token(const TrackingClaims& claims, std::string_view secret);
// Why claims cannot be signed or were refused; empty when they are fine.
// `kind` click demands a safe URL.
std::string check_claims(const TrackingClaims& claims, TrackingKind kind);

enum class TokenError {
    none,
    malformed,    // not two canonical base64url parts, or not a JSON object
    version,      // "v" is not 1
    unknown_key,  // "k" names no configured key
    signature,    // the MAC does not match
    claims,       // a required claim missing or of the wrong type
    expired,      // "x" has passed
    url,          // click without a safe http(s) URL
};
std::string_view to_string(TokenError error);

struct TokenVerdict {
    TokenError error = TokenError::none;
    std::string reason;  // for logs; never contains a secret
    TrackingClaims claims;
    bool ok() const { return error == TokenError::none; }
};

constexpr std::size_t kMaxTokenLength = 4096;

TokenVerdict verify_tracking_token(std::string_view token, const TrackingKeyring& keys,
                                   EpochMillis now, TrackingKind kind);

}  // namespace mailhook
