// SPDX-License-Identifier: BSD-2-Clause
// store_script.hpp / resp.hpp: the argument layout the Lua script reads;
// intake.hpp: limits, ready events and the replay-guard fingerprint.
#include <gtest/gtest.h>

#include "core/resp.hpp"
#include "core/store_script.hpp"
#include "test_support.hpp"

namespace mailhook {
namespace {

using test::at_seconds;
using test::MapHeaders;

// Decodes the bulk strings of a RespArgs buffer ("$<len>\r\n<bytes>\r\n"...).
std::vector<std::string> decode_bulk_strings(std::string_view buffer) {
    std::vector<std::string> out;
    while (!buffer.empty()) {
        if (buffer[0] != '$') throw std::runtime_error("not a bulk string");
        const std::size_t end = buffer.find("\r\n");
        const std::size_t length = std::stoul(std::string(buffer.substr(1, end - 1)));
        out.emplace_back(buffer.substr(end + 2, length));
        if (buffer.substr(end + 2 + length, 2) != "\r\n") throw std::runtime_error("no CRLF");
        buffer.remove_prefix(end + 2 + length + 2);
    }
    return out;
}

ReadyEvent ready(std::string id, EventType type, SuppressionEffect effect,
                 std::string recipient_key, EpochMillis at, std::string json) {
    ReadyEvent event;
    event.id = std::move(id);
    event.type = type;
    event.effect = effect;
    event.recipient_key = std::move(recipient_key);
    event.at = at;
    event.json = std::move(json);
    return event;
}

Intake two_events() {
    Intake intake;
    intake.events.push_back(ready("id-one", EventType::bounced, SuppressionEffect::hard_bounce,
                                  "jane@example.com", at_seconds(1705314600) + 123,
                                  "{\"n\":1,\"text\":\"a\\r\\nb\"}"));
    intake.events.push_back(ready("id-two", EventType::complained, SuppressionEffect::complaint,
                                  "joe@example.com", at_seconds(1705314700), "{\"n\":2}"));
    return intake;
}

StorePolicy policy() {
    StorePolicy policy;
    policy.dedup_ttl_seconds = 3600;
    policy.stream_maxlen = 10000;
    policy.soft_bounce_limit = 3;
    policy.soft_bounce_window_seconds = 86400;
    policy.replay_ttl_seconds = 7200;
    return policy;
}

TEST(StoreScriptArgs, LayoutForTwoEventsWithReplayGuard) {
    Intake intake = two_events();
    intake.replay_guard = ReplayGuard{"tok-50", "id-oneid-two"};
    const RespArgs args =
        store_script_args(intake, "mailgun", "conn-1", "acme", StoreKeys{}, policy());
    const std::vector<std::string> expected = {
        // numkeys, then KEYS[1..3]
        "3", "mailhook:events", "mailhook:suppression:acme", "mailhook:suppression-events",
        // ARGV[1..12]
        "mailhook:dedup:", "3600", "10000", "3", "86400", "mailhook:softbounce:acme:",
        "mailhook:replay:mailgun:tok-50", "id-oneid-two", "7200", "mailgun", "conn-1", "2",
        // ARGV[13..19]: event 1; ARGV[20..26]: event 2
        "id-one", "bounced", "hard_bounce", "jane@example.com", "1705314600",
        "2024-01-15T10:30:00Z", "{\"n\":1,\"text\":\"a\\r\\nb\"}",
        "id-two", "complained", "complaint", "joe@example.com", "1705314700",
        "2024-01-15T10:31:40Z", "{\"n\":2}",
    };
    EXPECT_EQ(decode_bulk_strings(args.encoded()), expected);
    EXPECT_EQ(args.count(), expected.size());
}

TEST(StoreScriptArgs, NoReplayGuardLeavesItsArgumentsEmpty) {
    const RespArgs args =
        store_script_args(two_events(), "sendgrid", "conn-1", "conn-1", StoreKeys{}, policy());
    const std::vector<std::string> decoded = decode_bulk_strings(args.encoded());
    ASSERT_EQ(decoded.size(), 4u + 12u + 14u);
    const auto argv = [&](std::size_t i) { return decoded[3 + i]; };  // Lua's ARGV[i]
    EXPECT_EQ(argv(7), "");
    EXPECT_EQ(argv(8), "");
    EXPECT_EQ(argv(9), "7200");
    EXPECT_EQ(argv(10), "sendgrid");
    EXPECT_EQ(decoded[2], "mailhook:suppression:conn-1");
}

TEST(StoreScriptArgs, CustomKeysAndNoEvents) {
    StoreKeys keys;
    keys.stream = "s";
    keys.suppression = "supp:";
    keys.suppression_stream = "supp-log";
    keys.dedup_prefix = "d:";
    keys.soft_bounce_prefix = "sb:";
    keys.replay_prefix = "r:";
    Intake intake;
    intake.replay_guard = ReplayGuard{"t", ""};
    const std::vector<std::string> decoded = decode_bulk_strings(
        store_script_args(intake, "mailgun", "c", "tenant", keys, StorePolicy{}).encoded());
    const std::vector<std::string> expected = {
        "3", "s", "supp:tenant", "supp-log", "d:", std::to_string(26 * 3600), "0", "0", "0",
        "sb:tenant:", "r:mailgun:t", "", std::to_string(26 * 3600), "mailgun", "c", "0"};
    EXPECT_EQ(decoded, expected);
}

TEST(StoreScript, SourceReadsTheSameLayout) {
    const std::string_view source = store_script_source();
    for (const char* piece : {"KEYS[1], KEYS[2], KEYS[3]", "tonumber(ARGV[12])",
                              "local base = 13 + i * 7", "ARGV[base + 6]"}) {
        EXPECT_NE(source.find(piece), std::string_view::npos) << piece;
    }
}

TEST(StoreScript, Sha1IsFortyHexDigitsOfTheSource) {
    const std::string sha = store_script_sha1();
    ASSERT_EQ(sha.size(), 40u);
    EXPECT_EQ(sha.find_first_not_of("0123456789abcdef"), std::string::npos) << sha;
    EXPECT_EQ(sha, hex_encode(sha1(store_script_source())));
    EXPECT_EQ(sha, store_script_sha1());
}

TEST(RespCommand, ArrayHeaderCountsHeadAndTail) {
    RespArgs tail;
    tail.add("a");
    tail.add(std::int64_t{-12});
    tail.add(std::string_view("x\r\ny", 4));
    EXPECT_EQ(tail.count(), 3u);
    EXPECT_EQ(resp_command({"EVALSHA", "abc"}, tail),
              "*5\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\na\r\n$3\r\n-12\r\n$4\r\nx\r\ny\r\n");
    EXPECT_EQ(resp_command({"PING"}), "*1\r\n$4\r\nPING\r\n");
    EXPECT_EQ(resp_command({"GET", ""}), "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

// ---- take_in ----------------------------------------------------------------------

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
    vendor_.guard = ReplayGuard{"token-1", ""};
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
    vendor_.guard = ReplayGuard{"t", ""};
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
    EXPECT_EQ(first.json, write_event_json(bounced, first.id, origin_));
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
