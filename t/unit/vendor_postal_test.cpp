// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "core/vendors/vendors.hpp"
#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

// Postal keys are per installation: made for the test.
std::string sign64(const RsaKey& key, std::string_view data, const EVP_MD* digest) {
    return base64_encode(key.sign(data, digest));
}

const RsaKey& postal_key() {
    static const RsaKey key;
    return key;
}
const RsaKey& other_key() {
    static const RsaKey key;
    return key;
}

const Vendor& postal() { return postal_vendor(); }

Connection connection() {
    return prepared_connection(postal(), {postal_key().public_der_base64()});
}

MapHeaders signed_headers(std::string_view body, const RsaKey& key = postal_key()) {
    return MapHeaders{
        {"X-Postal-Signature-256", sign64(key, body, EVP_sha256())},
        {"X-Postal-Signature", sign64(key, body, EVP_sha1())},
        {"X-Postal-Signature-KID", "k1"},
        {"Content-Type", "application/json"}};
}

Outcome post(std::string_view body) {
    return run_request(connection(), body, signed_headers(body));
}

// The payloads of docs.postalserver.io (repo postalserver/docs,
// content/4.developer/4.webhooks.md) inside the documented envelope.
constexpr std::string_view kMessage = R"({
    "id": 12345, "token": "abcdef123", "direction": "outgoing",
    "message_id": "5817a64332f44_4ec93ff59e79d154565eb@app34.mail",
    "to": "test@example.com", "from": "sales@awesomeapp.com",
    "subject": "Welcome to AwesomeApp", "timestamp": 1477945177.12994,
    "spam_status": "NotSpam", "tag": "welcome"})";

std::string status_event(std::string_view event, std::string_view status,
                         std::string_view details, std::string_view output) {
    return R"({"event":")" + std::string(event) +
           R"(","timestamp":1477945180.5,"uuid":"820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd","payload":{"status":")" +
           std::string(status) + R"(","details":")" + std::string(details) +
           R"(","output":")" + std::string(output) +
           R"(","time":0.22,"sent_with_ssl":true,"timestamp":1477945177.12994,"message":)" +
           std::string(kMessage) + "}}";
}

const std::string kSent = status_event(
    "MessageSent", "Sent",
    "Message sent by SMTP to aspmx.l.google.com (2a00:1450:400c:c0b::1b) (from 2a00:67a0:a:15::2)",
    "250 2.0.0 OK 1477944899 ly2si31746747wjb.95 - gsmtp");

const std::string kBounced = std::string(R"({
  "event": "MessageBounced", "timestamp": 1477945179.5,
  "uuid": "0d4c3b8c-7f0a-4a8e-9b1f-5c7d0e6f2a11",
  "payload": {"original_message": )") + std::string(kMessage) + R"(,
    "bounce": {"id": 12347, "token": "abcdef124", "direction": "incoming",
      "message_id": "5817a64332f44_4ec93ff59e79d154565eb@someserver.com",
      "to": "abcde@psrp.postal.yourdomain.com", "from": "postmaster@someserver.com",
      "subject": "Delivery Error", "timestamp": 1477945179.12994,
      "spam_status": "NotSpam", "tag": null}}})";

const std::string kClicked = std::string(R"({
  "event": "MessageLinkClicked", "timestamp": 1477945200.25,
  "uuid": "5b5f3e2a-9a61-4c3b-8f51-1d2e3f4a5b6c",
  "payload": {"url": "https://atech.media", "token": "VJzsFA0S",
    "ip_address": "185.22.208.2",
    "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.98 Safari/537.36",
    "message": )") + std::string(kMessage) + "}}";

const std::string kLoaded = std::string(R"({
  "event": "MessageLoaded", "timestamp": 1477945190,
  "uuid": "6c6a4f3b-0b72-4d4c-9a62-2e3f4a5b6c7d",
  "payload": {"ip_address": "185.22.208.2",
    "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.98 Safari/537.36",
    "message": )") + std::string(kMessage) + "}}";

