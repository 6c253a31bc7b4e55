// SPDX-License-Identifier: BSD-2-Clause
#include "tracking_token.hpp"

#include "connection.hpp"
#include "crypto.hpp"
#include "encoding.hpp"
#include "json.hpp"

namespace mailhook {
namespace {

constexpr std::size_t kMacBytes = 32;  // HMAC-SHA256

std::string b64url(std::string_view bytes) {
    return base64_encode(bytes, Base64Alphabet::url, false);
}

// Strict base64url: no padding, and the text must be exactly what encoding
// the decoded bytes gives back (unused trailing bits zero), so a token has
// one spelling only.
std::optional<std::string> canonical_b64url_decode(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    auto bytes = base64_decode(text, Base64Alphabet::url);
    if (!bytes || b64url(*bytes) != text) {
        return std::nullopt;
    }
    return bytes;
}

void add_string(std::string& out, bool& first, std::string_view key,
                std::string_view value) {
    out.append(first ? "{\"" : ",\"");
    first = false;
    out.append(key);
    out.append("\":");
    append_json_string(out, value);
}

std::optional<std::string> optional_string(const json_t* object, const char* key,
                                           bool& wrong_type) {
    const json_t* value = json_object_get(object, key);
    if (value == nullptr || json_is_null(value)) {
        return std::nullopt;
    }
    if (!json_is_string(value)) {
        wrong_type = true;
        return std::nullopt;
    }
    return std::string(json_string_value(value), json_string_length(value));
}

TokenVerdict fail(TokenError error, std::string reason) {
    TokenVerdict verdict;
    verdict.error = error;
    verdict.reason = std::move(reason);
    return verdict;
}

}  // namespace

bool is_valid_key_id(std::string_view id) {
    if (id.empty() || id.size() > 32) {
        return false;
    }
    for (const char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

bool TrackingKeyring::add(std::string_view id, std::string_view secret,
                          std::string& error) {
    if (!is_valid_key_id(id)) {
        error = "key id must be 1-32 characters of A-Z a-z 0-9 - _ .";
        return false;
    }
    if (secret.size() < kMinSecretBytes) {
        error = "secret must be at least " + std::to_string(kMinSecretBytes) + " bytes";
        return false;
    }
    if (secret_for(id) != nullptr) {
        error = "key id \"" + std::string(id) + "\" given twice";
        return false;
    }
    keys_.emplace_back(std::string(id), std::string(secret));
    return true;
}

bool TrackingKeyring::remove(std::string_view id) {
    for (auto it = keys_.begin(); it != keys_.end(); ++it) {
        if (it->first == id) {
            keys_.erase(it);
            return true;
        }
    }
    return false;
}

const std::string* TrackingKeyring::secret_for(std::string_view id) const {
    for (const auto& [key_id, secret] : keys_) {
        if (key_id == id) return &secret;
    }
    return nullptr;
}

bool is_safe_redirect_url(std::string_view url) {
    if (url.size() > kMaxTokenLength) {
        return false;
    }
    std::size_t rest = 0;
    const std::string lower = to_lower_ascii(url.substr(0, 8));
    if (lower.compare(0, 7, "http://") == 0) {
        rest = 7;
    } else if (lower.compare(0, 8, "https://") == 0) {
        rest = 8;
    } else {
        return false;
    }
    // A host must follow: not empty, not another slash ("https:///evil").
    if (rest >= url.size() || url[rest] == '/' || url[rest] == '?' ||
        url[rest] == '#') {
        return false;
    }
    for (const char c : url) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f || c == '\\') {
            return false;
        }
    }
    return true;
}

std::string tracking_payload_json(const TrackingClaims& claims) {
    std::string out;
    bool first = true;
    out.append("{\"v\":" + std::to_string(claims.version));
    first = false;
    add_string(out, first, "k", claims.key_id);
    add_string(out, first, "c", claims.connection);
    add_string(out, first, "r", claims.recipient);
    if (claims.message_id) add_string(out, first, "m", *claims.message_id);
    if (claims.campaign_id) add_string(out, first, "cp", *claims.campaign_id);
    if (claims.tenant) add_string(out, first, "t", *claims.tenant);
    if (claims.url) add_string(out, first, "u", *claims.url);
    if (claims.expires_at) out.append(",\"x\":" + std::to_string(*claims.expires_at));
    out.push_back('}');
    return out;
}

namespace {

// What every token needs, open or click.
std::string check_identity(const TrackingClaims& claims) {
    if (claims.version != 1) return "version must be 1";
    if (!is_valid_key_id(claims.key_id)) return "invalid key id";
    if (!is_valid_connection_id(claims.connection)) return "invalid connection id";
    if (claims.recipient.empty()) return "recipient missing";
    return {};
}

}  // namespace

std::string check_claims(const TrackingClaims& claims, TrackingKind kind) {
    if (std::string problem = check_identity(claims); !problem.empty()) {
        return problem;
    }
    if (claims.url && !is_safe_redirect_url(*claims.url)) {
        return "url must be an absolute http(s) URL of printable ASCII "
               "(percent-encode spaces and non-ASCII)";
    }
    if (kind == TrackingKind::click && !claims.url) return "click without url";
    return {};
}

std::string sign_tracking_token(const TrackingClaims& claims, std::string_view secret) {
    if (!check_claims(claims, claims.url ? TrackingKind::click : TrackingKind::open)
             .empty()) {
        return {};
    }
    const std::string payload = tracking_payload_json(claims);
    const std::string mac = hmac(DigestAlgorithm::sha256, secret, payload);
    if (mac.size() != kMacBytes) {
        return {};
    }
    return b64url(payload) + "." + b64url(mac);
}

std::string_view to_string(TokenError error) {
    switch (error) {
        case TokenError::none: return "ok";
        case TokenError::malformed: return "malformed";
        case TokenError::version: return "version";
        case TokenError::unknown_key: return "unknown_key";
        case TokenError::signature: return "signature";
        case TokenError::claims: return "claims";
        case TokenError::expired: return "expired";
        case TokenError::url: return "url";
    }
    return "unknown";
}

TokenVerdict verify_tracking_token(std::string_view token, const TrackingKeyring& keys,
                                   EpochMillis now, TrackingKind kind) {
    if (token.empty() || token.size() > kMaxTokenLength) {
        return fail(TokenError::malformed, "empty or too long");
    }
    const std::size_t dot = token.find('.');
    if (dot == std::string_view::npos || token.find('.', dot + 1) != std::string_view::npos) {
        return fail(TokenError::malformed, "not two parts");
    }
    const auto payload = canonical_b64url_decode(token.substr(0, dot));
    const auto mac = canonical_b64url_decode(token.substr(dot + 1));
    if (!payload || !mac || mac->size() != kMacBytes) {
        return fail(TokenError::malformed, "not canonical base64url");
    }
    const JsonPtr json = parse_json(*payload);
    if (!json || !json_is_object(json.get())) {
        return fail(TokenError::malformed, "payload is not a JSON object");
    }
    const json_t* version = json_object_get(json.get(), "v");
    if (!json_is_integer(version) || json_integer_value(version) != 1) {
        return fail(TokenError::version, "unsupported version");
    }
    const auto key_id = json_string_at(json.get(), "k");
    const std::string* secret = key_id ? keys.secret_for(*key_id) : nullptr;
    if (secret == nullptr) {
        return fail(TokenError::unknown_key, "unknown key id");
    }
    if (!constant_time_equal(hmac(DigestAlgorithm::sha256, *secret, *payload), *mac)) {
        return fail(TokenError::signature, "signature mismatch (key " +
                                                std::string(*key_id) + ")");
    }

    // Authentic from here on.
    TokenVerdict verdict;
    TrackingClaims& claims = verdict.claims;
    claims.key_id = std::string(*key_id);
    bool wrong_type = false;
    claims.connection = optional_string(json.get(), "c", wrong_type).value_or("");
    claims.recipient = optional_string(json.get(), "r", wrong_type).value_or("");
    claims.message_id = optional_string(json.get(), "m", wrong_type);
    claims.campaign_id = optional_string(json.get(), "cp", wrong_type);
    claims.tenant = optional_string(json.get(), "t", wrong_type);
    claims.url = optional_string(json.get(), "u", wrong_type);
    const json_t* expiry = json_object_get(json.get(), "x");
    if (json_is_integer(expiry)) {
        claims.expires_at = json_integer_value(expiry);
    } else if (expiry != nullptr && !json_is_null(expiry)) {
        wrong_type = true;
    }
    if (wrong_type) {
        return fail(TokenError::claims, "a claim has the wrong type");
    }
    if (claims.expires_at && now / 1000 > *claims.expires_at) {
        return fail(TokenError::expired, "expired at " + std::to_string(*claims.expires_at));
    }
    if (kind == TrackingKind::click &&
        (!claims.url || !is_safe_redirect_url(*claims.url))) {
        return fail(TokenError::url, "no safe http(s) url");
    }
    // The URL only matters to clicks: an open never redirects.
    if (std::string problem = check_identity(claims); !problem.empty()) {
        return fail(TokenError::claims, problem);
    }
    return verdict;
}

}  // namespace mailhook
