// SPDX-License-Identifier: BSD-2-Clause
// Mailgun normalization: the samples of vendors.md §4.4 and Mailgun's
// Events reference, wrapped in a signed webhook body and run through
// take_in(), plus the one-time-token replay guard.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace mailhook {
namespace {

using test::at_seconds;
using test::Expected;
using test::expect_event;
using test::MapHeaders;
using test::Parsed;

constexpr const char* kSigningKey = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
constexpr EpochMillis kNow = at_seconds(1700000000);

class MailgunNormalize : public ::testing::Test {
  protected:
    Connection connection_ = test::prepared_connection("mailgun", {{"secret", kSigningKey}});
    MapHeaders headers_{{"Content-Type", "application/json"}};

    Parsed run(const std::string& event_data,
               const std::string& token = "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6") {
        const std::string body = test::mailgun_body(kSigningKey, "1700000000", token, event_data);
        const Delivery delivery(body, headers_, kNow);
        return test::run_delivery(connection_, delivery);
    }

    Event one(const std::string& event_data) { return test::single_event(run(event_data)); }
};

// vendors.md §4.4, verbatim (compacted).
const std::string kFailedSuppressBounce =
    R"~({"event":"failed","id":"pl271FzxTTmGRW8Uj3dUWw","timestamp":1529701969.818328,"log-level":"error","severity":"permanent","reason":"suppress-bounce","envelope":{"sender":"john@example.org","transport":"smtp","targets":"joan@example.com"},"flags":{"is-routed":false,"is-authenticated":true,"is-system-test":false,"is-test-mode":false},"delivery-status":{"attempt-no":1,"message":"","code":605,"description":"Not delivering to previously bounced address","session-seconds":0.0},"message":{"headers":{"to":"joan@example.com","message-id":"20180622211249.1.2A6098970A380E12@example.org","from":"john@example.org","subject":"Test Subject"},"attachments":[],"size":867},"recipient":"slava@mailgun.com","recipient-domain":"mailgun.com","campaigns":[],"tags":[],"user-variables":{}})~";

// The same event with severity "temporary" and the delivery status that
// vendors.md §4.4 gives for it (code 451, enhanced code 4.7.652, retry 600 s).
const std::string kFailedTemporary =
    R"~({"event":"failed","id":"Fs7-5t81S2ia-MpqYgv_Pw","timestamp":1529701969.818328,"log-level":"warn","severity":"temporary","reason":"generic","envelope":{"sender":"john@example.org","transport":"smtp","targets":"joan@example.com"},"delivery-status":{"attempt-no":1,"code":451,"enhanced-code":"4.7.652","message":"4.7.652 The mail server [192.0.2.10] has exceeded the maximum number of connections.","retry-seconds":600,"description":"","session-seconds":1.2},"message":{"headers":{"to":"joan@example.com","message-id":"20180622211249.1.2A6098970A380E12@example.org","from":"john@example.org","subject":"Test Subject"},"attachments":[],"size":867},"recipient":"joan@example.com","recipient-domain":"example.com","campaigns":[],"tags":[],"user-variables":{}})~";

// Mailgun Events reference "Failed" (a real bounce), with the event id
// webhooks carry.
const std::string kFailedBounce =
    R"~({"severity":"permanent","tags":[],"envelope":{"transport":"smtp","sender":"postmaster@samples.mailgun.org","sending-ip":"184.173.153.199"},"delivery-status":{"message":"Relay Not Permitted","code":550,"description":null},"campaigns":[],"reason":"bounce","user-variables":{},"flags":{"is-authenticated":true,"is-test-mode":false},"timestamp":1377198389.769129,"message":{"headers":{"to":"recipient@example.com","message-id":"20130822185902.31528.73196@samples.mailgun.org","from":"John Doe <sender@example.com>","subject":"Test Subject"},"attachments":[],"recipients":["recipient@example.com"],"size":557},"recipient":"recipient@example.com","event":"failed","id":"W3X4JOhFT-OZidZGKKr9iA"})~";

// Mailgun Events reference "Delivered", "Opened", "Clicked", with ids.
const std::string kDelivered =
    R"~({"tags":[],"envelope":{"transport":"smtp","sender":"postmaster@samples.mailgun.org","sending-ip":"184.173.153.199"},"delivery-status":{"message":"","code":0,"description":null},"campaigns":[],"user-variables":{},"flags":{"is-authenticated":true,"is-test-mode":false},"timestamp":1377208314.173742,"message":{"headers":{"to":"recipient@example.com","message-id":"20130822215151.29325.59996@samples.mailgun.org","from":"sender@example.com","subject":"Sample Message"},"attachments":[],"recipients":["recipient@example.com"],"size":31143},"recipient":"recipient@example.com","event":"delivered","id":"CPgfbmQMTCKtHW6uIWtuVe"})~";
const std::string kOpened =
    R"~({"geolocation":{"country":"US","region":"Texas","city":"Austin"},"tags":[],"timestamp":1377047343.042277,"campaigns":[],"user-variables":{},"ip":"111.111.111.111","client-info":{"client-type":"mobile browser","client-os":"iOS","device-type":"mobile","client-name":"Mobile Safari","user-agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 6_1 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Mobile/10B143"},"message":{"headers":{"message-id":"20130821005614.19826.35976@samples.mailgun.org"}},"recipient":"recipient@example.com","event":"opened","id":"DACSsAdVSeGpLid7TN03WA"})~";
const std::string kClicked =
    R"~({"geolocation":{"country":"US","region":"TX","city":"Austin"},"tags":[],"url":"http://google.com","ip":"127.0.0.1","campaigns":[],"user-variables":{},"timestamp":1377075564.094891,"client-info":{"client-type":"browser","client-os":"Linux","device-type":"desktop","client-name":"Chromium","user-agent":"Mozilla/5.0 (X11; Linux i686) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/28.0.1500.71 Chrome/28.0.1500.71 Safari/537.36"},"message":{"headers":{"message-id":"20130821085807.30688.67706@samples.mailgun.org"}},"recipient":"recipient@example.com","event":"clicked","id":"Ase7i2zsRYeDXztHGENqRA"})~";
const std::string kUnsubscribed =
    R"~({"geolocation":{"country":"US","region":"TX","city":"San Antonio"},"tags":["*"],"timestamp":1377213791.421473,"campaigns":[],"user-variables":{},"ip":"50.51.14.451","client-info":{"client-type":"browser","client-os":"OS X","device-type":"desktop","client-name":"Chrome","user-agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_8_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/28.0.1500.95 Safari/537.36"},"message":{"headers":{"message-id":"20130822232216.13966.79700@samples.mailgun.org"}},"recipient":"recipient@example.com","event":"unsubscribed","id":"unsub-1"})~";
const std::string kComplained =
    R"~({"tags":[],"timestamp":1377214260.049634,"campaigns":[],"user-variables":{},"flags":{"is-test-mode":false},"message":{"headers":{"to":"foo@example.com","message-id":"20130718032413.263EE2E0926@example.com","from":"John Doe <sender@example.com>","subject":"This is the subject."},"attachments":[],"size":18937},"recipient":"foo@example.com","event":"complained","id":"complaint-1"})~";

TEST_F(MailgunNormalize, FailedPermanentSuppressBounceIsARejection) {
    // Mailgun did not try: the address bounced before (code 605).
    Expected want;
    want.type = EventType::rejected;
    want.reject_reason = RejectReason::bounced;
    want.recipient = "slava@mailgun.com";
    want.message_id = "20180622211249.1.2A6098970A380E12@example.org";
    want.event_id = "pl271FzxTTmGRW8Uj3dUWw";
    want.timestamp = at_seconds(1529701969) + 818;
    want.description = "Not delivering to previously bounced address";
    want.vendor_event = "failed";
    // Mailgun ids are unique within a day only: the event time is part of the key.
    want.dedup_key = "mg:pl271FzxTTmGRW8Uj3dUWw@1529701969.8183279";
    want.raw_json = kFailedSuppressBounce;
    const Event event = one(kFailedSuppressBounce);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::none);
}

