// SPDX-License-Identifier: BSD-2-Clause
// Inboxroad and SMTP2GO normalization: the Inboxroad samples of vendors.md
// §8, and SMTP2GO's documented fields (§9) as JSON and as a form body.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace mailhook {
namespace {

using test::at_seconds;
using test::Expected;
using test::expect_event;
using test::MapHeaders;
using test::Parsed;

constexpr EpochMillis kNow = at_seconds(1756980030);

// ---- Inboxroad ----------------------------------------------------------------

class InboxroadNormalize : public ::testing::Test {
  protected:
    Connection connection_ = test::prepared_connection("inboxroad", {{"secret", "ir-secret"}});

    Parsed run(const std::string& body) {
        const MapHeaders headers{
            {"Content-Type", "application/json"},
            {"X-Signature", base64_encode(hmac(DigestAlgorithm::sha256, "ir-secret", body))}};
        const Delivery delivery(body, headers, kNow);
        return test::run_delivery(connection_, delivery);
    }

    Event one(const std::string& body) { return test::single_event(run(body)); }

    Intake take_in_signed(const std::string& body) {
        const MapHeaders headers{
            {"X-Signature", base64_encode(hmac(DigestAlgorithm::sha256, "ir-secret", body))}};
        const Delivery delivery(body, headers, kNow);
        return take_in(*find_vendor("inboxroad"), delivery, connection_,
                       test::origin_of(connection_, kNow));
    }
};

// vendors.md §8 (the page's missing closing brace added).
const std::string kIrDelivered =
    R"({"kind":"delivered","sender":"sender@example.com","recipient":"user@example.com","message_id":"<335026fa-0b4d-4fb3-a92c-8193ac2636b8@example.com>","timestamp":"2025-09-04T10:00:00Z","campaign":{"id":"9d76d4b4-660f-422b-9437-282c31506f7f","name":"September campaign"}})";
const std::string kIrOpen =
    R"({"kind":"open","sender":"sender@example.com","recipient":"user@example.com","message_id":"335026fa-0b4d-4fb3-a92c-8193ac2636b8@example.com","timestamp":"2025-09-04T10:00:00Z","campaign":{"id":"9d76d4b4-660f-422b-9437-282c31506f7f","name":"September campaign"}})";

Expected inboxroad_sample(EventType type, const char* kind, const char* message_id) {
    Expected want;
    want.type = type;
    want.recipient = "user@example.com";
    want.message_id = message_id;
    want.timestamp = at_seconds(1756980000);
    want.campaign_id = "9d76d4b4-660f-422b-9437-282c31506f7f";
    want.vendor_event = kind;
    want.dedup_key = "sha256:";  // Inboxroad sends no event id
    return want;
}

TEST_F(InboxroadNormalize, Delivered) {
    Expected want = inboxroad_sample(EventType::delivered, "delivered",
                                     "<335026fa-0b4d-4fb3-a92c-8193ac2636b8@example.com>");
    want.raw_json = kIrDelivered;
    expect_event(one(kIrDelivered), want);
}

TEST_F(InboxroadNormalize, Open) {
    Expected want = inboxroad_sample(EventType::opened, "open",
                                     "335026fa-0b4d-4fb3-a92c-8193ac2636b8@example.com");
    want.raw_json = kIrOpen;
    expect_event(one(kIrOpen), want);
}

TEST_F(InboxroadNormalize, ContentKeyIsStableForRetriesAndDistinctOtherwise) {
    // No event id: the id is the hash of the event's bytes, which a retry
    // repeats exactly.
    const auto id_of = [&](const std::string& body) {
        const Intake intake = take_in_signed(body);
        EXPECT_EQ(intake.events.size(), 1u);
        return intake.events.empty() ? std::string() : intake.events[0].id;
    };
    EXPECT_EQ(id_of(kIrDelivered), id_of(kIrDelivered));
    EXPECT_NE(id_of(kIrDelivered), id_of(kIrOpen));
    EXPECT_EQ(one(kIrDelivered).dedup_key, "");
}

TEST_F(InboxroadNormalize, ArrayBodyGivesOneEventPerElement) {
    const Parsed parsed = run("[" + kIrDelivered + "," + kIrOpen + "]");
    ASSERT_TRUE(parsed.verdict.ok());
    ASSERT_EQ(parsed.events.size(), 2u);
    EXPECT_EQ(parsed.events[0].type, EventType::delivered);
    EXPECT_EQ(parsed.events[1].type, EventType::opened);
    EXPECT_EQ(run("[" + kIrDelivered + ",1]").verdict.rejection, Rejection::malformed);
    EXPECT_EQ(run("\"delivered\"").verdict.rejection, Rejection::malformed);
}

TEST_F(InboxroadNormalize, UndocumentedKindsAndFields) {
    // Inboxroad documents only delivered/open; these are the names the
    // normalizer also understands, with the fields it reads.
    const Event bounce = one(
        R"({"kind":"bounce","recipient":"x@example.com","bounce_type":"hard","smtp_response":"550 5.1.1 User unknown","reason":"mailbox does not exist","id":"ev-9"})");
    EXPECT_EQ(bounce.type, EventType::bounced);
    EXPECT_EQ(bounce.bounce_class, BounceClass::hard);
    EXPECT_EQ(bounce.mta_response, "550 5.1.1 User unknown");
    EXPECT_EQ(bounce.smtp_status, "5.1.1");
    EXPECT_EQ(bounce.description, "mailbox does not exist");
    EXPECT_EQ(bounce.event_id, "ev-9");
    EXPECT_EQ(bounce.timestamp, std::nullopt);
    EXPECT_EQ(one(R"({"kind":"bounce","recipient":"x@example.com"})").bounce_class,
              BounceClass::undetermined);
    EXPECT_EQ(one(R"({"kind":"soft_bounce","recipient":"x@example.com"})").bounce_class,
              BounceClass::soft);
    EXPECT_EQ(one(R"({"kind":"Complaint","recipient":"x@example.com"})").type,
              EventType::complained);
    const Event click = one(
        R"({"kind":"click","recipient":"x@example.com","url":"https://example.com/","ip":"198.51.100.1","user_agent":"UA","tags":["t1"],"metadata":{"k":"v"},"campaign_id":"c-1"})");
    EXPECT_EQ(click.click_url, "https://example.com/");
    EXPECT_EQ(click.ip, "198.51.100.1");
    EXPECT_EQ(click.user_agent, "UA");
    EXPECT_EQ(click.tags, std::vector<std::string>{"t1"});
    EXPECT_EQ(click.metadata_json, R"({"k":"v"})");
    EXPECT_EQ(click.campaign_id, "c-1");
    EXPECT_EQ(one(R"({"kind":"teleported","recipient":"x@example.com"})").type, EventType::unknown);
}

// ---- SMTP2GO --------------------------------------------------------------------

class Smtp2goNormalize : public ::testing::Test {
  protected:
    Connection connection_ = test::prepared_connection("smtp2go", {{"secret", "hook:pa55"}});

    Parsed run(const std::string& body, const char* content_type = "application/json") {
        const MapHeaders headers{{"Content-Type", content_type},
                                 {"Authorization", test::basic_authorization("hook:pa55")}};
        const Delivery delivery(body, headers, kNow);
        return test::run_delivery(connection_, delivery);
    }

    Event one(const std::string& body, const char* content_type = "application/json") {
        return test::single_event(run(body, content_type));
    }
};

constexpr const char* kForm = "application/x-www-form-urlencoded";

// The fields SMTP2GO documents for a bounce (vendors.md §9), as JSON ...
const std::string kS2gBounceJson =
    R"({"event":"bounce","time":"2025-09-04T10:00:00Z","sendtime":"2025-09-04T09:59:58Z","sender":"bounces@example.com","from":"news@example.com","rcpt":"user@example.net","recipients":["user@example.net"],"auth":"smtp-user","host":"mx.example.net [203.0.113.5]","message":"550 5.1.1 <user@example.net>: Recipient address rejected: User unknown","context":"RCPT TO:<user@example.net>","email_id":"1rP7xq-4Ab2Cd-Ef","bounce":"hard","subject":"Spring news","id":"2c5e0b7e9f","message-id":"<20250904095958.12345@example.com>"})";
// ... and the same webhook set to form encoding.
const std::string kS2gBounceForm =
    "event=bounce&time=2025-09-04T10%3A00%3A00Z&sendtime=2025-09-04T09%3A59%3A58Z"
    "&sender=bounces%40example.com&from=news%40example.com&rcpt=user%40example.net"
    "&recipients=user%40example.net&auth=smtp-user&host=mx.example.net+%5B203.0.113.5%5D"
    "&message=550+5.1.1+%3Cuser%40example.net%3E%3A+Recipient+address+rejected%3A+User+unknown"
    "&context=RCPT+TO%3A%3Cuser%40example.net%3E&email_id=1rP7xq-4Ab2Cd-Ef&bounce=hard"
    "&subject=Spring+news&id=2c5e0b7e9f&message-id=%3C20250904095958.12345%40example.com%3E";

Expected s2g_bounce() {
    Expected want;
    want.type = EventType::bounced;
    want.bounce_class = BounceClass::hard;
    want.recipient = "user@example.net";
    want.message_id = "<20250904095958.12345@example.com>";
    want.event_id = "2c5e0b7e9f";
    want.timestamp = at_seconds(1756980000);
    want.smtp_status = "5.1.1";
    want.mta_response = "550 5.1.1 <user@example.net>: Recipient address rejected: User unknown";
    want.description = "RCPT TO:<user@example.net>";
    want.vendor_event = "bounce";
    want.dedup_key = "s2g:2c5e0b7e9f";
    return want;
}

TEST_F(Smtp2goNormalize, BounceAsJson) {
    Expected want = s2g_bounce();
    want.raw_json = kS2gBounceJson;
    const Event event = one(kS2gBounceJson);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::hard_bounce);
}

TEST_F(Smtp2goNormalize, BounceAsForm) {
    Expected want = s2g_bounce();
    // Form fields are all strings; `recipients` is one value.
    want.raw_json =
        R"({"event":"bounce","time":"2025-09-04T10:00:00Z","sendtime":"2025-09-04T09:59:58Z","sender":"bounces@example.com","from":"news@example.com","rcpt":"user@example.net","recipients":"user@example.net","auth":"smtp-user","host":"mx.example.net [203.0.113.5]","message":"550 5.1.1 <user@example.net>: Recipient address rejected: User unknown","context":"RCPT TO:<user@example.net>","email_id":"1rP7xq-4Ab2Cd-Ef","bounce":"hard","subject":"Spring news","id":"2c5e0b7e9f","message-id":"<20250904095958.12345@example.com>"})";
    expect_event(one(kS2gBounceForm, kForm), want);
}

TEST_F(Smtp2goNormalize, EpochTimeAndSoftBounce) {
    const Event event = one(
        R"({"event":"bounce","time":1756980000,"rcpt":"user@example.net","bounce":"soft","message":"452 4.2.2 Mailbox full","id":"b2"})");
    EXPECT_EQ(event.timestamp, at_seconds(1756980000));
    EXPECT_EQ(event.bounce_class, BounceClass::soft);
    EXPECT_EQ(event.smtp_status, "4.2.2");
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::soft_bounce);
    EXPECT_EQ(one(R"({"event":"bounce","rcpt":"u@example.net"})").bounce_class,
              BounceClass::undetermined);
}

