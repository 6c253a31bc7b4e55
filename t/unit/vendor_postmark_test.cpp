// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/vendors/vendors.hpp"
#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

const Vendor& postmark() { return postmark_vendor(); }

Connection connection() { return prepared_connection(postmark(), {"hooks:s3cret"}); }

MapHeaders authorized() {
    return MapHeaders{{"Authorization", basic_auth("hooks:s3cret")},
                      {"Content-Type", "application/json"}};
}

Outcome post(std::string_view body) {
    return run_request(connection(), body, authorized());
}

// vendors.md §10, verbatim from https://postmarkapp.com/email-webhooks: a
// bounce webhook as Postmark shows it, without RecordType.
constexpr std::string_view kDocBounce = R"({ "ID": 42, "Type": "HardBounce", "TypeCode": 1, "Name": "Hard bounce", "Tag": "Test", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).", "Details": "Test bounce details",
    "Email": "john@example.com", "BouncedAt": "2014-08-01T13:28:10.2735393-04:00", "DumpAvailable": true, "Inactive": true, "CanActivate": true,
    "Subject": "Test subject", "Metadata": { "user_id": 43 } })";

// The delivery sample of the same page (no RecordType either).
constexpr std::string_view kDocDelivery = R"({
  "ServerId": 23,
  "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
  "Recipient": "john@example.com",
  "Tag": "welcome-email",
  "DeliveredAt": "2014-08-01T13:28:10.2735393-04:00",
  "Details": "Test delivery webhook details",
  "Metadata": {
    "user_id": 43
  }
})";

// Shaped after the examples of Postmark's per-webhook pages
// (developer/webhooks/*): current webhooks carry RecordType and
// MessageStream.
constexpr std::string_view kSpamComplaint = R"({"RecordType":"SpamComplaint","MessageStream":"outbound","ID":42,"Type":"SpamComplaint","TypeCode":100001,"Name":"Spam complaint","Tag":"Test","MessageID":"00000000-0000-0000-0000-000000000000","Metadata":{"a_key":"a_value"},"ServerID":1234,"Description":"","Details":"Test spam complaint details","Email":"john@example.com","From":"sender@example.com","BouncedAt":"2019-11-05T16:33:54.9070259Z","DumpAvailable":true,"Inactive":true,"CanActivate":false,"Subject":"Test subject","Content":"<Abuse report dump>"})";

constexpr std::string_view kOpen = R"({"RecordType":"Open","MessageStream":"outbound","FirstOpen":true,"Client":{"Name":"Chrome 35.0.1916.153","Company":"Google","Family":"Chrome"},"OS":{"Name":"OS X 10.7 Lion","Company":"Apple Computer, Inc.","Family":"OS X 10"},"Platform":"WebMail","UserAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36","ReadSeconds":5,"Geo":{"CountryISOCode":"RS","Country":"Serbia","RegionISOCode":"VO","Region":"Autonomna Pokrajina Vojvodina","City":"Novi Sad","Zip":"21000","Coords":"45.2517,19.8369","IP":"188.2.95.4"},"MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Metadata":{"a_key":"a_value"},"ReceivedAt":"2019-11-05T16:33:54.9070259Z","Tag":"welcome-email","Recipient":"john@example.com"})";

constexpr std::string_view kClick = R"({"RecordType":"Click","MessageStream":"outbound","ClickLocation":"HTML","Client":{"Name":"Chrome 35.0.1916.153","Company":"Google","Family":"Chrome"},"OS":{"Name":"OS X 10.7 Lion","Company":"Apple Computer, Inc.","Family":"OS X 10"},"Platform":"Desktop","UserAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36","OriginalLink":"https://example.com","Geo":{"CountryISOCode":"RS","Country":"Serbia","IP":"188.2.95.4"},"MessageID":"00000000-0000-0000-0000-000000000000","Metadata":{},"ReceivedAt":"2017-10-25T15:21:11.2542623Z","Tag":"welcome-email","Recipient":"john@example.com"})";

