// SPDX-License-Identifier: BSD-2-Clause
// SparkPost: Basic / Bearer / legacy-token authentication and the
// normalizer against SparkPost's sample events (vendors.md §2.4, from
// SparkPost/gosparkpost events/events.json; SMS fields left out).
#include "vendor_test_support.hpp"

namespace mailhook::test {
namespace {

constexpr std::string_view kPing = R"([{"msys":{}}])";

Connection connection(FieldList fields) {
    return ready_connection("sparkpost", std::move(fields));
}

Verdict verify(const Connection& conn, const MapHeaders& headers) {
    return receive("sparkpost", conn, kPing, headers).verdict;
}

TEST(SparkPostVerify, BasicCredentials) {
    const Connection conn = connection({{"secret", "hook:pa55"}});
    EXPECT_TRUE(verify(conn, {{"Authorization", basic_credentials("hook:pa55")}}).ok());
    EXPECT_EQ(verify(conn, {{"Authorization", basic_credentials("hook:wrong")}}).rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(verify(conn, {{"Authorization", basic_credentials("other:pa55")}}).rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(verify(conn, {}).rejection, Rejection::bad_credentials);
    EXPECT_EQ(verify(conn, {{"Authorization", "Basic"}}).rejection,
              Rejection::bad_credentials);
}

TEST(SparkPostVerify, BearerAndLegacyToken) {
    const Connection conn = connection({{"secret", "tok-123"}});
    EXPECT_TRUE(verify(conn, {{"Authorization", "Bearer tok-123"}}).ok());
    EXPECT_TRUE(verify(conn, {{"X-MessageSystems-Webhook-Token", "tok-123"}}).ok());
    EXPECT_EQ(verify(conn, {{"Authorization", "Bearer tok-124"}}).rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(verify(conn, {{"X-MessageSystems-Webhook-Token", "tok-12"}}).rejection,
              Rejection::bad_credentials);
    // either credential sent may be the one that matches
    EXPECT_TRUE(verify(conn, {{"Authorization", "Bearer stale"},
                              {"X-MessageSystems-Webhook-Token", "tok-123"}})
                    .ok());
    EXPECT_EQ(verify(conn, {{"Authorization", "Bearer stale"},
                            {"X-MessageSystems-Webhook-Token", "stale"}})
                  .rejection,
              Rejection::bad_credentials);
}

TEST(SparkPostVerify, EitherSecretOfARotationVerifies) {
    const Connection conn = connection({{"secret", "hook:old"}, {"secret_next", "hook:new"}});
    EXPECT_TRUE(verify(conn, {{"Authorization", basic_credentials("hook:old")}}).ok());
    EXPECT_TRUE(verify(conn, {{"Authorization", basic_credentials("hook:new")}}).ok());
    EXPECT_EQ(verify(conn, {{"Authorization", basic_credentials("hook:newer")}}).rejection,
              Rejection::bad_credentials);
}

TEST(SparkPostVerify, AuthOptionPinsOneScheme) {
    const Connection basic = connection({{"secret", "tok"}, {"auth", "basic"}});
    EXPECT_EQ(verify(basic, {{"Authorization", "Bearer tok"}}).rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(verify(basic, {{"X-MessageSystems-Webhook-Token", "tok"}}).rejection,
              Rejection::bad_credentials);
    EXPECT_TRUE(verify(basic, {{"Authorization", basic_credentials("tok")}}).ok());

    const Connection bearer = connection({{"secret", "tok"}, {"auth", "bearer"}});
    EXPECT_TRUE(verify(bearer, {{"Authorization", "Bearer tok"}}).ok());
    EXPECT_EQ(verify(bearer, {{"Authorization", basic_credentials("tok")}}).rejection,
              Rejection::bad_credentials);

    const Connection token = connection({{"secret", "tok"}, {"auth", "token"}});
    EXPECT_TRUE(verify(token, {{"X-MessageSystems-Webhook-Token", "tok"}}).ok());
    EXPECT_EQ(verify(token, {{"Authorization", "Bearer tok"}}).rejection,
              Rejection::bad_credentials);
}

TEST(SparkPostPrepare, RefusesUnknownAuthAndMissingSecret) {
    EXPECT_EQ(prepare_connection("sparkpost", {{"secret", "s"}, {"auth", "oauth"}})
                  .verdict.rejection,
              Rejection::misconfigured);
    EXPECT_EQ(prepare_connection("sparkpost", {}).verdict.rejection,
              Rejection::misconfigured);
}

std::vector<Event> parse(std::string_view body, Verdict* verdict = nullptr) {
    const Connection conn = connection({{"secret", "t"}});
    Received received =
        receive("sparkpost", conn, body, {{"X-MessageSystems-Webhook-Token", "t"}});
    if (verdict) *verdict = received.verdict;
    EXPECT_TRUE(verdict || received.verdict.ok()) << received.verdict.reason;
    return std::move(received.events);
}

TEST(SparkPostParse, ValidationPingYieldsNoEvent) {
    Verdict verdict;
    EXPECT_TRUE(parse(kPing, &verdict).empty());
    EXPECT_TRUE(verdict.ok());
    EXPECT_TRUE(parse("[]").empty());
}

TEST(SparkPostParse, RefusesOtherShapes) {
    for (const char* body : {"{\"msys\":{}}", "[{}]", R"([{"msys":[]}])",
                             R"([{"msys":{"message_event":"x"}}])", "[1]", "nope"}) {
        Verdict verdict;
        parse(body, &verdict);
        EXPECT_EQ(verdict.rejection, Rejection::malformed) << body;
    }
}

// vendors.md §2.4, verbatim.
constexpr std::string_view kBounceSample = R"([{"msys":{"message_event":{"type":"bounce","bounce_class":"1","campaign_id":"Example Campaign Name","customer_id":"1","delv_method":"esmtp","device_token":"45c19189783f867973f6e6a5cca60061ffe4fa77c547150563a1192fa9847f8a","error_code":"554","event_id":"92356927693813856","friendly_from":"sender@example.com","ip_address":"127.0.0.1","message_id":"0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e","msg_from":"sender@example.com","msg_size":"1337","num_retries":"2","rcpt_meta":{"customKey":"customValue"},"rcpt_tags":["male","US"],"rcpt_to":"recipient@example.com","raw_rcpt_to":"recipient@example.com","rcpt_type":"cc","raw_reason":"MAIL REFUSED - IP (17.99.99.99) is in black list","reason":"MAIL REFUSED - IP (a.b.c.d) is in black list","routing_domain":"example.com","subaccount_id":"101","subject":"Summer deals are here!","template_id":"templ-1234","template_version":"1","timestamp":1454442600,"transmission_id":"65832150921904138"}}}])";

TEST(SparkPostParse, BounceSample) {
    const auto events = parse(kBounceSample);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EVENT(events[0], R"({
        "type": "bounced", "bounce_class": "undetermined", "reject_reason": null,
        "recipient": "recipient@example.com",
        "message_id": "0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e",
        "event_id": "92356927693813856", "timestamp": "2016-02-02T19:50:00Z",
        "smtp_status": null,
        "mta_response": "MAIL REFUSED - IP (17.99.99.99) is in black list",
        "description": "MAIL REFUSED - IP (a.b.c.d) is in black list",
        "click_url": null, "user_agent": null, "ip": null,
        "campaign_id": "Example Campaign Name", "tags": ["male", "US"],
        "metadata": {"customKey": "customValue"}, "vendor_event": "bounce"})");
    EXPECT_EQ(events[0].dedup_key, "sp:92356927693813856");
    // raw is the whole element, event class included
    const JsonPtr sample = parse_json(kBounceSample);
    EXPECT_EQ(test::raw_text_of(events[0]), json_dump_compact(json_array_get(sample.get(), 0)));
}

TEST(SparkPostParse, ClickSample) {
    const auto events = parse(R"([{"msys":{"track_event":{"type":"click","campaign_id":"Example Campaign Name","customer_id":"1","delv_method":"esmtp","event_id":"92356927693813856","ip_address":"127.0.0.1","message_id":"0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e","rcpt_meta":{"customKey":"customValue"},"rcpt_tags":["male","US"],"rcpt_to":"recipient@example.com","raw_rcpt_to":"recipient@example.com","rcpt_type":"cc","subaccount_id":"101","target_link_name":"Example Link Name","target_link_url":"http://example.com","template_id":"templ-1234","template_version":"1","timestamp":1454442600,"transmission_id":"65832150921904138","user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2272.118 Safari/537.36","geo_ip":{"country":"US","region":"MD","city":"Columbia","latitude":"39.1749","longitude":"-76.8375"}}}}])");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EVENT(events[0], R"({
        "type": "clicked", "bounce_class": null, "reject_reason": null,
        "recipient": "recipient@example.com",
        "message_id": "0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e",
        "event_id": "92356927693813856", "timestamp": "2016-02-02T19:50:00Z",
        "smtp_status": null, "mta_response": null, "description": null,
        "click_url": "http://example.com",
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2272.118 Safari/537.36",
        "ip": "127.0.0.1", "campaign_id": "Example Campaign Name",
        "tags": ["male", "US"], "metadata": {"customKey": "customValue"},
        "vendor_event": "click"})");
}

TEST(SparkPostParse, SpamComplaintSample) {
    const auto events = parse(R"([{"msys":{"message_event":{"type":"spam_complaint","campaign_id":"Example Campaign Name","customer_id":"1","delv_method":"esmtp","event_id":"92356927693813856","fbtype":"abuse","friendly_from":"sender@example.com","message_id":"0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e","rcpt_meta":{"customKey":"customValue"},"rcpt_tags":["male","US"],"rcpt_to":"recipient@example.com","raw_rcpt_to":"recipient@example.com","rcpt_type":"cc","report_by":"server.email.com","report_to":"abuse.example.com","subaccount_id":"101","subject":"Summer deals are here!","template_id":"templ-1234","template_version":"1","timestamp":1454442600,"transmission_id":"65832150921904138","user_str":"Additional Example Information"}}}])");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EVENT(events[0], R"({
        "type": "complained", "bounce_class": null, "reject_reason": null,
        "recipient": "recipient@example.com",
        "message_id": "0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e",
        "event_id": "92356927693813856", "timestamp": "2016-02-02T19:50:00Z",
        "smtp_status": null, "mta_response": null, "description": null,
        "click_url": null, "user_agent": null, "ip": null,
        "campaign_id": "Example Campaign Name", "tags": ["male", "US"],
        "metadata": {"customKey": "customValue"}, "vendor_event": "spam_complaint"})");
}

TEST(SparkPostParse, ListUnsubscribeSample) {
    const auto events = parse(R"([{"msys":{"unsubscribe_event":{"type":"list_unsubscribe","campaign_id":"Example Campaign Name","customer_id":"1","event_id":"92356927693813856","friendly_from":"sender@example.com","mailfrom":"recipient@example.com","message_id":"0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e","rcpt_meta":{"customKey":"customValue"},"rcpt_tags":["male","US"],"rcpt_to":"recipient@example.com","raw_rcpt_to":"recipient@example.com","rcpt_type":"cc","subaccount_id":"101","template_id":"templ-1234","template_version":"1","timestamp":1454442600,"transmission_id":"65832150921904138"}}}])");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EVENT(events[0], R"({
        "type": "unsubscribed", "bounce_class": null, "reject_reason": null,
        "recipient": "recipient@example.com",
        "message_id": "0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e",
        "event_id": "92356927693813856", "timestamp": "2016-02-02T19:50:00Z",
        "smtp_status": null, "mta_response": null, "description": null,
        "click_url": null, "user_agent": null, "ip": null,
        "campaign_id": "Example Campaign Name", "tags": ["male", "US"],
        "metadata": {"customKey": "customValue"}, "vendor_event": "list_unsubscribe"})");
}

// The other event types of the same SDK sample batch, reduced to what
// decides their normalization.
TEST(SparkPostParse, OtherSampleTypes) {
    const struct {
        const char* element;
        EventType type;
        BounceClass bounce_class;
        RejectReason reject_reason;
    } cases[] = {
        {R"({"msys":{"message_event":{"type":"delivery","event_id":"1"}}})",
         EventType::delivered, BounceClass::none, RejectReason::none},
        {R"({"msys":{"message_event":{"type":"injection","event_id":"2"}}})",
         EventType::queued, BounceClass::none, RejectReason::none},
        {R"({"msys":{"message_event":{"type":"delay","bounce_class":"1","event_id":"3"}}})",
         EventType::deferred, BounceClass::soft, RejectReason::none},
        {R"({"msys":{"message_event":{"type":"out_of_band","bounce_class":"10","event_id":"4"}}})",
         EventType::bounced, BounceClass::hard, RejectReason::none},
        {R"({"msys":{"message_event":{"type":"policy_rejection","event_id":"5"}}})",
         EventType::rejected, BounceClass::none, RejectReason::other},
        {R"({"msys":{"message_event":{"type":"policy_rejection","bounce_class":"25","event_id":"6"}}})",
         EventType::rejected, BounceClass::hard, RejectReason::blocked},
        {R"({"msys":{"gen_event":{"type":"generation_failure","event_id":"7"}}})",
         EventType::failed, BounceClass::none, RejectReason::none},
        {R"({"msys":{"gen_event":{"type":"generation_rejection","event_id":"8"}}})",
         EventType::rejected, BounceClass::none, RejectReason::other},
        {R"({"msys":{"track_event":{"type":"open","event_id":"9"}}})",
         EventType::opened, BounceClass::none, RejectReason::none},
        {R"({"msys":{"track_event":{"type":"initial_open","event_id":"10"}}})",
         EventType::opened, BounceClass::none, RejectReason::none},
        {R"({"msys":{"unsubscribe_event":{"type":"link_unsubscribe","event_id":"11"}}})",
         EventType::unsubscribed, BounceClass::none, RejectReason::none},
        {R"({"msys":{"relay_event":{"type":"relay_injection","event_id":"12"}}})",
         EventType::unknown, BounceClass::none, RejectReason::none},
        {R"({"msys":{"message_event":{"type":"sms_status"}}})",
         EventType::unknown, BounceClass::none, RejectReason::none},
    };
    for (const auto& c : cases) {
        const auto events = parse("[" + std::string(c.element) + "]");
        ASSERT_EQ(events.size(), 1u) << c.element;
        EXPECT_EQ(events[0].type, c.type) << c.element;
        EXPECT_EQ(events[0].bounce_class, c.bounce_class) << c.element;
        EXPECT_EQ(events[0].reject_reason, c.reject_reason) << c.element;
    }
}

TEST(SparkPostParse, BounceClassTable) {
    const struct {
        const char* code;
        BounceClass bounce_class;
    } cases[] = {
        {"1", BounceClass::undetermined}, {"10", BounceClass::hard},
        {"20", BounceClass::soft},        {"21", BounceClass::soft},
        {"22", BounceClass::soft},        {"23", BounceClass::soft},
        {"24", BounceClass::soft},        {"25", BounceClass::hard},
        {"30", BounceClass::hard},        {"40", BounceClass::soft},
        {"50", BounceClass::block},       {"51", BounceClass::block},
        {"52", BounceClass::block},       {"53", BounceClass::block},
        {"54", BounceClass::block},       {"60", BounceClass::soft},
        {"70", BounceClass::soft},        {"80", BounceClass::undetermined},
        {"90", BounceClass::hard},        {"100", BounceClass::soft},
        {"999", BounceClass::undetermined},
    };
    for (const auto& c : cases) {
        const auto events =
            parse(std::string(R"([{"msys":{"message_event":{"type":"bounce","bounce_class":")") +
                  c.code + "\"}}}]");
        ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0].bounce_class, c.bounce_class) << c.code;
    }
    // a number instead of a string, and no class at all
    EXPECT_EQ(parse(R"([{"msys":{"message_event":{"type":"bounce","bounce_class":10}}}])")[0]
                  .bounce_class,
              BounceClass::hard);
    EXPECT_EQ(parse(R"([{"msys":{"message_event":{"type":"bounce"}}}])")[0].bounce_class,
              BounceClass::undetermined);
}

