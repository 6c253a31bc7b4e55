// SPDX-License-Identifier: BSD-2-Clause
// SendGrid normalization: every sample of the Event Webhook Reference
// (vendors.md §1.4), signed with a key made in the test and run through
// take_in(), plus batches and missing fields.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace mailhook {
namespace {

using test::at_seconds;
using test::EcKey;
using test::Expected;
using test::expect_event;
using test::MapHeaders;
using test::Parsed;

constexpr EpochMillis kNow = at_seconds(1513299600);

class SendGridNormalize : public ::testing::Test {
  protected:
    EcKey key_;
    Connection connection_ = test::prepared_connection(
        "sendgrid", {{"secret", key_.verification_key()}, {"tenant", "acme"}});

    // Signs `body` (with SendGrid's trailing CRLF), verifies, parses, and
    // checks that take_in() stores exactly what was parsed.
    Parsed run(const std::string& json) {
        const std::string body = json + "\r\n";
        const MapHeaders headers = test::sendgrid_headers(key_, "1513299600", body);
        const Delivery delivery(body, headers, kNow);
        return test::run_delivery(connection_, delivery);
    }

    Event one(const std::string& element) { return test::single_event(run("[" + element + "]")); }
};

constexpr const char* kMessageId = "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0";

// The fields every reference sample shares.
Expected sample(EventType type, const char* vendor_event, const char* sg_event_id) {
    Expected want;
    want.type = type;
    want.recipient = "example@test.com";
    want.message_id = kMessageId;
    want.event_id = sg_event_id;
    want.timestamp = at_seconds(1513299569);
    want.tags = {"cat facts"};
    want.vendor_event = vendor_event;
    want.dedup_key = std::string("sg:") + sg_event_id;
    return want;
}

// Verbatim from the SendGrid Event Webhook Reference (compacted).
const std::string kProcessed =
    R"({"email":"example@test.com","timestamp":1513299569,"pool":{"name":"new_MY_test","id":210},"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"processed","category":"cat facts","sg_event_id":"rbtnWrG1DVDGGGFHFyun0A==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000"})";
const std::string kDropped =
    R"({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"dropped","category":"cat facts","sg_event_id":"zmzJhfJgAfUSOW80yEbPyw==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","reason":"Bounced Address","status":"5.0.0"})";
const std::string kDelivered =
    R"({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"delivered","category":"cat facts","sg_event_id":"rWVYmVk90MjZJ9iohOBa3w==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","response":"250 OK"})";
const std::string kDeferred =
    R"({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"deferred","category":"cat facts","sg_event_id":"t7LEShmowp86DTdUW8M-GQ==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","response":"400 try again later","attempt":"5"})";
const std::string kBounce =
    R"({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"bounce","category":"cat facts","sg_event_id":"6g4ZI7SA-xmRDv57GoPIPw==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","reason":"500 unknown recipient","status":"5.0.0","type":"bounce"})";
const std::string kBlocked =
    R"({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"bounce","category":"cat facts","sg_event_id":"6g4ZI7SA-xmRDv57GoPIPw==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","reason":"500 unknown recipient","status":"5.0.0","type":"blocked"})";
const std::string kOpen =
    R"~({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"open","category":"cat facts","sg_event_id":"FOTFFO0ecsBE-zxFXfs6WA==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","useragent":"Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)","ip":"255.255.255.255"})~";
const std::string kClick =
    R"~({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"click","category":"cat facts","sg_event_id":"kCAi1KttyQdEKHhdC-nuEA==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","useragent":"Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)","ip":"255.255.255.255","url":"http://www.sendgrid.com/"})~";
const std::string kSpamReport =
    R"({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"spamreport","category":"cat facts","sg_event_id":"37nvH5QBz858KGVYCM4uOA==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"})";
const std::string kUnsubscribe =
    R"({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"unsubscribe","category":"cat facts","sg_event_id":"zz_BjPgU_5pS-J8vlfB1sg==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"})";
const std::string kGroupUnsubscribe =
    R"~({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"group_unsubscribe","category":"cat facts","sg_event_id":"ahSCB7xYcXFb-hEaawsPRw==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","useragent":"Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)","ip":"255.255.255.255","url":"http://www.sendgrid.com/","asm_group_id":10})~";
const std::string kGroupResubscribe =
    R"~({"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"group_resubscribe","category":"cat facts","sg_event_id":"w_u0vJhLT-OFfprar5N93g==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","useragent":"Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)","ip":"255.255.255.255","url":"http://www.sendgrid.com/","asm_group_id":10})~";

constexpr const char* kUserAgent =
    "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)";

TEST_F(SendGridNormalize, Processed) {
    // processed → queued, as django-anymail does (accepted, not yet sent).
    Expected want = sample(EventType::queued, "processed", "rbtnWrG1DVDGGGFHFyun0A==");
    want.message_id = "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000";
    want.raw_json = kProcessed;
    expect_event(one(kProcessed), want);
}

