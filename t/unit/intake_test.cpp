// SPDX-License-Identifier: BSD-2-Clause
// intake.hpp: verify → parse → ready events; limits (events, recipients per
// vendor event, bytes stored), raw texts kept once, the replay-guard
// fingerprint, and the HTTP answers of verdicts.
#include <gtest/gtest.h>

#include "core/intake.hpp"
#include "vendor_test.hpp"

namespace mailhook {
namespace {

using test::at_seconds;
using test::MapHeaders;

// A vendor that returns what the test tells it to, and counts calls.
class FakeVendor final : public Vendor {
  public:
    std::string_view name() const override { return "fake"; }
    Verdict verify(const Delivery&, const Connection&, Batch& batch) const override {
        ++verified;
        if (guard) batch.replay_guard = guard;
        return verify_verdict;
    }
    Verdict parse(const Delivery&, const Connection&, Batch& batch) const override {
        ++parsed;
        batch.events = events;
        return parse_verdict;
    }

    Verdict verify_verdict;
    Verdict parse_verdict;
    std::vector<Event> events;
    std::optional<ReplayGuard> guard;
    mutable int verified = 0;
    mutable int parsed = 0;
};

Event event_for(const char* recipient, const char* key, EventType type = EventType::delivered) {
    Event event;
    event.type = type;
    event.recipient = recipient;
    event.vendor_event = "x";
    event.dedup_key = key;
    return event;
}

class TakeIn : public ::testing::Test {
  protected:
    MapHeaders headers_;
    Delivery delivery_{"{}", headers_, at_seconds(1705314600) + 5};
    Connection connection_;
    EventOrigin origin_;
    FakeVendor vendor_;

