// SPDX-License-Identifier: BSD-2-Clause
// Resend normalization: the email.bounced sample of vendors.md §12 and the
// delivered/clicked/opened shapes of Resend's own webhook types, signed the
// Svix way and run through take_in().
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace mailhook {
namespace {

using test::at_seconds;
using test::Expected;
using test::expect_event;
using test::MapHeaders;
using test::Parsed;

constexpr EpochMillis kNow = at_seconds(1732318880);
const std::string kKey = "resend-test-signing-key!";

class ResendNormalize : public ::testing::Test {
  protected:
    Connection connection_ =
        test::prepared_connection("resend", {{"secret", "whsec_" + base64_encode(kKey)}});

    Parsed run(const std::string& body, const std::string& svix_id = "msg_2pLx8G3bF4Wq") {
        const MapHeaders headers = test::svix_headers(kKey, svix_id, "1732318880", body);
        const Delivery delivery(body, headers, kNow);
        return test::run_delivery(connection_, delivery);
    }

    Event one(const std::string& body, const std::string& svix_id = "msg_2pLx8G3bF4Wq") {
        return test::single_event(run(body, svix_id));
    }
};

// vendors.md §12, verbatim (compacted).
const std::string kBounced =
    R"~({"type":"email.bounced","created_at":"2024-11-22T23:41:12.126Z","data":{"broadcast_id":"8b146471-e88e-4322-86af-016cd36fd216","created_at":"2024-11-22T23:41:11.894719+00:00","email_id":"56761188-7520-42d8-8898-ff6fc54ce618","from":"Acme <onboarding@resend.dev>","to":["delivered@resend.dev"],"subject":"Sending this example","template_id":"43f68331-0622-4e15-8202-246a0388854b","bounce":{"message":"The recipient's email address is on the suppression list because it has a recent history of producing hard bounces.","subType":"Suppressed","type":"Permanent"},"tags":{"category":"confirm_email"}}})~";

// Shapes of resend/resend-webhooks-ingester tests/helpers/fixtures.ts, with
// fixed times.
const std::string kDelivered =
    R"~({"type":"email.delivered","created_at":"2024-11-22T23:41:15.000Z","data":{"email_id":"em_delivered123","from":"sender@example.com","to":["recipient@example.com"],"subject":"Delivered Email","created_at":"2024-11-22T23:41:11.000Z"}})~";
const std::string kOpened =
    R"~({"type":"email.opened","created_at":"2024-11-22T23:45:00.500Z","data":{"email_id":"em_opened123","from":"sender@example.com","to":["opener@example.com"],"subject":"Opened Email","created_at":"2024-11-22T23:41:11.000Z"}})~";
const std::string kClicked =
    R"~({"type":"email.clicked","created_at":"2024-11-22T23:46:00.000Z","data":{"email_id":"em_click123","from":"sender@example.com","to":["clicker@example.com"],"subject":"Email with Link","created_at":"2024-11-22T23:41:11.000Z","click":{"ipAddress":"192.168.1.1","link":"https://example.com/link","timestamp":"2024-11-22T23:45:59.000Z","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"}}})~";
const std::string kSent =
    R"~({"type":"email.sent","created_at":"2024-11-22T23:41:11.500Z","data":{"email_id":"em_test123","from":"test@example.com","to":["recipient@example.com"],"subject":"Test Email","created_at":"2024-11-22T23:41:11.000Z","tags":[{"name":"campaign","value":"test"}]}})~";

TEST_F(ResendNormalize, BouncedSample) {
    Expected want;
    want.type = EventType::bounced;
    want.bounce_class = BounceClass::hard;
    want.recipient = "delivered@resend.dev";
    want.message_id = "56761188-7520-42d8-8898-ff6fc54ce618";
    want.event_id = "msg_2pLx8G3bF4Wq";  // the svix-id header
    want.timestamp = at_seconds(1732318872) + 126;
    want.description =
        "The recipient's email address is on the suppression list because it has a recent "
        "history of producing hard bounces.";
    want.campaign_id = "8b146471-e88e-4322-86af-016cd36fd216";
    want.metadata_json = R"({"category":"confirm_email"})";
    want.vendor_event = "email.bounced";
    want.dedup_key = "svix:msg_2pLx8G3bF4Wq";
    want.raw_json = kBounced;
    const Event event = one(kBounced);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::hard_bounce);
}

TEST_F(ResendNormalize, BounceTypes) {
    const auto bounce_of = [&](const char* type) {
        return one(std::string(R"({"type":"email.bounced","created_at":"2024-11-22T23:41:12Z",)") +
                   R"("data":{"email_id":"e","to":["a@b.c"],"bounce":{"type":")" + type +
                   R"(","message":"m"}}})")
            .bounce_class;
    };
    EXPECT_EQ(bounce_of("Permanent"), BounceClass::hard);
    EXPECT_EQ(bounce_of("Transient"), BounceClass::soft);
    EXPECT_EQ(bounce_of("Undetermined"), BounceClass::undetermined);
    const Event no_detail = one(
        R"({"type":"email.bounced","created_at":"2024-11-22T23:41:12Z","data":{"email_id":"e","to":["a@b.c"]}})");
    EXPECT_EQ(no_detail.bounce_class, BounceClass::undetermined);
    EXPECT_EQ(no_detail.description, std::nullopt);
}