constexpr std::string_view kSubscriptionChange = R"({"RecordType":"SubscriptionChange","MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","ServerID":123456,"MessageStream":"outbound","ChangedAt":"2020-02-01T10:53:34.416071Z","Recipient":"bounced-address@wildbit.com","Origin":"Recipient","SuppressSending":true,"SuppressionReason":"HardBounce","Tag":"my-tag","Metadata":{"example":"value"}})";

std::string open_key(std::string_view message_id, std::string_view at,
                     std::string_view recipient) {
    return "postmark:Open|" + std::string(message_id) + "|" + std::string(at) + "|" +
           std::string(recipient);
}

TEST(PostmarkVerify, AcceptsTheBasicCredentialsOfTheUrl) {
    EXPECT_TRUE(post(kDocBounce).verdict.ok());
}

TEST(PostmarkVerify, AcceptsABearerTokenHeader) {
    const Connection token = prepared_connection(postmark(), {"tok-123"});
    const MapHeaders headers{{"Authorization", "Bearer tok-123"}};
    EXPECT_TRUE(run_request(token, kDocBounce, headers).verdict.ok());
}

TEST(PostmarkVerify, RefusesWrongOrMissingCredentials) {
    const Connection c = connection();
    for (const MapHeaders& headers :
         {MapHeaders{{"Authorization", basic_auth("hooks:wrong")}},
          MapHeaders{{"Authorization", basic_auth("other:s3cret")}},
          MapHeaders{{"Authorization", "Basic !!notbase64"}},
          MapHeaders{{"Authorization", "Bearer hooks:wrong"}},
          MapHeaders{{"Authorization", "Digest hooks:s3cret"}}, MapHeaders{}}) {
        const Outcome outcome = run_request(c, kDocBounce, headers);
        EXPECT_EQ(outcome.verdict.rejection, Rejection::bad_credentials);
        EXPECT_EQ(outcome.size(), 0u);
    }
}

TEST(PostmarkVerify, EitherSecretOfARotationPasses) {
    const Connection rotating =
        prepared_connection(postmark(), {"hooks:old", "hooks:new"});
    for (const char* credentials : {"hooks:old", "hooks:new"}) {
        const MapHeaders headers{{"Authorization", basic_auth(credentials)}};
        EXPECT_TRUE(run_request(rotating, kDocBounce, headers).verdict.ok())
            << credentials;
    }
    const MapHeaders stale{{"Authorization", basic_auth("hooks:older")}};
    EXPECT_FALSE(run_request(rotating, kDocBounce, stale).verdict.ok());
}

TEST(PostmarkVerify, AConnectionWithoutSecretIsMisconfigured) {
    Connection bare;
    bare.id = "c";
    bare.vendor = "postmark";
    EXPECT_EQ(postmark().prepare(bare).rejection, Rejection::misconfigured);
}


TEST(PostmarkParse, DocumentedDeliveryWithoutRecordType) {
    const Outcome outcome = post(kDocDelivery);
    ASSERT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"({
        "type": "delivered", "bounce_class": null, "reject_reason": null,
        "recipient": "john@example.com",
        "message_id": "883953f4-6105-42a2-a16a-77a8eac79483",
        "event_id": null, "timestamp": "2014-08-01T17:28:10Z",
        "smtp_status": null, "mta_response": "Test delivery webhook details",
        "description": null, "click_url": null, "user_agent": null, "ip": null,
        "campaign_id": null, "tags": ["welcome-email"],
        "metadata": {"user_id": 43}, "vendor_event": "Delivery"})",
                                       kDocDelivery, "postmark:Delivery|883953f4-6105-42a2-a16a-77a8eac79483|"
                 "2014-08-01T13:28:10.2735393-04:00|john@example.com"));
}


