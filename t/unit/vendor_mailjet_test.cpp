// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/vendors/vendors.hpp"
#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

const Vendor& mailjet() { return mailjet_vendor(); }

Connection connection() { return prepared_connection(mailjet(), {"mj:hook-pass"}); }

Outcome post(std::string_view body) {
    return run_request(connection(), body,
                       MapHeaders{{"Authorization", basic_auth("mj:hook-pass")},
                                  {"Content-Type", "application/json"}});
}

// No event id: the hash of the event's bytes as the vendor sent them.
std::string content_key(std::string_view item) {
    return content_dedup_key(trim_ascii(item));
}

// vendors.md §14, verbatim (a copy of Mailjet's documented bounce event).
constexpr std::string_view kDocBounce = R"({"event": "bounce", "time": 1430812195, "MessageID": 13792286917004336, "Message_GUID": "1ab23cd4-e567-8901-2345-6789f0gh1i2j", "email": "bounce@mailjet.com", "mj_campaign_id": 0, "mj_contact_id": 0, "customcampaign": "", "CustomID": "helloworld", "Payload": "", "blocked": false, "hard_bounce": true, "error_related_to": "recipient", "error": "user unknown", "comment": "Host or domain name not found. ..."})";

// The other event kinds, shaped after Mailjet's Event API examples with the
// fields vendors.md §14 lists (SECONDARY, as that section is).
constexpr std::string_view kSent = R"j({"event":"sent","time":1433333949,"MessageID":19421777835146490,"Message_GUID":"1ab23cd4-e567-8901-2345-6789f0gh1i2j","email":"api@mailjet.com","mj_campaign_id":7257,"mj_contact_id":4,"customcampaign":"","mj_message_id":"19421777835146490","smtp_reply":"sent (250 2.0.0 OK 1433333948 fa5si855896wjc.199 - gsmtp)","CustomID":"helloworld","Payload":""})j";

constexpr std::string_view kOpen = R"({"event":"open","time":1433103519,"MessageID":19421777396190490,"Message_GUID":"1ab23cd4-e567-8901-2345-6789f0gh1i2j","email":"api@mailjet.com","mj_campaign_id":7173,"mj_contact_id":320,"customcampaign":"","CustomID":"helloworld","Payload":"{\"order\":17}","ip":"127.0.0.1","geo":"US","agent":"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0"})";

constexpr std::string_view kClick = R"({"event":"click","time":1433334653,"MessageID":19421777836302490,"Message_GUID":"1ab23cd4-e567-8901-2345-6789f0gh1i2j","email":"api@mailjet.com","mj_campaign_id":0,"mj_contact_id":4,"customcampaign":"spring-sale","CustomID":"","Payload":"plain text","url":"https://mailjet.com","ip":"127.0.0.1","geo":"FR","agent":"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/43.0.2357.81 Safari/537.36"})";

constexpr std::string_view kSpam = R"({"event":"spam","time":1430812195,"MessageID":13792286917004336,"Message_GUID":"1ab23cd4-e567-8901-2345-6789f0gh1i2j","email":"bounce@mailjet.com","mj_campaign_id":1324,"mj_contact_id":2,"customcampaign":"","CustomID":"helloworld","Payload":"","source":"JMRPP"})";

constexpr std::string_view kBlocked = R"({"event":"blocked","time":1430812195,"MessageID":13792286917004336,"Message_GUID":"1ab23cd4-e567-8901-2345-6789f0gh1i2j","email":"bounce@mailjet.com","mj_campaign_id":0,"mj_contact_id":0,"customcampaign":"","CustomID":"helloworld","Payload":"","error_related_to":"recipient","error":"user unknown"})";