TEST_F(SendGridNormalize, Dropped) {
    Expected want = sample(EventType::rejected, "dropped", "zmzJhfJgAfUSOW80yEbPyw==");
    want.reject_reason = RejectReason::bounced;
    want.smtp_status = "5.0.0";
    want.description = "Bounced Address";
    want.raw_json = kDropped;
    expect_event(one(kDropped), want);
}

TEST_F(SendGridNormalize, Delivered) {
    Expected want = sample(EventType::delivered, "delivered", "rWVYmVk90MjZJ9iohOBa3w==");
    want.mta_response = "250 OK";
    want.raw_json = kDelivered;
    expect_event(one(kDelivered), want);
}

TEST_F(SendGridNormalize, Deferred) {
    Expected want = sample(EventType::deferred, "deferred", "t7LEShmowp86DTdUW8M-GQ==");
    want.bounce_class = BounceClass::soft;
    want.mta_response = "400 try again later";
    want.raw_json = kDeferred;
    expect_event(one(kDeferred), want);
}

TEST_F(SendGridNormalize, BounceIsHard) {
    Expected want = sample(EventType::bounced, "bounce", "6g4ZI7SA-xmRDv57GoPIPw==");
    want.bounce_class = BounceClass::hard;
    want.smtp_status = "5.0.0";
    want.mta_response = "500 unknown recipient";
    want.raw_json = kBounce;
    const Event event = one(kBounce);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::hard_bounce);
}

TEST_F(SendGridNormalize, BlockedIsABlockNotAHardBounce) {
    Expected want = sample(EventType::bounced, "bounce", "6g4ZI7SA-xmRDv57GoPIPw==");
    want.bounce_class = BounceClass::block;
    want.smtp_status = "5.0.0";
    want.mta_response = "500 unknown recipient";
    want.raw_json = kBlocked;
    const Event event = one(kBlocked);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::none);
}

TEST_F(SendGridNormalize, Open) {
    Expected want = sample(EventType::opened, "open", "FOTFFO0ecsBE-zxFXfs6WA==");
    want.user_agent = kUserAgent;
    want.ip = "255.255.255.255";
    want.raw_json = kOpen;
    expect_event(one(kOpen), want);
}

TEST_F(SendGridNormalize, Click) {
    Expected want = sample(EventType::clicked, "click", "kCAi1KttyQdEKHhdC-nuEA==");
    want.user_agent = kUserAgent;
    want.ip = "255.255.255.255";
    want.click_url = "http://www.sendgrid.com/";
    want.raw_json = kClick;
    expect_event(one(kClick), want);
}

TEST_F(SendGridNormalize, SpamReport) {
    Expected want = sample(EventType::complained, "spamreport", "37nvH5QBz858KGVYCM4uOA==");
    want.raw_json = kSpamReport;
    const Event event = one(kSpamReport);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::complaint);
}

TEST_F(SendGridNormalize, Unsubscribe) {
    Expected want = sample(EventType::unsubscribed, "unsubscribe", "zz_BjPgU_5pS-J8vlfB1sg==");
    want.raw_json = kUnsubscribe;
    const Event event = one(kUnsubscribe);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::unsubscribe);
}

TEST_F(SendGridNormalize, GroupUnsubscribe) {
    Expected want =
        sample(EventType::unsubscribed, "group_unsubscribe", "ahSCB7xYcXFb-hEaawsPRw==");
    want.user_agent = kUserAgent;
    want.ip = "255.255.255.255";
    want.click_url = "http://www.sendgrid.com/";
    want.raw_json = kGroupUnsubscribe;
    const Event event = one(kGroupUnsubscribe);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::unsubscribe);
}

TEST_F(SendGridNormalize, GroupResubscribe) {
    Expected want =
        sample(EventType::subscribed, "group_resubscribe", "w_u0vJhLT-OFfprar5N93g==");
    want.user_agent = kUserAgent;
    want.ip = "255.255.255.255";
    want.click_url = "http://www.sendgrid.com/";
    want.raw_json = kGroupResubscribe;
    const Event event = one(kGroupResubscribe);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::resubscribe);
}

