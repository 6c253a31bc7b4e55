// SPDX-License-Identifier: BSD-2-Clause
// generic: the configured HMAC scheme and the common-field normalizer.
// Expected signatures were computed with Python's hmac module.
#include <cctype>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

constexpr std::string_view kBody = R"({"event":"delivered","email":"a@example.com"})";
// hex HMAC-SHA256("gen-secret", kBody)
constexpr std::string_view kSha256Hex =
    "e83fd4ba355e30463026fc2838b55b51c7ab0e0117c1d4d27870efcecc1d57f4";
// base64 HMAC-SHA1("gen-secret", kBody)
constexpr std::string_view kSha1Base64 = "HrmyZw21uLNz2qicvRmBdNQWaqQ=";
// hex HMAC-SHA256("gen-secret", "1700000000" + "." + kBody)
constexpr std::string_view kTimestampedHex =
    "a65e2d110d9c784f9464d91c813fea081780cb3034020218dca53b57702971b2";

Connection connection(FieldList fields) {
    return prepared_connection("generic", std::move(fields));
}

Connection hex_connection() {
    return connection({{"secret", "gen-secret"},
                       {"signature_header", "X-Hub-Signature-256"},
                       {"prefix", "sha256="}});
}

Verdict verify(const Connection& conn, std::string_view body, const MapHeaders& headers,
               EpochMillis now = kNow) {
    return run_request(conn, body, headers, now).verdict;
}

TEST(GenericVerify, AcceptsHexSha256WithPrefix) {
    const Connection conn = hex_connection();
    EXPECT_TRUE(verify(conn, kBody, {{"X-Hub-Signature-256",
                                      "sha256=" + std::string(kSha256Hex)}}).ok());
    // hex in upper case and a prefix in another case are the same signature
    std::string upper(kSha256Hex);
    for (char& c : upper) c = static_cast<char>(std::toupper(c));
    EXPECT_TRUE(verify(conn, kBody, {{"x-hub-signature-256", "SHA256=" + upper}}).ok());
}

TEST(GenericVerify, RefusesWrongKeyTamperedBodyMissingHeaderAndPrefix) {
    const Connection conn = hex_connection();
    const Connection other = connection({{"secret", "other-secret"},
                                         {"signature_header", "X-Hub-Signature-256"},
                                         {"prefix", "sha256="}});
    const std::string good = "sha256=" + std::string(kSha256Hex);
    const Verdict wrong_key = verify(other, kBody, {{"X-Hub-Signature-256", good}});
    EXPECT_EQ(wrong_key.rejection, Rejection::unauthenticated);
    const Verdict tampered = verify(conn, std::string(kBody) + " ", {{"X-Hub-Signature-256", good}});
    EXPECT_EQ(tampered.rejection, Rejection::unauthenticated);
    EXPECT_EQ(verify(conn, kBody, {}).rejection, Rejection::unauthenticated);
    EXPECT_EQ(verify(conn, kBody, {{"X-Other", good}}).rejection, Rejection::unauthenticated);
    EXPECT_EQ(verify(conn, kBody, {{"X-Hub-Signature-256", std::string(kSha256Hex)}})
                  .rejection,
              Rejection::unauthenticated);
    EXPECT_EQ(verify(conn, kBody, {{"X-Hub-Signature-256", "sha256="}}).rejection,
              Rejection::unauthenticated);
}

TEST(GenericVerify, EitherSecretOfARotationVerifies) {
    const Connection rotating = connection({{"secret", "old-secret"},
                                            {"secret_next", "gen-secret"},
                                            {"signature_header", "X-Sig"}});
    EXPECT_TRUE(verify(rotating, kBody, {{"X-Sig", std::string(kSha256Hex)}}).ok());
    const Connection current = connection({{"secret", "gen-secret"},
                                           {"secret_next", "new-secret"},
                                           {"signature_header", "X-Sig"}});
    EXPECT_TRUE(verify(current, kBody, {{"X-Sig", std::string(kSha256Hex)}}).ok());
}

TEST(GenericVerify, Sha1Base64WithOrWithoutPadding) {
    const Connection conn = connection({{"secret", "gen-secret"},
                                        {"signature_header", "X-Signature"},
                                        {"algorithm", "sha1"},
                                        {"encoding", "base64"}});
    EXPECT_TRUE(verify(conn, kBody, {{"X-Signature", std::string(kSha1Base64)}}).ok());
    EXPECT_TRUE(verify(conn, kBody, {{"X-Signature", "HrmyZw21uLNz2qicvRmBdNQWaqQ"}}).ok());
    // the same MAC in hex is not what this connection accepts
    EXPECT_EQ(verify(conn, kBody, {{"X-Signature", std::string(kSha256Hex)}}).rejection,
              Rejection::unauthenticated);
}