constexpr std::string_view kDnsError = R"({"event":"DomainDNSError","timestamp":1477945711.6,"uuid":"7d7b5a4c-1c83-4e5d-8b73-3f4a5b6c7d8e","payload":{
  "domain": "example.com", "uuid": "820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd",
  "dns_checked_at": 1477945711.5502, "spf_status": "OK", "spf_error": null,
  "dkim_status": "Invalid",
  "dkim_error": "The DKIM record at example.com does not match the record we have provided. Please check it has been copied correctly.",
  "mx_status": "Missing", "mx_error": null, "return_path_status": "OK",
  "return_path_error": null,
  "server": {"uuid": "54529725-8807-4069-ab29-a3746c1bbd98",
    "name": "AwesomeApp Mail Server", "permalink": "awesomeapp", "organization": "atech"}}})";

constexpr std::string_view kSendLimit = R"({"event":"SendLimitApproaching","timestamp":1477945800,"uuid":"8e8c6b5d-2d94-4f6e-9c84-4a5b6c7d8e9f","payload":{"server":{"uuid":"54529725-8807-4069-ab29-a3746c1bbd98","name":"AwesomeApp Mail Server","permalink":"awesomeapp","organization":"atech"},"volume":950,"limit":1000}})";

// --- verification ------------------------------------------------------------

TEST(PostalVerify, AcceptsTheSha256Signature) {
    EXPECT_TRUE(post(kSent).verdict.ok());
}

TEST(PostalVerify, RefusesATamperedBody) {
    std::string tampered = kSent;
    tampered.replace(tampered.find("test@example.com"), 16, "evil@example.com");
    const Outcome outcome =
        run_request(connection(), tampered, signed_headers(kSent));
    EXPECT_EQ(outcome.verdict.rejection, Rejection::unauthenticated);
    EXPECT_EQ(outcome.size(), 0u);
    // one byte appended is tampering too
    const std::string longer = kSent + " ";
    EXPECT_EQ(run_request(connection(), longer, signed_headers(kSent))
                  .verdict.rejection,
              Rejection::unauthenticated);
}

TEST(PostalVerify, RefusesAnotherKeysSignature) {
    const Outcome outcome =
        run_request(connection(), kSent, signed_headers(kSent, other_key()));
    EXPECT_EQ(outcome.verdict.rejection, Rejection::unauthenticated);
}

TEST(PostalVerify, RefusesMissingOrGarbageSignatures) {
    for (const MapHeaders& headers :
         {MapHeaders{}, MapHeaders{{"X-Postal-Signature-KID", "k1"}},
          MapHeaders{{"X-Postal-Signature-256", "!!!"}},
          MapHeaders{{"X-Postal-Signature-256", ""}},
          MapHeaders{{"X-Postal-Signature-256", base64_encode("short")}}}) {
        const Outcome outcome = run_request(connection(), kSent, headers);
        EXPECT_EQ(outcome.verdict.rejection, Rejection::unauthenticated);
        EXPECT_EQ(outcome.size(), 0u);
    }
}

TEST(PostalVerify, FallsBackToSha1OnlyWithoutTheSha256Header) {
    const MapHeaders legacy{{"X-Postal-Signature", sign64(postal_key(), kSent, EVP_sha1())}};
    EXPECT_TRUE(run_request(connection(), kSent, legacy).verdict.ok());

    // A bad SHA-256 signature is not rescued by a good SHA-1 one.
    const MapHeaders bad_256{
        {"X-Postal-Signature-256", sign64(other_key(), kSent, EVP_sha256())},
        {"X-Postal-Signature", sign64(postal_key(), kSent, EVP_sha1())}};
    EXPECT_EQ(run_request(connection(), kSent, bad_256).verdict.rejection,
              Rejection::unauthenticated);

    // SHA-1 header holding a SHA-256 signature: wrong digest, refused.
    const MapHeaders mislabeled{
        {"X-Postal-Signature", sign64(postal_key(), kSent, EVP_sha256())}};
    EXPECT_EQ(run_request(connection(), kSent, mislabeled).verdict.rejection,
              Rejection::unauthenticated);

    // A tampered body under the legacy signature.
    const std::string tampered = kSent + "\n";
    EXPECT_EQ(run_request(connection(), tampered, legacy).verdict.rejection,
              Rejection::unauthenticated);
}

TEST(PostalVerify, EitherKeyOfARotationPasses) {
    const Connection rotating = prepared_connection(
        postal(), {postal_key().public_der_base64(), other_key().public_pem()});
    for (const RsaKey* key : {&postal_key(), &other_key()}) {
        EXPECT_TRUE(
            run_request(rotating, kSent, signed_headers(kSent, *key)).verdict.ok());
    }
    const RsaKey stranger;
    EXPECT_FALSE(run_request(rotating, kSent, signed_headers(kSent, stranger))
                     .verdict.ok());
}

