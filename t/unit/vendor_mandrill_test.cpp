// SPDX-License-Identifier: BSD-2-Clause
// Mandrill: X-Mandrill-Signature over URL + sorted form fields, and the
// events of vendors.md §11. Reference signatures were computed with Python.
#include <cctype>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

constexpr std::string_view kUrl = "https://hooks.example.com/webhooks/v2/mandrill/md1";
constexpr std::string_view kEmptyBatch = "mandrill_events=%5B%5D";
// base64 HMAC-SHA1 of kUrl + "mandrill_events" + "[]" under "md-key" and
// under Mandrill's generic test key "test-webhook".
constexpr std::string_view kEmptyBatchSignature = "qt55o6+P8tFqRtUMKYnH9XKYl5o=";
constexpr std::string_view kEmptyBatchTestKeySignature = "Pi6QNXf9iISWSracXPFmS3h87sU=";

// vendors.md §11 (Mandrill's example event as copied by telegraf's tests).
constexpr std::string_view kHardBounce = R"({"event":"hard_bounce","msg":{"ts":1365109999,"subject":"This an example webhook message","email":"example.webhook@mandrillapp.com","sender":"example.sender@mandrillapp.com","tags":["webhook-example"],"state":"bounced","metadata":{"user_id":111},"_id":"exampleaaaaaaaaaaaaaaaaaaaaaaaaa2","_version":"exampleaaaaaaaaaaaaaaa","bounce_description":"bad_mailbox","bgtools_code":10,"diag":"smtp;550 5.1.1 The email account that you tried to reach does not exist. ..."},"_id":"id2","ts":1384954004})";

std::string events_body(std::string_view events_json) {
    return "mandrill_events=" + form_escape(events_json);
}

std::string sign(std::string_view key, std::string_view signed_data) {
    return base64_encode(hmac(DigestAlgorithm::sha1, key, signed_data));
}

Connection connection(FieldList fields) {
    return prepared_connection("mandrill", std::move(fields));
}

Outcome post(const Connection& conn, std::string_view body, const MapHeaders& headers,
              std::string_view url = kUrl) {
    return run_request(conn, body, headers, kNow, url);
}

TEST(MandrillVerify, EmptyTestBatchWithReferenceSignatures) {
    const Outcome received = post(connection({{"secret", "md-key"}}), kEmptyBatch,
                                   {{"X-Mandrill-Signature", std::string(kEmptyBatchSignature)}});
    EXPECT_TRUE(received.verdict.ok()) << received.verdict.reason;
    EXPECT_TRUE(received.events.empty());
    // Mandrill's own test post is signed with "test-webhook"
    const Outcome test_post =
        post(connection({{"secret", "test-webhook"}}), kEmptyBatch,
             {{"X-Mandrill-Signature", std::string(kEmptyBatchTestKeySignature)}});
    EXPECT_TRUE(test_post.verdict.ok());
}

TEST(MandrillVerify, RefusesWrongKeyUrlBodyAndMissingHeader) {
    const Connection conn = connection({{"secret", "md-key"}});
    const MapHeaders signed_empty{{"X-Mandrill-Signature", std::string(kEmptyBatchSignature)}};
    EXPECT_EQ(post(connection({{"secret", "other"}}), kEmptyBatch, signed_empty).verdict.rejection,
              Rejection::unauthenticated);
    EXPECT_EQ(post(conn, kEmptyBatch, signed_empty, "https://hooks.example.com/other")
                  .verdict.rejection,
              Rejection::unauthenticated);
    // the URL is signed byte for byte: a trailing slash is another URL
    EXPECT_EQ(post(conn, kEmptyBatch, signed_empty, std::string(kUrl) + "/").verdict.rejection,
              Rejection::unauthenticated);
    EXPECT_EQ(post(conn, events_body("[" + std::string(kHardBounce) + "]"), signed_empty)
                  .verdict.rejection,
              Rejection::unauthenticated);
    EXPECT_EQ(post(conn, kEmptyBatch, {}).verdict.rejection, Rejection::unauthenticated);
    EXPECT_EQ(post(conn, kEmptyBatch, {{"X-Mandrill-Signature", "bm9wZQ=="}}).verdict.rejection,
              Rejection::unauthenticated);
}

TEST(MandrillVerify, EitherSecretOfARotationVerifies) {
    const MapHeaders headers{{"X-Mandrill-Signature", std::string(kEmptyBatchSignature)}};
    EXPECT_TRUE(post(connection({{"secret", "old"}, {"secret_next", "md-key"}}), kEmptyBatch,
                     headers)
                    .verdict.ok());
    EXPECT_TRUE(post(connection({{"secret", "md-key"}, {"secret_next", "new"}}), kEmptyBatch,
                     headers)
                    .verdict.ok());
}

