// SPDX-License-Identifier: BSD-2-Clause
// SMTP.com: Basic/Bearer credentials, or the configured HMAC scheme when the
// connection names a signature_header; the callback sample of vendors.md §3.
#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

// vendors.md §3 (kb.smtp.com), with the doc's "100500." typo read as
// "100500," and wrapped in the array SMTP.com always posts.
constexpr std::string_view kBounceSample = R"([{
"id": "f5a09b889153a22555af2de426dac8cd",
"event_label": "bounce",
"sender_id": 100500,
"tracking_id": "42b36f27-184a-4d01-816e-601ebe4e6163",
"mail_from": "sender@smtp.com",
"rcpt_to": "sender@smtp.com",
"subject": "Email subject",
"time_started": 1608037665,
"time_finished": 1608037668,
"tries": 0,
"resp_code": 550,
"resp_class": 10,
"resp_msg": "5.9.1 <sender@smtp.com>: Recipient address rejected: User does not exist",
"cmpID": "SGkgTWljaGFlbAo=",
"userID": "123456",
"importantFlag": "yes"
}])";

Connection connection(FieldList fields) {
    return prepared_connection("smtpcom", std::move(fields));
}

Verdict verify(const Connection& conn, std::string_view body, const MapHeaders& headers) {
    return run_request(conn, body, headers).verdict;
}

TEST(SmtpComVerify, BasicAndBearerWithoutSignatureOption) {
    const Connection basic = connection({{"secret", "acme:s3cret"}});
    EXPECT_TRUE(verify(basic, kBounceSample,
                       {{"Authorization", basic_auth("acme:s3cret")}})
                    .ok());
    EXPECT_EQ(verify(basic, kBounceSample,
                     {{"Authorization", basic_auth("acme:wrong")}})
                  .rejection,
              Rejection::bad_credentials);
    EXPECT_EQ(verify(basic, kBounceSample, {}).rejection, Rejection::bad_credentials);

    const Connection bearer = connection({{"secret", "tok"}, {"secret_next", "tok2"}});
    EXPECT_TRUE(verify(bearer, kBounceSample, {{"Authorization", "Bearer tok"}}).ok());
    EXPECT_TRUE(verify(bearer, kBounceSample, {{"Authorization", "Bearer tok2"}}).ok());
    EXPECT_EQ(verify(bearer, kBounceSample, {{"Authorization", "Bearer tok3"}}).rejection,
              Rejection::bad_credentials);
}

TEST(SmtpComVerify, ConfiguredHmacWhenASignatureHeaderIsNamed) {
    const Connection conn = connection({{"secret", "k1"},
                                        {"secret_next", "k2"},
                                        {"signature_header", "X-SMTPCOM-Signature"},
                                        {"encoding", "base64"}});
    const auto signature = [](std::string_view key, std::string_view body) {
        return base64_encode(hmac(DigestAlgorithm::sha256, key, body));
    };
    EXPECT_TRUE(verify(conn, kBounceSample,
                       {{"X-SMTPCOM-Signature", signature("k1", kBounceSample)}})
                    .ok());
    EXPECT_TRUE(verify(conn, kBounceSample,
                       {{"X-SMTPCOM-Signature", signature("k2", kBounceSample)}})
                    .ok());
    EXPECT_EQ(verify(conn, kBounceSample,
                     {{"X-SMTPCOM-Signature", signature("k3", kBounceSample)}})
                  .rejection,
              Rejection::unauthenticated);
    const std::string tampered = std::string(kBounceSample) + "\n";
    EXPECT_EQ(verify(conn, tampered, {{"X-SMTPCOM-Signature", signature("k1", kBounceSample)}})
                  .rejection,
              Rejection::unauthenticated);
    // with a signature scheme, Authorization alone is not enough
    EXPECT_EQ(verify(conn, kBounceSample, {{"Authorization", "Bearer k1"}}).rejection,
              Rejection::unauthenticated);
}

std::vector<Event> parse(std::string_view body, Verdict* verdict = nullptr) {
    const Connection conn = connection({{"secret", "t"}});
    Outcome received = run_request(conn, body, {{"Authorization", "Bearer t"}});
    if (verdict) *verdict = received.verdict;
    EXPECT_TRUE(verdict || received.verdict.ok()) << received.verdict.reason;
    return std::move(received.events);
}


TEST(SmtpComParse, LabelsAndBounceClasses) {
    const struct {
        const char* item;
        EventType type;
        BounceClass bounce_class;
    } cases[] = {
        {R"({"id":"1","event_label":"received"})", EventType::queued, BounceClass::none},
        {R"({"id":"2","event_label":"delivered","resp_code":250})", EventType::delivered,
         BounceClass::none},
        {R"({"id":"3","event_label":"bounce","resp_code":"452"})", EventType::bounced,
         BounceClass::soft},
        {R"({"id":"4","event_label":"bounce"})", EventType::bounced,
         BounceClass::undetermined},
        {R"({"id":"5","event_label":"deferred","resp_code":421})", EventType::deferred,
         BounceClass::soft},
        {R"({"id":"6","event_label":"open"})", EventType::opened, BounceClass::none},
        {R"({"id":"7","event_label":"click"})", EventType::clicked, BounceClass::none},
        {R"({"id":"8","event_label":"complaint"})", EventType::complained, BounceClass::none},
        {R"({"id":"9","event_label":"spam"})", EventType::complained, BounceClass::none},
        {R"({"id":"10","event_label":"unsubscribe"})", EventType::unsubscribed,
         BounceClass::none},
        {R"({"id":"11","event_label":"something_new"})", EventType::unknown,
         BounceClass::none},
    };
    for (const auto& c : cases) {
        const auto events = parse("[" + std::string(c.item) + "]");
        ASSERT_EQ(events.size(), 1u) << c.item;
        EXPECT_EQ(events[0].type, c.type) << c.item;
        EXPECT_EQ(events[0].bounce_class, c.bounce_class) << c.item;
    }
}

TEST(SmtpComParse, BatchWithStartTimeOnlyAndNoId) {
    const auto events = parse(R"([
        {"id":"a","event_label":"delivered","rcpt_to":"a@example.com","time_started":1608037665},
        {"event_label":"open","rcpt_to":"b@example.com","url":"https://example.com/","user_agent":"UA","ip":"192.0.2.9"}])");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].timestamp, at_seconds(1608037665));
    EXPECT_EQ(events[0].metadata_json, "{}");
    EXPECT_EQ(events[1].dedup_key, "");  // take_in hashes the raw bytes
    EXPECT_EVENT(events[1], R"({
        "type": "opened", "bounce_class": null, "reject_reason": null,
        "recipient": "b@example.com", "message_id": null, "event_id": null,
        "timestamp": null, "smtp_status": null, "mta_response": null,
        "description": null, "click_url": "https://example.com/",
        "user_agent": "UA", "ip": "192.0.2.9", "campaign_id": null, "tags": [],
        "metadata": {}, "vendor_event": "open"})");
}

TEST(SmtpComParse, RefusesWhatIsNotAnArrayOfObjects) {
    for (const char* body : {R"({"id":"x","event_label":"open"})", "[1]", "[", ""}) {
        Verdict verdict;
        parse(body, &verdict);
        EXPECT_EQ(verdict.rejection, Rejection::malformed) << body;
    }
}

}  // namespace
}  // namespace mailhook::test
