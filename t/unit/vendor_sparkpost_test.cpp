// SPDX-License-Identifier: BSD-2-Clause
// SparkPost: Basic / Bearer / legacy-token authentication and the
// normalizer against SparkPost's sample events (vendors.md §2.4, from
// SparkPost/gosparkpost events/events.json; SMS fields left out).
#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

constexpr std::string_view kPing = R"([{"msys":{}}])";

Connection connection(FieldList fields) {
    return prepared_connection("sparkpost", std::move(fields));
}

Verdict verify(const Connection& conn, const MapHeaders& headers) {
    return run_request(conn, kPing, headers).verdict;
}

TEST(SparkPostVerify, BasicCredentials) {
    const Connection conn = connection({{"secret", "hook:pa55"}});
    EXPECT_TRUE(verify(conn, {{"Authorization", basic_auth("hook:pa55")}}).ok());
    EXPECT_EQ(verify(conn, {{"Authorization", basic_auth("hook:wrong")}}).rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(verify(conn, {{"Authorization", basic_auth("other:pa55")}}).rejection,
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
    EXPECT_TRUE(verify(conn, {{"Authorization", basic_auth("hook:old")}}).ok());
    EXPECT_TRUE(verify(conn, {{"Authorization", basic_auth("hook:new")}}).ok());
    EXPECT_EQ(verify(conn, {{"Authorization", basic_auth("hook:newer")}}).rejection,
              Rejection::bad_credentials);
}

TEST(SparkPostVerify, AuthOptionPinsOneScheme) {
    const Connection basic = connection({{"secret", "tok"}, {"auth", "basic"}});
    EXPECT_EQ(verify(basic, {{"Authorization", "Bearer tok"}}).rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(verify(basic, {{"X-MessageSystems-Webhook-Token", "tok"}}).rejection,
              Rejection::bad_credentials);
    EXPECT_TRUE(verify(basic, {{"Authorization", basic_auth("tok")}}).ok());

    const Connection bearer = connection({{"secret", "tok"}, {"auth", "bearer"}});
    EXPECT_TRUE(verify(bearer, {{"Authorization", "Bearer tok"}}).ok());
    EXPECT_EQ(verify(bearer, {{"Authorization", basic_auth("tok")}}).rejection,
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
    Outcome received =
        run_request(conn, body, {{"X-MessageSystems-Webhook-Token", "t"}});
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



// A bounce's code decides its class and reason, and for the codes that are
// no failure (auto-reply, challenge, subscribe, unsubscribe, 70 "delayed")
// its type; a delay or a rejection only takes the reason.
TEST(SparkPostParse, BounceClassTable) {
    const struct {
        const char* code;
        EventType type;
        BounceClass bounce_class;
        RejectReason reason;
    } cases[] = {
        {"1", EventType::bounced, BounceClass::undetermined, RejectReason::other},
        {"10", EventType::bounced, BounceClass::hard, RejectReason::invalid},
        {"20", EventType::bounced, BounceClass::soft, RejectReason::bounced},
        {"24", EventType::bounced, BounceClass::soft, RejectReason::timed_out},
        {"25", EventType::bounced, BounceClass::hard, RejectReason::blocked},
        {"30", EventType::bounced, BounceClass::hard, RejectReason::bounced},
        {"40", EventType::bounced, BounceClass::soft, RejectReason::bounced},
        {"50", EventType::bounced, BounceClass::block, RejectReason::blocked},
        {"51", EventType::bounced, BounceClass::block, RejectReason::spam},
        {"53", EventType::bounced, BounceClass::block, RejectReason::other},
        {"60", EventType::autoresponded, BounceClass::none, RejectReason::none},
        {"70", EventType::deferred, BounceClass::soft, RejectReason::other},
        {"80", EventType::subscribed, BounceClass::none, RejectReason::none},
        {"90", EventType::unsubscribed, BounceClass::none, RejectReason::unsubscribed},
        {"100", EventType::autoresponded, BounceClass::none, RejectReason::none},
        {"999", EventType::bounced, BounceClass::undetermined, RejectReason::other},
    };
    for (const auto& c : cases) {
        const auto events =
            parse(std::string(R"([{"msys":{"message_event":{"type":"bounce","bounce_class":")") +
                  c.code + "\"}}}]");
        ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0].type, c.type) << c.code;
        EXPECT_EQ(events[0].bounce_class, c.bounce_class) << c.code;
        EXPECT_EQ(events[0].reject_reason, c.reason) << c.code;
    }
    const auto delay = parse(
        R"([{"msys":{"message_event":{"type":"delay","bounce_class":"21"}}}])");
    EXPECT_EQ(delay[0].type, EventType::deferred);
    EXPECT_EQ(delay[0].bounce_class, BounceClass::soft);
    EXPECT_EQ(delay[0].reject_reason, RejectReason::other);  // not "bounced"
    EXPECT_EQ(parse(R"([{"msys":{"message_event":{"type":"delay","bounce_class":"24"}}}])")[0]
                  .reject_reason,
              RejectReason::timed_out);
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