TEST(GenericVerify, Base64EncodedSecret) {
    // "c2VjcmV0LWJ5dGVz" is base64 of "secret-bytes"
    const Connection conn = connection({{"secret", "c2VjcmV0LWJ5dGVz"},
                                        {"secret_encoding", "base64"},
                                        {"signature_header", "X-Sig"}});
    EXPECT_TRUE(verify(conn, kBody,
                       {{"X-Sig",
                         "b551d98f1f500801002d8c25458173665fae848be2596415af92c7db96f6ada5"}})
                    .ok());
}

Connection timestamped(std::string_view tolerance) {
    return connection({{"secret", "gen-secret"},
                       {"signature_header", "X-Sig"},
                       {"timestamp_header", "X-Timestamp"},
                       {"signed_payload_separator", "."},
                       {"timestamp_tolerance", std::string(tolerance)}});
}

TEST(GenericVerify, TimestampIsSignedAndCheckedWhenToleranceIsSet) {
    const MapHeaders headers{{"X-Sig", std::string(kTimestampedHex)},
                             {"X-Timestamp", "1700000000"}};
    EXPECT_TRUE(verify(timestamped("300"), kBody, headers).ok());
    // 10 minutes later: outside a 300 s tolerance, fine without one
    const EpochMillis later = kNow + 600 * 1000;
    EXPECT_EQ(verify(timestamped("300"), kBody, headers, later).rejection,
              Rejection::stale_timestamp);
    EXPECT_TRUE(verify(timestamped("0"), kBody, headers, later).ok());
    // another timestamp changes the signed bytes
    const MapHeaders moved{{"X-Sig", std::string(kTimestampedHex)},
                           {"X-Timestamp", "1700000001"}};
    EXPECT_EQ(verify(timestamped("300"), kBody, moved).rejection,
              Rejection::unauthenticated);
    const MapHeaders no_timestamp{{"X-Sig", std::string(kTimestampedHex)}};
    EXPECT_EQ(verify(timestamped("300"), kBody, no_timestamp).rejection,
              Rejection::unauthenticated);
}

TEST(GenericPrepare, RefusesIncompleteOrUnknownOptions) {
    EXPECT_EQ(prepare_connection("generic", {{"secret", "s"}}).verdict.rejection,
              Rejection::misconfigured);
    EXPECT_EQ(prepare_connection("generic", {{"signature_header", "X-Sig"}}).verdict.rejection,
              Rejection::misconfigured);
    for (const auto& [option, value] : FieldList{{"algorithm", "md5"},
                                                 {"encoding", "base32"},
                                                 {"secret_encoding", "rot13"}}) {
        const Prepared prepared = prepare_connection(
            "generic", {{"secret", "s"}, {"signature_header", "X-Sig"}, {option, value}});
        EXPECT_EQ(prepared.verdict.rejection, Rejection::misconfigured) << option;
    }
    EXPECT_EQ(prepare_connection("generic", {{"secret", "not base64!"},
                                             {"secret_encoding", "base64"},
                                             {"signature_header", "X-Sig"}})
                  .verdict.rejection,
              Rejection::misconfigured);
}

// Parsing runs after verify; these use a connection whose signatures we
// compute with the same key.
std::vector<Event> parse(std::string_view body, Verdict* verdict = nullptr) {
    const Connection conn = connection({{"secret", "k"}, {"signature_header", "X-Sig"}});
    const std::string signature = hex_encode(hmac(DigestAlgorithm::sha256, "k", body));
    Outcome received = run_request(conn, body, {{"X-Sig", signature}});
    if (verdict) *verdict = received.verdict;
    EXPECT_TRUE(verdict || received.verdict.ok()) << received.verdict.reason;
    return std::move(received.events);
}

TEST(GenericParse, ReadsTheDocumentedFieldNames) {
    const auto events = parse(R"({
        "event": "bounce", "bounce_type": "hard", "email": "Jane@Example.com",
        "timestamp": 1700000000, "message_id": "<m1@example.com>", "id": "ev-1",
        "smtp_response": "550 5.1.1 user unknown", "reason": "mailbox does not exist",
        "campaign_id": "spring", "tags": ["a", "b"], "metadata": {"user": 7}})");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EVENT(events[0], R"({
        "type": "bounced", "bounce_class": "hard", "reject_reason": "bounced",
        "recipient": "Jane@Example.com", "message_id": "<m1@example.com>",
        "event_id": "ev-1", "timestamp": "2023-11-14T22:13:20Z",
        "smtp_status": "5.1.1", "mta_response": "550 5.1.1 user unknown",
        "description": "mailbox does not exist", "click_url": null,
        "user_agent": null, "ip": null, "campaign_id": "spring",
        "tags": ["a", "b"], "metadata": {"user": 7}, "vendor_event": "bounce"})");
    EXPECT_EQ(events[0].dedup_key, "gen:ev-1");
}