TEST(PostalPrepare, AcceptsEveryFormOfThePublicKey) {
    const RsaKey& key = postal_key();
    std::string pem_with_crlf = key.public_pem();
    for (std::size_t at = pem_with_crlf.find('\n'); at != std::string::npos;
         at = pem_with_crlf.find('\n', at + 2)) {
        pem_with_crlf.insert(at, "\r");
    }
    std::string der_wrapped = key.public_der_base64();
    for (std::size_t at = 64; at < der_wrapped.size(); at += 65) {
        der_wrapped.insert(at, "\n");
    }
    const std::string forms[] = {
        key.public_pem(),
        pem_with_crlf,
        key.public_der_base64(),
        der_wrapped,
        "v=DKIM1; t=s; h=sha256; p=" + key.public_der_base64(),
        // a TXT record as DNS tools print it, split into quoted strings
        "\"v=DKIM1; t=s; h=sha256; p=" + key.public_der_base64().substr(0, 100) +
            "\" \"" + key.public_der_base64().substr(100) + "\"",
        key.public_jwk(),
        R"({"keys":[)" + key.public_jwk() + "]}",
    };
    for (const std::string& form : forms) {
        Connection c;
        c.id = "c";
        c.vendor = "postal";
        c.secrets = {form};
        ASSERT_TRUE(postal().prepare(c).ok()) << form;
        ASSERT_EQ(c.public_keys.size(), 1u) << form;
        EXPECT_TRUE(run_request(c, kSent, signed_headers(kSent)).verdict.ok())
            << form;
    }
}

TEST(PostalPrepare, AJwkSetLoadsEveryRsaKey) {
    Connection c;
    c.id = "c";
    c.vendor = "postal";
    c.secrets = {R"({"keys":[)" + postal_key().public_jwk() + R"(,{"kty":"EC","crv":"P-256","x":"AA","y":"AA"},)" +
                 other_key().public_jwk() + "]}"};
    ASSERT_TRUE(postal().prepare(c).ok());
    EXPECT_EQ(c.public_keys.size(), 2u);
    EXPECT_TRUE(
        run_request(c, kSent, signed_headers(kSent, other_key())).verdict.ok());
}

TEST(PostalPrepare, RefusesUnusableSecrets) {
    const EcKey ec_key;
    for (const std::string& secret :
         {std::string("not a key"), std::string("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
          base64_encode("garbage der"), std::string(R"({"keys":[]})"),
          std::string(R"({"kty":"RSA","n":"!!","e":"AQAB"})"), std::string("{"),
          ec_key.public_der_base64()}) {
        Connection c;
        c.id = "c";
        c.vendor = "postal";
        c.secrets = {secret};
        EXPECT_EQ(postal().prepare(c).rejection, Rejection::misconfigured) << secret;
    }
    Connection none;
    none.id = "c";
    none.vendor = "postal";
    EXPECT_EQ(postal().prepare(none).rejection, Rejection::misconfigured);
}

// --- normalization -----------------------------------------------------------

TEST(PostalParse, MessageSent) {
    const Outcome outcome = post(kSent);
    ASSERT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"j({
        "type": "delivered", "bounce_class": null, "reject_reason": null,
        "recipient": "test@example.com",
        "message_id": "5817a64332f44_4ec93ff59e79d154565eb@app34.mail",
        "event_id": "820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd",
        "timestamp": "2016-10-31T20:19:37Z", "smtp_status": "2.0.0",
        "mta_response": "250 2.0.0 OK 1477944899 ly2si31746747wjb.95 - gsmtp",
        "description": "Message sent by SMTP to aspmx.l.google.com (2a00:1450:400c:c0b::1b) (from 2a00:67a0:a:15::2)",
        "click_url": null, "user_agent": null, "ip": null, "campaign_id": null,
        "tags": ["welcome"], "metadata": {}, "vendor_event": "MessageSent"})j",
                                       kSent, "postal:820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd"));
}

struct StatusCase {
    const char* event;
    const char* status;
    const char* type;
    const char* bounce_class;  // "" for null
    const char* reject_reason;
};

