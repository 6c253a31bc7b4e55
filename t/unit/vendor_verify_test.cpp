// SPDX-License-Identifier: BSD-2-Clause
// Signature checks of every vendor: the official vectors in t/vectors/,
// timestamp tolerance with an injected clock, key rotation, and the exact
// bytes (SendGrid's trailing CRLF) being what is signed.
#include <gtest/gtest.h>

#include <cctype>

#include "core/vendor.hpp"
#include "core/vendor_auth.hpp"
#include "vendor_test.hpp"

namespace mailhook {
namespace {

using test::at_seconds;
using test::EcKey;
using test::load_vector;
using test::MapHeaders;
using test::prepared_connection;
using test::vector_headers;
using test::vector_string;

Verdict verify(const Connection& connection, const Delivery& delivery) {
    Batch batch;
    return find_vendor(connection.vendor)->verify(delivery, connection, batch);
}

// A vendor vector as a request: body bytes, headers, and the key.
struct VectorRequest {
    explicit VectorRequest(const char* name)
        : json(load_vector(name)),
          body(vector_string(json.get(), "payload")),
          headers(vector_headers(json.get())),
          key(vector_string(json.get(), "key")),
          timestamp(*parse_epoch_seconds(vector_string(json.get(), "timestamp"))) {}
    JsonPtr json;
    std::string body;
    MapHeaders headers;
    std::string key;
    EpochMillis timestamp;
};

// ---- SendGrid -------------------------------------------------------------

TEST(SendGridVerify, OfficialVectorIsValidWhateverTheClock) {
    const VectorRequest v("sendgrid_official_1.json");
    ASSERT_EQ(v.timestamp, at_seconds(1588788367));
    const Connection connection = prepared_connection("sendgrid", {{"secret", v.key}});
    // SendGrid retries for 24 h: a signature 25 h old still verifies.
    for (const EpochMillis now : {v.timestamp, v.timestamp + 25 * 3600 * 1000}) {
        const Delivery delivery(v.body, v.headers, now);
        const Verdict verdict = verify(connection, delivery);
        EXPECT_TRUE(verdict.ok()) << verdict.reason;
    }
}

// L7 (security review 2026-12-01): by default a captured request is stale
// before its dedup key (mailhook_dedup_ttl 26 h) expires; 0 turns it off.
TEST(SendGridVerify, L7DefaultToleranceIsBelowTheDedupTtl) {
    const VectorRequest v("sendgrid_official_1.json");
    const Connection connection = prepared_connection("sendgrid", {{"secret", v.key}});
    for (const EpochMillis now : {v.timestamp + (25 * 3600 + 1) * 1000, at_seconds(1900000000),
                                  EpochMillis{0}}) {
        const Delivery delivery(v.body, v.headers, now);
        EXPECT_EQ(verify(connection, delivery).rejection, Rejection::stale_timestamp);
    }
    const Connection off = prepared_connection(
        "sendgrid", {{"secret", v.key}, {"timestamp_tolerance", "0"}});
    const Delivery years_later(v.body, v.headers, at_seconds(1900000000));
    EXPECT_TRUE(verify(off, years_later).ok());
}

TEST(SendGridVerify, OfficialInvalidVectorsAreUnauthenticated) {
    for (const char* name :
         {"sendgrid_official_1_bad_key.json", "sendgrid_official_1_bad_payload.json",
          "sendgrid_official_1_bad_signature.json",
          "sendgrid_official_1_bad_timestamp.json"}) {
        const VectorRequest v(name);
        const Connection connection = prepared_connection("sendgrid", {{"secret", v.key}});
        const Delivery delivery(v.body, v.headers, at_seconds(1588788367));
        EXPECT_EQ(verify(connection, delivery).rejection, Rejection::unauthenticated) << name;
    }
}

TEST(SendGridVerify, TimestampToleranceOptionIsHonoured) {
    const VectorRequest v("sendgrid_official_1.json");
    const Connection connection = prepared_connection(
        "sendgrid", {{"secret", v.key}, {"timestamp_tolerance", "300"}});
    const auto at = [&](EpochMillis now) {
        return verify(connection, Delivery(v.body, v.headers, now)).rejection;
    };
    EXPECT_EQ(at(v.timestamp), Rejection::none);
    EXPECT_EQ(at(v.timestamp + at_seconds(300)), Rejection::none);
    EXPECT_EQ(at(v.timestamp - at_seconds(300)), Rejection::none);
    EXPECT_EQ(at(v.timestamp + at_seconds(301)), Rejection::stale_timestamp);
    EXPECT_EQ(at(v.timestamp - at_seconds(301)), Rejection::stale_timestamp);
    EXPECT_EQ(at(at_seconds(1900000000)), Rejection::stale_timestamp);
}

TEST(SendGridVerify, ConfiguredToleranceAppliesUnlessTheConnectionSaysOtherwise) {
    const VectorRequest v("sendgrid_official_1.json");
    const EpochMillis late = v.timestamp + at_seconds(3600);
    {
        const Connection connection = prepared_connection("sendgrid", {{"secret", v.key}});
        Delivery delivery(v.body, v.headers, late);
        delivery.set_configured_tolerance(600);  // the nginx directive
        EXPECT_EQ(verify(connection, delivery).rejection, Rejection::stale_timestamp);
        delivery.set_configured_tolerance(7200);
        EXPECT_TRUE(verify(connection, delivery).ok());
    }
    {
        // 0 on the connection turns the check off even when nginx sets one.
        const Connection connection = prepared_connection(
            "sendgrid", {{"secret", v.key}, {"timestamp_tolerance", "0"}});
        Delivery delivery(v.body, v.headers, late);
        delivery.set_configured_tolerance(600);
        EXPECT_TRUE(verify(connection, delivery).ok());
    }
}

TEST(SendGridVerify, TrailingCrLfIsPartOfTheSignedBytes) {
    const EcKey key;
    const Connection connection =
        prepared_connection("sendgrid", {{"secret", key.verification_key()}});
    const std::string body =
        R"([{"email":"example@test.com","timestamp":1513299569,"event":"delivered",)"
        R"("sg_event_id":"rWVYmVk90MjZJ9iohOBa3w==","response":"250 OK"}])"
        "\r\n";
    const MapHeaders headers = test::sendgrid_headers(key, "1513299570", body);
    EXPECT_TRUE(verify(connection, Delivery(body, headers, at_seconds(1513299570))).ok());

    const std::string trimmed = body.substr(0, body.size() - 2);
    EXPECT_EQ(verify(connection, Delivery(trimmed, headers, at_seconds(1513299570))).rejection,
              Rejection::unauthenticated);
    const std::string lf_only = trimmed + "\n";
    EXPECT_EQ(verify(connection, Delivery(lf_only, headers, at_seconds(1513299570))).rejection,
              Rejection::unauthenticated);
    // The timestamp header is signed too.
    MapHeaders moved = headers;
    moved.set(std::string(test::kSendGridTimestamp), "1513299571");
    EXPECT_EQ(verify(connection, Delivery(body, moved, at_seconds(1513299570))).rejection,
              Rejection::unauthenticated);
}

TEST(SendGridVerify, KeyRotationAcceptsEitherKey) {
    const EcKey old_key;
    const EcKey new_key;
    const EcKey stranger;
    const Connection connection = prepared_connection(
        "sendgrid",
        {{"secret", old_key.verification_key()}, {"secret_next", new_key.verification_key()}});
    ASSERT_EQ(connection.public_keys.size(), 2u);
    const std::string body = "[]\r\n";
    for (const EcKey* key : {&old_key, &new_key}) {
        const MapHeaders headers = test::sendgrid_headers(*key, "1700000000", body);
        EXPECT_TRUE(verify(connection, Delivery(body, headers, at_seconds(1700000000))).ok());
    }
    const MapHeaders headers = test::sendgrid_headers(stranger, "1700000000", body);
    EXPECT_EQ(verify(connection, Delivery(body, headers, at_seconds(1700000000))).rejection,
              Rejection::unauthenticated);
}

TEST(SendGridVerify, PemSecretWorksLikeBase64Der) {
    const EcKey key;
    const Connection connection = prepared_connection("sendgrid", {{"secret", key.public_pem()}});
    const MapHeaders headers = test::sendgrid_headers(key, "1700000000", "[]");
    EXPECT_TRUE(verify(connection, Delivery("[]", headers, at_seconds(1700000000))).ok());
}

TEST(SendGridVerify, MissingOrUndecodableHeaders) {
    const EcKey key;
    const Connection connection =
        prepared_connection("sendgrid", {{"secret", key.verification_key()}});
    const MapHeaders good = test::sendgrid_headers(key, "1700000000", "[]");
    for (const std::string_view drop : {test::kSendGridSignature, test::kSendGridTimestamp}) {
        MapHeaders headers = good;
        headers.erase(std::string(drop));
        EXPECT_EQ(verify(connection, Delivery("[]", headers, 0)).rejection,
                  Rejection::unauthenticated)
            << drop;
    }
    MapHeaders garbage = good;
    garbage.set(std::string(test::kSendGridSignature), "not base64 $$$");
    EXPECT_EQ(verify(connection, Delivery("[]", garbage, 0)).rejection,
              Rejection::unauthenticated);
    garbage.set(std::string(test::kSendGridSignature), "");
    EXPECT_EQ(verify(connection, Delivery("[]", garbage, 0)).rejection,
              Rejection::unauthenticated);
}

TEST(SendGridPrepare, RefusesUnusableSecrets) {
    std::string error;
    for (const FieldList& fields : {
             FieldList{{"vendor", "sendgrid"}},
             FieldList{{"vendor", "sendgrid"}, {"secret", "not-a-key"}},
             FieldList{{"vendor", "sendgrid"}, {"secret", base64_encode("not DER")}},
         }) {
        auto connection = connection_from_fields("c", fields, error);
        ASSERT_TRUE(connection) << error;
        EXPECT_EQ(find_vendor("sendgrid")->prepare(*connection).rejection,
                  Rejection::misconfigured);
    }
}

TEST(SendGridVerify, LegacyBasicAuthInsteadOfSignature) {
    const Connection connection = prepared_connection(
        "sendgrid", {{"secret", "hook:s3cret"}, {"auth", "basic"}});
    MapHeaders headers{{"Authorization", test::basic_auth("hook:s3cret")}};
    EXPECT_TRUE(verify(connection, Delivery("[]", headers, 0)).ok());
    headers.set("Authorization", test::basic_auth("hook:wrong"));
    EXPECT_EQ(verify(connection, Delivery("[]", headers, 0)).rejection,
              Rejection::bad_credentials);
}

// ---- Mailgun ----------------------------------------------------------------

TEST(MailgunVerify, OfficialVectorIsValidAtItsTime) {
    const VectorRequest v("mailgun_official_1.json");
    ASSERT_EQ(v.timestamp, at_seconds(1403645220));
    const Connection connection = prepared_connection("mailgun", {{"secret", v.key}});
    Batch batch;
    const Verdict verdict =
        find_vendor("mailgun")->verify(Delivery(v.body, v.headers, v.timestamp), connection, batch);
    EXPECT_TRUE(verdict.ok()) << verdict.reason;
    // The one-time token travels on to the store script.
    ASSERT_TRUE(batch.replay_guard);
    EXPECT_EQ(batch.replay_guard->token, vector_string(v.json.get(), "token"));
}

TEST(MailgunVerify, OfficialBadTokenIsUnauthenticated) {
    const VectorRequest v("mailgun_official_1_bad_token.json");
    const Connection connection = prepared_connection("mailgun", {{"secret", v.key}});
    EXPECT_EQ(verify(connection, Delivery(v.body, v.headers, v.timestamp)).rejection,
              Rejection::unauthenticated);
}

TEST(MailgunVerify, DefaultToleranceIsFiveMinutes) {
    const VectorRequest v("mailgun_official_1.json");
    const Connection connection = prepared_connection("mailgun", {{"secret", v.key}});
    const auto at = [&](EpochMillis now) {
        return verify(connection, Delivery(v.body, v.headers, now)).rejection;
    };
    EXPECT_EQ(at(v.timestamp + at_seconds(300)), Rejection::none);
    EXPECT_EQ(at(v.timestamp - at_seconds(300)), Rejection::none);
    EXPECT_EQ(at(v.timestamp + at_seconds(301)), Rejection::stale_timestamp);
    EXPECT_EQ(at(v.timestamp - at_seconds(301)), Rejection::stale_timestamp);
    EXPECT_EQ(at(at_seconds(1700000000)), Rejection::stale_timestamp);
}

TEST(MailgunVerify, ToleranceOptionWidensOrDisables) {
    const VectorRequest v("mailgun_official_1.json");
    const EpochMillis late = v.timestamp + at_seconds(3000);
    const Connection wide = prepared_connection(
        "mailgun", {{"secret", v.key}, {"timestamp_tolerance", "3600"}});
    EXPECT_TRUE(verify(wide, Delivery(v.body, v.headers, late)).ok());
    const Connection off = prepared_connection(
        "mailgun", {{"secret", v.key}, {"timestamp_tolerance", "0"}});
    EXPECT_TRUE(verify(off, Delivery(v.body, v.headers, at_seconds(1900000000))).ok());
    // A value that is not a number falls back to the default.
    const Connection junk = prepared_connection(
        "mailgun", {{"secret", v.key}, {"timestamp_tolerance", "soon"}});
    EXPECT_EQ(verify(junk, Delivery(v.body, v.headers, late)).rejection,
              Rejection::stale_timestamp);
}

TEST(MailgunVerify, StaleOnlyAfterTheSignatureChecks) {
    // A wrong signature is unauthenticated whatever the clock says.
    const VectorRequest v("mailgun_official_1_bad_token.json");
    const Connection connection = prepared_connection("mailgun", {{"secret", v.key}});
    EXPECT_EQ(verify(connection, Delivery(v.body, v.headers, at_seconds(1700000000))).rejection,
              Rejection::unauthenticated);
}

TEST(MailgunVerify, KeyRotationAcceptsEitherKey) {
    const std::string event = R"({"event":"opened","timestamp":1700000000.5,"id":"x"})";
    const Connection connection =
        prepared_connection("mailgun", {{"secret", "key-old"}, {"secret_next", "key-new"}});
    MapHeaders headers{{"Content-Type", "application/json"}};
    for (const char* key : {"key-old", "key-new"}) {
        const std::string body = test::mailgun_body(key, "1700000000", std::string(50, 't'), event);
        EXPECT_TRUE(verify(connection, Delivery(body, headers, at_seconds(1700000000))).ok())
            << key;
    }
    const std::string body =
        test::mailgun_body("key-other", "1700000000", std::string(50, 't'), event);
    EXPECT_EQ(verify(connection, Delivery(body, headers, at_seconds(1700000000))).rejection,
              Rejection::unauthenticated);
}

TEST(MailgunVerify, HexCaseDoesNotMatterButEveryDigitDoes) {
    const VectorRequest v("mailgun_official_1.json");
    const Connection connection = prepared_connection("mailgun", {{"secret", v.key}});
    const std::string signature = vector_string(v.json.get(), "signature");
    std::string upper = v.body;
    std::string upper_signature = signature;
    for (char& c : upper_signature) c = static_cast<char>(std::toupper(c));
    upper.replace(upper.find(signature), signature.size(), upper_signature);
    EXPECT_TRUE(verify(connection, Delivery(upper, v.headers, v.timestamp)).ok());
    std::string flipped = v.body;
    const std::size_t last = flipped.find(signature) + signature.size() - 1;
    flipped[last] = flipped[last] == '3' ? '4' : '3';
    EXPECT_EQ(verify(connection, Delivery(flipped, v.headers, v.timestamp)).rejection,
              Rejection::unauthenticated);
}

TEST(MailgunVerify, MalformedOrUnsignedBodies) {
    const Connection connection = prepared_connection("mailgun", {{"secret", "key"}});
    const MapHeaders headers{{"Content-Type", "application/json"}};
    EXPECT_EQ(verify(connection, Delivery("not json", headers, 0)).rejection,
              Rejection::malformed);
    EXPECT_EQ(verify(connection, Delivery("[]", headers, 0)).rejection, Rejection::malformed);
    EXPECT_EQ(verify(connection, Delivery(R"({"event-data":{}})", headers, 0)).rejection,
              Rejection::unauthenticated);
    EXPECT_EQ(verify(connection,
                     Delivery(R"({"signature":{"timestamp":"1700000000","token":"","signature":"00"}})",
                              headers, 0))
                  .rejection,
              Rejection::unauthenticated);
}

// ---- Resend (Standard Webhooks / Svix) -------------------------------------------

TEST(ResendVerify, StandardWebhooksVectorIsValidAtItsTime) {
    const VectorRequest v("standardwebhooks_official_1.json");
    ASSERT_EQ(v.timestamp, at_seconds(1614265330));
    const Connection connection = prepared_connection("resend", {{"secret", v.key}});
    const Verdict verdict = verify(connection, Delivery(v.body, v.headers, v.timestamp));
    EXPECT_TRUE(verdict.ok()) << verdict.reason;
}

TEST(ResendVerify, SvixHeaderNamesWorkToo) {
    const VectorRequest v("standardwebhooks_official_1.json");
    const Connection connection = prepared_connection("resend", {{"secret", v.key}});
    MapHeaders headers;
    headers.set("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek");
    headers.set("svix-timestamp", "1614265330");
    headers.set("svix-signature", vector_string(v.json.get(), "signature"));
    EXPECT_TRUE(verify(connection, Delivery(v.body, headers, v.timestamp)).ok());
}

TEST(ResendVerify, SvixBadSignatureVectorIsUnauthenticated) {
    const VectorRequest v("svix_official_1_bad_signature.json");
    const Connection connection = prepared_connection("resend", {{"secret", v.key}});
    EXPECT_EQ(verify(connection, Delivery(v.body, v.headers, v.timestamp)).rejection,
              Rejection::unauthenticated);
}

TEST(ResendVerify, DefaultToleranceIsFiveMinutes) {
    const VectorRequest v("standardwebhooks_official_1.json");
    const Connection connection = prepared_connection("resend", {{"secret", v.key}});
    const auto at = [&](EpochMillis now) {
        return verify(connection, Delivery(v.body, v.headers, now)).rejection;
    };
    EXPECT_EQ(at(v.timestamp + at_seconds(300)), Rejection::none);
    EXPECT_EQ(at(v.timestamp - at_seconds(300)), Rejection::none);
    EXPECT_EQ(at(v.timestamp + at_seconds(301)), Rejection::stale_timestamp);
    EXPECT_EQ(at(v.timestamp - at_seconds(301)), Rejection::stale_timestamp);
    EXPECT_EQ(at(at_seconds(1700000000)), Rejection::stale_timestamp);
}

TEST(ResendVerify, AnyV1EntryOfTheListMayMatch) {
    const VectorRequest v("standardwebhooks_official_1.json");
    const Connection connection = prepared_connection("resend", {{"secret", v.key}});
    const std::string good = vector_string(v.json.get(), "signature");
    const std::string bad = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
    const auto with = [&](const std::string& list) {
        MapHeaders headers = v.headers;
        headers.set("webhook-signature", list);
        return verify(connection, Delivery(v.body, headers, v.timestamp)).rejection;
    };
    EXPECT_EQ(with(bad + " " + good), Rejection::none);
    EXPECT_EQ(with(good + " " + bad), Rejection::none);
    EXPECT_EQ(with(bad), Rejection::unauthenticated);
    // Only v1 is HMAC: the same bytes under another version do not count.
    EXPECT_EQ(with("v1a," + good.substr(3)), Rejection::unauthenticated);
    EXPECT_EQ(with("v2," + good.substr(3)), Rejection::unauthenticated);
    EXPECT_EQ(with(good.substr(3)), Rejection::unauthenticated);
    EXPECT_EQ(with(""), Rejection::unauthenticated);
}

TEST(ResendVerify, KeyRotationAcceptsEitherSecret) {
    const std::string old_key = "old-signing-key-bytes-24";
    const std::string new_key = "new-signing-key-bytes-24";
    const Connection connection = prepared_connection(
        "resend", {{"secret", "whsec_" + base64_encode(old_key)},
                   {"secret_next", base64_encode(new_key)}});  // prefix optional
    const std::string body = R"({"type":"email.sent","created_at":"2024-01-15T10:30:00Z","data":{}})";
    for (const std::string& key : {old_key, new_key}) {
        const MapHeaders headers = test::svix_headers(key, "msg_1", "1705314600", body);
        EXPECT_TRUE(verify(connection, Delivery(body, headers, at_seconds(1705314600))).ok());
    }
    const MapHeaders headers = test::svix_headers("another-key", "msg_1", "1705314600", body);
    EXPECT_EQ(verify(connection, Delivery(body, headers, at_seconds(1705314600))).rejection,
              Rejection::unauthenticated);
}

TEST(ResendVerify, IdAndTimestampAreSigned) {
    const std::string key = "k";
    const Connection connection =
        prepared_connection("resend", {{"secret", "whsec_" + base64_encode(key)}});
    const std::string body = "{}";
    MapHeaders headers = test::svix_headers(key, "msg_1", "1705314600", body);
    headers.set("svix-id", "msg_2");
    EXPECT_EQ(verify(connection, Delivery(body, headers, at_seconds(1705314600))).rejection,
              Rejection::unauthenticated);
    headers = test::svix_headers(key, "msg_1", "1705314600", body);
    headers.set("svix-timestamp", "1705314601");
    EXPECT_EQ(verify(connection, Delivery(body, headers, at_seconds(1705314600))).rejection,
              Rejection::unauthenticated);
    // A signed but non-integer timestamp is refused as a timestamp.
    headers = test::svix_headers(key, "msg_1", "1705314600.5", body);
    EXPECT_EQ(verify(connection, Delivery(body, headers, at_seconds(1705314600))).rejection,
              Rejection::stale_timestamp);
}

TEST(ResendVerify, MissingHeadersAndBadSecrets) {
    const VectorRequest v("standardwebhooks_official_1.json");
    const Connection connection = prepared_connection("resend", {{"secret", v.key}});
    for (const char* drop : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
        MapHeaders headers = v.headers;
        headers.erase(drop);
        EXPECT_EQ(verify(connection, Delivery(v.body, headers, v.timestamp)).rejection,
                  Rejection::unauthenticated)
            << drop;
    }
    std::string error;
    auto bad = connection_from_fields("c", {{"vendor", "resend"}, {"secret", "whsec_!!"}}, error);
    ASSERT_TRUE(bad);
    EXPECT_EQ(find_vendor("resend")->prepare(*bad).rejection, Rejection::misconfigured);
}

// ---- Inboxroad ------------------------------------------------------------------

TEST(InboxroadVerify, Base64OrHexHmacOfTheBody) {
    const Connection connection = prepared_connection("inboxroad", {{"secret", "ir-secret"}});
    const std::string body = R"({"kind":"delivered","recipient":"user@example.com"})";
    const std::string mac = hmac(DigestAlgorithm::sha256, "ir-secret", body);
    for (const std::string& signature : {base64_encode(mac), hex_encode(mac)}) {
        const MapHeaders headers{{"X-Signature", signature}};
        EXPECT_TRUE(verify(connection, Delivery(body, headers, 0)).ok()) << signature;
    }
    const MapHeaders headers{{"X-Signature", base64_encode(mac)}};
    EXPECT_EQ(verify(connection, Delivery(body + " ", headers, 0)).rejection,
              Rejection::unauthenticated);
    EXPECT_EQ(verify(connection, Delivery(body, MapHeaders{}, 0)).rejection,
              Rejection::unauthenticated);
}

TEST(InboxroadVerify, SignatureHeaderOptionAndRotation) {
    const Connection connection = prepared_connection(
        "inboxroad",
        {{"secret", "old"}, {"secret_next", "new"}, {"signature_header", "X-Inboxroad-Signature"}});
    const std::string body = "{}";
    for (const char* key : {"old", "new"}) {
        const MapHeaders headers{
            {"X-Inboxroad-Signature", base64_encode(hmac(DigestAlgorithm::sha256, key, body))}};
        EXPECT_TRUE(verify(connection, Delivery(body, headers, 0)).ok()) << key;
    }
    const MapHeaders default_name{
        {"X-Signature", base64_encode(hmac(DigestAlgorithm::sha256, "old", body))}};
    EXPECT_EQ(verify(connection, Delivery(body, default_name, 0)).rejection,
              Rejection::unauthenticated);
}

// ---- SMTP2GO ----------------------------------------------------------------------

TEST(Smtp2goVerify, BasicOrBearerCredentials) {
    const Connection basic = prepared_connection("smtp2go", {{"secret", "hook:pa55"}});
    EXPECT_TRUE(verify(basic, Delivery("{}", MapHeaders{{"Authorization",
                                                           test::basic_auth("hook:pa55")}},
                                       0))
                    .ok());
    EXPECT_EQ(verify(basic, Delivery("{}", MapHeaders{{"Authorization",
                                                         test::basic_auth("hook:nope")}},
                                     0))
                  .rejection,
              Rejection::bad_credentials);
    const Connection bearer = prepared_connection("smtp2go", {{"secret", "tok-123"}});
    EXPECT_TRUE(
        verify(bearer, Delivery("{}", MapHeaders{{"Authorization", "Bearer tok-123"}}, 0)).ok());
    EXPECT_TRUE(
        verify(bearer, Delivery("{}", MapHeaders{{"Authorization", "bearer  tok-123 "}}, 0)).ok());
    EXPECT_EQ(
        verify(bearer, Delivery("{}", MapHeaders{{"Authorization", "Bearer tok-1234"}}, 0))
            .rejection,
        Rejection::bad_credentials);
    EXPECT_EQ(verify(bearer, Delivery("{}", MapHeaders{}, 0)).rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(verify(bearer, Delivery("{}", MapHeaders{{"Authorization", "tok-123"}}, 0)).rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(
        verify(bearer, Delivery("{}", MapHeaders{{"Authorization", "Digest tok-123"}}, 0))
            .rejection,
        Rejection::bad_credentials);
}

TEST(Smtp2goVerify, RotationAndNoSecret) {
    const Connection connection =
        prepared_connection("smtp2go", {{"secret", "tok-old"}, {"secret_next", "tok-new"}});
    for (const char* token : {"tok-old", "tok-new"}) {
        const MapHeaders headers{{"Authorization", std::string("Bearer ") + token}};
        EXPECT_TRUE(verify(connection, Delivery("{}", headers, 0)).ok()) << token;
    }
    std::string error;
    auto bare = connection_from_fields("c", {{"vendor", "smtp2go"}}, error);
    ASSERT_TRUE(bare);
    EXPECT_EQ(find_vendor("smtp2go")->prepare(*bare).rejection, Rejection::misconfigured);
}

// ---- M2: work before authentication ---------------------------------------

// The review's bodies: about 1 MB of empty objects (or empty form fields)
// where the credential sits in the body. Each is refused 413 before any
// parser runs; a body within the budget reaches the credential check.
std::string empty_objects(std::string_view head, std::size_t count) {
    std::string body(head);
    body += "\"x\":[{}";
    for (std::size_t i = 1; i < count; ++i) body += ",{}";
    return body + "]}";
}

TEST(PreAuthBudget, M2JsonVendorsRefuseBeforeParsing) {
    const Connection mailgun = prepared_connection("mailgun", {{"secret", "key-1"}});
    const Connection smartlead = prepared_connection("smartlead", {{"secret", "sl-secret"}});
    const Connection ses = prepared_connection("ses", {});
    const struct {
        const Connection* connection;
        std::string_view head;
    } cases[] = {{&mailgun, R"({"signature":{},)"},
                 {&smartlead, R"({"secret_key":"no",)"},
                 {&ses, R"({"Type":"Notification","Signature":"A",)"}};
    for (const auto& c : cases) {
        const MapHeaders json{{"Content-Type", "application/json"}};
        const std::string huge = empty_objects(c.head, 340000);
        const Delivery big(huge, json, test::kNow);
        const Verdict verdict = verify(*c.connection, big);
        EXPECT_EQ(verdict.rejection, Rejection::too_large) << c.connection->vendor;
        EXPECT_EQ(http_status(verdict.rejection), 413);
        const std::string small = empty_objects(c.head, 100);
        const Delivery fits(small, json, test::kNow);
        const Verdict within = verify(*c.connection, fits);
        EXPECT_NE(within.rejection, Rejection::too_large) << c.connection->vendor;
        EXPECT_FALSE(within.ok()) << c.connection->vendor;
    }
}

TEST(PreAuthBudget, M2FormVendorsRefuseBeforeParsing) {
    std::string fields = "a";
    for (int i = 0; i < 500000; ++i) fields += "&a";
    const Connection mandrill = prepared_connection("mandrill", {{"secret", "md-key"}});
    const MapHeaders signed_form{{"Content-Type", "application/x-www-form-urlencoded"},
                                 {"X-Mandrill-Signature", "AAAA"}};
    const Delivery flood(fields, signed_form, test::kNow);
    EXPECT_EQ(verify(mandrill, flood).rejection, Rejection::too_large);
    const Delivery one("mandrill_events=%5B%5D", signed_form, test::kNow);
    EXPECT_EQ(verify(mandrill, one).rejection, Rejection::unauthenticated);

    const Connection mailgun = prepared_connection("mailgun", {{"secret", "key-1"}});
    const MapHeaders form{{"Content-Type", "application/x-www-form-urlencoded"}};
    const Delivery legacy(fields, form, test::kNow);
    EXPECT_EQ(verify(mailgun, legacy).rejection, Rejection::too_large);
}

TEST(PreAuthBudget, M2MultipartPartsAreCounted) {
    const std::string boundary = "b0undary";
    std::string body;
    for (int i = 0; i < 20; ++i) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"f" +
                std::to_string(i) + "\"\r\n\r\nv\r\n";
    }
    body += "--" + boundary + "--\r\n";
    const MapHeaders headers{{"Content-Type", "multipart/form-data; boundary=" + boundary}};
    const Delivery delivery(body, headers, test::kNow);
    EXPECT_EQ(form_pre_auth_budget(delivery, 19).rejection, Rejection::too_large);
    EXPECT_TRUE(form_pre_auth_budget(delivery, 20).ok());
}

}  // namespace
}  // namespace mailhook
