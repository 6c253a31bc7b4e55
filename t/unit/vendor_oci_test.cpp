// SPDX-License-Identifier: BSD-2-Clause
// OCI Email Delivery through OCI Notifications: Basic auth, the subscription
// handshake, and normalization of Email Delivery log entries.
#include <gtest/gtest.h>

#include "core/intake.hpp"
#include "core/vendors/vendors.hpp"
#include "test_support.hpp"

namespace mailhook {
namespace {

using test::MapHeaders;

constexpr EpochMillis kReceived = 1700000000123;
constexpr const char* kConfirmationUrl =
    "https://cell1.notification.us-phoenix-1.oci.oraclecloud.com/20181201/"
    "subscriptions/ocid1.onssubscription.oc1.phx.aaaaexample/confirmation"
    "?token=MDAwMHRCUzFp&protocol=CUSTOM_HTTPS";

Connection oci_connection(FieldList extra = {}) {
    FieldList fields = {{"vendor", "oci"}, {"secret", "ons:s3cret"}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    std::string error;
    auto connection = connection_from_fields("o1", fields, error);
    EXPECT_TRUE(connection) << error;
    EXPECT_TRUE(oci_vendor().prepare(*connection).ok());
    return *connection;
}

struct OciRun {
    MapHeaders headers;

    OciRun() {
        headers.set("Authorization", "Basic " + base64_encode("ons:s3cret"));
        headers.set("X-OCI-NS-MessageId", "ons-1");
        headers.set("X-OCI-NS-MessageType", "Notification");
        headers.set("Content-Type", "application/json");
    }

    Intake operator()(const std::string& body,
                      const Connection& connection = oci_connection()) const {
        Delivery delivery(body, headers, test::at_seconds(1700000000));
        EventOrigin origin;
        origin.vendor = "oci";
        origin.connection = connection.id;
        origin.received_at = kReceived;
        return take_in(oci_vendor(), delivery, connection, origin);
    }
};

JsonPtr first_event(const Intake& intake) {
    EXPECT_FALSE(intake.events.empty());
    return intake.events.empty() ? JsonPtr(json_object())
                                 : parse_json(stored_event_json(intake, intake.events[0]));
}

std::string field(const json_t* event, const char* key) {
    const json_t* value = json_object_get(event, key);
    if (json_is_null(value)) return "<null>";
    return std::string(json_string_at(event, key).value_or("<absent>"));
}

// --- authentication --------------------------------------------------------

TEST(OciAuth, BasicCredentialsFromTheSecret) {
    const std::string body = R"({"recipient":"a@example.com","action":"accept"})";
    OciRun run;
    EXPECT_TRUE(run(body).verdict.ok());

    OciRun missing;
    missing.headers.set("Authorization", "");
    // 401 (the rejection's label may name credentials or signatures).
    EXPECT_EQ(http_status(missing(body).verdict.rejection), 401);

    OciRun wrong;
    wrong.headers.set("Authorization", "Basic " + base64_encode("ons:guess"));
    EXPECT_EQ(http_status(wrong(body).verdict.rejection), 401);
    EXPECT_TRUE(wrong(body).events.empty());

    // ONS sends credentials only after a challenge.
    EXPECT_EQ(oci_vendor().www_authenticate(oci_connection()), "Basic realm=\"mailhook\"");
}

TEST(OciAuth, SecretIsRequired) {
    std::string error;
    auto connection = connection_from_fields("o2", {{"vendor", "oci"}}, error);
    ASSERT_TRUE(connection);
    EXPECT_EQ(oci_vendor().prepare(*connection).rejection, Rejection::misconfigured);
}

TEST(OciAuth, RotationAcceptsEitherSecret) {
    OciRun run;
    run.headers.set("Authorization", "Basic " + base64_encode("ons:next"));
    EXPECT_TRUE(run(R"({"action":"accept"})",
                    oci_connection({{"secret_next", "ons:next"}}))
                    .verdict.ok());
}

// --- subscription handshake --------------------------------------------------

struct ConfirmationRun : OciRun {
    ConfirmationRun() {
        headers.set("X-OCI-NS-MessageType", "SubscriptionConfirmation");
        headers.set("X-OCI-NS-MessageId", "ons-confirm-1");
        headers.set("X-OCI-NS-TopicOcid", "ocid1.onstopic.oc1.phx.example");
        headers.set("X-OCI-NS-TopicName", "email-events");
        headers.set("X-OCI-NS-SubscriptionId", "ocid1.onssubscription.oc1.phx.aaaaexample");
        headers.set("X-OCI-NS-Timestamp", "2019-04-19T21:26:00.310+0000");
        headers.set("X-OCI-NS-ConfirmationURL", kConfirmationUrl);
    }
};

TEST(OciSubscription, ConfirmationIsAControlEntryAndConfirmed) {
    const std::string body = std::string(R"({"ConfirmationURL":")") + kConfirmationUrl + "\"}";
    ConfirmationRun run;
    const Intake intake = run(body);
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), 1u);
    ASSERT_TRUE(intake.confirm_url);
    EXPECT_EQ(*intake.confirm_url, kConfirmationUrl);
    EXPECT_EQ(intake.events[0].id, event_id_for("oci", "o1", "ons:ons-confirm-1"));