    void SetUp() override {
        connection_.id = "conn-1";
        connection_.vendor = "fake";
        connection_.tenant = "acme";
        origin_ = test::origin_of(connection_, delivery_.now(), false);
    }
};

TEST_F(TakeIn, ReplayGuardFingerprintIsTheConcatenatedEventIds) {
    vendor_.events = {event_for("a@example.com", "k1"), event_for("b@example.com", "k2")};
    vendor_.guard = ReplayGuard{"token-1", "", ""};
    const Intake intake = take_in(vendor_, delivery_, connection_, origin_);
    ASSERT_TRUE(intake.verdict.ok());
    ASSERT_EQ(intake.events.size(), 2u);
    ASSERT_TRUE(intake.replay_guard);
    EXPECT_EQ(intake.replay_guard->token, "token-1");
    EXPECT_EQ(intake.replay_guard->fingerprint,
              event_id_for("fake", "conn-1", "k1") + event_id_for("fake", "conn-1", "k2"));
    EXPECT_EQ(intake.replay_guard->fingerprint, intake.events[0].id + intake.events[1].id);
}

TEST_F(TakeIn, NoGuardWithoutAToken) {
    vendor_.events = {event_for("a@example.com", "k1")};
    const Intake intake = take_in(vendor_, delivery_, connection_, origin_);
    ASSERT_TRUE(intake.verdict.ok());
    EXPECT_FALSE(intake.replay_guard);
}

TEST_F(TakeIn, TooManyEventsIsTooLarge) {
    vendor_.events = {event_for("a@x", "1"), event_for("b@x", "2"), event_for("c@x", "3")};
    delivery_.set_max_events(2);
    const Intake refused = take_in(vendor_, delivery_, connection_, origin_);
    EXPECT_EQ(refused.verdict.rejection, Rejection::too_large);
    EXPECT_EQ(http_status(refused.verdict.rejection), 413);
    EXPECT_TRUE(refused.events.empty());
    delivery_.set_max_events(3);
    const Intake accepted = take_in(vendor_, delivery_, connection_, origin_);
    EXPECT_TRUE(accepted.verdict.ok());
    EXPECT_EQ(accepted.events.size(), 3u);
}

TEST_F(TakeIn, TooManySendGridEventsIsTooLarge) {
    const test::EcKey key;
    const Connection connection =
        test::prepared_connection("sendgrid", {{"secret", key.verification_key()}});
    const std::string body =
        R"([{"email":"a@x","event":"open","sg_event_id":"1"},{"email":"b@x","event":"open","sg_event_id":"2"},{"email":"c@x","event":"open","sg_event_id":"3"}])";
    const MapHeaders headers = test::sendgrid_headers(key, "1705314600", body);
    Delivery delivery(body, headers, at_seconds(1705314600));
    delivery.set_max_events(2);
    const Intake intake = take_in(*find_vendor("sendgrid"), delivery, connection,
                                  test::origin_of(connection, delivery.now()));
    EXPECT_EQ(intake.verdict.rejection, Rejection::too_large);
    EXPECT_TRUE(intake.events.empty());
}

TEST_F(TakeIn, RefusedVerifyStopsBeforeParse) {
    vendor_.verify_verdict = Verdict::reject(Rejection::unauthenticated, "no");
    vendor_.events = {event_for("a@x", "1")};
    vendor_.guard = ReplayGuard{"t", "", ""};
    const Intake intake = take_in(vendor_, delivery_, connection_, origin_);
    EXPECT_EQ(intake.verdict.rejection, Rejection::unauthenticated);
    EXPECT_EQ(vendor_.parsed, 0);
    EXPECT_TRUE(intake.events.empty());
    EXPECT_FALSE(intake.replay_guard);
}

TEST_F(TakeIn, RefusedParseStoresNothing) {
    vendor_.parse_verdict = Verdict::reject(Rejection::malformed, "bad");
    vendor_.events = {event_for("a@x", "1")};
    const Intake intake = take_in(vendor_, delivery_, connection_, origin_);
    EXPECT_EQ(intake.verdict.rejection, Rejection::malformed);
    EXPECT_EQ(vendor_.verified, 1);
    EXPECT_TRUE(intake.events.empty());
}

TEST_F(TakeIn, ReadyEventFields) {
    Event bounced = event_for("  Jane.Doe@Example.COM ", "k1", EventType::bounced);
    bounced.bounce_class = BounceClass::hard;
    bounced.timestamp = at_seconds(1705314000);
    vendor_.events = {bounced, event_for("b@x", "k2", EventType::complained)};
    const Intake intake = take_in(vendor_, delivery_, connection_, origin_);
    ASSERT_EQ(intake.events.size(), 2u);
    const ReadyEvent& first = intake.events[0];
    EXPECT_EQ(first.id, event_id_for("fake", "conn-1", "k1"));
    EXPECT_EQ(first.type, EventType::bounced);
    EXPECT_EQ(first.effect, SuppressionEffect::hard_bounce);
    EXPECT_EQ(first.recipient_key, "jane.doe@example.com");
    EXPECT_EQ(first.at, at_seconds(1705314000));
    // take_in fills the reject reason the vendor left open (bounced: "bounced").
    Event stored = bounced;
    stored.reject_reason = RejectReason::bounced;
    EXPECT_EQ(first.json, write_event_json(stored, first.id, origin_));
    // The recipient is kept as the vendor sent it in the event itself.
    const JsonPtr json = parse_json(first.json);
    ASSERT_NE(json, nullptr);
    EXPECT_EQ(*json_string_at(json.get(), "recipient"), "  Jane.Doe@Example.COM ");
    EXPECT_EQ(*json_string_at(json.get(), "tenant"), "acme");
    EXPECT_EQ(json_object_get(json.get(), "raw"), nullptr);  // include_raw off
    const ReadyEvent& second = intake.events[1];
    EXPECT_EQ(second.effect, SuppressionEffect::complaint);
    EXPECT_EQ(second.at, delivery_.now());  // no vendor time: received_at
}

// ---- M1: a raw text once per request -------------------------------------------

// Events made from one vendor event, like the recipients of one SES
// notification: they share its parsed value.
std::vector<Event> fan_out(const json_t* vendor_event, int recipients) {
    std::vector<Event> events;
    for (int i = 0; i < recipients; ++i) {
        Event event = event_for("", "", EventType::bounced);
        event.recipient = "r" + std::to_string(i) + "@example.com";
        event.dedup_key = "n1:" + event.recipient;
        event.raw_value = JsonRef(vendor_event);
        events.push_back(std::move(event));
    }
    return events;
}

TEST_F(TakeIn, M1EventsOfOneVendorEventShareOneRawText) {
    JsonPtr notification(json_pack("{s:s,s:[i,i,i]}", "kind", "bounce", "to", 1, 2, 3));
    vendor_.events = fan_out(notification.get(), 3);
    vendor_.events.push_back(event_for("own@x", "k-own"));
    vendor_.events.back().raw_json = "{\"own\":\n1}";
    origin_.include_raw = true;
    const Intake intake = take_in(vendor_, delivery_, connection_, origin_);
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    EXPECT_EQ(intake.raws, (std::vector<std::string>{R"({"kind":"bounce","to":[1,2,3]})",
                                                    "{\"own\": 1}"}));
    ASSERT_EQ(intake.events.size(), 4u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(intake.events[i].raw, 1u) << i;
    EXPECT_EQ(intake.events[3].raw, 2u);
    for (const ReadyEvent& ready : intake.events) {
        const JsonPtr without = parse_json(ready.json);
        ASSERT_NE(without, nullptr) << ready.json;
        EXPECT_EQ(json_object_get(without.get(), "raw"), nullptr) << "the script adds it";
        // As stored by an event holding its raw text: exactly the writer's JSON.
        Event event = vendor_.events[&ready - intake.events.data()];
        default_reject_reason(event);  // as take_in does
        EXPECT_EQ(stored_event_json(intake, ready),
                  write_event_json(event, ready.id, origin_, test::raw_text_of(event)));
    }
}

TEST_F(TakeIn, M1EqualRawTextsAreKeptOnce) {
    vendor_.events = {event_for("a@x", "k1"), event_for("b@x", "k2")};
    for (Event& event : vendor_.events) event.raw_json = R"({"same":true})";
    origin_.include_raw = true;
    const Intake intake = take_in(vendor_, delivery_, connection_, origin_);
    EXPECT_EQ(intake.raws.size(), 1u);
    EXPECT_EQ(intake.events[1].raw, 1u);
}

TEST_F(TakeIn, M1NoRawTextsWithRawOff) {
    JsonPtr notification(json_pack("{s:s}", "kind", "bounce"));
    vendor_.events = fan_out(notification.get(), 2);
    const Intake intake = take_in(vendor_, delivery_, connection_, origin_);
    ASSERT_TRUE(intake.verdict.ok());
    EXPECT_TRUE(intake.raws.empty());
    EXPECT_EQ(intake.events[0].raw, 0u);
    EXPECT_EQ(stored_event_json(intake, intake.events[0]), intake.events[0].json);
}

TEST_F(TakeIn, M1MoreRecipientsThanTheCapIsTooLarge) {
    JsonPtr notification(json_pack("{s:s}", "kind", "bounce"));
    delivery_.set_max_recipients(100);
    vendor_.events = fan_out(notification.get(), 100);
    EXPECT_TRUE(take_in(vendor_, delivery_, connection_, origin_).verdict.ok());
    vendor_.events = fan_out(notification.get(), 101);
    const Intake refused = take_in(vendor_, delivery_, connection_, origin_);
    EXPECT_EQ(refused.verdict.rejection, Rejection::too_large);
    EXPECT_EQ(http_status(refused.verdict.rejection), 413);
    EXPECT_EQ(refused.verdict.reason, "one vendor event names more than 100 recipients");
    EXPECT_TRUE(refused.events.empty());
    // Separate vendor events count apart (a SendGrid batch of 101 events).
    std::vector<Event> batch;
    for (int i = 0; i < 101; ++i) {
        batch.push_back(event_for("a@x", "k"));
        batch.back().dedup_key += std::to_string(i);
    }
    vendor_.events = batch;
    EXPECT_TRUE(take_in(vendor_, delivery_, connection_, origin_).verdict.ok());
}

TEST_F(TakeIn, M1MoreBytesThanTheStoreLimitIsTooLarge) {
    // Metadata copied into every recipient's event amplifies a small body.
    JsonPtr notification(json_pack("{s:s}", "kind", "bounce"));
    std::vector<Event> events = fan_out(notification.get(), 50);
    for (Event& event : events) event.metadata_json = R"({"pad":")" + std::string(3000, 'x') + "\"}";
    vendor_.events = events;
    const std::size_t limit = store_byte_limit(delivery_.body().size(), events.size());
    EXPECT_EQ(limit, 4 * 2 + 50 * 1024 + 64 * 1024u);
    const Intake refused = take_in(vendor_, delivery_, connection_, origin_);
    EXPECT_EQ(refused.verdict.rejection, Rejection::too_large);
    EXPECT_EQ(refused.verdict.reason,
              "the events would store more than " + std::to_string(limit) + " bytes");
    EXPECT_TRUE(refused.events.empty());
    events.resize(20);
    vendor_.events = events;
    EXPECT_TRUE(take_in(vendor_, delivery_, connection_, origin_).verdict.ok());
}

TEST(Verdict, HttpAnswers) {
    const std::tuple<Rejection, int, const char*> table[] = {
        {Rejection::none, 200, "none"},
        {Rejection::malformed, 400, "format"},
        {Rejection::unsupported, 400, "unsupported"},
        {Rejection::unauthenticated, 401, "signature"},
        {Rejection::stale_timestamp, 401, "timestamp"},
        {Rejection::replayed, 401, "replay"},
        {Rejection::too_large, 413, "size"},
        {Rejection::misconfigured, 500, "connection_config"},
    };
    for (const auto& [rejection, status, label] : table) {
        EXPECT_EQ(http_status(rejection), status) << label;
        EXPECT_EQ(rejection_label(rejection), label);
    }
    EXPECT_TRUE(Verdict::accept().ok());
    EXPECT_FALSE(Verdict::reject(Rejection::malformed, "x").ok());
}

}  // namespace
}  // namespace mailhook

