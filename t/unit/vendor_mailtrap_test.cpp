// SPDX-License-Identifier: BSD-2-Clause
// Mailtrap: the Mailtrap-Signature header (hex HMAC-SHA256 of the body) over
// either payload format, JSON ({"events": [...]}) and JSON Lines; bounce
// categories; Audit Log events as control entries. Its documented samples
// are conformance cases (t/conformance/mailtrap/).
#include <gtest/gtest.h>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";

class MailtrapTest : public ::testing::Test {
  protected:
    Connection connection_ = prepared_connection("mailtrap", {{"secret", kSecret}});

    Outcome run(const std::string& body, std::string signature = "") {
        if (signature.empty()) signature = hex_encode(hmac(DigestAlgorithm::sha256, kSecret, body));
        const MapHeaders headers{{"Content-Type", "application/json"},
                                 {"Mailtrap-Signature", signature}};
        return run_request(connection_, body, headers);
    }
};

std::string event(const std::string& name, const std::string& extra = "") {
    return R"({"event":")" + name + R"(","timestamp":1728669700,"sending_stream":"transactional",)"
           R"("message_id":"m-1","email":"reader@example.net","event_id":"ev-)" + name + "\"" +
           extra + "}";
}

TEST_F(MailtrapTest, SignatureCoversTheRawBodyOfEitherFormat) {
    const std::string json = R"({"events":[)" + event("delivery") + "]}";
    const std::string lines = event("delivery") + "\n" + event("open") + "\n";
    EXPECT_TRUE(run(json).verdict.ok());
    EXPECT_TRUE(run(lines).verdict.ok());
    EXPECT_EQ(run(json, hex_encode(hmac(DigestAlgorithm::sha256, "other", json))).verdict.rejection,
              Rejection::unauthenticated);
    EXPECT_EQ(run(lines, hex_encode(hmac(DigestAlgorithm::sha256, kSecret, json))).verdict.rejection,
              Rejection::unauthenticated);
    const MapHeaders unsigned_headers{{"Content-Type", "application/json"}};
    EXPECT_EQ(run_request(connection_, json, unsigned_headers).verdict.rejection,
              Rejection::unauthenticated);
}

TEST_F(MailtrapTest, JsonLinesGiveOneEventPerLine) {
    const Outcome outcome =
        run(event("delivery") + "\r\n\n" + event("click", R"(,"url":"https://example.com/")") + "\n");
    ASSERT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
    ASSERT_EQ(outcome.events.size(), 2u);
    EXPECT_EQ(outcome.events[0].type, EventType::delivered);
    EXPECT_EQ(outcome.events[1].type, EventType::clicked);
    EXPECT_EQ(outcome.events[1].click_url, "https://example.com/");
    EXPECT_EQ(run(event("delivery") + "\n{\"event\":").verdict.rejection, Rejection::malformed);
}

TEST_F(MailtrapTest, BouncesTakeTheirReasonFromTheCategory) {
    const Outcome outcome = run(R"({"events":[)" +
        event("bounce", R"(,"response":"550 5.1.1 no such user","response_code":550,"bounce_category":"badrecipient")") +
        "," + event("soft bounce", R"(,"response":"4.7.1 Temporary error, please retry","bounce_category":"greylisting")") +
        "," + event("bounce", R"(,"bounce_category":"block")") + "]}");
    ASSERT_EQ(outcome.events.size(), 3u);
    const Event& hard = outcome.events[0];
    EXPECT_EQ(hard.type, EventType::bounced);
    EXPECT_EQ(hard.bounce_class, BounceClass::hard);
    EXPECT_EQ(hard.reject_reason, RejectReason::invalid);
    EXPECT_EQ(hard.smtp_status, "5.1.1");
    EXPECT_EQ(hard.mta_response, "550 5.1.1 no such user");
    EXPECT_EQ(hard.dedup_key, "mailtrap:ev-bounce");
    const Event& soft = outcome.events[1];
    EXPECT_EQ(soft.type, EventType::deferred);
    EXPECT_EQ(soft.bounce_class, BounceClass::soft);
    EXPECT_EQ(soft.reject_reason, RejectReason::other);
    EXPECT_EQ(soft.smtp_status, "4.7.1");
    EXPECT_EQ(outcome.events[2].bounce_class, BounceClass::block);
    EXPECT_EQ(outcome.events[2].reject_reason, RejectReason::blocked);
}

TEST_F(MailtrapTest, EveryDocumentedEvent) {
    const struct {
        const char* name;
        EventType expected;
    } cases[] = {{"delivery", EventType::delivered}, {"open", EventType::opened},
                 {"click", EventType::clicked},      {"unsubscribe", EventType::unsubscribed},
                 {"spam", EventType::complained},    {"soft bounce", EventType::deferred},
                 {"bounce", EventType::bounced},     {"suspension", EventType::deferred},
                 {"reject", EventType::rejected}};
    for (const auto& c : cases) {
        const Outcome outcome = run(R"({"events":[)" + event(c.name) + "]}");
        ASSERT_EQ(outcome.events.size(), 1u) << c.name;
        EXPECT_EQ(outcome.events[0].type, c.expected) << c.name;
    }
}

TEST_F(MailtrapTest, MetadataTagsAndAuditLog) {
    const Outcome outcome = run(R"({"events":[)" +
        event("open", R"(,"category":"Password reset","custom_variables":{"user_id":"123"},"ip":"127.0.0.1","user_agent":"UA")") +
        R"(,{"event":"activity_log.user.updated","description":"updated the user profile","actor":{"id":1,"type":"user","name":"Jack"},"timestamp":1735830138}]})");
    ASSERT_EQ(outcome.events.size(), 2u);
    EXPECT_EQ(outcome.events[0].tags, std::vector<std::string>{"Password reset"});
    EXPECT_EQ(outcome.events[0].metadata_json, R"({"user_id":"123"})");
    EXPECT_EQ(outcome.events[0].ip, "127.0.0.1");
    EXPECT_EQ(outcome.events[0].user_agent, "UA");
    EXPECT_TRUE(outcome.events[1].control);
    EXPECT_EQ(outcome.events[1].type, EventType::unknown);
}

TEST_F(MailtrapTest, MalformedBodies) {
    for (const std::string body : {"[]", "{}", "{\"events\":{}}", "\"x\"", ""}) {
        EXPECT_EQ(run(body).verdict.rejection, Rejection::malformed) << body;
    }
}

}  // namespace
}  // namespace mailhook::test