    JsonPtr actual = parse_json(stored_event_json(intake, intake.events[0]));
    JsonPtr expected = parse_json(
        std::string(R"({"schema":1,"vendor":"oci","connection":"o1","tenant":null,)") +
        R"("type":"unknown","bounce_class":null,"reject_reason":null,"recipient":null,)"
        R"("message_id":null,"event_id":"ons-confirm-1","timestamp":"2019-04-19T21:26:00Z",)"
        R"("received_at":"2023-11-14T22:13:20.123Z","smtp_status":null,"mta_response":null,)"
        R"("description":null,"click_url":null,"user_agent":null,"ip":null,)"
        R"("campaign_id":null,"tags":[],"metadata":{"control":"subscription_confirmation",)"
        R"("subscribe_url":")" + kConfirmationUrl +
        R"(","topic_ocid":"ocid1.onstopic.oc1.phx.example","topic_name":"email-events",)"
        R"("subscription_id":"ocid1.onssubscription.oc1.phx.aaaaexample"},)"
        R"("vendor_event":"SubscriptionConfirmation","raw":)" + body + "}");
    json_object_set_new(expected.get(), "id", json_string(intake.events[0].id.c_str()));
    EXPECT_TRUE(json_equal(actual.get(), expected.get()))
        << json_dump_compact(actual.get()) << "\n" << json_dump_compact(expected.get());
}

TEST(OciSubscription, UrlFromTheHeaderWhenTheBodyHasNone) {
    ConfirmationRun run;
    const Intake intake = run("{}");
    ASSERT_TRUE(intake.verdict.ok());
    ASSERT_TRUE(intake.confirm_url);
    EXPECT_EQ(*intake.confirm_url, kConfirmationUrl);
}

TEST(OciSubscription, ForeignHostsAreRecordedButNotConfirmed) {
    for (const char* url : {
             "https://evil.example/20181201/subscriptions/x/confirmation?token=1",
             "http://cell1.notification.us-phoenix-1.oci.oraclecloud.com/c?token=1",
             "https://objectstorage.us-phoenix-1.oraclecloud.com/n/x/b/y/o/z",
             "https://notification.us-phoenix-1.oraclecloud.com.evil.example/c",
         }) {
        ConfirmationRun run;
        run.headers.set("X-OCI-NS-ConfirmationURL", url);
        const Intake intake = run("{}");
        ASSERT_TRUE(intake.verdict.ok()) << url;
        EXPECT_EQ(intake.events.size(), 1u) << url;
        EXPECT_FALSE(intake.confirm_url) << url;
        EXPECT_NE(intake.notice.find("confirm_host"), std::string::npos) << url;
    }
    for (const char* url : {"https://notification.us-ashburn-1.oraclecloud.com/c?t=1",
                            "https://notification.eu-frankfurt-1.oci.oraclecloud.com/c"}) {
        ConfirmationRun run;
        run.headers.set("X-OCI-NS-ConfirmationURL", url);
        EXPECT_TRUE(run("{}").confirm_url) << url;
    }
}

TEST(OciSubscription, ConfirmHostOption) {
    ConfirmationRun run;
    run.headers.set("X-OCI-NS-ConfirmationURL",
                    "https://cell2.notification.us-gov-1.oraclegovcloud.com/c?t=1");
    EXPECT_FALSE(run("{}").confirm_url);
    EXPECT_TRUE(run("{}", oci_connection({{"confirm_host", "x.example, *.oraclegovcloud.com"}}))
                    .confirm_url);
    EXPECT_FALSE(run("{}", oci_connection({{"confirm_host", "oraclegovcloud.com"}})).confirm_url);
}

