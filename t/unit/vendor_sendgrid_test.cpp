// SPDX-License-Identifier: BSD-2-Clause
// SendGrid normalization beyond the reference samples (those are conformance
// cases, t/conformance/sendgrid/): batches, malformed elements, missing
// fields, custom args and the reason tables. Signatures: vendor_verify_test.
#include <gtest/gtest.h>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

class SendGridNormalize : public ::testing::Test {
  protected:
    EcKey key_;
    Connection connection_ = prepared_connection(
        "sendgrid", {{"secret", key_.verification_key()}, {"tenant", "acme"}});

    // Signs `json` (with SendGrid's trailing CRLF) and runs it.
    Outcome run(const std::string& json) {
        const std::string body = json + "\r\n";
        return run_request(connection_, body, sendgrid_headers(key_, "1700000000", body));
    }

    Event one(const std::string& element) {
        const Outcome outcome = run("[" + element + "]");
        EXPECT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
        EXPECT_EQ(outcome.events.size(), 1u);
        return outcome.events.empty() ? Event{} : outcome.events[0];
    }
};

const std::string kDelivered =
    R"({"email":"example@test.com","timestamp":1513299569,"event":"delivered","sg_event_id":"rWVYmVk90MjZJ9iohOBa3w==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","response":"250 OK"})";
const std::string kOpen =
    R"({"email":"example@test.com","timestamp":1513299569,"event":"open","sg_event_id":"FOTFFO0ecsBE-zxFXfs6WA==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","ip":"255.255.255.255"})";

TEST_F(SendGridNormalize, BatchOfNGivesNEventsInOrder) {
    const Outcome outcome = run("[" + kDelivered + "," + kOpen + "," + kDelivered + "]");
    ASSERT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
    ASSERT_EQ(outcome.events.size(), 3u);
    EXPECT_EQ(outcome.events[0].vendor_event, "delivered");
    EXPECT_EQ(outcome.events[1].vendor_event, "open");
    EXPECT_TRUE(raw_equals(outcome.events[1], kOpen));
    // The same event twice in one batch: one id (the store keeps it once).
    EXPECT_EQ(outcome.events[0].dedup_key, outcome.events[2].dedup_key);
    EXPECT_TRUE(outcome.notice.empty()) << outcome.notice;
}

// A signed batch is SendGrid's word: one bad element does not lose the good
// ones. An object SendGrid could not have meant is kept as `unknown` with
// its bytes; an element that is not an object is only counted.
TEST_F(SendGridNormalize, OneBadElementKeepsTheGoodOnes) {
    const std::string bad = R"({"email":{"a":1},"event":"bounce","sg_event_id":"b1"})";
    const Outcome outcome = run("[" + kDelivered + "," + bad + ",42," + kOpen + "]");
    ASSERT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
    ASSERT_EQ(outcome.size(), 3u);
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(0), "type")), "delivered");
    EXPECT_EVENT(outcome.event(1), with_raw(R"({
        "type": "unknown", "bounce_class": null, "reject_reason": null,
        "recipient": null, "message_id": null, "event_id": "b1",
        "timestamp": "2023-11-14T22:13:20Z", "smtp_status": null, "mta_response": null,
        "description": "not the vendor's format: \"email\" is an object, expected a string",
        "click_url": null, "user_agent": null, "ip": null, "campaign_id": null,
        "tags": [], "metadata": {}, "vendor_event": "bounce"})",
                                             bad, "sg:b1"));
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(2), "type")), "opened");
    EXPECT_NE(outcome.notice.find("2 batch element(s) not the vendor's format"),
              std::string::npos)
        << outcome.notice;
    EXPECT_NE(outcome.notice.find("first element 1: \"email\" is an object"),
              std::string::npos)
        << outcome.notice;
}

TEST_F(SendGridNormalize, ABatchWithNothingReadableIsMalformed) {
    for (const std::string& body :
         {std::string("[42]"), std::string(R"([{"email":"a@b.c"}])"),
          std::string(R"([{"event":7},"x"])")}) {
        const Outcome outcome = run(body);
        EXPECT_EQ(outcome.verdict.rejection, Rejection::malformed) << body;
        EXPECT_EQ(outcome.size(), 0u) << body;
    }
}

TEST_F(SendGridNormalize, BodyMustBeAJsonArray) {
    EXPECT_EQ(run(kDelivered).verdict.rejection, Rejection::malformed);  // a bare object
    EXPECT_EQ(run("not json").verdict.rejection, Rejection::malformed);
    EXPECT_EQ(run("[" + kDelivered).verdict.rejection, Rejection::malformed);
    const Outcome empty = run("[]");
    EXPECT_TRUE(empty.verdict.ok());
    EXPECT_EQ(empty.size(), 0u);
}

TEST_F(SendGridNormalize, MissingFieldsStayAbsent) {
    // An asynchronous bounce without sg_message_id, type, status, time or id.
    const std::string element = R"({"email":"late@example.com","event":"bounce"})";
    EXPECT_EVENT(one(element), with_raw(R"({
        "type": "bounced", "bounce_class": "undetermined", "reject_reason": "bounced",
        "recipient": "late@example.com", "message_id": null, "event_id": null,
        "timestamp": null, "smtp_status": null, "mta_response": null,
        "description": null, "click_url": null, "user_agent": null, "ip": null,
        "campaign_id": null, "tags": [], "metadata": {}, "vendor_event": "bounce"})",
                                        element, ""));
}