TEST_F(Smtp2goNormalize, Delivered) {
    const std::string body =
        R"({"event":"delivered","time":"2025-09-04T10:00:00Z","sendtime":"2025-09-04T09:59:58Z","sender":"bounces@example.com","from":"news@example.com","rcpt":"user@example.net","recipients":["user@example.net"],"auth":"smtp-user","host":"mx.example.net [203.0.113.5]","message":"250 2.0.0 Ok: queued as 4XyZ1","email_id":"1rP7xq-4Ab2Cd-Ef","subject":"Spring news","id":"d-77","message-id":"<20250904095958.12345@example.com>"})";
    Expected want;
    want.type = EventType::delivered;
    want.recipient = "user@example.net";
    want.message_id = "<20250904095958.12345@example.com>";
    want.event_id = "d-77";
    want.timestamp = at_seconds(1756980000);
    want.smtp_status = "2.0.0";
    want.mta_response = "250 2.0.0 Ok: queued as 4XyZ1";
    want.vendor_event = "delivered";
    want.dedup_key = "s2g:d-77";
    want.raw_json = body;
    expect_event(one(body), want);
}

TEST_F(Smtp2goNormalize, OpenAndClickAsForm) {
    const std::string click =
        "event=click&time=2025-09-04T10%3A00%3A00Z&rcpt=user%40example.net"
        "&email_id=1rP7xq-4Ab2Cd-Ef&id=c-1&url=https%3A%2F%2Fexample.com%2Foffer%3Fx%3D1"
        "&user-agent=Mozilla%2F5.0+(Windows+NT+10.0%3B+Win64%3B+x64)&srchost=198.51.100.23"
        "&read-secs=4&client=Chrome&client-device=desktop&client-os=Windows"
        "&geoip-country=NZ&geoip-city=Wellington";
    Expected want;
    want.type = EventType::clicked;
    want.recipient = "user@example.net";
    want.event_id = "c-1";
    want.timestamp = at_seconds(1756980000);
    want.click_url = "https://example.com/offer?x=1";
    want.user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)";
    want.ip = "198.51.100.23";
    want.vendor_event = "click";
    want.dedup_key = "s2g:c-1";
    expect_event(one(click, kForm), want);

    const std::string open =
        "event=open&time=2025-09-04T10%3A00%3A00Z&rcpt=user%40example.net&id=o-1"
        "&user-agent=Mozilla%2F5.0&srchost=198.51.100.23";
    want.type = EventType::opened;
    want.event_id = "o-1";
    want.click_url.reset();
    want.user_agent = "Mozilla/5.0";
    want.vendor_event = "open";
    want.dedup_key = "s2g:o-1";
    expect_event(one(open, kForm), want);
}

