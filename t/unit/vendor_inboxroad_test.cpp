// SPDX-License-Identifier: BSD-2-Clause
// Inboxroad beyond its help-page samples (those are conformance cases,
// t/conformance/inboxroad/): content-hash ids, arrays, and the kinds and
// fields the normalizer reads although Inboxroad documents only two.
#include <gtest/gtest.h>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

class InboxroadNormalize : public ::testing::Test {
  protected:
    Connection connection_ = prepared_connection("inboxroad", {{"secret", "ir-secret"}});

    Outcome run(const std::string& body) {
        const MapHeaders headers{
            {"Content-Type", "application/json"},
            {"X-Signature", base64_encode(hmac(DigestAlgorithm::sha256, "ir-secret", body))}};
        return run_request(connection_, body, headers);
    }

    Event one(const std::string& body) {
        const Outcome outcome = run(body);
        EXPECT_TRUE(outcome.verdict.ok()) << outcome.verdict.reason;
        EXPECT_EQ(outcome.events.size(), 1u);
        return outcome.events.empty() ? Event{} : outcome.events[0];
    }

    std::string id_of(const std::string& body) {
        const Outcome outcome = run(body);
        EXPECT_EQ(outcome.size(), 1u);
        return outcome.size() == 1
                   ? std::string(json_string_value(json_object_get(outcome.event(0), "id")))
                   : std::string();
    }
};

const std::string kDelivered =
    R"({"kind":"delivered","recipient":"user@example.com","message_id":"<m1@example.com>","timestamp":"2025-09-04T10:00:00Z"})";
const std::string kOpen =
    R"({"kind":"open","recipient":"user@example.com","message_id":"m1@example.com","timestamp":"2025-09-04T10:00:00Z"})";

TEST_F(InboxroadNormalize, ContentKeyIsStableForRetriesAndDistinctOtherwise) {
    // No event id: the id is the hash of the event's bytes, which a retry
    // repeats exactly.
    EXPECT_EQ(id_of(kDelivered), id_of(kDelivered));
    EXPECT_NE(id_of(kDelivered), id_of(kOpen));
    EXPECT_EQ(one(kDelivered).dedup_key, "");
}

TEST_F(InboxroadNormalize, ArrayBodyGivesOneEventPerElement) {
    const Outcome outcome = run("[" + kDelivered + "," + kOpen + "]");
    ASSERT_TRUE(outcome.verdict.ok());
    ASSERT_EQ(outcome.events.size(), 2u);
    EXPECT_EQ(outcome.events[0].type, EventType::delivered);
    EXPECT_EQ(outcome.events[1].type, EventType::opened);
    // A number among events is dropped (and logged); the events are kept.
    const Outcome mixed = run("[" + kDelivered + ",1]");
    ASSERT_TRUE(mixed.verdict.ok());
    EXPECT_EQ(mixed.size(), 1u);
    EXPECT_EQ(run("\"delivered\"").verdict.rejection, Rejection::malformed);
}

TEST_F(InboxroadNormalize, UndocumentedKindsAndFields) {
    EXPECT_EVENT(one(R"({"kind":"bounce","recipient":"x@example.com","bounce_type":"hard","smtp_response":"550 5.1.1 User unknown","reason":"mailbox does not exist","id":"ev-9"})"),
                 R"({"type": "bounced", "bounce_class": "hard", "reject_reason": "bounced",
                     "recipient": "x@example.com", "message_id": null, "event_id": "ev-9",
                     "timestamp": null, "smtp_status": "5.1.1",
                     "mta_response": "550 5.1.1 User unknown",
                     "description": "mailbox does not exist", "click_url": null,
                     "user_agent": null, "ip": null, "campaign_id": null, "tags": [],
                     "metadata": {}, "vendor_event": "bounce"})");
    EXPECT_EQ(one(R"({"kind":"bounce","recipient":"x@example.com"})").bounce_class,
              BounceClass::undetermined);
    EXPECT_EQ(one(R"({"kind":"soft_bounce","recipient":"x@example.com"})").bounce_class,
              BounceClass::soft);
    EXPECT_EQ(one(R"({"kind":"Complaint","recipient":"x@example.com"})").type,
              EventType::complained);
    EXPECT_EVENT(one(R"({"kind":"click","recipient":"x@example.com","url":"https://example.com/","ip":"198.51.100.1","user_agent":"UA","tags":["t1"],"metadata":{"k":"v"},"campaign_id":"c-1"})"),
                 R"({"type": "clicked", "bounce_class": null, "reject_reason": null,
                     "recipient": "x@example.com", "message_id": null, "event_id": null,
                     "timestamp": null, "smtp_status": null, "mta_response": null,
                     "description": null, "click_url": "https://example.com/",
                     "user_agent": "UA", "ip": "198.51.100.1", "campaign_id": "c-1",
                     "tags": ["t1"], "metadata": {"k": "v"}, "vendor_event": "click"})");
    EXPECT_EQ(one(R"({"kind":"teleported","recipient":"x@example.com"})").type, EventType::unknown);
}

}  // namespace
}  // namespace mailhook::test