TEST_F(MailgunNormalize, FailedTemporaryIsADeferral) {
    Expected want;
    want.type = EventType::deferred;
    want.bounce_class = BounceClass::soft;
    want.recipient = "joan@example.com";
    want.message_id = "20180622211249.1.2A6098970A380E12@example.org";
    want.event_id = "Fs7-5t81S2ia-MpqYgv_Pw";
    want.timestamp = at_seconds(1529701969) + 818;
    want.smtp_status = "4.7.652";
    want.mta_response =
        "4.7.652 The mail server [192.0.2.10] has exceeded the maximum number of connections.";
    want.vendor_event = "failed";
    want.dedup_key = "mg:Fs7-5t81S2ia-MpqYgv_Pw@1529701969.8183279";
    want.raw_json = kFailedTemporary;
    const Event event = one(kFailedTemporary);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::none);
}

TEST_F(MailgunNormalize, FailedPermanentBounceIsHard) {
    Expected want;
    want.type = EventType::bounced;
    want.bounce_class = BounceClass::hard;
    want.recipient = "recipient@example.com";
    want.message_id = "20130822185902.31528.73196@samples.mailgun.org";
    want.event_id = "W3X4JOhFT-OZidZGKKr9iA";
    want.timestamp = at_seconds(1377198389) + 769;
    want.mta_response = "Relay Not Permitted";
    want.vendor_event = "failed";
    want.dedup_key = "mg:W3X4JOhFT-OZidZGKKr9iA@1377198389.769129";
    want.raw_json = kFailedBounce;
    const Event event = one(kFailedBounce);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::hard_bounce);
}