TEST_F(Smtp2goNormalize, EventNames) {
    const std::pair<const char*, EventType> names[] = {
        {"processed", EventType::queued},      {"delivered", EventType::delivered},
        {"open", EventType::opened},           {"click", EventType::clicked},
        {"bounce", EventType::bounced},        {"spam", EventType::complained},
        {"unsubscribe", EventType::unsubscribed}, {"resubscribe", EventType::subscribed},
        {"reject", EventType::rejected},       {"something_new", EventType::unknown},
    };
    for (const auto& [name, type] : names) {
        const Event event =
            one(std::string(R"({"rcpt":"u@example.net","event":")") + name + "\"}");
        EXPECT_EQ(to_string(event.type), to_string(type)) << name;
        EXPECT_EQ(event.reject_reason,
                  type == EventType::rejected ? RejectReason::other : RejectReason::none)
            << name;
    }
}

TEST_F(Smtp2goNormalize, UnknownFieldsBecomeMetadata) {
    const Event event = one(
        R"({"event":"delivered","rcpt":"u@example.net","id":"x","X-Campaign-Ref":"spring","customer":{"id":7}})");
    test::expect_json_equal(event.metadata_json, R"({"X-Campaign-Ref":"spring","customer":{"id":7}})",
                            "metadata");
}

