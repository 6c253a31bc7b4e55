// SPDX-License-Identifier: BSD-2-Clause
// Unisender Go: the body's `auth` digest (MD5 of the body with the API key
// in its place), both delivery formats, delivery statuses. Its documented
// callback format is exercised by conformance cases
// (t/conformance/unisender_go/).
#include <gtest/gtest.h>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

constexpr std::string_view kKey = "ug-api-key";

// `template` holds "AUTH" where the digest goes.
std::string signed_body(std::string text, std::string_view key = kKey) {
    const std::size_t at = text.find("AUTH");
    std::string with_key = text;
    with_key.replace(at, 4, std::string(key));
    text.replace(at, 4, hex_encode(md5(with_key)));
    return text;
}

std::string callback(const std::string& data) {
    return R"({"auth":"AUTH","events_by_user":[{"user_id":1,"project_id":"p1","events":[)"
           R"({"event_name":"transactional_email_status","event_data":)" + data + "}]}]}";
}

const std::string kHardBounce =
    R"({"job_id":"job-1","email":"reader@example.net","status":"hard_bounced",)"
    R"("event_time":"2024-09-08 19:56:41","metadata":{"campaign":"welcome"},)"
    R"("delivery_info":{"delivery_status":"err_user_unknown",)"
    R"("destination_response":"550 5.1.1 User unknown"}})";

class UnisenderGoTest : public ::testing::Test {
  protected:
    Connection connection_ = prepared_connection("unisender_go", {{"secret", std::string(kKey)}});

    Outcome run(const std::string& body) {
        const MapHeaders headers{{"Content-Type", "application/json"}};
        return run_request(connection_, body, headers);
    }
};

TEST_F(UnisenderGoTest, AuthIsTheMd5OfTheBodyWithTheKeyInItsPlace) {
    const std::string body = signed_body(callback(kHardBounce));
    EXPECT_TRUE(run(body).verdict.ok());
    EXPECT_EQ(run(signed_body(callback(kHardBounce), "other-key")).verdict.rejection,
              Rejection::unauthenticated);
    std::string tampered = body;
    tampered.replace(tampered.find("reader@"), 6, "victim");
    EXPECT_EQ(run(tampered).verdict.rejection, Rejection::unauthenticated);
    // No auth, not 32 hex digits, or the digest twice in the body.
    for (const std::string& bad :
         {callback(kHardBounce).replace(9, 4, ""), callback(kHardBounce).replace(9, 4, "ABCDEF"),
          std::string(R"({"events_by_user":[]})")}) {
        EXPECT_EQ(run(bad).verdict.rejection, Rejection::unauthenticated) << bad;
    }
    std::string twice = signed_body(callback(kHardBounce));
    const std::string digest = twice.substr(9, 32);
    twice.replace(twice.find("job-1"), 5, digest);
    EXPECT_EQ(run(twice).verdict.rejection, Rejection::unauthenticated);
}

TEST_F(UnisenderGoTest, HardBounceFields) {
    const Outcome outcome = run(signed_body(callback(kHardBounce)));
    ASSERT_EQ(outcome.events.size(), 1u);
    const Event& event = outcome.events[0];
    EXPECT_EQ(event.type, EventType::bounced);
    EXPECT_EQ(event.bounce_class, BounceClass::hard);
    EXPECT_EQ(event.reject_reason, RejectReason::invalid);
    EXPECT_EQ(event.recipient, "reader@example.net");
    EXPECT_EQ(event.message_id, "job-1");
    EXPECT_EQ(event.description, "err_user_unknown");
    EXPECT_EQ(event.smtp_status, "5.1.1");
    EXPECT_EQ(event.metadata_json, R"({"campaign":"welcome"})");
    EXPECT_EQ(event.timestamp, parse_vendor_time("2024-09-08T19:56:41Z"));
    // The raw is event_data: the digest is not stored.
    EXPECT_EQ(raw_text_of(event).find("auth"), std::string::npos);
}

TEST_F(UnisenderGoTest, SingleEventFormatAndSpamBlocks) {
    const Outcome single = run(signed_body(
        R"({"auth":"AUTH","event_name":"transactional_email_status","job_id":"j2",)"
        R"("email":"reader@example.net","status":"soft_bounced","event_time":"2024-09-08 19:56:41",)"
        R"("delivery_info":{"delivery_status":"err_will_retry"}})"));
    ASSERT_EQ(single.events.size(), 1u);
    EXPECT_EQ(single.events[0].type, EventType::deferred);
    EXPECT_EQ(single.events[0].reject_reason, RejectReason::other);
    EXPECT_EQ(raw_text_of(single.events[0]).find("auth"), std::string::npos);
    const Outcome block = run(signed_body(
        R"({"auth":"AUTH","events_by_user":[{"user_id":1,"events":[{"event_name":"transactional_spam_block",)"
        R"("event_data":{"block_time":"2024-09-08 19:56:41","block_type":"one_smtp","domain":"example.com"}}]}]})"));
    ASSERT_EQ(block.events.size(), 1u);
    EXPECT_TRUE(block.events[0].control);
}

TEST_F(UnisenderGoTest, MalformedBodies) {
    EXPECT_EQ(run(signed_body(R"({"auth":"AUTH","x":1})")).verdict.rejection, Rejection::malformed);
    EXPECT_EQ(run(signed_body(R"({"auth":"AUTH","events_by_user":[{"events":[{"event_name":"x"}]}]})"))
                  .verdict.rejection,
              Rejection::malformed);
    EXPECT_EQ(run("[1]").verdict.rejection, Rejection::malformed);
}

}  // namespace
}  // namespace mailhook::test