namespace mailhook {
namespace {

TEST(JsonChildSpans, ElementsAndMemberValuesAsWritten) {
    EXPECT_EQ(json_child_spans(R"( [ {"a":"]"} , 2,"x\"]" ,[1,[2]] ,null] )"),
              (std::vector<std::string_view>{R"({"a":"]"})", "2", R"("x\"]")", "[1,[2]]",
                                             "null"}));
    EXPECT_EQ(json_child_spans(R"({"k" : {"b": [1]} , "s":"v}"})"),
              (std::vector<std::string_view>{R"({"b": [1]})", R"("v}")"}));
    EXPECT_TRUE(json_child_spans("[]").empty());
    EXPECT_TRUE(json_child_spans("42").empty());
}

TEST(RawText, TheRequestsOwnBytesWhenTheValueCameFromTheBody) {
    const std::string body = "[ {\"kind\":\"open\",  \"recipient\":\"a@x\"} ,{\"kind\":\"click\"}]\r\n";
    test::MapHeaders headers;
    const Delivery delivery(body, headers, 0);
    const json_t* root = delivery.json();
    ASSERT_NE(root, nullptr);
    Event first;
    first.raw_value = JsonRef(json_array_get(root, 0));
    Event second;
    second.raw_value = JsonRef(json_array_get(root, 1));
    EXPECT_EQ(raw_event_text(first, delivery), "{\"kind\":\"open\",  \"recipient\":\"a@x\"}");
    EXPECT_EQ(raw_event_text(second, delivery), "{\"kind\":\"click\"}");
    Event whole;
    whole.raw_value = JsonRef(root);
    EXPECT_EQ(raw_event_text(whole, delivery), body.substr(0, body.size() - 2));
    // Anything else is serialized.
    JsonPtr other(json_pack("{s:i}", "n", 1));
    Event built;
    built.raw_value = JsonRef(other.get());
    EXPECT_EQ(raw_event_text(built, delivery), "{\"n\":1}");
    EXPECT_EQ(effective_dedup_key(second, raw_event_text(second, delivery)),
              content_dedup_key("{\"kind\":\"click\"}"));
    second.dedup_key = "v:1";
    EXPECT_EQ(effective_dedup_key(second, "ignored"), "v:1");
}

}  // namespace
}  // namespace mailhook