TEST_F(ResendNormalize, Delivered) {
    Expected want;
    want.type = EventType::delivered;
    want.recipient = "recipient@example.com";
    want.message_id = "em_delivered123";
    want.event_id = "msg_2pLx8G3bF4Wq";
    want.timestamp = at_seconds(1732318875);
    want.vendor_event = "email.delivered";
    want.dedup_key = "svix:msg_2pLx8G3bF4Wq";
    want.raw_json = kDelivered;
    expect_event(one(kDelivered), want);
}

TEST_F(ResendNormalize, Opened) {
    Expected want;
    want.type = EventType::opened;
    want.recipient = "opener@example.com";
    want.message_id = "em_opened123";
    want.event_id = "msg_2pLx8G3bF4Wq";
    want.timestamp = at_seconds(1732319100) + 500;
    want.vendor_event = "email.opened";
    want.dedup_key = "svix:msg_2pLx8G3bF4Wq";
    want.raw_json = kOpened;
    expect_event(one(kOpened), want);
}

TEST_F(ResendNormalize, Clicked) {
    Expected want;
    want.type = EventType::clicked;
    want.recipient = "clicker@example.com";
    want.message_id = "em_click123";
    want.event_id = "msg_2pLx8G3bF4Wq";
    want.timestamp = at_seconds(1732319160);
    want.click_url = "https://example.com/link";
    want.user_agent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)";
    want.ip = "192.168.1.1";
    want.vendor_event = "email.clicked";
    want.dedup_key = "svix:msg_2pLx8G3bF4Wq";
    want.raw_json = kClicked;
    expect_event(one(kClicked), want);
}

TEST_F(ResendNormalize, SentWithTagList) {
    Expected want;
    want.type = EventType::sent;
    want.recipient = "recipient@example.com";
    want.message_id = "em_test123";
    want.event_id = "msg_2pLx8G3bF4Wq";
    want.timestamp = at_seconds(1732318871) + 500;
    want.metadata_json = R"({"campaign":"test"})";
    want.vendor_event = "email.sent";
    want.dedup_key = "svix:msg_2pLx8G3bF4Wq";
    expect_event(one(kSent), want);
}