TEST(PostmarkParse, Open) {
    const Outcome outcome = post(kOpen);
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"({
        "type": "opened", "bounce_class": null, "reject_reason": null,
        "recipient": "john@example.com",
        "message_id": "883953f4-6105-42a2-a16a-77a8eac79483",
        "event_id": null, "timestamp": "2019-11-05T16:33:54Z",
        "smtp_status": null, "mta_response": null, "description": null,
        "click_url": null,
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36",
        "ip": "188.2.95.4", "campaign_id": null, "tags": ["welcome-email"],
        "metadata": {"a_key": "a_value"}, "vendor_event": "Open"})",
                                       kOpen, open_key("883953f4-6105-42a2-a16a-77a8eac79483",
                          "2019-11-05T16:33:54.9070259Z", "john@example.com")));
}

TEST(PostmarkParse, Click) {
    const Outcome outcome = post(kClick);
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"({
        "type": "clicked", "bounce_class": null, "reject_reason": null,
        "recipient": "john@example.com", "message_id": null,
        "event_id": null, "timestamp": "2017-10-25T15:21:11Z",
        "smtp_status": null, "mta_response": null, "description": null,
        "click_url": "https://example.com",
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36",
        "ip": "188.2.95.4", "campaign_id": null, "tags": ["welcome-email"],
        "metadata": {}, "vendor_event": "Click"})",
                                       kClick, "postmark:Click|00000000-0000-0000-0000-000000000000|"
                 "2017-10-25T15:21:11.2542623Z|john@example.com"));
}


TEST(PostmarkParse, SubscriptionChangeReactivating) {
    const std::string body =
        R"({"RecordType":"SubscriptionChange","MessageID":null,"MessageStream":"outbound",)"
        R"("ChangedAt":"2020-02-02T08:00:00Z","Recipient":"back@example.com",)"
        R"("Origin":"Customer","SuppressSending":false,"SuppressionReason":null})";
    const Outcome outcome = post(body);
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"({
        "type": "subscribed", "bounce_class": null, "reject_reason": null,
        "recipient": "back@example.com", "message_id": null, "event_id": null,
        "timestamp": "2020-02-02T08:00:00Z", "smtp_status": null,
        "mta_response": null, "description": null, "click_url": null,
        "user_agent": null, "ip": null, "campaign_id": null, "tags": [],
        "metadata": {}, "vendor_event": "SubscriptionChange"})",
                                       body, "postmark:SubscriptionChange||2020-02-02T08:00:00Z|back@example.com"));
}

struct BounceTypeCase {
    const char* type;
    const char* normalized_type;
    const char* bounce_class;  // "" for null
    const char* reject_reason;
};

TEST(PostmarkParse, BounceTypeTable) {
    const BounceTypeCase cases[] = {
        {"HardBounce", "bounced", "hard", "bounced"},
        {"BadEmailAddress", "rejected", "", "invalid"},
        {"SoftBounce", "bounced", "soft", "bounced"},
        {"Transient", "deferred", "soft", "other"},
        {"DnsError", "deferred", "soft", "other"},
        {"Blocked", "bounced", "block", "blocked"},
        {"DMARCPolicy", "bounced", "block", "blocked"},
        {"SpamNotification", "bounced", "block", "spam"},
        {"AutoResponder", "autoresponded", "", ""},
        {"AddressChange", "autoresponded", "", ""},
        {"ChallengeVerification", "autoresponded", "", ""},
        {"SpamComplaint", "complained", "", "spam"},
        {"Unsubscribe", "unsubscribed", "", "unsubscribed"},
        {"Subscribe", "subscribed", "", ""},
        {"ManuallyDeactivated", "rejected", "", "blocked"},
        {"Unconfirmed", "rejected", "", "other"},
        {"SMTPApiError", "failed", "", ""},
        {"TemplateRenderingFailed", "failed", "", ""},
        {"InboundError", "failed", "", ""},
        {"Unknown", "bounced", "undetermined", "bounced"},
        {"VirusNotification", "bounced", "undetermined", "other"},
        {"OpenRelayTest", "deferred", "soft", "other"},
        {"SomethingNew", "bounced", "undetermined", "bounced"},
    };
    for (const BounceTypeCase& c : cases) {
        const std::string body = std::string(R"({"RecordType":"Bounce","ID":7,"Type":")") +
                                 c.type +
                                 R"(","Email":"a@example.com","BouncedAt":"2024-01-01T00:00:00Z"})";
        const Outcome outcome = post(body);
        ASSERT_EQ(outcome.size(), 1u) << c.type;
        const json_t* event = outcome.event(0);
        EXPECT_STREQ(json_string_value(json_object_get(event, "type")), c.normalized_type)
            << c.type;
        const json_t* bounce_class = json_object_get(event, "bounce_class");
        EXPECT_STREQ(json_is_null(bounce_class) ? "" : json_string_value(bounce_class),
                     c.bounce_class)
            << c.type;
        const json_t* reject = json_object_get(event, "reject_reason");
        EXPECT_STREQ(json_is_null(reject) ? "" : json_string_value(reject),
                     c.reject_reason)
            << c.type;
    }
}