TEST_F(MailgunNormalize, Delivered) {
    Expected want;
    want.type = EventType::delivered;
    want.recipient = "recipient@example.com";
    want.message_id = "20130822215151.29325.59996@samples.mailgun.org";
    want.event_id = "CPgfbmQMTCKtHW6uIWtuVe";
    want.timestamp = at_seconds(1377208314) + 173;
    want.vendor_event = "delivered";
    want.dedup_key = "mg:CPgfbmQMTCKtHW6uIWtuVe@1377208314.1737421";
    want.raw_json = kDelivered;
    expect_event(one(kDelivered), want);
}

TEST_F(MailgunNormalize, Opened) {
    Expected want;
    want.type = EventType::opened;
    want.recipient = "recipient@example.com";
    want.message_id = "20130821005614.19826.35976@samples.mailgun.org";
    want.event_id = "DACSsAdVSeGpLid7TN03WA";
    want.timestamp = at_seconds(1377047343) + 42;
    want.user_agent =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 6_1 like Mac OS X) AppleWebKit/536.26 (KHTML, like "
        "Gecko) Mobile/10B143";
    want.ip = "111.111.111.111";
    want.vendor_event = "opened";
    want.dedup_key = "mg:DACSsAdVSeGpLid7TN03WA@1377047343.0422771";
    want.raw_json = kOpened;
    expect_event(one(kOpened), want);
}

TEST_F(MailgunNormalize, ClickedWithClientInfo) {
    Expected want;
    want.type = EventType::clicked;
    want.recipient = "recipient@example.com";
    want.message_id = "20130821085807.30688.67706@samples.mailgun.org";
    want.event_id = "Ase7i2zsRYeDXztHGENqRA";
    want.timestamp = at_seconds(1377075564) + 94;
    want.click_url = "http://google.com";
    want.user_agent =
        "Mozilla/5.0 (X11; Linux i686) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu "
        "Chromium/28.0.1500.71 Chrome/28.0.1500.71 Safari/537.36";
    want.ip = "127.0.0.1";
    want.vendor_event = "clicked";
    want.dedup_key = "mg:Ase7i2zsRYeDXztHGENqRA@1377075564.0948911";
    want.raw_json = kClicked;
    expect_event(one(kClicked), want);
}

TEST_F(MailgunNormalize, Unsubscribed) {
    Expected want;
    want.type = EventType::unsubscribed;
    want.recipient = "recipient@example.com";
    want.message_id = "20130822232216.13966.79700@samples.mailgun.org";
    want.event_id = "unsub-1";
    want.timestamp = at_seconds(1377213791) + 421;
    want.user_agent =
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_8_4) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/28.0.1500.95 Safari/537.36";
    want.ip = "50.51.14.451";
    want.tags = {"*"};
    want.vendor_event = "unsubscribed";
    want.dedup_key = "mg:unsub-1@1377213791.421473";
    const Event event = one(kUnsubscribed);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::unsubscribe);
}

TEST_F(MailgunNormalize, Complained) {
    Expected want;
    want.type = EventType::complained;
    want.recipient = "foo@example.com";
    want.message_id = "20130718032413.263EE2E0926@example.com";
    want.event_id = "complaint-1";
    want.timestamp = at_seconds(1377214260) + 49;
    want.vendor_event = "complained";
    want.dedup_key = "mg:complaint-1@1377214260.049634";
    const Event event = one(kComplained);
    expect_event(event, want);
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::complaint);
}

TEST_F(MailgunNormalize, RejectedKeepsMailgunsReason) {
    const std::string rejected =
        R"~({"event":"rejected","id":"rej-1","timestamp":1700000000.25,"flags":{"is-test-mode":false},"reject":{"reason":"Sandbox subdomains are for test purposes only.","description":""},"message":{"headers":{"to":"a@example.com","message-id":"m-1@example.org","from":"b@example.org","subject":"Hi"},"attachments":[],"size":100},"recipient":"a@example.com","tags":[],"campaigns":[],"user-variables":{}})~";
    Expected want;
    want.type = EventType::rejected;
    want.reject_reason = RejectReason::other;
    want.recipient = "a@example.com";
    want.message_id = "m-1@example.org";
    want.event_id = "rej-1";
    want.timestamp = at_seconds(1700000000) + 250;
    want.description = "Sandbox subdomains are for test purposes only.";
    want.vendor_event = "rejected";
    want.dedup_key = "mg:rej-1@1700000000.25";
    expect_event(one(rejected), want);
}