TEST(OciSubscription, ConfirmationNeedsCredentialsToo) {
    ConfirmationRun run;
    run.headers.set("Authorization", "Basic " + base64_encode("ons:guess"));
    const Intake intake = run("{}");
    EXPECT_EQ(http_status(intake.verdict.rejection), 401);
    EXPECT_FALSE(intake.confirm_url);
}

// --- Email Delivery log entries ----------------------------------------------

TEST(OciEvents, LoggingEntryFieldByField) {
    const std::string entry =
        R"({"datetime":1700000000000,"logContent":{"data":{"action":"relay",)"
        R"("recipient":"user@example.com","sender":"support@example.com",)"
        R"("messageId":"<abc@example.com>","smtpStatus":"250 2.0.0 OK id=1"},)"
        R"("id":"f83205ef-0bef-47d0-b6b2-362afc4a2e9a","oracle":{"compartmentid":"c"},)"
        R"("source":"example.com","specversion":"1.0","time":"2023-08-02T00:10:26.859Z",)"
        R"("type":"com.oraclecloud.emaildelivery.emaildomain.outboundrelayed"},)"
        R"("regionId":"us-phoenix-1"})";
    OciRun run;
    const Intake intake = run(entry);
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), 1u);
    EXPECT_EQ(intake.events[0].id,
              event_id_for("oci", "o1", "oci:log:f83205ef-0bef-47d0-b6b2-362afc4a2e9a"));
    JsonPtr actual = parse_json(stored_event_json(intake, intake.events[0]));
    JsonPtr expected = parse_json(
        std::string(R"({"schema":1,"vendor":"oci","connection":"o1","tenant":null,)") +
        R"("type":"delivered","bounce_class":null,"reject_reason":null,)"
        R"("recipient":"user@example.com","message_id":"<abc@example.com>",)"
        R"("event_id":"f83205ef-0bef-47d0-b6b2-362afc4a2e9a","timestamp":"2023-08-02T00:10:26Z",)"
        R"("received_at":"2023-11-14T22:13:20.123Z","smtp_status":"2.0.0",)"
        R"("mta_response":"250 2.0.0 OK id=1","description":null,"click_url":null,)"
        R"("user_agent":null,"ip":null,"campaign_id":null,"tags":[],"metadata":{},)"
        R"("vendor_event":"relay","raw":)" + entry + "}");
    json_object_set_new(expected.get(), "id", json_string(intake.events[0].id.c_str()));
    EXPECT_TRUE(json_equal(actual.get(), expected.get()))
        << json_dump_compact(actual.get()) << "\n" << json_dump_compact(expected.get());
}