constexpr std::string_view kUnsub = R"({"event":"unsub","time":1433334941,"MessageID":20547674933128000,"Message_GUID":"1ab23cd4-e567-8901-2345-6789f0gh1i2j","email":"api@mailjet.com","mj_campaign_id":7276,"mj_contact_id":126,"customcampaign":"","CustomID":"helloworld","Payload":"","mj_list_id":1,"ip":"127.0.0.1","geo":"FR","agent":"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/43.0.2357.81 Safari/537.36"})";

TEST(MailjetVerify, AcceptsTheBasicCredentialsOfTheUrl) {
    EXPECT_TRUE(post(kDocBounce).verdict.ok());
}

TEST(MailjetVerify, RefusesWrongOrMissingCredentials) {
    for (const MapHeaders& headers :
         {MapHeaders{{"Authorization", basic_auth("mj:nope")}},
          MapHeaders{{"Authorization", basic_auth("mj")}},
          MapHeaders{{"Authorization", "Bearer mj"}}, MapHeaders{}}) {
        const Outcome outcome = run_request(connection(), kDocBounce, headers);
        EXPECT_EQ(outcome.verdict.rejection, Rejection::bad_credentials);
        EXPECT_EQ(outcome.size(), 0u);
    }
}

TEST(MailjetVerify, EitherSecretOfARotationPasses) {
    const Connection rotating = prepared_connection(mailjet(), {"mj:old", "mj:new"});
    for (const char* credentials : {"mj:old", "mj:new"}) {
        const MapHeaders headers{{"Authorization", basic_auth(credentials)}};
        EXPECT_TRUE(run_request(rotating, kDocBounce, headers).verdict.ok());
    }
}



TEST(MailjetParse, OpenWithJsonPayload) {
    const Outcome outcome = post(kOpen);
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"j({
        "type": "opened", "bounce_class": null, "reject_reason": null,
        "recipient": "api@mailjet.com", "message_id": "19421777396190490",
        "event_id": null, "timestamp": "2015-05-31T20:18:39Z",
        "smtp_status": null, "mta_response": null, "description": null,
        "click_url": null,
        "user_agent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0",
        "ip": "127.0.0.1", "campaign_id": "7173", "tags": [],
        "metadata": {"order": 17, "CustomID": "helloworld"}, "vendor_event": "open"})j",
                                       kOpen, content_key(kOpen)));
}

TEST(MailjetParse, ClickWithCustomCampaignAndTextPayload) {
    const Outcome outcome = post(kClick);
    ASSERT_EQ(outcome.size(), 1u);
    EXPECT_EVENT(outcome.event(0), with_raw(R"j({
        "type": "clicked", "bounce_class": null, "reject_reason": null,
        "recipient": "api@mailjet.com", "message_id": "19421777836302490",
        "event_id": null, "timestamp": "2015-06-03T12:30:53Z",
        "smtp_status": null, "mta_response": null, "description": null,
        "click_url": "https://mailjet.com",
        "user_agent": "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/43.0.2357.81 Safari/537.36",
        "ip": "127.0.0.1", "campaign_id": "spring-sale", "tags": [],
        "metadata": {"Payload": "plain text"}, "vendor_event": "click"})j",
                                       kClick, content_key(kClick)));
}




TEST(MailjetParse, BounceClassFromTheFlags) {
    struct Case {
        const char* flags;
        const char* bounce_class;
    };
    for (const Case& c : {Case{R"("hard_bounce":true,"blocked":false)", "hard"},
                          Case{R"("hard_bounce":true,"blocked":true)", "hard"},
                          Case{R"("hard_bounce":false,"blocked":true)", "block"},
                          Case{R"("hard_bounce":false,"blocked":false)", "soft"},
                          Case{R"("blocked":false)", "undetermined"}}) {
        const Outcome outcome = post(std::string(R"({"event":"bounce","email":"a@example.com",)") +
                                     c.flags + "}");
        ASSERT_EQ(outcome.size(), 1u) << c.flags;
        EXPECT_STREQ(json_string_value(json_object_get(outcome.event(0), "bounce_class")),
                     c.bounce_class)
            << c.flags;
    }
}