TEST(PostmarkParse, BounceWithoutTypeIsUndetermined) {
    const Outcome outcome =
        post(R"({"RecordType":"Bounce","Email":"a@example.com","BouncedAt":"2024-01-01T00:00:00Z"})");
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(0), "bounce_class")),
                 "undetermined");
}

TEST(PostmarkParse, EnhancedStatusFromBounceDetails) {
    const Outcome outcome = post(
        R"({"RecordType":"Bounce","ID":9,"Type":"HardBounce","Email":"a@example.com",)"
        R"("Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist",)"
        R"("BouncedAt":"2024-01-01T00:00:00Z"})");
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(0), "smtp_status")),
                 "5.1.1");
}

TEST(PostmarkParse, UnknownRecordTypeIsKeptAsUnknown) {
    const std::string body =
        R"({"RecordType":"Inbound2","MessageID":"m-1","Recipient":"a@example.com"})";
    const Outcome outcome = post(body);
    ASSERT_TRUE(outcome.verdict.ok());
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"({
        "type": "unknown", "bounce_class": null, "reject_reason": null,
        "recipient": "a@example.com", "message_id": "m-1", "event_id": null,
        "timestamp": "2023-11-14T22:13:20Z", "smtp_status": null,
        "mta_response": null, "description": null, "click_url": null,
        "user_agent": null, "ip": null, "campaign_id": null, "tags": [],
        "metadata": {}, "vendor_event": "Inbound2"})",
                                       body, content_dedup_key(json_dump_compact(parse_json(body).get()))));
}

TEST(PostmarkParse, RepeatedOpensAreDistinctAndRetriesAreNot) {
    const Outcome first = post(kOpen);
    const Outcome retry = post(kOpen);
    std::string later(kOpen);
    later.replace(later.find("2019-11-05T16:33:54.9070259Z"), 28,
                  "2019-11-05T16:40:00.0000000Z");
    const Outcome second_open = post(later);
    const auto id = [](const Outcome& o) {
        return std::string(json_string_value(json_object_get(o.event(0), "id")));
    };
    EXPECT_EQ(id(first), id(retry));
    EXPECT_NE(id(first), id(second_open));
}

TEST(PostmarkParse, RefusesWhatIsNotAPostmarkRecord) {
    for (const char* body :
         {"", "not json", "[]", R"([{"RecordType":"Delivery"}])", R"("Delivery")",
          R"({"Email":"a@example.com"})", R"({"RecordType":""})"}) {
        const Outcome outcome = post(body);
        EXPECT_EQ(outcome.verdict.rejection, Rejection::malformed) << body;
        EXPECT_EQ(outcome.size(), 0u);
    }
}

}  // namespace
}  // namespace mailhook::test
