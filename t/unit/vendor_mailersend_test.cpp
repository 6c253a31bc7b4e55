// SPDX-License-Identifier: BSD-2-Clause
// MailerSend: the Signature header (hex HMAC-SHA256 of the body), one event
// per request, morph reasons, control entries. Its documented samples are
// conformance cases (t/conformance/mailersend/).
#include <gtest/gtest.h>

#include <cctype>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

constexpr const char* kSecret = "ms-signing-secret";

class MailerSendTest : public ::testing::Test {
  protected:
    Connection connection_ = prepared_connection("mailersend", {{"secret", kSecret}});

    Outcome run(const std::string& body, std::string signature = "") {
        if (signature.empty()) signature = hex_encode(hmac(DigestAlgorithm::sha256, kSecret, body));
        const MapHeaders headers{{"Content-Type", "application/json"}, {"Signature", signature}};
        return run_request(connection_, body, headers);
    }
};

std::string activity(const std::string& type, const std::string& morph = "null") {
    return R"({"type":"activity.)" + type + R"(","created_at":"2023-02-27T21:09:49.520507Z",)"
           R"("data":{"object":"activity","id":"act-)" + type + R"(","type":")" + type +
           R"(","created_at":"2023-02-27T21:09:49.506000Z","email":{"object":"email",)"
           R"("id":"e1","tags":["welcome"],"message":{"object":"message","id":"msg-1"},)"
           R"("recipient":{"object":"recipient","email":"reader@example.net"}},"morph":)" +
           morph + "}}";
}

TEST_F(MailerSendTest, SignatureIsHexHmacOfTheBody) {
    const std::string body = activity("delivered");
    EXPECT_TRUE(run(body).verdict.ok());
    // Upper-case hex and base64 of the same HMAC pass too.
    const std::string mac = hmac(DigestAlgorithm::sha256, kSecret, body);
    std::string upper = hex_encode(mac);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(run(body, upper).verdict.ok());
    EXPECT_TRUE(run(body, base64_encode(mac)).verdict.ok());
    for (const std::string& wrong :
         {hex_encode(hmac(DigestAlgorithm::sha256, "other", body)), std::string("zz"),
          hex_encode(hmac(DigestAlgorithm::sha256, kSecret, body + " "))}) {
        EXPECT_EQ(run(body, wrong).verdict.rejection, Rejection::unauthenticated);
    }
    const MapHeaders unsigned_headers{{"Content-Type", "application/json"}};
    EXPECT_EQ(run_request(connection_, body, unsigned_headers).verdict.rejection,
              Rejection::unauthenticated);
}

TEST_F(MailerSendTest, ActivityFields) {
    const Outcome outcome = run(activity("hard_bounced",
        R"({"object":"recipient_bounce","reason":"550 5.1.1 Host or domain name not found",)"
        R"("readable_reason":"The address does not exist"})"));
    ASSERT_EQ(outcome.events.size(), 1u);
    const Event& event = outcome.events[0];
    EXPECT_EQ(event.type, EventType::bounced);
    EXPECT_EQ(event.bounce_class, BounceClass::hard);
    EXPECT_EQ(event.reject_reason, RejectReason::bounced);
    EXPECT_EQ(event.recipient, "reader@example.net");
    EXPECT_EQ(event.message_id, "msg-1");
    EXPECT_EQ(event.event_id, "act-hard_bounced");
    EXPECT_EQ(event.dedup_key, "mailersend:act-hard_bounced");
    EXPECT_EQ(event.mta_response, "550 5.1.1 Host or domain name not found");
    EXPECT_EQ(event.smtp_status, "5.1.1");
    EXPECT_EQ(event.description, "The address does not exist");
    EXPECT_EQ(event.tags, std::vector<std::string>{"welcome"});
    EXPECT_EQ(event.timestamp, parse_vendor_time("2023-02-27T21:09:49.506Z"));
}

TEST_F(MailerSendTest, EveryDocumentedActivity) {
    const struct {
        const char* type;
        EventType expected;
    } cases[] = {{"sent", EventType::sent},           {"delivered", EventType::delivered},
                 {"soft_bounced", EventType::bounced}, {"opened", EventType::opened},
                 {"opened_unique", EventType::opened}, {"clicked", EventType::clicked},
                 {"clicked_unique", EventType::clicked},
                 {"unsubscribed", EventType::unsubscribed},
                 {"spam_complaint", EventType::complained},
                 {"survey_opened", EventType::opened},
                 {"survey_submitted", EventType::replied}};
    for (const auto& c : cases) {
        const Outcome outcome = run(activity(c.type));
        ASSERT_EQ(outcome.events.size(), 1u) << c.type;
        EXPECT_EQ(outcome.events[0].type, c.expected) << c.type;
        EXPECT_FALSE(outcome.events[0].control) << c.type;
    }
}

TEST_F(MailerSendTest, ClickMorphAndAccountEvents) {
    const Outcome click = run(activity("clicked",
        R"({"object":"click","ip":"10.10.10.10","url":"https://example.com/test"})"));
    ASSERT_EQ(click.events.size(), 1u);
    EXPECT_EQ(click.events[0].click_url, "https://example.com/test");
    EXPECT_EQ(click.events[0].ip, "10.10.10.10");
    const Outcome maintenance =
        run(R"({"type":"maintenance.start","created_at":"2024-01-01T00:00:00Z","data":{}})");
    ASSERT_EQ(maintenance.events.size(), 1u);
    EXPECT_TRUE(maintenance.events[0].control);
    EXPECT_EQ(maintenance.events[0].recipient, "");
}

TEST_F(MailerSendTest, MalformedBodies) {
    for (const std::string body : {"[]", "{\"data\":{}}", "{\"type\":", "\"x\""}) {
        EXPECT_EQ(run(body).verdict.rejection, Rejection::malformed) << body;
    }
    EXPECT_EQ(run(activity("sent", "7")).verdict.rejection, Rejection::malformed);
}

}  // namespace
}  // namespace mailhook::test
