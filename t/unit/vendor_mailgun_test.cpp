// SPDX-License-Identifier: BSD-2-Clause
// Mailgun beyond the documented samples (those are conformance cases,
// t/conformance/mailgun/): failure reasons, missing fields, the replay
// guard, legacy form webhooks and the signed string's shape (L6).
#include <gtest/gtest.h>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

constexpr const char* kSigningKey = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
const std::string kToken = "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6";

class MailgunNormalize : public ::testing::Test {
  protected:
    Connection connection_ = prepared_connection("mailgun", {{"secret", kSigningKey}});
    MapHeaders headers_{{"Content-Type", "application/json"}};

    Outcome run(const std::string& event_data, const std::string& token = kToken) {
        return run_request(connection_,
                           mailgun_body(kSigningKey, "1700000000", token, event_data),
                           headers_);
    }

    Event one(const std::string& event_data) {
        const Outcome outcome = run(event_data);
        EXPECT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
        EXPECT_EQ(outcome.events.size(), 1u);
        return outcome.events.empty() ? Event{} : outcome.events[0];
    }

    // A legacy webhook: form fields, the signature among them.
    Outcome legacy(const std::string& fields, const std::string& timestamp = "1700000000",
                   const std::string& token = kToken) {
        const std::string body = fields + "&timestamp=" + timestamp + "&token=" + token +
                                 "&signature=" +
                                 mailgun_signature(kSigningKey, timestamp, token);
        return run_request(connection_, body,
                           MapHeaders{{"Content-Type", "application/x-www-form-urlencoded"}});
    }
};

const std::string kOpened =
    R"({"event":"opened","id":"-laxIqj9QWubsjY_3pTq_g","timestamp":1377047343.042277,"recipient":"recipient@example.com","message":{"headers":{"message-id":"20130821005614.19826.35976@samples.mailgun.org"}}})";
const std::string kClicked =
    R"({"event":"clicked","id":"G5zMz2ysS6OxZ2C8xb2Tqg","timestamp":1377075564.094891,"recipient":"recipient@example.com","url":"http://example.com/signup"})";

TEST_F(MailgunNormalize, FailureReasons) {
    struct Case {
        const char* fields;
        const char* type;
        const char* bounce_class;
        const char* reason;
    };
    const Case cases[] = {
        {R"("severity":"permanent","reason":"suppress-bounce")", "rejected", "", "bounced"},
        {R"("severity":"permanent","reason":"suppress-unsubscribe")", "rejected", "", "unsubscribed"},
        {R"("severity":"permanent","reason":"suppress-complaint")", "rejected", "", "spam"},
        {R"("severity":"permanent","reason":"espblock")", "bounced", "block", "blocked"},
        {R"("severity":"permanent","reason":"bounce")", "bounced", "hard", "bounced"},
        {R"("severity":"permanent","reason":"generic")", "bounced", "hard", "bounced"},
        {R"("severity":"temporary","reason":"generic")", "deferred", "soft", "other"},
        {R"("reason":"generic")", "bounced", "undetermined", "bounced"},
    };
    for (const Case& c : cases) {
        const Event event =
            one(std::string(R"({"event":"failed","recipient":"a@b.c",)") + c.fields + "}");
        EXPECT_EQ(to_string(event.type), c.type) << c.fields;
        EXPECT_EQ(to_string(event.bounce_class), c.bounce_class) << c.fields;
        EXPECT_EQ(to_string(event.reject_reason), c.reason) << c.fields;
    }
}

TEST_F(MailgunNormalize, TagsCampaignsAndUserVariables) {
    const Event event = one(
        R"({"event":"delivered","id":"d-1","timestamp":1700000000,"recipient":"a@example.com",)"
        R"("tags":["newsletter","2024"],"campaigns":[{"id":"spring-sale","name":"Spring"}],)"
        R"("user-variables":{"user_id":"43","plan":"pro"},)"
        R"("delivery-status":{"code":250,"message":"OK","description":"","enhanced-code":"2.0.0"}})");
    EXPECT_EQ(event.tags, (std::vector<std::string>{"newsletter", "2024"}));
    EXPECT_EQ(event.campaign_id, "spring-sale");
    expect_json_equal(event.metadata_json, R"({"user_id":"43","plan":"pro"})", "metadata");
    EXPECT_EQ(event.smtp_status, "2.0.0");
    EXPECT_EQ(event.mta_response, "OK");
    EXPECT_EQ(event.description, std::nullopt);
    EXPECT_EQ(event.dedup_key, "mg:d-1@1700000000");
}