TEST(PostalParse, MessageStatusEvents) {
    const StatusCase cases[] = {
        {"MessageSent", "Sent", "delivered", "", ""},
        {"MessageDelayed", "SoftFail", "deferred", "soft", "other"},
        {"MessageDeliveryFailed", "HardFail", "bounced", "hard", "bounced"},
        {"MessageHeld", "Held", "queued", "", ""},
    };
    for (const StatusCase& c : cases) {
        const std::string body = status_event(c.event, c.status, "details", "output");
        const Outcome outcome = post(body);
        ASSERT_EQ(outcome.size(), 1u) << c.event;
        EXPECT_EVENT(outcome.event(0), with_raw(std::string(R"({"type":")") + c.type + R"(","bounce_class":)" +
                         (*c.bounce_class ? "\"" + std::string(c.bounce_class) + "\""
                                          : std::string("null")) +
                         R"(,"reject_reason":)" +
                         (*c.reject_reason ? "\"" + std::string(c.reject_reason) + "\""
                                           : std::string("null")) +
                         R"(,"recipient":"test@example.com",
                 "message_id":"5817a64332f44_4ec93ff59e79d154565eb@app34.mail",
                 "event_id":"820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd",
                 "timestamp":"2016-10-31T20:19:37Z","smtp_status":null,
                 "mta_response":"output","description":"details","click_url":null,
                 "user_agent":null,"ip":null,"campaign_id":null,"tags":["welcome"],
                 "metadata":{},"vendor_event":")" +
                         c.event + "\"}",
                                       body, "postal:820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd"));
    }
}


TEST(PostalParse, MessageLinkClicked) {
    const Outcome outcome = post(kClicked);
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"({
        "type": "clicked", "bounce_class": null, "reject_reason": null,
        "recipient": "test@example.com",
        "message_id": "5817a64332f44_4ec93ff59e79d154565eb@app34.mail",
        "event_id": "5b5f3e2a-9a61-4c3b-8f51-1d2e3f4a5b6c",
        "timestamp": "2016-10-31T20:20:00Z", "smtp_status": null,
        "mta_response": null, "description": null,
        "click_url": "https://atech.media",
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.98 Safari/537.36",
        "ip": "185.22.208.2", "campaign_id": null, "tags": ["welcome"],
        "metadata": {}, "vendor_event": "MessageLinkClicked"})",
                                       kClicked, "postal:5b5f3e2a-9a61-4c3b-8f51-1d2e3f4a5b6c"));
}

TEST(PostalParse, MessageLoaded) {
    const Outcome outcome = post(kLoaded);
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"({
        "type": "opened", "bounce_class": null, "reject_reason": null,
        "recipient": "test@example.com",
        "message_id": "5817a64332f44_4ec93ff59e79d154565eb@app34.mail",
        "event_id": "6c6a4f3b-0b72-4d4c-9a62-2e3f4a5b6c7d",
        "timestamp": "2016-10-31T20:19:50Z", "smtp_status": null,
        "mta_response": null, "description": null, "click_url": null,
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.98 Safari/537.36",
        "ip": "185.22.208.2", "campaign_id": null, "tags": ["welcome"],
        "metadata": {}, "vendor_event": "MessageLoaded"})",
                                       kLoaded, "postal:6c6a4f3b-0b72-4d4c-9a62-2e3f4a5b6c7d"));
}


TEST(PostalParse, WithoutUuidTheContentIdentifiesTheEvent) {
    const std::string body =
        R"({"event":"MessageLoaded","timestamp":1477945190,"payload":{"message":{"to":"a@example.com"}}})";
    const Outcome outcome = post(body);
    ASSERT_EQ(outcome.size(), 1u);
    const std::string expected = event_id_for(
        "postal", kConnectionId, content_dedup_key(json_dump_compact(parse_json(body).get())));
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(0), "id")),
                 expected.c_str());
    EXPECT_TRUE(json_is_null(json_object_get(outcome.event(0), "event_id")));
}

TEST(PostalParse, RefusesWhatIsNotAPostalWebhook) {
    for (const char* body :
         {"", "{", "[]", R"({"event":"MessageSent"})",
          R"({"event":"MessageSent","payload":[]})",
          R"({"event":42,"payload":{}})", R"([{"event":"MessageSent","payload":{}}])"}) {
        const Outcome outcome = post(body);
        EXPECT_EQ(outcome.verdict.rejection, Rejection::malformed) << body;
        EXPECT_EQ(outcome.size(), 0u);
    }
}

}  // namespace
}  // namespace mailhook::test