TEST(OciEvents, Mapping) {
    struct Case {
        const char* record;
        const char* type;
        const char* bounce_class;
        const char* reject_reason;
    };
    const Case cases[] = {
        {R"({"action":"accept","recipient":"a@x.test","smtpStatus":"250 2.1.5 a@x.test and options Ok"})",
         "queued", "<null>", "<null>"},
        {R"({"action":"accept","recipient":"a@x.test","errorType":"Recipient suppressed"})",
         "rejected", "<null>", "other"},
        {R"({"action":"accept","recipient":"a@x.test","errorType":"Invalid recipient"})",
         "rejected", "<null>", "invalid"},
        {R"({"action":"accept","errorType":"Daily limit reached"})", "rejected", "<null>", "other"},
        {R"({"action":"relay","recipient":"a@x.test"})", "delivered", "<null>", "<null>"},
        {R"({"action":"relay","recipient":"a@x.test","errorType":"Hard bounce"})",
         "bounced", "hard", "bounced"},
        {R"({"action":"relay","recipient":"a@x.test","errorType":"Complaint"})",
         "complained", "<null>", "spam"},
        {R"({"action":"relay","recipient":"a@x.test","errorType":"Recipient suppressed"})",
         "rejected", "<null>", "other"},
        {R"({"action":"relay","recipient":"a@x.test","errorType":"Delivery delayed","smtpStatus":"421 4.4.1 try later"})",
         "deferred", "soft", "other"},
        {R"({"action":"relay","recipient":"a@x.test","errorType":"Bounce","smtpStatus":"550 5.1.1 no such user"})",
         "bounced", "hard", "bounced"},
        {R"({"action":"bounce","recipient":"a@x.test","smtpStatus":"452 4.2.2 mailbox full"})",
         "bounced", "soft", "bounced"},
        {R"({"action":"bounce","recipient":"a@x.test"})", "bounced", "undetermined", "bounced"},
        {R"({"action":"bounce","recipient":"a@x.test","errorType":"Soft bounce","smtpStatus":"550 5.0.0 x"})",
         "bounced", "soft", "bounced"},
        {R"({"action":"complaint","recipient":"a@x.test"})", "complained", "<null>", "spam"},
        {R"({"action":"suppressed","recipient":"a@x.test"})", "rejected", "<null>", "other"},
        {R"({"action":"teleport","recipient":"a@x.test"})", "unknown", "<null>", "<null>"},
        {R"({"hello":"world"})", "unknown", "<null>", "<null>"},
    };
    for (const Case& c : cases) {
        OciRun run;
        const Intake intake = run(c.record);
        ASSERT_TRUE(intake.verdict.ok()) << c.record;
        JsonPtr event = first_event(intake);
        EXPECT_EQ(field(event.get(), "type"), c.type) << c.record;
        EXPECT_EQ(field(event.get(), "bounce_class"), c.bounce_class) << c.record;
        EXPECT_EQ(field(event.get(), "reject_reason"), c.reject_reason) << c.record;
        // Unknown actions keep the vendor's record as it came.
        JsonPtr record = parse_json(c.record);
        EXPECT_TRUE(json_equal(json_object_get(event.get(), "raw"), record.get())) << c.record;
    }
}

TEST(OciEvents, ErrorTypeIsTheDescription) {
    OciRun run;
    JsonPtr event = first_event(
        run(R"({"action":"accept","recipient":"a@x.test","errorType":"Recipient suppressed",)"
            R"("smtpStatus":"550 5.1.1 suppressed"})"));
    EXPECT_EQ(field(event.get(), "description"), "Recipient suppressed");
    EXPECT_EQ(field(event.get(), "smtp_status"), "5.1.1");
    EXPECT_EQ(field(event.get(), "mta_response"), "550 5.1.1 suppressed");
    EXPECT_EQ(field(event.get(), "vendor_event"), "accept");
}

TEST(OciEvents, DedupKeys) {
    // ONS MessageId + recipient for a single record ...
    OciRun run;
    Intake intake = run(R"({"action":"relay","recipient":"User@Example.com"})");
    EXPECT_EQ(intake.events[0].id, event_id_for("oci", "o1", "ons:ons-1:user@example.com"));
    // ... with the position when a message carries several ...
    intake = run(R"([{"action":"accept","recipient":"a@x.test"},{"action":"relay","recipient":"a@x.test"}])");
    ASSERT_EQ(intake.events.size(), 2u);
    EXPECT_EQ(intake.events[0].id, event_id_for("oci", "o1", "ons:ons-1:0:a@x.test"));
    EXPECT_EQ(intake.events[1].id, event_id_for("oci", "o1", "ons:ons-1:1:a@x.test"));
    // ... and a content hash without any id.
    OciRun anonymous;
    anonymous.headers.set("X-OCI-NS-MessageId", "");
    const std::string record = R"({"action":"relay","recipient":"a@x.test"})";
    intake = anonymous(record);
    EXPECT_EQ(intake.events[0].id,
              event_id_for("oci", "o1", content_dedup_key(record)));
}

TEST(OciEvents, PublishTimeWhenTheRecordHasNone) {
    OciRun run;
    run.headers.set("X-OCI-NS-Timestamp", "2024-05-06T07:08:09.000+0000");
    JsonPtr event = first_event(run(R"({"action":"relay","recipient":"a@x.test"})"));
    EXPECT_EQ(field(event.get(), "timestamp"), "2024-05-06T07:08:09Z");
}

TEST(OciEvents, NotJsonIs400) {
    OciRun run;
    for (const char* body : {"", "plain text", "[1,2]", "\"s\""}) {
        EXPECT_EQ(run(body).verdict.rejection, Rejection::malformed) << body;
    }
}

}  // namespace
}  // namespace mailhook