TEST_F(ResendNormalize, EventNames) {
    const std::pair<const char*, EventType> names[] = {
        {"email.scheduled", EventType::queued},
        {"email.sent", EventType::sent},
        {"email.delivered", EventType::delivered},
        {"email.delivery_delayed", EventType::deferred},
        {"email.complained", EventType::complained},
        {"email.opened", EventType::opened},
        {"email.clicked", EventType::clicked},
        {"email.failed", EventType::failed},
        {"email.suppressed", EventType::rejected},
        {"email.received", EventType::unknown},
        {"domain.created", EventType::unknown},
    };
    for (const auto& [name, type] : names) {
        const Event event = one(std::string(R"({"type":")") + name +
                                R"(","created_at":"2024-11-22T23:41:12Z","data":{"to":["a@b.c"]}})");
        EXPECT_EQ(to_string(event.type), to_string(type)) << name;
        EXPECT_EQ(event.vendor_event, name);
    }
    const Event delayed = one(
        R"({"type":"email.delivery_delayed","created_at":"2024-11-22T23:41:12Z","data":{"to":["a@b.c"]}})");
    EXPECT_EQ(delayed.bounce_class, BounceClass::soft);
    const Event suppressed = one(
        R"({"type":"email.suppressed","created_at":"2024-11-22T23:41:12Z","data":{"to":["a@b.c"]}})");
    EXPECT_EQ(suppressed.reject_reason, RejectReason::other);
}

TEST_F(ResendNormalize, ContactUnsubscribe) {
    const Event event = one(
        R"({"type":"contact.updated","created_at":"2024-11-22T23:41:12Z","data":{"id":"ct_1","audience_id":"aud_1","email":"gone@example.com","unsubscribed":true}})");
    EXPECT_EQ(event.type, EventType::unsubscribed);
    EXPECT_EQ(event.recipient, "gone@example.com");
    EXPECT_EQ(event.message_id, std::nullopt);
    const Event still = one(
        R"({"type":"contact.updated","created_at":"2024-11-22T23:41:12Z","data":{"id":"ct_1","email":"here@example.com","unsubscribed":false}})");
    EXPECT_EQ(still.type, EventType::unknown);
}

TEST_F(ResendNormalize, OneEventPerRecipientEachWithItsOwnId) {
    const Parsed parsed = run(
        R"({"type":"email.delivered","created_at":"2024-11-22T23:41:12Z","data":{"email_id":"e1","to":["A@example.com","b@example.com"]}})",
        "msg_multi");
    ASSERT_TRUE(parsed.verdict.ok());
    ASSERT_EQ(parsed.events.size(), 2u);
    EXPECT_EQ(parsed.events[0].recipient, "A@example.com");
    EXPECT_EQ(parsed.events[1].recipient, "b@example.com");
    EXPECT_EQ(parsed.events[0].dedup_key, "svix:msg_multi:a@example.com");
    EXPECT_EQ(parsed.events[1].dedup_key, "svix:msg_multi:b@example.com");
    EXPECT_EQ(parsed.events[0].event_id, "msg_multi");
    EXPECT_EQ(parsed.events[1].event_id, "msg_multi");
}

TEST_F(ResendNormalize, NoRecipientStillOneEvent) {
    const Parsed parsed = run(
        R"({"type":"domain.updated","created_at":"2024-11-22T23:41:12Z","data":{"id":"dom_1","name":"example.com"}})");
    ASSERT_TRUE(parsed.verdict.ok());
    ASSERT_EQ(parsed.events.size(), 1u);
    EXPECT_EQ(parsed.events[0].recipient, "");
    EXPECT_EQ(parsed.events[0].dedup_key, "svix:msg_2pLx8G3bF4Wq");
}

TEST_F(ResendNormalize, MissingFieldsStayAbsent) {
    const std::string body = R"({"type":"email.delivered","data":{"to":["a@example.com"]}})";
    Expected want;
    want.type = EventType::delivered;
    want.recipient = "a@example.com";
    want.event_id = "msg_2pLx8G3bF4Wq";
    want.vendor_event = "email.delivered";
    want.dedup_key = "svix:msg_2pLx8G3bF4Wq";
    want.raw_json = body;
    expect_event(one(body), want);
}

TEST_F(ResendNormalize, BodyMustBeTypeAndData) {
    for (const char* body : {"[]", "{}", R"({"type":"email.sent"})", R"({"type":1,"data":{}})",
                             R"({"type":"email.sent","data":[]})", "not json"}) {
        EXPECT_EQ(run(body).verdict.rejection, Rejection::malformed) << body;
    }
}

}  // namespace
}  // namespace mailhook
