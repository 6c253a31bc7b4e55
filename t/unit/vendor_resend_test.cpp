// SPDX-License-Identifier: BSD-2-Clause
// Resend beyond its documented samples (those are conformance cases,
// t/conformance/resend/): recipients, bounce types, contact events, missing
// fields and shapes that are not Resend's. Signatures: vendor_verify_test.
#include <gtest/gtest.h>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

const std::string kKey = "resend-test-signing-key!";

class ResendNormalize : public ::testing::Test {
  protected:
    Connection connection_ =
        prepared_connection("resend", {{"secret", "whsec_" + base64_encode(kKey)}});

    Outcome run(const std::string& body, const std::string& svix_id = "msg_2pLx8G3bF4Wq") {
        return run_request(connection_, body,
                           svix_headers(kKey, svix_id, "1700000000", body));
    }

    Event one(const std::string& body, const std::string& svix_id = "msg_2pLx8G3bF4Wq") {
        const Outcome outcome = run(body, svix_id);
        EXPECT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
        EXPECT_EQ(outcome.events.size(), 1u);
        return outcome.events.empty() ? Event{} : outcome.events[0];
    }
};

TEST_F(ResendNormalize, BounceTypes) {
    const std::pair<const char*, const char*> types[] = {
        {R"("type":"Permanent")", "hard"},
        {R"("type":"Transient")", "soft"},
        {R"("type":"Undetermined")", "undetermined"},
        {R"("type":"something new")", "undetermined"},
        {R"("message":"no type")", "undetermined"},
    };
    for (const auto& [bounce, expected] : types) {
        const Event event = one(std::string(R"({"type":"email.bounced","data":{"to":["a@b.c"],"bounce":{)") +
                                bounce + "}}}");
        EXPECT_EQ(to_string(event.bounce_class), expected) << bounce;
        EXPECT_EQ(event.reject_reason, RejectReason::bounced) << bounce;
    }
}

TEST_F(ResendNormalize, RecipientsWithADisplayNameAreStoredBare) {
    const Outcome outcome = run(
        R"({"type":"email.delivered","data":{"email_id":"e1","to":["Ann <Ann@example.com>","b@example.com","\"Doe, J\" <j@example.com>"]}})",
        "msg_multi");
    ASSERT_TRUE(outcome.verdict.ok());
    ASSERT_EQ(outcome.events.size(), 3u);
    EXPECT_EQ(outcome.events[0].recipient, "Ann@example.com");
    EXPECT_EQ(outcome.events[1].recipient, "b@example.com");
    EXPECT_EQ(outcome.events[2].recipient, "j@example.com");
    // One event per recipient, each with its own id.
    EXPECT_EQ(outcome.events[0].dedup_key, "svix:msg_multi:ann@example.com");
    EXPECT_EQ(outcome.events[1].dedup_key, "svix:msg_multi:b@example.com");
    EXPECT_EQ(outcome.events[0].event_id, "msg_multi");
}

TEST_F(ResendNormalize, ContactEvents) {
    const Event unsubscribed = one(
        R"({"type":"contact.updated","data":{"id":"ct_1","audience_id":"aud_1","email":"gone@example.com","unsubscribed":true}})");
    EXPECT_EQ(unsubscribed.type, EventType::unsubscribed);
    EXPECT_FALSE(unsubscribed.control);
    EXPECT_EQ(unsubscribed.recipient, "gone@example.com");
    // Any other contact change (a name, a segment) says nothing about mail:
    // never a resubscribe.
    const Event still = one(
        R"({"type":"contact.updated","data":{"id":"ct_1","email":"here@example.com","unsubscribed":false}})");
    EXPECT_EQ(still.type, EventType::unknown);
    EXPECT_TRUE(still.control);
    EXPECT_EQ(suppression_effect(still), SuppressionEffect::none);
}

TEST_F(ResendNormalize, UnlistedEventIsUnknownNotControl) {
    const Event event = one(R"({"type":"email.something_new","data":{"to":["a@b.c"]}})");
    EXPECT_EQ(event.type, EventType::unknown);
    EXPECT_FALSE(event.control);
}

TEST_F(ResendNormalize, MissingFieldsStayAbsent) {
    const std::string body = R"({"type":"email.delivered","data":{"to":["a@example.com"]}})";
    EXPECT_EVENT(one(body), with_raw(R"({
        "type": "delivered", "bounce_class": null, "reject_reason": null,
        "recipient": "a@example.com", "message_id": null, "event_id": "msg_2pLx8G3bF4Wq",
        "timestamp": null, "smtp_status": null, "mta_response": null,
        "description": null, "click_url": null, "user_agent": null, "ip": null,
        "campaign_id": null, "tags": [], "metadata": {}, "vendor_event": "email.delivered"})",
                                     body, "svix:msg_2pLx8G3bF4Wq"));
}

TEST_F(ResendNormalize, BodyMustBeTypeAndData) {
    for (const char* body : {"[]", "{}", R"({"type":"email.sent"})", R"({"type":1,"data":{}})",
                             R"({"type":"email.sent","data":[]})", "not json"}) {
        EXPECT_EQ(run(body).verdict.rejection, Rejection::malformed) << body;
    }
}

// Found by fuzz_vendor (LeakSanitizer, seed-resend-clicked-signed): tags in
// the [{"name":..,"value":..}] form leaked one JSON value each.
TEST_F(ResendNormalize, ArrayFormTagsBecomeMetadataWithoutLeaking) {
    const Outcome outcome = run(
        R"({"type":"email.sent","data":{"to":["a@example.com"],)"
        R"("tags":[{"name":"k","value":"v"},{"name":"n","value":{"deep":[1,2]}}]}})");
    ASSERT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_TRUE(json_equal(json_object_get(outcome.event(0), "metadata"),
                           parse_json(R"({"k":"v","n":{"deep":[1,2]}})").get()))
        << readable(outcome.event(0));
}

}  // namespace
}  // namespace mailhook::test