TEST_F(MailgunNormalize, SuppressReasonsAndEspBlock) {
    const std::pair<const char*, RejectReason> reasons[] = {
        {"suppress-bounce", RejectReason::bounced},
        {"suppress-unsubscribe", RejectReason::unsubscribed},
        {"suppress-complaint", RejectReason::spam},
    };
    for (const auto& [reason, expected] : reasons) {
        const Event event = one(std::string(R"({"event":"failed","severity":"permanent","recipient":"a@b.c","reason":")") +
                                reason + "\"}");
        EXPECT_EQ(event.type, EventType::rejected) << reason;
        EXPECT_EQ(to_string(event.reject_reason), to_string(expected)) << reason;
    }
    const Event blocked = one(R"({"event":"failed","severity":"permanent","recipient":"a@b.c","reason":"espblock"})");
    EXPECT_EQ(blocked.type, EventType::bounced);
    EXPECT_EQ(blocked.bounce_class, BounceClass::block);
    const Event unclassified = one(R"({"event":"failed","recipient":"a@b.c"})");
    EXPECT_EQ(unclassified.type, EventType::bounced);
    EXPECT_EQ(unclassified.bounce_class, BounceClass::undetermined);
}

TEST_F(MailgunNormalize, TagsCampaignsAndUserVariables) {
    const Event event = one(
        R"({"event":"delivered","id":"d-1","timestamp":1700000000,"recipient":"a@example.com",)"
        R"("tags":["newsletter","2024"],"campaigns":[{"id":"spring-sale","name":"Spring"}],)"
        R"("user-variables":{"user_id":"43","plan":"pro"},)"
        R"("delivery-status":{"code":250,"message":"OK","description":"","enhanced-code":"2.0.0"}})");
    EXPECT_EQ(event.tags, (std::vector<std::string>{"newsletter", "2024"}));
    EXPECT_EQ(event.campaign_id, "spring-sale");
    test::expect_json_equal(event.metadata_json, R"({"user_id":"43","plan":"pro"})", "metadata");
    EXPECT_EQ(event.smtp_status, "2.0.0");
    EXPECT_EQ(event.mta_response, "OK");
    EXPECT_EQ(event.description, std::nullopt);
    EXPECT_EQ(event.dedup_key, "mg:d-1@1700000000");
}

TEST_F(MailgunNormalize, MissingFieldsStayAbsent) {
    const std::string data = R"({"event":"delivered","recipient":"a@example.com"})";
    Expected want;
    want.type = EventType::delivered;
    want.recipient = "a@example.com";
    want.vendor_event = "delivered";
    want.dedup_key = "sha256:";
    want.raw_json = data;
    expect_event(one(data), want);
}

TEST_F(MailgunNormalize, UnknownAndInboundEvents) {
    EXPECT_EQ(one(R"({"event":"stored","recipient":"a@b.c"})").type, EventType::unknown);
    EXPECT_EQ(one(R"({"event":"accepted","recipient":"a@b.c"})").type, EventType::queued);
}

TEST_F(MailgunNormalize, EventDataMustBeAnObject) {
    EXPECT_EQ(run("[]").verdict.rejection, Rejection::malformed);
    EXPECT_EQ(run("\"opened\"").verdict.rejection, Rejection::malformed);
    EXPECT_EQ(run("null").verdict.rejection, Rejection::malformed);
}

TEST_F(MailgunNormalize, ReplayGuardCarriesTheTokenAndTheEventId) {
    const std::string token(50, 'q');
    const std::string body = test::mailgun_body(kSigningKey, "1700000000", token, kOpened);
    const Delivery delivery(body, headers_, kNow);
    const Intake intake =
        take_in(*find_vendor("mailgun"), delivery, connection_, test::origin_of(connection_, kNow));
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), 1u);
    ASSERT_TRUE(intake.replay_guard);
    EXPECT_EQ(intake.replay_guard->token, token);
    // The token is bound to what it carried: a retry of the same event has
    // the same fingerprint, another event under the same token does not.
    EXPECT_EQ(intake.replay_guard->fingerprint, intake.events[0].id);
    const std::string other = test::mailgun_body(kSigningKey, "1700000000", token, kClicked);
    const Delivery forged(other, headers_, kNow);
    const Intake second =
        take_in(*find_vendor("mailgun"), forged, connection_, test::origin_of(connection_, kNow));
    ASSERT_TRUE(second.verdict.ok());
    ASSERT_TRUE(second.replay_guard);
    EXPECT_NE(second.replay_guard->fingerprint, intake.replay_guard->fingerprint);
}

}  // namespace
}  // namespace mailhook
