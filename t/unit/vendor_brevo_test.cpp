// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/vendors/vendors.hpp"
#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

const Vendor& brevo() { return brevo_vendor(); }

Connection connection() { return prepared_connection(brevo(), {"brevo:pa55"}); }

Outcome post(std::string_view body) {
    return run_request(connection(), body,
                       MapHeaders{{"Authorization", basic_auth("brevo:pa55")},
                                  {"Content-Type", "application/json"}});
}

// No event id: the hash of the event's bytes as the vendor sent them.
std::string content_key(std::string_view item) {
    return content_dedup_key(trim_ascii(item));
}

// The event Brevo's developer guide shows for a delivered transactional
// email ("Send transactional emails" guide, webhooks step); vendors.md §13
// lists the same fields. Its ts_event differs from ts/ts_epoch in the guide.
constexpr std::string_view kGuideDelivered = R"({
  "event": "delivered",
  "email": "example@example.com",
  "id": 26224,
  "date": "YYYY-MM-DD HH:mm:ss",
  "ts": 1598634509,
  "message-id": "<xxxxxxxxxxxx.xxxxxxxxx@domain.com>",
  "ts_event": 1598034509,
  "subject": "Subject Line",
  "tag": "[\"transactionalTag\"]",
  "sending_ip": "185.41.28.109",
  "ts_epoch": 1598634509223,
  "tags": [
    "myFirstTransactional"
  ]
})";

// The fields of vendors.md §13 on a hard bounce, with the sender's custom
// header holding JSON.
constexpr std::string_view kHardBounce = R"({"event":"hard_bounce","email":"gone@example.com","id":26224,"date":"2020-10-09 02:00:00","ts":1602201600,"message-id":"<202010090000.1234@smtp-relay.mailin.fr>","ts_event":1602201600,"subject":"Welcome","X-Mailin-custom":"{\"user_id\":42,\"plan\":\"pro\"}","sending_ip":"185.41.28.109","template_id":12,"tags":["welcome"],"reason":"550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown","ts_epoch":1602201600456})";

constexpr std::string_view kClick = R"({"event":"click","email":"reader@example.com","id":26224,"date":"2020-10-09 02:05:00","ts":1602201900,"message-id":"<202010090000.1234@smtp-relay.mailin.fr>","ts_event":1602201900,"subject":"Welcome","X-Mailin-custom":"order-17|eu","sending_ip":"185.41.28.109","template_id":12,"tags":["welcome","onboarding"],"link":"https://example.com/start","ts_epoch":1602201900789})";

TEST(BrevoVerify, AcceptsBasicOrBearerCredentials) {
    EXPECT_TRUE(post(kGuideDelivered).verdict.ok());
    const Connection token = prepared_connection(brevo(), {"brevo-token-1"});
    const MapHeaders bearer{{"Authorization", "Bearer brevo-token-1"}};
    EXPECT_TRUE(run_request(token, kGuideDelivered, bearer).verdict.ok());
}

TEST(BrevoVerify, RefusesWrongOrMissingCredentials) {
    for (const MapHeaders& headers :
         {MapHeaders{{"Authorization", basic_auth("brevo:wrong")}},
          MapHeaders{{"Authorization", "Bearer brevo-token-1"}},
          MapHeaders{{"Authorization", "Basic"}}, MapHeaders{}}) {
        const Outcome outcome =
            run_request(connection(), kGuideDelivered, headers);
        EXPECT_EQ(outcome.verdict.rejection, Rejection::bad_credentials);
        EXPECT_EQ(outcome.size(), 0u);
    }
}

TEST(BrevoVerify, EitherSecretOfARotationPasses) {
    const Connection rotating = prepared_connection(brevo(), {"old-token", "new-token"});
    for (const char* token : {"old-token", "new-token"}) {
        const MapHeaders headers{{"Authorization", std::string("Bearer ") + token}};
        EXPECT_TRUE(run_request(rotating, kGuideDelivered, headers).verdict.ok());
    }
}



TEST(BrevoParse, ClickWithPlainCustomHeader) {
    const Outcome outcome = post(kClick);
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"({
        "type": "clicked", "bounce_class": null, "reject_reason": null,
        "recipient": "reader@example.com",
        "message_id": "<202010090000.1234@smtp-relay.mailin.fr>", "event_id": null,
        "timestamp": "2020-10-09T00:05:00Z", "smtp_status": null,
        "mta_response": null, "description": null,
        "click_url": "https://example.com/start", "user_agent": null, "ip": null,
        "campaign_id": null, "tags": ["welcome", "onboarding"],
        "metadata": {"X-Mailin-custom": "order-17|eu"}, "vendor_event": "click"})",
                                       kClick, content_key(kClick)));
}

