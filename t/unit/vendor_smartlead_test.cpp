// SPDX-License-Identifier: BSD-2-Clause
// SmartLead: the body's secret_key (or a configured HMAC header), both
// documented payload shapes, and secret_key never reaching `raw`.
#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

// The help-center "Response Structure" of vendors.md §7 with values filled in.
constexpr std::string_view kBounce = R"({
"webhook_id": 1201, "webhook_name": "Bounces",
"webhook_url": "https://hooks.example.com/webhooks/v2/smartlead/sl1",
"stats_id": "8f1c2d", "event_type": "EMAIL_BOUNCE",
"created_at": "2023-09-25T17:29:12.000000+00:00",
"event_timestamp": "2023-09-25T17:29:11.618881+00:00",
"from_email": "rep@example.com", "to_email": "lead@example.org", "to_name": "Lee",
"subject": "Quick question", "campaign_id": 42, "campaign_name": "Q3 Outreach",
"campaign_status": "ACTIVE", "sequence_number": 1,
"sent_message": {"message_id": "<cafe01@example.com>", "html": "<p>Hi</p>",
                 "text": "Hi", "time": "2023-09-25T17:00:00+00:00"},
"client_id": null, "app_url": "https://app.smartlead.ai/app/master-inbox",
"is_bounced": true,
"bounce_message": {"message_id": "<dsn01@example.org>", "html": "",
                   "text": "550 5.1.1 user unknown", "time": "2023-09-25T17:29:11+00:00"},
"secret_key": "sl-secret", "description": "Email bounced",
"metadata": {"webhook_created_at": "2023-09-01T08:00:00+00:00"}})";

// api.smartlead.ai "Webhook events" reference samples (event/timestamp/lead).
constexpr std::string_view kApiSent = R"({
  "event": "EMAIL_SENT", "timestamp": "2024-11-25T09:00:00Z",
  "campaign_id": 123, "campaign_name": "Q1 Outreach", "lead_id": 789,
  "email_account_id": 456, "sequence_number": 1,
  "lead": {"email": "lead@example.com", "first_name": "John", "last_name": "Doe",
           "company_name": "Acme Corp"},
  "secret_key": "sl-secret"})";
constexpr std::string_view kApiClicked = R"({
  "event": "EMAIL_CLICKED", "timestamp": "2024-11-25T10:45:00Z",
  "campaign_id": 123, "lead_id": 789, "sequence_number": 1,
  "link": {"url": "https://example.com/demo", "clicked_at": "2024-11-25T10:45:00Z"},
  "lead": {"email": "lead@example.com"},
  "secret_key": "sl-secret"})";

Connection connection(FieldList fields) {
    return prepared_connection("smartlead", std::move(fields));
}