TEST(SparkPostParse, TimestampForms) {
    const auto events = parse(R"([
        {"msys":{"message_event":{"type":"delivery","event_id":"a","timestamp":1464824548}}},
        {"msys":{"message_event":{"type":"delivery","event_id":"b","timestamp":"1464824548"}}},
        {"msys":{"message_event":{"type":"delivery","event_id":"c","timestamp":"2016-06-01T23:42:28.000+00:00"}}},
        {"msys":{"message_event":{"type":"delivery","event_id":"d"}}}])");
    ASSERT_EQ(events.size(), 4u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(events[i].timestamp, at_seconds(1464824548)) << i;
    }
    EXPECT_FALSE(events[3].timestamp);
    EXPECT_EQ(events[3].dedup_key, "sp:d");
}

TEST(SparkPostParse, ABatchKeepsItsOrderAndSkipsPings) {
    const auto events = parse(R"([
        {"msys":{"message_event":{"type":"delivery","event_id":"1","rcpt_to":"a@example.com"}}},
        {"msys":{}},
        {"msys":{"track_event":{"type":"open","event_id":"2","rcpt_to":"b@example.com","ip_address":"192.0.2.7"}}}])");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].recipient, "a@example.com");
    EXPECT_FALSE(events[0].ip);
    EXPECT_EQ(events[1].recipient, "b@example.com");
    EXPECT_EQ(events[1].ip, "192.0.2.7");
}

}  // namespace
}  // namespace mailhook::test
