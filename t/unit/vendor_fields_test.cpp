// SPDX-License-Identifier: BSD-2-Clause
// Fields (the strict reader of every Vendor::parse), batches with elements
// that are not the vendor's format, and the shared vocabulary helpers.
#include <gtest/gtest.h>

#include <string>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

MapHeaders inboxroad_headers(std::string_view body) {
    MapHeaders headers;
    headers.set("X-Signature", base64_encode(hmac(DigestAlgorithm::sha256, "s1", body)));
    return headers;
}

// The hostile catalog (t/hostile.t): a member the parser reads with a JSON
// type that cannot hold its value is a 400 with nothing stored; null counts
// as absent; every event needs its event name.
struct TypeCase {
    const char* body;
    bool accepted;
    const char* reason;  // substring of the rejection reason
};

TEST(Fields, WrongTypesAreNotTheVendorsFormat) {
    const Connection connection = prepared_connection("inboxroad", {{"secret", "s1"}});
    const TypeCase cases[] = {
        {R"({"kind":"delivered","recipient":"a@example.com"})", true, ""},
        {R"({"kind":"delivered","recipient":"a@example.com","tags":null,"metadata":null,)"
         R"("message_id":null,"timestamp":null,"campaign":null})", true, ""},
        {R"({"kind":"delivered","recipient":"a@example.com","id":12345})", true, ""},
        {R"({"kind":5,"recipient":"a@example.com"})", false, R"("kind" is a number)"},
        {R"({"kind":"delivered","recipient":{"a":1}})", false, R"("recipient" is an object)"},
        {R"({"kind":"delivered","recipient":7})", false, R"("recipient" is a number)"},
        {R"({"kind":["delivered"],"recipient":"a@example.com"})", false, "is an array"},
        {R"({"kind":"delivered","message_id":{"x":1}})", false, R"("message_id" is an object)"},
        {R"({"kind":"delivered","message_id":true})", false, "is a boolean"},
        {R"({"kind":"delivered","timestamp":[1]})", false, R"("timestamp" is an array)"},
        {R"({"kind":"delivered","timestamp":{}})", false, "expected a time"},
        {R"({"kind":"delivered","tags":{"a":"b"}})", false, R"("tags" is an object)"},
        {R"({"kind":"delivered","tags":["a",{"b":1}]})", false, "a string in the list"},
        {R"({"kind":"delivered","metadata":"x"})", false, R"("metadata" is a string)"},
        {R"({"kind":"delivered","metadata":[1]})", false, R"("metadata" is an array)"},
        {R"({"kind":"delivered","campaign":"c1","campaign_id":{}})", false, "campaign_id"},
        {R"({"kind":null,"recipient":"a@example.com"})", false, "has no event name"},
        {R"({"recipient":"a@example.com"})", false, "has no event name"},
        // in a batch the bad element is kept as unknown, the rest stored
        {R"([{"kind":"delivered"},{"kind":"open","ip":[]}])", true, ""},
    };
    for (const TypeCase& c : cases) {
        const Outcome outcome = run_request(connection, c.body, inboxroad_headers(c.body));
        EXPECT_EQ(outcome.verdict.ok(), c.accepted) << c.body << ": " << outcome.verdict.reason;
        if (!c.accepted) {
            EXPECT_EQ(outcome.verdict.rejection, Rejection::malformed) << c.body;
            EXPECT_NE(outcome.verdict.reason.find(c.reason), std::string::npos)
                << c.body << ": " << outcome.verdict.reason;
            EXPECT_EQ(outcome.size(), 0u);
        }
    }
}

TEST(Fields, NestedObjectsMustBeObjects) {
    const Connection connection = prepared_connection("mailgun", {{"secret", "key-1"}});
    const auto body = [](const std::string& event_data) {
        return mailgun_body("key-1", "1700000000", "tok", event_data);
    };
    const MapHeaders headers;
    EXPECT_TRUE(run_request(connection,
                            body(R"({"event":"failed","delivery-status":{"code":550}})"),
                            headers)
                    .verdict.ok());
    const Outcome nested = run_request(
        connection, body(R"({"event":"failed","delivery-status":"550 no"})"), headers);
    EXPECT_EQ(nested.verdict.rejection, Rejection::malformed);
    EXPECT_NE(nested.verdict.reason.find("inside an object"), std::string::npos)
        << nested.verdict.reason;
    EXPECT_EQ(run_request(connection, body(R"({"event":"opened","message":"m"})"), headers)
                  .verdict.rejection,
              Rejection::malformed);
}


