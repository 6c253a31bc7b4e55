// SPDX-License-Identifier: BSD-2-Clause
// SMTP2GO beyond its documented fields (conformance cases,
// t/conformance/smtp2go/): times, event names, custom fields, missing fields
// and form bodies.
#include <gtest/gtest.h>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

constexpr const char* kForm = "application/x-www-form-urlencoded";

class Smtp2goNormalize : public ::testing::Test {
  protected:
    Connection connection_ = prepared_connection("smtp2go", {{"secret", "hook:pa55"}});

    Outcome run(const std::string& body, const char* content_type = "application/json") {
        return run_request(connection_, body,
                           MapHeaders{{"Content-Type", content_type},
                                      {"Authorization", basic_auth("hook:pa55")}});
    }

    Event one(const std::string& body, const char* content_type = "application/json") {
        const Outcome outcome = run(body, content_type);
        EXPECT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
        EXPECT_EQ(outcome.events.size(), 1u);
        return outcome.events.empty() ? Event{} : outcome.events[0];
    }
};

TEST_F(Smtp2goNormalize, EpochTimeAndSoftBounce) {
    const Event event = one(
        R"({"event":"bounce","time":1756980000,"rcpt":"user@example.net","bounce":"soft","message":"452 4.2.2 Mailbox full","id":"b2"})");
    EXPECT_EQ(event.timestamp, at_seconds(1756980000));
    EXPECT_EQ(event.bounce_class, BounceClass::soft);
    EXPECT_EQ(event.smtp_status, "4.2.2");
    EXPECT_EQ(suppression_effect(event), SuppressionEffect::soft_bounce);
    EXPECT_EQ(one(R"({"event":"bounce","rcpt":"u@example.net"})").bounce_class,
              BounceClass::undetermined);
}

TEST_F(Smtp2goNormalize, EventNames) {
    const std::tuple<const char*, const char*, const char*> names[] = {
        {"processed", "queued", ""},       {"delivered", "delivered", ""},
        {"open", "opened", ""},            {"click", "clicked", ""},
        {"bounce", "bounced", "bounced"},  {"spam", "complained", "spam"},
        {"unsubscribe", "unsubscribed", "unsubscribed"},
        {"resubscribe", "subscribed", ""}, {"reject", "rejected", "other"},
        {"something_new", "unknown", ""},
    };
    for (const auto& [name, type, reason] : names) {
        const Event event =
            one(std::string(R"({"rcpt":"u@example.net","event":")") + name + "\"}");
        EXPECT_EQ(to_string(event.type), type) << name;
        EXPECT_EQ(to_string(event.reject_reason), reason) << name;
    }
}

TEST_F(Smtp2goNormalize, UnknownFieldsBecomeMetadata) {
    const Event event = one(
        R"({"event":"delivered","rcpt":"u@example.net","id":"x","X-Campaign-Ref":"spring","customer":{"id":7}})");
    expect_json_equal(event.metadata_json, R"({"X-Campaign-Ref":"spring","customer":{"id":7}})",
                      "metadata");
}

TEST_F(Smtp2goNormalize, SendTimeIsNotTheEventTime) {
    // An open days after sending must not be dated at the send time.
    EXPECT_EQ(one(R"({"event":"open","rcpt":"u@example.net","id":"o-2","sendtime":"2025-09-01T08:00:00Z"})")
                  .timestamp,
              std::nullopt);
}

TEST_F(Smtp2goNormalize, MissingFieldsStayAbsent) {
    const std::string body = R"({"event":"spam","rcpt":"u@example.net"})";
    EXPECT_EVENT(one(body), with_raw(R"({
        "type": "complained", "bounce_class": null, "reject_reason": "spam",
        "recipient": "u@example.net", "message_id": null, "event_id": null,
        "timestamp": null, "smtp_status": null, "mta_response": null,
        "description": null, "click_url": null, "user_agent": null, "ip": null,
        "campaign_id": null, "tags": [], "metadata": {}, "vendor_event": "spam"})",
                                     body, ""));
}

TEST_F(Smtp2goNormalize, FormEdgeCases) {
    // A repeated field: the last value wins.
    EXPECT_EQ(one("event=open&rcpt=a%40example.net&rcpt=b%40example.net", kForm).recipient,
              "b@example.net");
    EXPECT_EQ(run("event=open&rcpt=%zz", kForm).verdict.rejection, Rejection::malformed);
    EXPECT_EQ(run("event=open&rcpt=%FF%FE", kForm).verdict.rejection, Rejection::malformed);
    // A form body is only read as one when it says so.
    EXPECT_EQ(run("event=open&rcpt=a%40example.net", "text/plain").verdict.rejection,
              Rejection::malformed);
    EXPECT_EQ(one("event=open&rcpt=a%40example.net",
                  "application/x-www-form-urlencoded; charset=UTF-8")
                  .type,
              EventType::opened);
}

// A form body with a NUL byte is not SMTP2GO's format (see ParseForm).
TEST_F(Smtp2goNormalize, FormWithANulByteIsMalformed) {
    EXPECT_TRUE(run("event=delivered&rcpt=a%40example.com", kForm).verdict.ok());
    EXPECT_EQ(run(std::string("event=delivered&ev\0il=1", 23), kForm).verdict.rejection,
              Rejection::malformed);
    EXPECT_EQ(run("event=delivered&rcpt=a%00b", kForm).verdict.rejection,
              Rejection::malformed);
}

}  // namespace
}  // namespace mailhook::test