TEST_F(MailgunNormalize, MissingFieldsStayAbsent) {
    const std::string data = R"({"event":"delivered","recipient":"a@example.com"})";
    EXPECT_EVENT(one(data), with_raw(R"({
        "type": "delivered", "bounce_class": null, "reject_reason": null,
        "recipient": "a@example.com", "message_id": null, "event_id": null,
        "timestamp": null, "smtp_status": null, "mta_response": null,
        "description": null, "click_url": null, "user_agent": null, "ip": null,
        "campaign_id": null, "tags": [], "metadata": {}, "vendor_event": "delivered"})",
                                     data, ""));
}

TEST_F(MailgunNormalize, RejectedTakesTheRecipientFromTheToHeader) {
    EXPECT_EQ(one(R"({"event":"rejected","message":{"headers":{"to":"Joan <joan@example.org>"}}})")
                  .recipient,
              "joan@example.org");
    // A list of addresses names no one recipient.
    EXPECT_EQ(one(R"({"event":"rejected","message":{"headers":{"to":"a@b.c, d@e.f"}}})")
                  .recipient,
              "");
}

TEST_F(MailgunNormalize, UnknownEventsStayUnknown) {
    EXPECT_EQ(one(R"({"event":"stored","recipient":"a@b.c"})").type, EventType::unknown);
    EXPECT_EQ(one(R"({"event":"list_member_uploaded"})").type, EventType::unknown);
}

TEST_F(MailgunNormalize, EventDataMustBeAnObject) {
    EXPECT_EQ(run("[]").verdict.rejection, Rejection::malformed);
    EXPECT_EQ(run("\"opened\"").verdict.rejection, Rejection::malformed);
    EXPECT_EQ(run("null").verdict.rejection, Rejection::malformed);
}

TEST_F(MailgunNormalize, ReplayGuardCarriesTheTokenAndTheEventId) {
    const std::string token(50, 'q');
    const Outcome first = run(kOpened, token);
    ASSERT_TRUE(first.verdict.ok()) << first.verdict.reason;
    ASSERT_EQ(first.size(), 1u);
    ASSERT_TRUE(first.replay_guard);
    EXPECT_EQ(first.replay_guard->token, token);
    // The token is bound to what it carried: a retry of the same event has
    // the same fingerprint, another event under the same token does not.
    EXPECT_EQ(first.replay_guard->fingerprint,
              json_string_value(json_object_get(first.event(0), "id")));
    const Outcome forged = run(kClicked, token);
    ASSERT_TRUE(forged.verdict.ok());
    ASSERT_TRUE(forged.replay_guard);
    EXPECT_NE(forged.replay_guard->fingerprint, first.replay_guard->fingerprint);
}

// L6: timestamp + token is signed with nothing between them, so a digit
// moved from one to the other keeps the signature. A 10-digit timestamp
// and an alphanumeric token leave one way to split the string.
TEST_F(MailgunNormalize, L6SignedStringIsUnambiguous) {
    const std::string timestamp = "1700000000";
    const std::string token = "7" + std::string(49, 'a');
    const std::string genuine = mailgun_signature(kSigningKey, timestamp, token);
    const auto body = [&](const std::string& ts, const std::string& tok) {
        return R"({"signature":{"timestamp":")" + ts + R"(","token":")" + tok +
               R"(","signature":")" + genuine + R"("},"event-data":)" + kOpened + "}";
    };
    EXPECT_TRUE(run_request(connection_, body(timestamp, token), headers_).verdict.ok());
    // The same bytes split differently: 11-digit timestamp, shorter token.
    const Outcome moved = run_request(connection_, body(timestamp + "7", token.substr(1)), headers_);
    EXPECT_EQ(moved.verdict.rejection, Rejection::stale_timestamp);
    EXPECT_NE(moved.verdict.reason.find("10 digits"), std::string::npos) << moved.verdict.reason;
    EXPECT_EQ(moved.size(), 0u);
    const std::tuple<std::string, std::string, Rejection> shapes[] = {
        {"170000000", "x", Rejection::stale_timestamp},
        {"17000000001", "x", Rejection::stale_timestamp},
        {"17000000ab", "x", Rejection::stale_timestamp},
        {"1700000000", "a-b", Rejection::unauthenticated},
        {"1700000000", "", Rejection::unauthenticated},
    };
    for (const auto& [ts, tok, rejection] : shapes) {
        const std::string signature = mailgun_signature(kSigningKey, ts, tok);
        const std::string signed_body = R"({"signature":{"timestamp":")" + ts +
                                        R"(","token":")" + tok + R"(","signature":")" +
                                        signature + R"("},"event-data":)" + kOpened + "}";
        EXPECT_EQ(run_request(connection_, signed_body, headers_).verdict.rejection, rejection)
            << ts << " / " << tok;
    }
}