struct EventCase {
    const char* name;
    const char* type;
    const char* bounce_class;  // "" for null
    const char* reject_reason;
};

TEST(BrevoParse, EventTable) {
    const EventCase cases[] = {
        {"request", "queued", "", ""},
        {"sent", "sent", "", ""},
        {"delivered", "delivered", "", ""},
        {"deferred", "deferred", "soft", "other"},
        {"soft_bounce", "bounced", "soft", "bounced"},
        {"hard_bounce", "bounced", "hard", "bounced"},
        {"blocked", "rejected", "", "blocked"},
        {"invalid_email", "bounced", "hard", "invalid"},
        {"invalid", "bounced", "hard", "invalid"},
        {"error", "failed", "", ""},
        {"spam", "complained", "", "spam"},
        {"complaint", "complained", "", "spam"},
        {"opened", "opened", "", ""},
        {"open", "opened", "", ""},
        {"unique_opened", "opened", "", ""},
        {"proxy_open", "opened", "", ""},
        {"unique_proxy_open", "opened", "", ""},
        {"click", "clicked", "", ""},
        {"unsubscribed", "unsubscribed", "", "unsubscribed"},
        {"unsubscribe", "unsubscribed", "", "unsubscribed"},
        // a marketing event: adding to a list is no resubscribe
        {"list_addition", "unknown", "", ""},
    };
    for (const EventCase& c : cases) {
        const std::string body = std::string(R"({"event":")") + c.name +
                                 R"(","email":"a@example.com","ts_event":1602201600})";
        const Outcome outcome = post(body);
        ASSERT_EQ(outcome.size(), 1u) << c.name;
        const json_t* event = outcome.event(0);
        EXPECT_STREQ(json_string_value(json_object_get(event, "type")), c.type) << c.name;
        EXPECT_STREQ(json_string_value(json_object_get(event, "vendor_event")), c.name);
        const json_t* bounce_class = json_object_get(event, "bounce_class");
        EXPECT_STREQ(json_is_null(bounce_class) ? "" : json_string_value(bounce_class),
                     c.bounce_class)
            << c.name;
        const json_t* reject = json_object_get(event, "reject_reason");
        EXPECT_STREQ(json_is_null(reject) ? "" : json_string_value(reject),
                     c.reject_reason)
            << c.name;
    }
}

TEST(BrevoParse, EventTimeFromMillisecondsThenSeconds) {
    const auto timestamp = [](const std::string& body) {
        const Outcome outcome = post(body);
        EXPECT_EQ(outcome.size(), 1u) << body;
        return std::string(json_string_value(json_object_get(outcome.event(0), "timestamp")));
    };
    EXPECT_EQ(timestamp(R"({"event":"opened","ts_epoch":1602201600999,"ts_event":1,"ts":2})"),
              "2020-10-09T00:00:00Z");
    EXPECT_EQ(timestamp(R"({"event":"opened","ts_epoch":"1602201661000"})"),
              "2020-10-09T00:01:01Z");
    EXPECT_EQ(timestamp(R"({"event":"opened","ts_event":1602201720,"ts":2})"),
              "2020-10-09T00:02:00Z");
    EXPECT_EQ(timestamp(R"({"event":"opened","ts":1602201780})"), "2020-10-09T00:03:00Z");
    // `date` is Brevo-local time without a zone: never read, so the
    // receive time stands in.
    EXPECT_EQ(timestamp(R"({"event":"opened","date":"2020-10-09 02:04:00"})"),
              "2023-11-14T22:13:20Z");
}

TEST(BrevoParse, BatchedArray) {
    const std::string body = "[" + std::string(kHardBounce) + "," + std::string(kClick) + "]";
    const Outcome outcome = post(body);
    ASSERT_TRUE(outcome.verdict.ok());
    ASSERT_EQ(outcome.size(), 2u);
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(0), "type")), "bounced");
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(1), "type")), "clicked");
    // the same ids as when sent one by one
    EXPECT_TRUE(json_equal(json_object_get(outcome.event(1), "id"),
                           json_object_get(post(kClick).event(0), "id")));
    EXPECT_EQ(post("[]").size(), 0u);
}

TEST(BrevoParse, RefusesWhatIsNotABrevoEvent) {
    for (const char* body : {"", "nope", R"("delivered")", R"({"email":"a@example.com"})",
                             R"({"event":7})", R"([{"event":7},3])"}) {
        const Outcome outcome = post(body);
        EXPECT_EQ(outcome.verdict.rejection, Rejection::malformed) << body;
        EXPECT_EQ(outcome.size(), 0u);
    }
}

}  // namespace
}  // namespace mailhook::test