TEST(SmartLeadVerify, SecretKeyInTheBody) {
    const Connection conn = connection({{"secret", "sl-secret"}});
    EXPECT_TRUE(run_request(conn, kBounce, {}).verdict.ok());
    const Connection other = connection({{"secret", "other"}});
    EXPECT_EQ(run_request(other, kBounce, {}).verdict.rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(run_request(conn, R"({"event_type":"EMAIL_SENT"})", {})
                  .verdict.rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(run_request(conn, R"({"event_type":"EMAIL_SENT","secret_key":7})", {})
                  .verdict.rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(run_request(conn, "[]", {}).verdict.rejection, Rejection::malformed);
}

TEST(SmartLeadVerify, EitherSecretOfARotationVerifies) {
    const Connection conn = connection({{"secret", "old"}, {"secret_next", "sl-secret"}});
    EXPECT_TRUE(run_request(conn, kBounce, {}).verdict.ok());
}

TEST(SmartLeadVerify, ConfiguredHmacHeaderInstead) {
    const Connection conn = connection({{"secret", "hk"}, {"signature_header", "X-Signature"}});
    const std::string body(kApiSent);
    const std::string good = hex_encode(hmac(DigestAlgorithm::sha256, "hk", body));
    EXPECT_TRUE(run_request(conn, body, {{"X-Signature", good}}).verdict.ok());
    const std::string wrong = hex_encode(hmac(DigestAlgorithm::sha256, "hx", body));
    EXPECT_EQ(run_request(conn, body, {{"X-Signature", wrong}}).verdict.rejection,
              Rejection::unauthenticated);
    EXPECT_EQ(run_request(conn, body + " ", {{"X-Signature", good}}).verdict.rejection,
              Rejection::unauthenticated);
    // the body's secret_key does not stand in for the header
    EXPECT_EQ(run_request(conn, body, {}).verdict.rejection,
              Rejection::unauthenticated);
}

std::vector<Event> parse(std::string_view body) {
    const Connection conn = connection({{"secret", "sl-secret"}});
    Outcome received = run_request(conn, body, {});
    EXPECT_TRUE(received.verdict.ok()) << received.verdict.reason;
    return std::move(received.events);
}


TEST(SmartLeadParse, ApiReferenceShapes) {
    const auto sent = parse(kApiSent);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EVENT(sent[0], R"({
        "type": "sent", "bounce_class": null, "reject_reason": null,
        "recipient": "lead@example.com", "message_id": null, "event_id": null,
        "timestamp": "2024-11-25T09:00:00Z", "smtp_status": null,
        "mta_response": null, "description": null, "click_url": null,
        "user_agent": null, "ip": null, "campaign_id": "123", "tags": [],
        "metadata": {}, "vendor_event": "EMAIL_SENT"})");
    const auto clicked = parse(kApiClicked);
    ASSERT_EQ(clicked.size(), 1u);
    EXPECT_EVENT(clicked[0], R"({
        "type": "clicked", "bounce_class": null, "reject_reason": null,
        "recipient": "lead@example.com", "message_id": null, "event_id": null,
        "timestamp": "2024-11-25T10:45:00Z", "smtp_status": null,
        "mta_response": null, "description": null,
        "click_url": "https://example.com/demo", "user_agent": null, "ip": null,
        "campaign_id": "123", "tags": [], "metadata": {},
        "vendor_event": "EMAIL_CLICKED"})");
    EXPECT_EQ(test::raw_text_of(clicked[0]).find("secret_key"), std::string::npos);
}

TEST(SmartLeadParse, EventNames) {
    const struct {
        const char* name;
        EventType type;
    } cases[] = {
        {"EMAIL_SENT", EventType::sent},
        {"EMAIL_OPEN", EventType::opened},
        {"EMAIL_OPENED", EventType::opened},
        {"EMAIL_LINK_CLICK", EventType::clicked},
        {"EMAIL_CLICKED", EventType::clicked},
        {"EMAIL_REPLY", EventType::replied},
        {"EMAIL_REPLIED", EventType::replied},
        {"EMAIL_BOUNCE", EventType::bounced},
        {"EMAIL_BOUNCED", EventType::bounced},
        {"LEAD_UNSUBSCRIBED", EventType::unsubscribed},
        {"EMAIL_UNSUBSCRIBED", EventType::unsubscribed},
        {"LEAD_CATEGORY_UPDATED", EventType::unknown},
    };
    for (const auto& c : cases) {
        const auto events = parse(std::string(R"({"event_type":")") + c.name +
                                  R"(","to_email":"x@example.com","secret_key":"sl-secret"})");
        ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0].type, c.type) << c.name;
        EXPECT_EQ(events[0].vendor_event, c.name);
    }
}

TEST(SmartLeadParse, BounceClassOnlyFromAnExplicitField) {
    const auto hard = parse(R"({"event_type":"EMAIL_BOUNCE","bounce_type":"HARD",
        "to_email":"x@example.com","secret_key":"sl-secret"})");
    EXPECT_EQ(hard[0].bounce_class, BounceClass::hard);
    const auto soft = parse(R"({"event_type":"EMAIL_BOUNCE","bounce_category":"soft",
        "to_email":"x@example.com","secret_key":"sl-secret"})");
    EXPECT_EQ(soft[0].bounce_class, BounceClass::soft);
}

TEST(SmartLeadParse, DeprecatedTimeAndMessageIdFields) {
    const auto events = parse(R"({"event_type":"EMAIL_OPEN","to_email":"x@example.com",
        "time_opened":"2023-09-25T17:29:11+00:00","message_id":"<old@example.com>",
        "secret_key":"sl-secret"})");
    EXPECT_EQ(events[0].timestamp, at_seconds(1695662951));
    EXPECT_EQ(events[0].message_id, "<old@example.com>");
}

}  // namespace
}  // namespace mailhook::test