TEST_F(MailgunNormalize, LegacyFormWebhook) {
    const Outcome outcome = legacy(
        "event=bounced&recipient=alice%40example.com&domain=example.com&code=550"
        "&error=5.1.1+No+such+user&notification=Detailed+reason&tag=news&tag=2024"
        "&my-var=42&Message-Id=%3Cm1%40example.com%3E");
    ASSERT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.events[0], R"({
        "type": "bounced", "bounce_class": "hard", "reject_reason": "bounced",
        "recipient": "alice@example.com", "message_id": "<m1@example.com>",
        "event_id": null, "timestamp": "2023-11-14T22:13:20Z", "smtp_status": "5.1.1",
        "mta_response": "5.1.1 No such user", "description": "Detailed reason",
        "click_url": null, "user_agent": null, "ip": null, "campaign_id": null,
        "tags": ["news", "2024"], "metadata": {"my-var": "42"}, "vendor_event": "bounced",
        "raw": {"event": "bounced", "recipient": "alice@example.com",
                "domain": "example.com", "code": "550", "error": "5.1.1 No such user",
                "notification": "Detailed reason", "tag": "news", "my-var": "42",
                "Message-Id": "<m1@example.com>"},
        "dedup_key": ""})");
    ASSERT_TRUE(outcome.replay_guard);
    EXPECT_EQ(outcome.replay_guard->token, kToken);
}

TEST_F(MailgunNormalize, LegacyRetryIsTheSameEvent) {
    const std::string fields = "event=delivered&recipient=alice%40example.com";
    const Outcome first = legacy(fields, "1700000000", kToken);
    const Outcome retry = legacy(fields, "1700000100", std::string(50, 'r'));
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(retry.size(), 1u);
    EXPECT_TRUE(json_equal(json_object_get(first.event(0), "id"),
                           json_object_get(retry.event(0), "id")));
}

TEST_F(MailgunNormalize, LegacyFormIsVerified) {
    const std::string fields = "event=delivered&recipient=alice%40example.com";
    const Outcome forged = run_request(
        connection_,
        fields + "&timestamp=1700000000&token=" + kToken + "&signature=" + std::string(64, '0'),
        MapHeaders{{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(forged.verdict.rejection, Rejection::unauthenticated);
    const Outcome unsigned_form = run_request(
        connection_, fields, MapHeaders{{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(unsigned_form.verdict.rejection, Rejection::unauthenticated);
    const Outcome stale = legacy(fields, "1600000000");
    EXPECT_EQ(stale.verdict.rejection, Rejection::stale_timestamp);
    EXPECT_EQ(legacy("%zz").verdict.rejection, Rejection::malformed);
}

TEST_F(MailgunNormalize, LegacyMultipartFormWebhook) {
    const std::string boundary = "b0undary";
    const auto part = [&](const std::string& name, const std::string& value,
                          const std::string& extra = "") {
        return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name +
               "\"" + extra + "\r\n\r\n" + value + "\r\n";
    };
    const std::string body =
        part("event", "complained") + part("recipient", "alice@example.com") +
        part("attachment-1", "the complaint report", "; filename=\"report.eml\"") +
        part("timestamp", "1700000000") + part("token", kToken) +
        part("signature", mailgun_signature(kSigningKey, "1700000000", kToken)) + "--" +
        boundary + "--\r\n";
    const Outcome outcome = run_request(
        connection_, body,
        MapHeaders{{"Content-Type", "multipart/form-data; boundary=" + boundary}});
    ASSERT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
    ASSERT_EQ(outcome.events.size(), 1u);
    EXPECT_EQ(outcome.events[0].type, EventType::complained);
    EXPECT_EQ(outcome.events[0].recipient, "alice@example.com");
    // Attachments are not part of the event.
    EXPECT_TRUE(raw_equals(outcome.events[0],
                           R"({"event":"complained","recipient":"alice@example.com"})"));
}

TEST_F(MailgunNormalize, LegacyFormHasAFieldBudgetBeforeAuthentication) {
    std::string fields = "event=delivered";
    for (int i = 0; i < 600; ++i) fields += "&f" + std::to_string(i) + "=1";
    const Outcome outcome = legacy(fields);
    EXPECT_EQ(outcome.verdict.rejection, Rejection::too_large);
    EXPECT_NE(outcome.verdict.reason.find("form fields"), std::string::npos);
}

}  // namespace
}  // namespace mailhook::test