TEST(MandrillVerify, SignsEveryFieldSortedByName) {
    const Connection conn = connection({{"secret", "md-key"}});
    const std::string body = "zeta=2&" + std::string(kEmptyBatch) + "&alpha=a+b";
    const std::string signature =
        sign("md-key", std::string(kUrl) + "alpha" + "a b" + "mandrill_events" + "[]" +
                           "zeta" + "2");
    EXPECT_TRUE(post(conn, body, {{"X-Mandrill-Signature", signature}}).verdict.ok());
    const std::string unsorted = sign(
        "md-key", std::string(kUrl) + "zeta" + "2" + "mandrill_events" + "[]" + "alpha" + "a b");
    EXPECT_EQ(post(conn, body, {{"X-Mandrill-Signature", unsorted}}).verdict.rejection,
              Rejection::unauthenticated);
}

TEST(MandrillVendor, AnswersHead) {
    EXPECT_TRUE(find_vendor("mandrill")->accepts_head());
}

// Signs `events_json` properly and parses it.
Outcome receive_events(std::string_view events_json) {
    const Connection conn = connection({{"secret", "md-key"}});
    const std::string signature =
        sign("md-key", std::string(kUrl) + "mandrill_events" + std::string(events_json));
    return post(conn, events_body(events_json), {{"X-Mandrill-Signature", signature}});
}

std::vector<Event> parse(std::string_view events_json) {
    Outcome received = receive_events(events_json);
    EXPECT_TRUE(received.verdict.ok()) << received.verdict.reason;
    return std::move(received.events);
}


TEST(MandrillParse, MessageEventNames) {
    const struct {
        const char* name;
        EventType type;
        BounceClass bounce_class;
        RejectReason reject_reason;
    } cases[] = {
        {"send", EventType::sent, BounceClass::none, RejectReason::none},
        {"delivered", EventType::delivered, BounceClass::none, RejectReason::none},
        {"deferral", EventType::deferred, BounceClass::soft, RejectReason::other},
        {"soft_bounce", EventType::bounced, BounceClass::soft, RejectReason::bounced},
        {"open", EventType::opened, BounceClass::none, RejectReason::none},
        {"click", EventType::clicked, BounceClass::none, RejectReason::none},
        {"spam", EventType::complained, BounceClass::none, RejectReason::spam},
        {"unsub", EventType::unsubscribed, BounceClass::none, RejectReason::unsubscribed},
        {"reject", EventType::rejected, BounceClass::none, RejectReason::other},
        {"inbound", EventType::unknown, BounceClass::none, RejectReason::none},
    };
    for (const auto& c : cases) {
        const auto events = parse(std::string(R"([{"event":")") + c.name +
                                  R"(","msg":{"email":"a@example.com","_id":"m1"},"ts":1384954004}])");
        ASSERT_EQ(events.size(), 1u) << c.name;
        EXPECT_EQ(events[0].type, c.type) << c.name;
        EXPECT_EQ(events[0].bounce_class, c.bounce_class) << c.name;
        EXPECT_EQ(events[0].reject_reason, c.reject_reason) << c.name;
        EXPECT_EQ(events[0].recipient, "a@example.com");
        EXPECT_EQ(events[0].control, std::string_view(c.name) == "inbound") << c.name;
    }
}

TEST(MandrillParse, ClickSyncAndTopLevelId) {
    const auto events = parse(R"([
        {"event":"click","ts":1384954004,"url":"https://example.com/x","ip":"192.0.2.4",
         "user_agent":"Mozilla/5.0","_id":"top1",
         "msg":{"email":"a@example.com","tags":[],"metadata":{}}},
        {"type":"blacklist","action":"add","reject":{"email":"b@example.com","reason":"hard-bounce"}}])");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EVENT(events[0], R"({
        "type": "clicked", "bounce_class": null, "reject_reason": null,
        "recipient": "a@example.com", "message_id": "top1", "event_id": null,
        "timestamp": "2013-11-20T13:26:44Z", "smtp_status": null,
        "mta_response": null, "description": null,
        "click_url": "https://example.com/x", "user_agent": "Mozilla/5.0",
        "ip": "192.0.2.4", "campaign_id": null, "tags": [], "metadata": {},
        "vendor_event": "click"})");
    EXPECT_EQ(events[1].type, EventType::unknown);
    EXPECT_EQ(events[1].vendor_event, "blacklist");
    EXPECT_EQ(events[1].recipient, "b@example.com");
}

TEST(MandrillParse, RefusesWhatIsNotAnEventsForm) {
    const Connection conn = connection({{"secret", "md-key"}});
    const auto signed_post = [&](const std::string& body, const std::string& data) {
        return post(conn, body, {{"X-Mandrill-Signature", sign("md-key", data)}}).verdict;
    };
    const std::string url(kUrl);
    EXPECT_EQ(signed_post("other=1", url + "other" + "1").rejection, Rejection::malformed);
    EXPECT_EQ(signed_post("mandrill_events=%7B%7D", url + "mandrill_events" + "{}").rejection,
              Rejection::malformed);
    EXPECT_EQ(signed_post("mandrill_events=nope", url + "mandrill_events" + "nope").rejection,
              Rejection::malformed);
    EXPECT_EQ(signed_post("mandrill_events=%5B1%5D", url + "mandrill_events" + "[1]").rejection,
              Rejection::malformed);
    EXPECT_EQ(post(conn, "mandrill_events=%zz", {{"X-Mandrill-Signature", "x"}}).verdict.rejection,
              Rejection::malformed);
}

}  // namespace
}  // namespace mailhook::test
