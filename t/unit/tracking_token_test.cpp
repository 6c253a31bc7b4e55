// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "core/json.hpp"
#include "core/tracking_token.hpp"

namespace mailhook {
namespace {

constexpr EpochMillis kNow = 1'700'000'000'000;
constexpr std::string_view kOldSecret = "old-secret-0123456789";
constexpr std::string_view kNewSecret = "new-secret-9876543210";

TrackingClaims click_claims(std::string key_id = "k1") {
    TrackingClaims claims;
    claims.key_id = std::move(key_id);
    claims.connection = "c1";
    claims.recipient = "a@b.c";
    claims.message_id = "<m1@example.com>";
    claims.campaign_id = "spring";
    claims.url = "https://example.com/landing?x=1&y=%20z";
    return claims;
}

TrackingKeyring keyring(std::initializer_list<std::pair<std::string_view, std::string_view>> keys) {
    TrackingKeyring ring;
    std::string error;
    for (const auto& [id, secret] : keys) {
        EXPECT_TRUE(ring.add(id, secret, error)) << error;
    }
    return ring;
}

std::string b64url(std::string_view bytes) {
    return base64_encode(bytes, Base64Alphabet::url, false);
}

TEST(TrackingToken, SignVerifyRoundTrip) {
    const TrackingKeyring ring = keyring({{"k1", kOldSecret}});
    TrackingClaims claims = click_claims();
    claims.tenant = "acme";
    claims.expires_at = kNow / 1000 + 60;
    const std::string token = sign_tracking_token(claims, kOldSecret);
    ASSERT_FALSE(token.empty());

    const TokenVerdict verdict = verify_tracking_token(token, ring, kNow, TrackingKind::click);
    ASSERT_TRUE(verdict.ok()) << verdict.reason;
    EXPECT_EQ(verdict.claims.key_id, "k1");
    EXPECT_EQ(verdict.claims.connection, "c1");
    EXPECT_EQ(verdict.claims.recipient, "a@b.c");
    EXPECT_EQ(verdict.claims.message_id, "<m1@example.com>");
    EXPECT_EQ(verdict.claims.campaign_id, "spring");
    EXPECT_EQ(verdict.claims.tenant, "acme");
    EXPECT_EQ(verdict.claims.url, "https://example.com/landing?x=1&y=%20z");
    EXPECT_EQ(verdict.claims.expires_at, kNow / 1000 + 60);
    // The same token is a valid open (the URL is not needed there).
    EXPECT_TRUE(verify_tracking_token(token, ring, kNow, TrackingKind::open).ok());
}

TEST(TrackingToken, DocumentedFormat) {
    TrackingClaims claims;
    claims.key_id = "k1";
    claims.connection = "c1";
    claims.recipient = "a@b.c";
    claims.message_id = "m1";
    const std::string payload = R"({"v":1,"k":"k1","c":"c1","r":"a@b.c","m":"m1"})";
    EXPECT_EQ(tracking_payload_json(claims), payload);
    EXPECT_EQ(sign_tracking_token(claims, kOldSecret),
              b64url(payload) + "." +
                  b64url(hmac(DigestAlgorithm::sha256, kOldSecret, payload)));
}

TEST(TrackingToken, TamperingAnyByteFails) {
    const TrackingKeyring ring = keyring({{"k1", kOldSecret}});
    const std::string token = sign_tracking_token(click_claims(), kOldSecret);
    ASSERT_TRUE(verify_tracking_token(token, ring, kNow, TrackingKind::click).ok());
    // Every position, each replaced by several others: base64url digits that
    // differ only in unused low bits, the separator, padding, a stray byte.
    const std::string replacements = "AaBbQg019-_.=%+/ \x01";
    std::size_t tried = 0;
    for (std::size_t i = 0; i < token.size(); ++i) {
        for (const char replacement : replacements) {
            if (replacement == token[i]) continue;
            std::string tampered = token;
            tampered[i] = replacement;
            const TokenVerdict verdict =
                verify_tracking_token(tampered, ring, kNow, TrackingKind::click);
            EXPECT_FALSE(verdict.ok()) << "byte " << i << " -> '" << replacement << "'";
            ++tried;
        }
        // Dropping or duplicating a byte fails too.
        std::string shorter = token;
        shorter.erase(i, 1);
        EXPECT_FALSE(verify_tracking_token(shorter, ring, kNow, TrackingKind::click).ok())
            << "without byte " << i;
        std::string longer = token;
        longer.insert(i, 1, token[i]);
        EXPECT_FALSE(verify_tracking_token(longer, ring, kNow, TrackingKind::click).ok())
            << "byte " << i << " twice";
    }
    EXPECT_GT(tried, token.size() * 10);
    EXPECT_FALSE(verify_tracking_token(token + "A", ring, kNow, TrackingKind::click).ok());
    EXPECT_FALSE(verify_tracking_token(token + "=", ring, kNow, TrackingKind::click).ok());
}

TEST(TrackingToken, ExpiredFails) {
    const TrackingKeyring ring = keyring({{"k1", kOldSecret}});
    TrackingClaims claims = click_claims();
    claims.expires_at = kNow / 1000;
    const std::string token = sign_tracking_token(claims, kOldSecret);
    EXPECT_TRUE(verify_tracking_token(token, ring, kNow, TrackingKind::click).ok())
        << "valid through its expiry second";
    const TokenVerdict late =
        verify_tracking_token(token, ring, kNow + 1000, TrackingKind::click);
    EXPECT_EQ(late.error, TokenError::expired);
    EXPECT_EQ(verify_tracking_token(token, ring, kNow + 1000, TrackingKind::open).error,
              TokenError::expired);
}

TEST(TrackingToken, UnknownKeyIdFails) {
    const TrackingKeyring ring = keyring({{"k1", kOldSecret}});
    const std::string token = sign_tracking_token(click_claims("k9"), kOldSecret);
    EXPECT_EQ(verify_tracking_token(token, ring, kNow, TrackingKind::click).error,
              TokenError::unknown_key);
}

TEST(TrackingToken, WrongSecretForKeyIdFails) {
    const TrackingKeyring ring = keyring({{"k1", kOldSecret}});
    const std::string token = sign_tracking_token(click_claims("k1"), kNewSecret);
    EXPECT_EQ(verify_tracking_token(token, ring, kNow, TrackingKind::click).error,
              TokenError::signature);
}

TEST(TrackingToken, KeyRotation) {
    const std::string old_token = sign_tracking_token(click_claims("old"), kOldSecret);
    const std::string new_token = sign_tracking_token(click_claims("new"), kNewSecret);

    TrackingKeyring ring = keyring({{"old", kOldSecret}});
    EXPECT_TRUE(verify_tracking_token(old_token, ring, kNow, TrackingKind::click).ok());
    EXPECT_FALSE(verify_tracking_token(new_token, ring, kNow, TrackingKind::click).ok());

    // Both configured: links signed with either key work.
    std::string error;
    ASSERT_TRUE(ring.add("new", kNewSecret, error)) << error;
    EXPECT_TRUE(verify_tracking_token(old_token, ring, kNow, TrackingKind::click).ok());
    EXPECT_TRUE(verify_tracking_token(new_token, ring, kNow, TrackingKind::click).ok());

    // The old key removed: its tokens stop verifying.
    ASSERT_TRUE(ring.remove("old"));
    EXPECT_EQ(verify_tracking_token(old_token, ring, kNow, TrackingKind::click).error,
              TokenError::unknown_key);
    EXPECT_TRUE(verify_tracking_token(new_token, ring, kNow, TrackingKind::click).ok());
}

TEST(TrackingToken, KeyringRefusesWeakOrDuplicateKeys) {
    TrackingKeyring ring;
    std::string error;
    EXPECT_FALSE(ring.add("k1", "short", error));
    EXPECT_FALSE(ring.add("bad id", kOldSecret, error));
    EXPECT_FALSE(ring.add("", kOldSecret, error));
    EXPECT_TRUE(ring.add("k1", kOldSecret, error));
    EXPECT_FALSE(ring.add("k1", kNewSecret, error));
    EXPECT_EQ(ring.size(), 1u);
}

// Signs an arbitrary payload, bypassing the claim checks of the signer.
std::string forge(std::string_view payload, std::string_view secret = kOldSecret) {
    return b64url(payload) + "." + b64url(hmac(DigestAlgorithm::sha256, secret, payload));
}

TEST(TrackingToken, ClicksRedirectOnlyToHttpUrls) {
    const TrackingKeyring ring = keyring({{"k1", kOldSecret}});
    for (const char* url : {"javascript:alert(1)", "//evil.example/", "ftp://x/",
                            "https:///evil", "https://a b/", "https://x/\r\nSet-Cookie: a=b",
                            "https://x\\@evil/", "data:text/html,hi", "https://ex\xc3\xa9.com/"}) {
        std::string payload = R"({"v":1,"k":"k1","c":"c1","r":"a@b.c","u":)";
        append_json_string(payload, url);
        payload += "}";
        const TokenVerdict verdict =
            verify_tracking_token(forge(payload), ring, kNow, TrackingKind::click);
        EXPECT_EQ(verdict.error, TokenError::url) << url << ": " << verdict.reason;
        // An open with the same token is fine: it never redirects.
        EXPECT_TRUE(verify_tracking_token(forge(payload), ring, kNow, TrackingKind::open).ok())
            << url;
    }
    const std::string no_url = forge(R"({"v":1,"k":"k1","c":"c1","r":"a@b.c"})");
    EXPECT_EQ(verify_tracking_token(no_url, ring, kNow, TrackingKind::click).error,
              TokenError::url);
    EXPECT_TRUE(is_safe_redirect_url("HTTPS://Example.com"));
    EXPECT_TRUE(is_safe_redirect_url("http://127.0.0.1:8080/a?b=c#d"));

    TrackingClaims claims = click_claims();
    claims.url = "javascript:alert(1)";
    EXPECT_EQ(sign_tracking_token(claims, kOldSecret), "") << "the signer refuses too";
}

TEST(TrackingToken, MalformedPayloadsFail) {
    const TrackingKeyring ring = keyring({{"k1", kOldSecret}});
    const auto error_of = [&](std::string_view payload) {
        return verify_tracking_token(forge(payload), ring, kNow, TrackingKind::open).error;
    };
    EXPECT_EQ(error_of("not json"), TokenError::malformed);
    EXPECT_EQ(error_of("[1]"), TokenError::malformed);
    EXPECT_EQ(error_of(R"({"v":2,"k":"k1","c":"c1","r":"a"})"), TokenError::version);
    EXPECT_EQ(error_of(R"({"v":"1","k":"k1","c":"c1","r":"a"})"), TokenError::version);
    EXPECT_EQ(error_of(R"({"v":1,"c":"c1","r":"a"})"), TokenError::unknown_key);
    EXPECT_EQ(error_of(R"({"v":1,"k":"k1","r":"a"})"), TokenError::claims);
    EXPECT_EQ(error_of(R"({"v":1,"k":"k1","c":"c/1","r":"a"})"), TokenError::claims);
    EXPECT_EQ(error_of(R"({"v":1,"k":"k1","c":"c1"})"), TokenError::claims);
    EXPECT_EQ(error_of(R"({"v":1,"k":"k1","c":"c1","r":"a","m":5})"), TokenError::claims);
    EXPECT_EQ(error_of(R"({"v":1,"k":"k1","c":"c1","r":"a","x":"soon"})"), TokenError::claims);
    EXPECT_EQ(error_of(R"({"v":1,"k":"k1","c":"c1","r":"a","future":true})"), TokenError::none)
        << "unknown claims are ignored";
    EXPECT_EQ(verify_tracking_token("", ring, kNow, TrackingKind::open).error,
              TokenError::malformed);
    EXPECT_EQ(verify_tracking_token(std::string(kMaxTokenLength + 1, 'A'), ring, kNow,
                                    TrackingKind::open)
                  .error,
              TokenError::malformed);
}

}  // namespace
}  // namespace mailhook