TEST_F(SendGridNormalize, BatchOfNGivesNEventsInOrder) {
    const std::vector<const std::string*> samples = {
        &kProcessed, &kDropped, &kDelivered, &kDeferred, &kBounce, &kBlocked,
        &kOpen, &kClick, &kSpamReport, &kUnsubscribe, &kGroupUnsubscribe, &kGroupResubscribe};
    std::string body = "[";
    for (std::size_t i = 0; i < samples.size(); ++i) {
        if (i > 0) body += ",";
        body += *samples[i];
    }
    body += "]";
    const Parsed parsed = run(body);
    ASSERT_TRUE(parsed.verdict.ok()) << parsed.verdict.reason;
    ASSERT_EQ(parsed.events.size(), samples.size());
    const char* names[] = {"processed", "dropped", "delivered", "deferred", "bounce", "bounce",
                           "open", "click", "spamreport", "unsubscribe", "group_unsubscribe",
                           "group_resubscribe"};
    for (std::size_t i = 0; i < samples.size(); ++i) {
        EXPECT_EQ(parsed.events[i].vendor_event, names[i]) << i;
        test::expect_json_equal(test::raw_text_of(parsed.events[i]), *samples[i], "raw");
    }
}

TEST_F(SendGridNormalize, OneNonObjectElementMakesTheBatchMalformed) {
    for (const std::string& element : {std::string("42"), std::string("\"x\""),
                                       std::string("null"), std::string("[]")}) {
        const Parsed parsed = run("[" + kDelivered + "," + element + "," + kOpen + "]");
        EXPECT_EQ(parsed.verdict.rejection, Rejection::malformed) << element;
    }
}

TEST_F(SendGridNormalize, BodyMustBeAJsonArray) {
    EXPECT_EQ(run(kDelivered).verdict.rejection, Rejection::malformed);  // a bare object
    EXPECT_EQ(run("not json").verdict.rejection, Rejection::malformed);
    EXPECT_EQ(run("[" + kDelivered).verdict.rejection, Rejection::malformed);
    const Parsed empty = run("[]");
    EXPECT_TRUE(empty.verdict.ok());
    EXPECT_TRUE(empty.events.empty());
}

TEST_F(SendGridNormalize, MissingFieldsStayAbsent) {
    // An asynchronous bounce without sg_message_id, type, timestamp or id.
    const std::string element = R"({"email":"late@example.com","event":"bounce"})";
    Expected want;
    want.type = EventType::bounced;
    want.bounce_class = BounceClass::undetermined;
    want.recipient = "late@example.com";
    want.vendor_event = "bounce";
    want.dedup_key = "sha256:";
    want.raw_json = element;
    expect_event(one(element), want);
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
    Expected want;
    want.type = EventType::delivered;
    want.recipient = "a@example.com";
    want.message_id = "m1";
    want.event_id = "e1";
    want.timestamp = at_seconds(1700000000);
    want.smtp_status = "2.0.0";
    want.mta_response = "250 2.0.0 OK";
    want.campaign_id = "12345";
    want.tags = {"welcome", "onboarding"};
    // Unique args arrive as extra top-level keys; SendGrid's own keys do not.
    want.metadata_json = R"({"userid":"1123","plan":{"tier":"pro"}})";
    want.vendor_event = "delivered";
    want.dedup_key = "sg:e1";
    expect_event(one(element), want);
}

TEST_F(SendGridNormalize, DropReasons) {
    const std::pair<const char*, RejectReason> reasons[] = {
        {"Bounced Address", RejectReason::bounced},
        {"Unsubscribed Address", RejectReason::unsubscribed},
        {"Spam Reporting Address", RejectReason::spam},
        {"Spam Content", RejectReason::spam},
        {"Invalid", RejectReason::invalid},
        {"Invalid SMTPAPI header", RejectReason::other},
        {"Recipient List over Package Quota", RejectReason::other},
    };
    for (const auto& [reason, expected] : reasons) {
        const Event event = one(std::string(R"({"email":"a@b.c","event":"dropped","sg_event_id":"x","reason":")") +
                                reason + "\"}");
        EXPECT_EQ(to_string(event.reject_reason), to_string(expected)) << reason;
        EXPECT_EQ(event.description, reason);
    }
    const Event bare = one(R"({"email":"a@b.c","event":"dropped","sg_event_id":"x"})");
    EXPECT_EQ(bare.reject_reason, RejectReason::other);
    EXPECT_EQ(bare.description, std::nullopt);
}

TEST_F(SendGridNormalize, UnknownEventIsKeptAsUnknown) {
    const Event event = one(R"({"email":"a@b.c","event":"account_status_change","sg_event_id":"x"})");
    EXPECT_EQ(event.type, EventType::unknown);
    EXPECT_EQ(event.vendor_event, "account_status_change");
}

TEST_F(SendGridNormalize, SameEventSameIdAcrossRetries) {
    const Parsed first = run("[" + kBounce + "]");
    const Parsed again = run("[" + kDelivered + "," + kBounce + "]");
    ASSERT_EQ(first.events.size(), 1u);
    ASSERT_EQ(again.events.size(), 2u);
    EXPECT_EQ(first.events[0].dedup_key, again.events[1].dedup_key);
    EXPECT_NE(again.events[0].dedup_key, again.events[1].dedup_key);
}

}  // namespace
}  // namespace mailhook