TEST_F(Smtp2goNormalize, SendTimeIsNotTheEventTime) {
    // An open days after sending must not be dated at the send time.
    const std::string body =
        R"({"event":"open","rcpt":"u@example.net","id":"o-2","sendtime":"2025-09-01T08:00:00Z"})";
    Expected want;
    want.type = EventType::opened;
    want.recipient = "u@example.net";
    want.event_id = "o-2";
    want.vendor_event = "open";
    want.dedup_key = "s2g:o-2";
    expect_event(one(body), want);
}

TEST_F(Smtp2goNormalize, MissingFieldsStayAbsent) {
    const std::string body = R"({"event":"spam","rcpt":"u@example.net"})";
    Expected want;
    want.type = EventType::complained;
    want.recipient = "u@example.net";
    want.vendor_event = "spam";
    want.dedup_key = "sha256:";
    want.raw_json = body;
    expect_event(one(body), want);
}

TEST_F(Smtp2goNormalize, FormEdgeCases) {
    // A repeated field: the last value wins.
    EXPECT_EQ(one("event=open&rcpt=a%40example.net&rcpt=b%40example.net", kForm).recipient,
              "b@example.net");
    EXPECT_EQ(run("event=open&rcpt=%zz", kForm).verdict.rejection, Rejection::malformed);
    EXPECT_EQ(run("event=open&rcpt=%FF%FE", kForm).verdict.rejection, Rejection::malformed);
    // A form body is only read as one when it says so.
    EXPECT_EQ(run("event=open&rcpt=a%40example.net", "text/plain").verdict.rejection,
              Rejection::malformed);
    EXPECT_EQ(one("event=open&rcpt=a%40example.net",
                  "application/x-www-form-urlencoded; charset=UTF-8")
                  .type,
              EventType::opened);
}

}  // namespace
}  // namespace mailhook