TEST(GenericParse, ReadsAlternativeNamesInAnArray) {
    const auto events = parse(R"([
        {"type": "email.clicked", "recipient": "a@example.com",
         "time": "2024-01-15T11:30:00+01:00", "message-id": "m2", "event_id": "e2",
         "link": "https://example.com/x", "useragent": "UA", "ip_address": "192.0.2.1",
         "category": "news"},
        {"event_type": "Hard-Bounce", "rcpt_to": "b@example.com", "ts": "1705314600"},
        {"event": "deferred", "rcpt": "c@example.com", "response": "451 4.7.1 later"},
        {"event": "dropped", "to": "d@example.com", "created_at": "2024-01-15T10:30:00Z"},
        {"event": "teleported", "email": "e@example.com"}])");
    ASSERT_EQ(events.size(), 5u);
    EXPECT_EVENT(events[0], R"({
        "type": "clicked", "bounce_class": null, "reject_reason": null,
        "recipient": "a@example.com", "message_id": "m2", "event_id": "e2",
        "timestamp": "2024-01-15T10:30:00Z", "smtp_status": null,
        "mta_response": null, "description": null,
        "click_url": "https://example.com/x", "user_agent": "UA",
        "ip": "192.0.2.1", "campaign_id": null, "tags": ["news"], "metadata": {},
        "vendor_event": "email.clicked"})");
    EXPECT_EVENT(events[1], R"({
        "type": "bounced", "bounce_class": "hard", "reject_reason": "bounced",
        "recipient": "b@example.com", "message_id": null, "event_id": null,
        "timestamp": "2024-01-15T10:30:00Z", "smtp_status": null,
        "mta_response": null, "description": null, "click_url": null,
        "user_agent": null, "ip": null, "campaign_id": null, "tags": [],
        "metadata": {}, "vendor_event": "Hard-Bounce"})");
    EXPECT_EVENT(events[2], R"({
        "type": "deferred", "bounce_class": "soft", "reject_reason": "other",
        "recipient": "c@example.com", "message_id": null, "event_id": null,
        "timestamp": null, "smtp_status": "4.7.1", "mta_response": "451 4.7.1 later",
        "description": null, "click_url": null, "user_agent": null, "ip": null,
        "campaign_id": null, "tags": [], "metadata": {}, "vendor_event": "deferred"})");
    EXPECT_EVENT(events[3], R"({
        "type": "rejected", "bounce_class": null, "reject_reason": "other",
        "recipient": "d@example.com", "message_id": null, "event_id": null,
        "timestamp": "2024-01-15T10:30:00Z", "smtp_status": null,
        "mta_response": null, "description": null, "click_url": null,
        "user_agent": null, "ip": null, "campaign_id": null, "tags": [],
        "metadata": {}, "vendor_event": "dropped"})");
    EXPECT_EQ(events[4].type, EventType::unknown);
    EXPECT_EQ(events[4].vendor_event, "teleported");
    // no event id: the event's bytes identify it
    EXPECT_EQ(events[1].dedup_key, "");  // take_in hashes the raw bytes
    EXPECT_TRUE(raw_equals(events[1], R"({"event_type": "Hard-Bounce",
        "rcpt_to": "b@example.com", "ts": "1705314600"})"));
}

TEST(GenericParse, MapsTheCommonEventNames) {
    const struct {
        const char* name;
        EventType type;
        BounceClass bounce_class;
    } cases[] = {
        {"processed", EventType::queued, BounceClass::none},
        {"sent", EventType::sent, BounceClass::none},
        {"delivered", EventType::delivered, BounceClass::none},
        {"bounced", EventType::bounced, BounceClass::undetermined},
        {"soft_bounce", EventType::bounced, BounceClass::soft},
        {"open", EventType::opened, BounceClass::none},
        {"opened", EventType::opened, BounceClass::none},
        {"click", EventType::clicked, BounceClass::none},
        {"spam", EventType::complained, BounceClass::none},
        {"complaint", EventType::complained, BounceClass::none},
        {"unsubscribe", EventType::unsubscribed, BounceClass::none},
        {"resubscribe", EventType::subscribed, BounceClass::none},
        {"reject", EventType::rejected, BounceClass::none},
        {"failed", EventType::failed, BounceClass::none},
        {"replied", EventType::replied, BounceClass::none},
    };
    for (const auto& c : cases) {
        const auto events = parse(std::string(R"({"event":")") + c.name + "\"}");
        ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0].type, c.type) << c.name;
        EXPECT_EQ(events[0].bounce_class, c.bounce_class) << c.name;
    }
    const auto soft = parse(R"({"event":"bounce","bounce":"soft"})");
    EXPECT_EQ(soft[0].bounce_class, BounceClass::soft);
    const auto blocked = parse(R"({"event":"bounce","bounce_class":"Blocked"})");
    EXPECT_EQ(blocked[0].bounce_class, BounceClass::block);
}

TEST(GenericParse, RefusesWhatIsNotJsonObjects) {
    for (const char* body : {"not json", "42", R"(["a"])", R"([1, {"email":"a@b.c"}])"}) {
        Verdict verdict;
        parse(body, &verdict);
        EXPECT_EQ(verdict.rejection, Rejection::malformed) << body;
    }
}

}  // namespace
}  // namespace mailhook::test