TEST_F(SendGridNormalize, EnhancedStatusFromTheResponseWhenNoStatusField) {
    const Event event = one(
        R"({"email":"a@example.com","timestamp":1513299569,"event":"deferred","sg_event_id":"d1",)"
        R"("response":"451 4.7.1 Please try again later","attempt":"2"})");
    EXPECT_EQ(event.smtp_status, "4.7.1");
    EXPECT_EQ(event.mta_response, "451 4.7.1 Please try again later");
}

TEST_F(SendGridNormalize, CategoriesCustomArgsAndCampaign) {
    const std::string element =
        R"({"email":"a@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"e1",)"
        R"("sg_message_id":"m1","response":"250 2.0.0 OK","category":["welcome","onboarding"],)"
        R"("marketing_campaign_id":12345,"marketing_campaign_name":"Spring",)"
        R"("userid":"1123","plan":{"tier":"pro"},"tls":1})";
    // Unique args arrive as extra top-level keys; SendGrid's own keys do not.
    EXPECT_EVENT(one(element), with_raw(R"({
        "type": "delivered", "bounce_class": null, "reject_reason": null,
        "recipient": "a@example.com", "message_id": "m1", "event_id": "e1",
        "timestamp": "2023-11-14T22:13:20Z", "smtp_status": "2.0.0",
        "mta_response": "250 2.0.0 OK", "description": null, "click_url": null,
        "user_agent": null, "ip": null, "campaign_id": "12345",
        "tags": ["welcome", "onboarding"],
        "metadata": {"userid": "1123", "plan": {"tier": "pro"}},
        "vendor_event": "delivered"})",
                                        element, "sg:e1"));
}

TEST_F(SendGridNormalize, DropReasons) {
    const std::pair<const char*, const char*> reasons[] = {
        {"Bounced Address", "bounced"},
        {"Unsubscribed Address", "unsubscribed"},
        {"Spam Reporting Address", "spam"},
        {"Spam Content", "spam"},
        {"Invalid", "invalid"},
        {"Invalid SMTPAPI header", "other"},
        {"Recipient List over Package Quota", "other"},
        {"a reason added later", "other"},
    };
    for (const auto& [reason, expected] : reasons) {
        const Event event = one(std::string(R"({"email":"a@b.c","event":"dropped","sg_event_id":"x","reason":")") +
                                reason + "\"}");
        EXPECT_EQ(to_string(event.reject_reason), expected) << reason;
        EXPECT_EQ(event.description, reason);
    }
    const Event bare = one(R"({"email":"a@b.c","event":"dropped","sg_event_id":"x"})");
    EXPECT_EQ(bare.reject_reason, RejectReason::other);
    EXPECT_EQ(bare.description, std::nullopt);
}

TEST_F(SendGridNormalize, BounceTypesAndClassifications) {
    struct Case {
        const char* fields;
        const char* bounce_class;
        const char* reason;
    };
    const Case cases[] = {
        {R"("type":"bounce")", "hard", "bounced"},
        {R"("type":"blocked")", "block", "blocked"},
        {R"("type":"expired")", "undetermined", "timed_out"},
        {R"("status":"5.1.1")", "hard", "bounced"},
        {R"("status":"4.2.2")", "soft", "bounced"},
        {R"("status":"2.0.0")", "undetermined", "bounced"},
        {R"("type":"bounce","bounce_classification":"Invalid Address")", "hard", "invalid"},
        {R"("type":"bounce","bounce_classification":"Reputation")", "hard", "blocked"},
        {R"("type":"blocked","bounce_classification":"Content")", "block", "blocked"},
        {R"("status":"5.7.1","bounce_classification":"Content")", "hard", "spam"},
    };
    for (const Case& c : cases) {
        const Event event = one(std::string(R"({"email":"a@b.c","event":"bounce","sg_event_id":"x",)") +
                                c.fields + "}");
        EXPECT_EQ(to_string(event.bounce_class), c.bounce_class) << c.fields;
        EXPECT_EQ(to_string(event.reject_reason), c.reason) << c.fields;
    }
}

TEST_F(SendGridNormalize, UnknownEventIsKeptAsUnknown) {
    const Event event = one(R"({"email":"a@b.c","event":"a_new_event","sg_event_id":"x"})");
    EXPECT_EQ(event.type, EventType::unknown);
    EXPECT_FALSE(event.control);
    EXPECT_EQ(event.vendor_event, "a_new_event");
}

TEST_F(SendGridNormalize, AccountStatusChangeIsAControlEntry) {
    const Event event = one(R"({"event":"account_status_change","sg_event_id":"x","timestamp":1700000000})");
    EXPECT_TRUE(event.control);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::none);
}

TEST_F(SendGridNormalize, SameEventSameIdAcrossRetries) {
    const Outcome first = run("[" + kOpen + "]");
    const Outcome again = run("[" + kDelivered + "," + kOpen + "]");
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(again.size(), 2u);
    EXPECT_TRUE(json_equal(json_object_get(first.event(0), "id"),
                           json_object_get(again.event(1), "id")));
    EXPECT_FALSE(json_equal(json_object_get(again.event(0), "id"),
                            json_object_get(again.event(1), "id")));
}

}  // namespace
}  // namespace mailhook::test