TEST(MailjetParse, BlockedReasons) {
    struct Case {
        const char* error;
        const char* reason;
    };
    for (const Case& c : {Case{"user unknown", "bounced"}, Case{"invalid domain", "bounced"},
                          Case{"no mail host", "bounced"}, Case{"preblocked", "blocked"},
                          Case{"blacklisted", "blocked"}, Case{"typofix", "invalid"},
                          Case{"spam reporter", "spam"}, Case{"sender blocked", "blocked"},
                          Case{"duplicate in campaign", "other"}, Case{"", "other"}}) {
        const Outcome outcome = post(std::string(R"({"event":"blocked","email":"a@example.com","error":")") +
                                     c.error + "\"}");
        ASSERT_EQ(outcome.size(), 1u) << c.error;
        EXPECT_STREQ(json_string_value(json_object_get(outcome.event(0), "reject_reason")),
                     c.reason)
            << c.error;
    }
}

TEST(MailjetParse, GroupedArrayAndUnknownEvents) {
    const std::string body = "[" + std::string(kSent) + "," + std::string(kOpen) +
                             R"(,{"event":"unknown_future","email":"a@example.com"}])";
    const Outcome outcome = post(body);
    ASSERT_TRUE(outcome.verdict.ok());
    ASSERT_EQ(outcome.size(), 3u);
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(0), "type")), "delivered");
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(1), "type")), "opened");
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(2), "type")), "unknown");
}

TEST(MailjetParse, APayloadKeyNamedCustomIdIsKept) {
    const Outcome outcome = post(
        R"({"event":"open","email":"a@example.com","CustomID":"mine","Payload":"{\"CustomID\":\"theirs\",\"x\":1}"})");
    ASSERT_EQ(outcome.size(), 1u);
    const JsonPtr expected = parse_json(R"({"CustomID":"theirs","x":1})");
    EXPECT_TRUE(json_equal(json_object_get(outcome.event(0), "metadata"), expected.get()))
        << readable(json_object_get(outcome.event(0), "metadata"));
}

TEST(MailjetParse, GreylistingIsADeferralUnlessHard) {
    const Outcome soft = post(R"({"event":"bounce","email":"a@example.com","hard_bounce":false,"error_related_to":"domain","error":"greylisted"})");
    ASSERT_EQ(soft.size(), 1u);
    EXPECT_STREQ(json_string_value(json_object_get(soft.event(0), "type")), "deferred");
    const Outcome hard = post(R"({"event":"bounce","email":"a@example.com","hard_bounce":true,"error":"greylisted"})");
    ASSERT_EQ(hard.size(), 1u);
    EXPECT_STREQ(json_string_value(json_object_get(hard.event(0), "type")), "bounced");
}

TEST(MailjetParse, FormBody) {
    const Outcome outcome = run_request(
        connection(), "event=bounce&email=a%40example.com&hard_bounce=false&blocked=true",
        MapHeaders{{"Authorization", basic_auth("mj:hook-pass")},
                   {"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(outcome.size(), 1u) << outcome.verdict.reason;
    EXPECT_STREQ(json_string_value(json_object_get(outcome.event(0), "bounce_class")), "block");
    EXPECT_EQ(post("event=bounce&email=a%40example.com").verdict.rejection,
              Rejection::malformed);  // a form only when it says so
}

TEST(MailjetParse, RefusesWhatIsNotAMailjetEvent) {
    for (const char* body : {"", "<xml/>", R"({"email":"a@example.com"})",
                             R"([{"time":1},{"time":2}])", R"([1,2])"}) {
        const Outcome outcome = post(body);
        EXPECT_EQ(outcome.verdict.rejection, Rejection::malformed) << body;
        EXPECT_EQ(outcome.size(), 0u);
    }
}

}  // namespace
}  // namespace mailhook::test