// A signed batch with elements that are not the vendor's format: the good
// elements are stored, a bad object is kept as an `unknown` event with its
// raw bytes and the reason, a non-object only counted; the notice (logged)
// says how many and why.
TEST(BatchElements, TheGoodAreStoredTheBadKeptAsUnknown) {
    const Connection connection = prepared_connection("inboxroad", {{"secret", "s1"}});
    const std::string body =
        R"([{"kind":"delivered","recipient":"a@example.com"},)"
        R"({"kind":"open","recipient":"b@example.com","ip":[]},7,)"
        R"({"recipient":"c@example.com"},{"kind":"bounce","recipient":"d@example.com"}])";
    const Outcome outcome = run_request(connection, body, inboxroad_headers(body));
    ASSERT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
    ASSERT_EQ(outcome.size(), 4u);
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(0), "type")), "delivered");
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(3), "type")), "bounced");
    const json_t* bad_ip = outcome.event(1);
    EXPECT_STREQ(json_string_value(json_object_get(bad_ip, "type")), "unknown");
    EXPECT_STREQ(json_string_value(json_object_get(bad_ip, "description")),
                 R"(not the vendor's format: "ip" is an array, expected text)");
    EXPECT_TRUE(raw_equals(outcome.events[1],
                           R"({"kind":"open","recipient":"b@example.com","ip":[]})"));
    const json_t* unnamed = outcome.event(2);
    EXPECT_STREQ(json_string_value(json_object_get(unnamed, "type")), "unknown");
    EXPECT_STREQ(json_string_value(json_object_get(unnamed, "recipient")), "c@example.com");
    EXPECT_EQ(outcome.notice,
              "3 batch element(s) not the vendor's format (2 kept as unknown events, "
              "1 not objects and dropped), the rest stored; first element 1: \"ip\" is an array, expected text");
}

TEST(BatchElements, NoReadableElementIsNotTheVendorsFormat) {
    const Connection connection = prepared_connection("inboxroad", {{"secret", "s1"}});
    for (const std::string body : {R"([1,"x",null])", R"([{"kind":7},{"recipient":"a@b.c"}])"}) {
        const Outcome outcome = run_request(connection, body, inboxroad_headers(body));
        EXPECT_EQ(outcome.verdict.rejection, Rejection::malformed) << body;
        EXPECT_EQ(outcome.size(), 0u) << body;
    }
    // One object (not a batch) with a type error refuses the request.
    const std::string one = R"({"kind":"open","ip":[]})";
    EXPECT_EQ(run_request(connection, one, inboxroad_headers(one)).verdict.rejection,
              Rejection::malformed);
}

TEST(DefaultRejectReason, AnymailsReasonWhereTheVendorGaveNone) {
    const std::tuple<EventType, BounceClass, RejectReason> cases[] = {
        {EventType::bounced, BounceClass::hard, RejectReason::bounced},
        {EventType::bounced, BounceClass::block, RejectReason::blocked},
        {EventType::complained, BounceClass::none, RejectReason::spam},
        {EventType::unsubscribed, BounceClass::none, RejectReason::unsubscribed},
        {EventType::deferred, BounceClass::soft, RejectReason::other},
        {EventType::rejected, BounceClass::none, RejectReason::other},
        {EventType::delivered, BounceClass::none, RejectReason::none},
        {EventType::opened, BounceClass::none, RejectReason::none},
    };
    for (const auto& [type, bounce, expected] : cases) {
        Event event;
        event.type = type;
        event.bounce_class = bounce;
        default_reject_reason(event);
        EXPECT_EQ(event.reject_reason, expected) << to_string(type);
    }
    Event kept;
    kept.type = EventType::bounced;
    kept.reject_reason = RejectReason::invalid;
    default_reject_reason(kept);
    EXPECT_EQ(kept.reject_reason, RejectReason::invalid);
}

TEST(BareAddress, TheAddrSpecOfOneAddress) {
    EXPECT_EQ(bare_address("a@example.com"), "a@example.com");
    EXPECT_EQ(bare_address(" Ann <Ann@example.com> "), "Ann@example.com");
    EXPECT_EQ(bare_address(R"("Doe, J" <j@example.com>)"), "j@example.com");
    EXPECT_FALSE(bare_address("a@example.com, b@example.com"));
    EXPECT_FALSE(bare_address(""));
}

}  // namespace
}  // namespace mailhook::test
