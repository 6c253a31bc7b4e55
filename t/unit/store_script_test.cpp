// SPDX-License-Identifier: BSD-2-Clause
// store_script.hpp / resp.hpp: the argument layout the Lua script reads and
// how a request is cut into calls; then the script itself, run by a real
// redis-server: suppression in event order (M5), one raw text per request
// (M1), the replay key (L6), chunks that stay exactly-once, all or nothing.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "core/resp.hpp"
#include "core/store_script.hpp"
#include "redis_server.hpp"
#include "test_support.hpp"

namespace mailhook {
namespace {

using test::at_seconds;
using test::Reply;

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
                 std::string recipient_key, EpochMillis at) {
    ReadyEvent event;
    event.json = "{\"id\":\"" + id + "\"}";
    event.id = std::move(id);
    event.type = type;
    event.effect = effect;
    event.recipient_key = std::move(recipient_key);
    event.at = at;
    return event;
}

Intake two_events() {
    Intake intake;
    intake.events.push_back(ready("id-one", EventType::bounced, SuppressionEffect::hard_bounce,
                                  "jane@example.com", at_seconds(1705314600) + 123));
    intake.events.push_back(ready("id-two", EventType::complained, SuppressionEffect::complaint,
                                  "joe@example.com", at_seconds(1705314700)));
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

constexpr StoreTarget kTarget{"inboxroad", "conn-1", "acme"};

TEST(StoreScriptArgs, LayoutForTwoEventsWithReplayGuard) {
    Intake intake = two_events();
    intake.replay_guard = ReplayGuard{"tok-50", "1705314600tok-50", "id-oneid-two"};
    const StoreTarget target{"mailgun", "conn-1", "acme", at_seconds(1705314800) + 5};
    const RespArgs args = store_script_args(intake, target, StoreKeys{}, policy());
    const std::vector<std::string> expected = {
        // numkeys, KEYS: streams, suppression, health, replay keys, then per event its
        // dedup key
        "9", "mailhook:events", "mailhook:control", "mailhook:suppression:acme",
        "mailhook:suppression-events", "mailhook:health:conn-1",
        "mailhook:replay:conn-1:token:tok-50",
        "mailhook:replay:conn-1:signed:1705314600tok-50", "mailhook:dedup:id-one",
        "mailhook:dedup:id-two",
        // ARGV[1..13]
        "3600", "10000", "3", "86400", "2", "id-oneid-two", "7200", "0", "mailgun", "conn-1",
        "0", "2024-01-15T10:33:20.005Z", "1",
        // 4 per event
        "id-one", "jane@example.com", "{\"id\":\"id-one\"}",
        "bounced hard_bounce 1705314600 2024-01-15T10:30:00Z 0 e -",
        "id-two", "joe@example.com", "{\"id\":\"id-two\"}",
        "complained complaint 1705314700 2024-01-15T10:31:40Z 0 e -",
    };
    EXPECT_EQ(decode_bulk_strings(args.encoded()), expected);
    EXPECT_EQ(args.count(), expected.size());
}

TEST(StoreScriptArgs, OptionalKeysRawTextsAndControlEvents) {
    Intake intake;
    intake.raws = {"{\"n\":1}", "{\"unused\":1}", "{\"n\":3}"};
    intake.events.push_back(ready("a", EventType::bounced, SuppressionEffect::soft_bounce,
                                  "x:y@example.com", at_seconds(-1)));
    intake.events.back().raw = 3;
    intake.events.push_back(ready("b", EventType::unsubscribed, SuppressionEffect::unsubscribe,
                                  "u@example.com", at_seconds(10)));
    intake.events.back().raw = 1;
    intake.events.push_back(ready("c", EventType::delivered, SuppressionEffect::none, "",
                                  at_seconds(20)));
    intake.events.back().message_id = "<m@x>";
    intake.events.back().control = true;
    intake.events.back().raw = 3;
    StorePolicy with_delivered = policy();
    with_delivered.delivered_ttl_seconds = 30;
    const StoreTarget target{"ses", "a:b", "a:b"};
    const std::vector<std::string> decoded =
        decode_bulk_strings(store_script_args(intake, target, StoreKeys{}, with_delivered)
                                .encoded());
    const std::vector<std::string> keys(decoded.begin() + 1, decoded.begin() + 1 + 11);
    EXPECT_EQ(decoded[0], "11");
    EXPECT_EQ(keys, (std::vector<std::string>{
                        "mailhook:events", "mailhook:control", "mailhook:suppression:a:b",
                        "mailhook:suppression-events", "mailhook:health:a:b", "mailhook:dedup:a",
                        // I8: a ':' in the scope is encoded, so no other scope and
                        // recipient give this key
                        "mailhook:softbounce:a%3Ab:x:y@example.com", "mailhook:dedup:b",
                        "mailhook:resubscribed:a%3Ab:u@example.com", "mailhook:dedup:c",
                        "mailhook:delivered:a%3Ab:m@x",
                    }));
    const std::size_t argv = 1 + 11;
    EXPECT_EQ(decoded[argv + 7], "30") << "delivered ttl";
    ASSERT_EQ(decoded.size(), argv + 13 + 1 + 12);
    // Raw text 3 is shared (a, c): the script stores it once. Raw text 1 is
    // b's alone: it comes inside b's JSON.
    EXPECT_EQ(decoded[argv + 10], "1") << "raw texts used";
    EXPECT_EQ(decoded[argv + 13], "{\"n\":3}");
    EXPECT_EQ(decoded[argv + 14 + 3], "bounced soft_bounce -1 1969-12-31T23:59:59Z 1 e s");
    EXPECT_EQ(decoded[argv + 14 + 6], "{\"id\":\"b\",\"raw\":{\"n\":1}}");
    EXPECT_EQ(decoded[argv + 14 + 7], "unsubscribed unsubscribe 10 1970-01-01T00:00:10Z 0 e r");
    EXPECT_EQ(decoded[argv + 14 + 11], "delivered - 20 1970-01-01T00:00:20Z 1 c d");
}

TEST(StoreScriptArgs, RawTextsAreNumberedPerCall) {
    Intake intake;
    intake.raws = {"{\"n\":1}", "{\"unused\":1}", "{\"n\":3}"};
    intake.events.push_back(ready("a", EventType::sent, SuppressionEffect::none, "", 0));
    intake.events.back().raw = 3;
    intake.events.push_back(ready("b", EventType::sent, SuppressionEffect::none, "", 0));
    intake.events.back().raw = 1;
    intake.events.push_back(ready("c", EventType::sent, SuppressionEffect::none, "", 0));
    intake.events.back().raw = 3;
    intake.events.push_back(ready("d", EventType::sent, SuppressionEffect::none, "", 0));
    intake.events.back().raw = 1;
    const std::vector<std::string> decoded =
        decode_bulk_strings(store_script_args(intake, kTarget, StoreKeys{}, policy()).encoded());
    const std::size_t argv = 1 + 9;  // numkeys + KEYS
    ASSERT_EQ(decoded.size(), argv + 13 + 2 + 16);
    EXPECT_EQ(decoded[argv + 10], "2");
    EXPECT_EQ(decoded[argv + 13], "{\"n\":3}");
    EXPECT_EQ(decoded[argv + 14], "{\"n\":1}");
    EXPECT_EQ(decoded[argv + 15 + 3], "sent - 0 1970-01-01T00:00:00Z 1 e -");
    EXPECT_EQ(decoded[argv + 15 + 7], "sent - 0 1970-01-01T00:00:00Z 2 e -");
    EXPECT_EQ(decoded[argv + 15 + 11], "sent - 0 1970-01-01T00:00:00Z 1 e -");
    EXPECT_EQ(decoded[argv + 15 + 15], "sent - 0 1970-01-01T00:00:00Z 2 e -");
}

TEST(StoreScriptArgs, ARawTextOfOneEventAloneComesInsideItsJson) {
    Intake intake;
    intake.raws = {"{\"n\":1}"};
    intake.events.push_back(ready("a", EventType::sent, SuppressionEffect::none, "", 0));
    intake.events.back().raw = 1;
    const std::vector<std::string> decoded =
        decode_bulk_strings(store_script_args(intake, kTarget, StoreKeys{}, policy()).encoded());
    const std::size_t argv = 1 + 6;  // numkeys + KEYS
    ASSERT_EQ(decoded.size(), argv + 13 + 3);
    EXPECT_EQ(decoded[argv + 10], "p") << "no raw text for the script: a plain call";
    EXPECT_EQ(decoded[argv + 13 + 1], "{\"id\":\"a\",\"raw\":{\"n\":1}}");
    EXPECT_EQ(decoded[argv + 13 + 2], "sent");
}

// A call of events with nothing to suppress or keep beside them (no optional
// keys, no raw text the script holds, no replay keys) is laid out plain: a
// stream letter per event, then each event's JSON and type. One event that
// is not plain gives the whole call the general layout.
TEST(StoreScriptArgs, PlainEventsLayout) {
    Intake intake;
    intake.events.push_back(ready("a", EventType::delivered, SuppressionEffect::none,
                                  "r@example.com", at_seconds(5)));
    intake.events.push_back(ready("b", EventType::bounced, SuppressionEffect::hard_bounce, "",
                                  at_seconds(6)));
    intake.events.push_back(ready("c", EventType::unknown, SuppressionEffect::none, "", 0));
    intake.events.back().control = true;
    const StoreTarget target{"inboxroad", "conn-1", "acme", at_seconds(7)};
    const std::vector<std::string> plain =
        decode_bulk_strings(store_script_args(intake, target, StoreKeys{}, policy()).encoded());
    const std::vector<std::string> expected = {
        "8", "mailhook:events", "mailhook:control", "mailhook:suppression:acme",
        "mailhook:suppression-events", "mailhook:health:conn-1", "mailhook:dedup:a",
        "mailhook:dedup:b", "mailhook:dedup:c",
        "3600", "10000", "3", "86400", "0", "", "7200", "0", "inboxroad", "conn-1",
        "p", "1970-01-01T00:00:07.000Z", "1",
        "eec", R"({"id":"a"})", "delivered", R"({"id":"b"})", "bounced", R"({"id":"c"})",
        "unknown",
    };
    EXPECT_EQ(plain, expected);

    for (const auto& [change, why] :
         std::vector<std::pair<std::function<void(Intake&, StorePolicy&)>, const char*>>{
             {[](Intake& i, StorePolicy&) { i.events[1].recipient_key = "j@example.com"; },
              "a hard bounce to suppress"},
             {[](Intake& i, StorePolicy& p) {
                  p.delivered_ttl_seconds = 60;
                  i.events[0].message_id = "<m@x>";
              },
              "a delivered time to keep"},
             {[](Intake& i, StorePolicy&) {
                  i.replay_guard = ReplayGuard{"t", "1t", "f"};
              },
              "replay keys"},
             {[](Intake& i, StorePolicy&) {
                  i.raws = {"{}"};
                  i.events[0].raw = i.events[2].raw = 1;
              },
              "a raw text the script holds"},
         }) {
        Intake other = intake;
        StorePolicy with = policy();
        change(other, with);
        const std::vector<std::string> general =
            decode_bulk_strings(store_script_args(other, target, StoreKeys{}, with).encoded());
        const std::size_t argv = 1 + std::stoul(general.at(0));
        EXPECT_NE(general.at(argv + 10), "p") << why;
        EXPECT_EQ(general.size(), argv + 13 + std::stoul(general.at(argv + 10)) + 12) << why;
    }
}

Intake many_events(std::size_t n, SuppressionEffect effect = SuppressionEffect::soft_bounce) {
    Intake intake;
    intake.raws = {"{\"shared\":true}"};
    for (std::size_t i = 0; i < n; ++i) {
        const std::string id = "e" + std::to_string(i);
        intake.events.push_back(ready(id, effect == SuppressionEffect::none ? EventType::sent
                                                                            : EventType::bounced,
                                      effect, id + "@example.com", at_seconds(1000 + i)));
        intake.events.back().raw = i % 2 == 0 ? 1 : 0;
    }
    return intake;
}

TEST(StoreScriptCalls, NoCallExceedsTheArgumentCap) {
    for (const SuppressionEffect effect :
         {SuppressionEffect::none, SuppressionEffect::soft_bounce,
          SuppressionEffect::unsubscribe}) {
        const Intake intake = many_events(10000, effect);
        const ScriptCallLimits limits;
        const std::vector<RespArgs> calls =
            store_script_calls(intake, kTarget, StoreKeys{}, policy(), limits);
        std::size_t events = 0;
        for (const RespArgs& call : calls) {
            // EVALSHA and the SHA come before these.
            EXPECT_LE(call.count() + 2, limits.max_arguments);
            const std::vector<std::string> decoded = decode_bulk_strings(call.encoded());
            const std::size_t numkeys = std::stoul(decoded[0]);
            const std::size_t in_call = (decoded.size() - 1 - numkeys - 13 -
                                         std::stoul(decoded[1 + numkeys + 10])) / 4;
            EXPECT_LE(in_call, limits.max_events);
            events += in_call;
        }
        EXPECT_EQ(events, 10000u);
        EXPECT_GE(calls.size(), 20u);
    }
}

TEST(StoreScriptCalls, SmallLimitsAndNoEvents) {
    ScriptCallLimits limits;
    limits.max_events = 2;
    EXPECT_EQ(store_script_calls(many_events(5), kTarget, StoreKeys{}, policy(), limits).size(),
              3u);
    Intake guarded;
    guarded.replay_guard = ReplayGuard{"t", "1t", ""};
    EXPECT_EQ(store_script_calls(guarded, kTarget, StoreKeys{}, policy()).size(), 1u);
    limits.max_arguments = 20;
    EXPECT_THROW(store_script_calls(many_events(1), kTarget, StoreKeys{}, policy(), limits),
                 std::invalid_argument);
}

TEST(StoreScript, Sha1IsFortyHexDigitsOfTheSource) {
    const std::string sha = store_script_sha1();
    ASSERT_EQ(sha.size(), 40u);
    EXPECT_EQ(sha.find_first_not_of("0123456789abcdef"), std::string::npos) << sha;
    EXPECT_EQ(sha, hex_encode(sha1(store_script_source())));
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
    RespArgs both;
    both.add("z");
    both.append(tail);
    EXPECT_EQ(both.count(), 4u);
    EXPECT_EQ(both.encoded(), "$1\r\nz\r\n" + std::string(tail.encoded()));
}

// ---- the script in a real Redis ----------------------------------------------------

class StoreScriptInRedis : public test::RedisSuite<> {
  protected:
    Reply run(const RespArgs& args) {
        return redis_->command({"EVAL", store_script_source()}, args);
    }
    // Stores the request in one call: {stored, duplicates}, or the error.
    std::vector<long long> store(const Intake& intake, const StorePolicy& with = policy()) {
        const Reply reply = run(store_script_args(intake, kTarget, StoreKeys{}, with));
        if (reply.is_error()) throw std::runtime_error(reply.text);
        return {reply.elements.at(0).integer, reply.elements.at(1).integer};
    }
    // One event for the recipient with the effect, at the epoch second.
    std::vector<long long> store_one(const std::string& id, SuppressionEffect effect,
                                     std::int64_t epoch,
                                     const std::string& recipient = "ann@example.com") {
        Intake intake;
        intake.events.push_back(ready(id, EventType::unknown, effect, recipient,
                                      at_seconds(epoch)));
        return store(intake);
    }
    std::string reason(const std::string& recipient = "ann@example.com") {
        const JsonPtr entry = suppression_entry(recipient);
        return entry ? std::string(*json_string_at(entry.get(), "reason")) : "(none)";
    }
    JsonPtr suppression_entry(const std::string& recipient) {
        const Reply value = redis_->command({"HGET", "mailhook:suppression:acme", recipient});
        return value.kind == Reply::Kind::bulk ? parse_json(value.text) : nullptr;
    }
    // "action reason" of every suppression change, oldest first.
    std::vector<std::string> changes() {
        std::vector<std::string> out;
        const Reply entries = redis_->command({"XRANGE", "mailhook:suppression-events", "-", "+"});
        for (const Reply& entry : entries.elements) {
            std::map<std::string, std::string> fields;
            const auto& list = entry.elements.at(1).elements;
            for (std::size_t i = 0; i + 1 < list.size(); i += 2) {
                fields[list[i].text] = list[i + 1].text;
            }
            out.push_back(fields["action"] + " " + fields["reason"] + " " + fields["event_id"]);
        }
        return out;
    }
    std::map<std::string, std::string> health(const std::string& key = "mailhook:health:conn-1") {
        std::map<std::string, std::string> fields;
        const auto& list = redis_->command({"HGETALL", key}).elements;
        for (std::size_t i = 0; i + 1 < list.size(); i += 2) fields[list[i].text] = list[i + 1].text;
        return fields;
    }
    // The `event` field of every entry of a stream.
    std::vector<std::string> stream_events(const std::string& stream = "mailhook:events") {
        std::vector<std::string> out;
        for (const Reply& entry : redis_->command({"XRANGE", stream, "-", "+"}).elements) {
            const auto& list = entry.elements.at(1).elements;
            out.push_back(list.at(1).text);
        }
        return out;
    }
    // Stores `intake` in one call on an empty Redis but for `key`, a string
    // where a stream or hash is wanted: the reply.
    Reply stored_over_a_string(const std::string& key, const Intake& intake) {
        redis_->command({"FLUSHALL"});
        redis_->command({"SET", key, "not-a-stream-or-hash"});
        return run(store_script_args(intake, kTarget, StoreKeys{}, policy()));
    }
    // Every field and value of every entry of the events stream, in order.
    std::vector<std::string> entry_fields() {
        std::vector<std::string> out;
        for (const Reply& entry :
             redis_->command({"XRANGE", "mailhook:events", "-", "+"}).elements) {
            for (const Reply& field : entry.elements.at(1).elements) out.push_back(field.text);
        }
        return out;
    }
};

constexpr auto unsubscribe = SuppressionEffect::unsubscribe;
constexpr auto resubscribe = SuppressionEffect::resubscribe;

TEST_F(StoreScriptInRedis, M5OlderResubscribeKeepsANewerUnsubscribe) {
    store_one("u2", unsubscribe, 2000);
    store_one("r1", resubscribe, 1000);
    EXPECT_EQ(reason(), "unsubscribe") << "the review's reproduction";
    store_one("r3", resubscribe, 3000);
    EXPECT_EQ(reason(), "(none)") << "a newer resubscribe removes it";
    EXPECT_EQ(changes(), (std::vector<std::string>{"added unsubscribe u2",
                                                   "removed unsubscribe r3"}));
}

TEST_F(StoreScriptInRedis, M5OlderUnsubscribeAfterANewerResubscribeIsNotApplied) {
    store_one("r2", resubscribe, 2000);
    store_one("u1", unsubscribe, 1000);
    EXPECT_EQ(reason(), "(none)") << "the person's last choice was to resubscribe";
    store_one("u3", unsubscribe, 3000);
    EXPECT_EQ(reason(), "unsubscribe");
    const Reply remembered =
        redis_->command({"GET", "mailhook:resubscribed:acme:ann@example.com"});
    EXPECT_EQ(remembered.text, "2000");
    EXPECT_GT(integer({"TTL", "mailhook:resubscribed:acme:ann@example.com"}), 3000);
}

TEST_F(StoreScriptInRedis, M5TiesGoToTheUnsubscribe) {
    store_one("u", unsubscribe, 2000);
    store_one("r", resubscribe, 2000);
    EXPECT_EQ(reason(), "unsubscribe");
    store_one("r-first", resubscribe, 5000, "bob@example.com");
    store_one("u-tie", unsubscribe, 5000, "bob@example.com");
    EXPECT_EQ(reason("bob@example.com"), "unsubscribe");
}

TEST_F(StoreScriptInRedis, M5ALaterEventOfTheSameReasonRenewsTheEntry) {
    store_one("u2", unsubscribe, 2000);
    store_one("u4", unsubscribe, 4000);
    store_one("u1", unsubscribe, 1000);  // older: no change
    const JsonPtr entry = suppression_entry("ann@example.com");
    EXPECT_EQ(*json_string_at(entry.get(), "event_id"), "u4");
    EXPECT_EQ(*json_string_at(entry.get(), "at"), "1970-01-01T01:06:40Z");
    EXPECT_EQ(json_integer_value(json_object_get(entry.get(), "epoch")), 4000);
    store_one("r3", resubscribe, 3000);
    EXPECT_EQ(reason(), "unsubscribe") << "older than the renewed unsubscribe";
    EXPECT_EQ(changes(), (std::vector<std::string>{"added unsubscribe u2",
                                                   "updated unsubscribe u4"}));
}

TEST_F(StoreScriptInRedis, M5SeverityStillRulesAdditions) {
    store_one("u2", unsubscribe, 2000);
    store_one("h1", SuppressionEffect::hard_bounce, 1000);
    EXPECT_EQ(reason(), "hard_bounce") << "a more severe reason is kept whatever its time";
    store_one("u3", unsubscribe, 3000);
    store_one("r4", resubscribe, 4000);
    EXPECT_EQ(reason(), "hard_bounce") << "a milder reason never replaces it";
    store_one("c0", SuppressionEffect::complaint, 0);
    EXPECT_EQ(reason(), "complaint");
}

TEST_F(StoreScriptInRedis, M5EntriesWithoutAnEpochUseTheirTime) {
    // As written by earlier versions.
    redis_->command({"HSET", "mailhook:suppression:acme", "ann@example.com",
                     R"({"reason":"unsubscribe","vendor":"x","event_id":"old","at":"2025-03-01T12:00:00Z"})"});
    const std::int64_t at = 1740830400;  // 2025-03-01T12:00:00Z
    store_one("r-before", resubscribe, at - 1);
    EXPECT_EQ(reason(), "unsubscribe");
    store_one("r-same", resubscribe, at);
    EXPECT_EQ(reason(), "unsubscribe");
    store_one("r-after", resubscribe, at + 1);
    EXPECT_EQ(reason(), "(none)");
    // Dates before March and in leap years count days right.
    redis_->command({"HSET", "mailhook:suppression:acme", "leap@example.com",
                     R"({"reason":"unsubscribe","at":"2024-02-29T23:59:59Z"})"});
    store_one("r-leap", resubscribe, 1709251199, "leap@example.com");
    EXPECT_EQ(reason("leap@example.com"), "unsubscribe");
    store_one("r-leap2", resubscribe, 1709251200, "leap@example.com");
    EXPECT_EQ(reason("leap@example.com"), "(none)");
}

TEST_F(StoreScriptInRedis, SoftBouncesReachTheLimit) {
    for (int i = 0; i < 3; ++i) {
        store_one("s" + std::to_string(i), SuppressionEffect::soft_bounce, 1000 + i * 100);
    }
    EXPECT_EQ(reason(), "soft_bounce_limit");
    EXPECT_EQ(integer({"ZCARD", "mailhook:softbounce:acme:ann@example.com"}), 3);
}

// Three events made from one vendor event (raw text 1).
Intake one_notification(const std::string& raw) {
    Intake intake;
    intake.raws = {raw};
    for (const char* id : {"a", "b", "c"}) {
        intake.events.push_back(ready(id, EventType::bounced, SuppressionEffect::none, "", 0));
        intake.events.back().raw = 1;
    }
    return intake;
}

TEST_F(StoreScriptInRedis, M1ARawTextSharedByEventsIsStoredOnceInTheLast) {
    Intake intake = one_notification(R"({"notification":1})");
    intake.events.push_back(ready("own", EventType::sent, SuppressionEffect::none, "", 0));
    EXPECT_EQ(store(intake), (std::vector<long long>{4, 0}));
    EXPECT_EQ(stream_events(), (std::vector<std::string>{
                                   R"({"id":"a","raw_ref":{"id":"c","after":2}})",
                                   R"({"id":"b","raw_ref":{"id":"c","after":1}})",
                                   R"({"id":"c","raw":{"notification":1}})",
                                   R"({"id":"own"})",
                               }));
}

TEST_F(StoreScriptInRedis, M1TheRawTextGoesToTheLastEventStoredNotADuplicate) {
    const Intake intake = one_notification(R"({"n":1})");
    Intake only_c = intake;
    only_c.events.erase(only_c.events.begin(), only_c.events.begin() + 2);
    store(only_c);
    redis_->command({"DEL", "mailhook:events"});
    EXPECT_EQ(store(intake), (std::vector<long long>{2, 1}));
    EXPECT_EQ(stream_events(), (std::vector<std::string>{
                                   R"({"id":"a","raw_ref":{"id":"b","after":1}})",
                                   R"({"id":"b","raw":{"n":1}})",
                               }));
}

TEST_F(StoreScriptInRedis, ControlEventsGoToTheControlStream) {
    Intake intake;
    intake.raws = {R"({"Type":"SubscriptionConfirmation"})"};
    intake.events.push_back(ready("ctl", EventType::unknown, SuppressionEffect::none, "", 0));
    intake.events.back().control = true;
    intake.events.back().raw = 1;
    intake.events.push_back(ready("ev", EventType::sent, SuppressionEffect::none, "", 0));
    intake.events.back().raw = 1;
    EXPECT_EQ(store(intake), (std::vector<long long>{2, 0}));
    EXPECT_EQ(stream_events("mailhook:control"),
              (std::vector<std::string>{R"({"id":"ctl","raw":{"Type":"SubscriptionConfirmation"}})"}));
    EXPECT_EQ(stream_events(),
              (std::vector<std::string>{R"({"id":"ev","raw":{"Type":"SubscriptionConfirmation"}})"}));
}

TEST(StoreScriptArgs, MaxAgeTrimsByMinimumId) {
    StorePolicy by_age = policy();
    by_age.stream_min_id_ms = 1705314600123;
    const auto decoded =
        decode_bulk_strings(store_script_args(two_events(), kTarget, StoreKeys{}, by_age)
                                .encoded());
    const std::size_t argv = 1 + 7;  // numkeys, 5 fixed keys, 2 dedup keys
    EXPECT_EQ(decoded[argv + 1], "m1705314600123") << "MINID instead of MAXLEN";
    by_age.stream_min_id_ms = 0;
    EXPECT_EQ(decode_bulk_strings(store_script_args(two_events(), kTarget, StoreKeys{}, by_age)
                                      .encoded())[argv + 1],
              "10000");
}

// With small stream nodes (MINID ~ removes whole nodes only), entries older
// than the minimum id go, newer ones and the new entry stay.
TEST_F(StoreScriptInRedis, MaxAgeRemovesOldEntries) {
    redis_->command({"CONFIG", "SET", "stream-node-max-entries", "2"});
    for (const char* id : {"1000-0", "1001-0", "1002-0", "1003-0", "5000-0", "5001-0"}) {
        redis_->command({"XADD", "mailhook:events", id, "event", id});
    }
    StorePolicy by_age = policy();
    by_age.stream_min_id_ms = 5000;
    Intake intake;
    intake.events.push_back(ready("new", EventType::sent, SuppressionEffect::none, "", 0));
    EXPECT_EQ(store(intake, by_age), (std::vector<long long>{1, 0}));
    redis_->command({"CONFIG", "SET", "stream-node-max-entries", "100"});
    EXPECT_EQ(stream_events(), (std::vector<std::string>{"5000-0", "5001-0",
                                                         R"({"id":"new"})"}));
}

TEST_F(StoreScriptInRedis, ChunkedRequestsStayExactlyOnce) {
    const Intake intake = many_events(1200, SuppressionEffect::none);
    const std::vector<RespArgs> calls =
        store_script_calls(intake, kTarget, StoreKeys{}, policy());
    ASSERT_EQ(calls.size(), 3u);
    // The first call succeeded, then the request failed: the vendor retries it.
    Reply first = run(calls[0]);
    ASSERT_FALSE(first.is_error()) << first.text;
    EXPECT_EQ(first.elements[0].integer, 500);
    long long stored = 0;
    long long duplicates = 0;
    for (const RespArgs& call : calls) {
        const Reply reply = run(call);
        ASSERT_FALSE(reply.is_error()) << reply.text;
        stored += reply.elements[0].integer;
        duplicates += reply.elements[1].integer;
    }
    EXPECT_EQ(stored, 700);
    EXPECT_EQ(duplicates, 500);
    EXPECT_EQ(integer({"XLEN", "mailhook:events"}), 1200);
    // A raw text is held once per call, by the last event of the call using it.
    const std::vector<std::string> events = stream_events();
    EXPECT_EQ(events[0], R"({"id":"e0","raw_ref":{"id":"e498","after":498}})");
    EXPECT_EQ(events[498], R"({"id":"e498","raw":{"shared":true}})");
    EXPECT_EQ(events[499], R"({"id":"e499"})");
    EXPECT_EQ(events[500], R"({"id":"e500","raw_ref":{"id":"e998","after":498}})");
}

TEST_F(StoreScriptInRedis, L6ReplayKeysArePerConnectionAndCoverTheSignedText) {
    Intake intake = two_events();
    intake.replay_guard = ReplayGuard{"7abc", "17053146007abc", "fingerprint"};
    EXPECT_EQ(store(intake), (std::vector<long long>{2, 0}));
    EXPECT_EQ(store(intake), (std::vector<long long>{0, 2})) << "a genuine retry";
    Intake other = intake;
    other.replay_guard->fingerprint = "other";
    const auto replayed = [&](const Intake& request, const StoreTarget& target) {
        return run(store_script_args(request, target, StoreKeys{}, policy()))
                   .elements.at(0)
                   .integer == -1;
    };
    EXPECT_TRUE(replayed(other, kTarget)) << "the token again, for another event";
    const StoreTarget elsewhere{"inboxroad", "conn-2", "acme"};
    EXPECT_FALSE(replayed(other, elsewhere)) << "another connection has its own tokens";
    // The review's forgery: a digit moved from the token to the timestamp
    // keeps the signed text, and so the signature.
    Intake moved = other;
    moved.replay_guard = ReplayGuard{"abc", "17053146007abc", "other"};
    EXPECT_TRUE(replayed(moved, kTarget));
    EXPECT_EQ(integer({"EXISTS", "mailhook:replay:conn-1:token:7abc"}), 1);
    EXPECT_EQ(integer({"EXISTS", "mailhook:replay:conn-1:signed:17053146007abc"}), 1);
    EXPECT_GT(integer({"TTL", "mailhook:replay:conn-1:token:7abc"}), 7000);
}

TEST_F(StoreScriptInRedis, AKeyOfTheWrongTypeStoresNothing) {
    redis_->command({"SET", "mailhook:softbounce:acme:e1@example.com", "not-a-set"});
    const Intake intake = many_events(3);
    const Reply reply = run(store_script_args(intake, kTarget, StoreKeys{}, policy()));
    ASSERT_TRUE(reply.is_error());
    EXPECT_EQ(reply.text, "WRONGTYPE mailhook key mailhook:softbounce:acme:e1@example.com "
                          "holds a string");
    EXPECT_EQ(integer({"EXISTS", "mailhook:events"}), 0);
    EXPECT_EQ(integer({"EXISTS", "mailhook:dedup:e0"}), 0);
    EXPECT_EQ(integer({"DBSIZE"}), 1);
}

// One event's stream is not TYPE-checked first: its failed XADD undoes its
// claim, so nothing stays and a retry once the key is fixed stores it.
TEST_F(StoreScriptInRedis, AStreamOfTheWrongTypeStoresNothingForOneEventAlone) {
    redis_->command({"SET", "mailhook:events", "not-a-stream"});
    const Intake one = many_events(1);
    const Reply reply = run(store_script_args(one, kTarget, StoreKeys{}, policy()));
    ASSERT_TRUE(reply.is_error());
    EXPECT_EQ(reply.text, "WRONGTYPE mailhook key mailhook:events holds a string");
    EXPECT_EQ(integer({"EXISTS", "mailhook:dedup:e0"}), 0);
    EXPECT_EQ(integer({"DBSIZE"}), 1);

    redis_->command({"DEL", "mailhook:events"});
    EXPECT_EQ(store(one), (std::vector<long long>{1, 0}));
    EXPECT_EQ(stream_events().size(), 1u);
}

// The common request (one event, no raw text of its own, no replay keys, no
// optional keys, nothing to suppress) has a short path in the script: it
// stores what the general path stores, and fails as it fails.
TEST_F(StoreScriptInRedis, TheCommonRequestStoresWhatTheGeneralPathWould) {
    Intake plain;
    plain.events.push_back(ready("p1", EventType::delivered, SuppressionEffect::hard_bounce, "",
                                 at_seconds(1705314600)));
    Intake control;
    control.events.push_back(ready("c1", EventType::unknown, SuppressionEffect::none, "", 0));
    control.events.back().control = true;
    StoreTarget target = kTarget;
    target.received_at = at_seconds(1705314800) + 7;
    for (const Intake* intake : {&plain, &control}) {
        const Reply reply = run(store_script_args(*intake, target, StoreKeys{}, policy()));
        ASSERT_EQ(reply.elements.size(), 2u) << reply.text;
        EXPECT_EQ(reply.elements[0].integer, 1);
    }
    EXPECT_EQ(store(plain), (std::vector<long long>{0, 1}));
    EXPECT_EQ(entry_fields(), (std::vector<std::string>{"event", R"({"id":"p1"})", "type",
                                                        "delivered", "vendor", "inboxroad"}));
    EXPECT_EQ(stream_events("mailhook:control"), (std::vector<std::string>{R"({"id":"c1"})"}));
    EXPECT_GT(integer({"TTL", "mailhook:dedup:p1"}), 3500);
    EXPECT_EQ(integer({"EXISTS", "mailhook:suppression:acme"}), 0) << "no recipient";
    using Fields = std::map<std::string, std::string>;
    EXPECT_EQ(health(), (Fields{{"accepted", "3"}, {"stored", "2"}, {"duplicates", "1"},
                                {"last_accepted_at", "1970-01-01T00:00:00.000Z"},
                                {"last_event_type", "delivered"}}));

    Reply failed = stored_over_a_string("mailhook:events", plain);
    EXPECT_EQ(failed.text, "WRONGTYPE mailhook key mailhook:events holds a string");
    EXPECT_EQ(integer({"DBSIZE"}), 1) << "its claim undone, no health";

    failed = stored_over_a_string("mailhook:health:conn-1", plain);
    EXPECT_EQ(failed.text, "WRONGTYPE mailhook key mailhook:health:conn-1 holds a string");
    EXPECT_EQ(integer({"DBSIZE"}), 1) << "nothing claimed or stored";
}

// Several plain events (nothing to suppress, no optional keys, no shared
// raw text) take the script's short loop; what it stores is what the
// general path stores, and a request with one event that is not plain
// still goes the general way.
TEST_F(StoreScriptInRedis, SeveralPlainEventsStoreWhatTheGeneralPathWould) {
    Intake plain;
    plain.events.push_back(ready("p1", EventType::delivered, SuppressionEffect::none, "r@x.test",
                                 at_seconds(1705314600)));
    plain.events.push_back(ready("p2", EventType::bounced, SuppressionEffect::hard_bounce, "",
                                 at_seconds(1705314601)));
    plain.events.push_back(ready("c1", EventType::unknown, SuppressionEffect::none, "", 0));
    plain.events.back().control = true;
    plain.events.push_back(plain.events[1]);  // a repeat inside the request
    EXPECT_EQ(store(plain), (std::vector<long long>{3, 1}));
    EXPECT_EQ(store(plain), (std::vector<long long>{0, 4}));
    EXPECT_EQ(entry_fields(),
              (std::vector<std::string>{"event", R"({"id":"p1"})", "type", "delivered", "vendor",
                                        "inboxroad", "event", R"({"id":"p2"})", "type", "bounced",
                                        "vendor", "inboxroad"}));
    EXPECT_EQ(stream_events("mailhook:control"), (std::vector<std::string>{R"({"id":"c1"})"}));
    EXPECT_GT(integer({"TTL", "mailhook:dedup:p2"}), 3500);
    EXPECT_EQ(integer({"EXISTS", "mailhook:suppression:acme"}), 0) << "no recipient";
    using Fields = std::map<std::string, std::string>;
    EXPECT_EQ(health(), (Fields{{"accepted", "2"}, {"stored", "3"}, {"duplicates", "5"},
                                {"last_accepted_at", "1970-01-01T00:00:00.000Z"},
                                {"last_event_type", "bounced"}}));

    // A stream of the wrong type fails the request before its first write.
    Reply failed = stored_over_a_string("mailhook:control", plain);
    EXPECT_EQ(failed.text, "WRONGTYPE mailhook key mailhook:control holds a string");
    EXPECT_EQ(integer({"DBSIZE"}), 1) << "nothing claimed or stored";

    // One event to suppress among them: the general path, which suppresses.
    redis_->command({"FLUSHALL"});
    plain.events.push_back(ready("b1", EventType::bounced, SuppressionEffect::hard_bounce,
                                 "jane@example.com", at_seconds(1705314602)));
    EXPECT_EQ(store(plain), (std::vector<long long>{4, 1}));
    EXPECT_EQ(integer({"HEXISTS", "mailhook:suppression:acme", "jane@example.com"}), 1);
}

TEST_F(StoreScriptInRedis, AStreamOfTheWrongTypeStoresNothingForSeveralEvents) {
    redis_->command({"SET", "mailhook:events", "not-a-stream"});
    const Reply reply = run(store_script_args(many_events(3), kTarget, StoreKeys{}, policy()));
    ASSERT_TRUE(reply.is_error());
    EXPECT_EQ(reply.text, "WRONGTYPE mailhook key mailhook:events holds a string");
    EXPECT_EQ(integer({"DBSIZE"}), 1);
}

TEST_F(StoreScriptInRedis, DuplicatesAndRepeatsInsideACall) {
    Intake intake = two_events();
    intake.events.push_back(intake.events[0]);
    EXPECT_EQ(store(intake), (std::vector<long long>{2, 1}));
    EXPECT_EQ(store(intake), (std::vector<long long>{0, 3}));
    EXPECT_GT(integer({"TTL", "mailhook:dedup:id-one"}), 3500);
}

// Connection health: a request counts once however many calls it takes;
// its events are counted as stored or duplicates.
TEST_F(StoreScriptInRedis, TheHealthHashCountsTheRequestOnceAndItsEvents) {
    StoreTarget target = kTarget;
    target.received_at = at_seconds(1705314800) + 5;
    const std::vector<RespArgs> calls =
        store_script_calls(many_events(600, SuppressionEffect::none), target, StoreKeys{},
                           policy());
    ASSERT_EQ(calls.size(), 2u);
    for (const RespArgs& call : calls) ASSERT_FALSE(run(call).is_error());
    using Fields = std::map<std::string, std::string>;
    EXPECT_EQ(health(), (Fields{{"accepted", "1"}, {"stored", "600"},
                                {"last_accepted_at", "2024-01-15T10:33:20.005Z"},
                                {"last_event_type", "sent"}}));
    target.received_at += 1000;
    ASSERT_FALSE(run(store_script_calls(two_events(), target, StoreKeys{}, policy())[0])
                     .is_error());
    ASSERT_FALSE(run(calls[0]).is_error()) << "a retry of the first call: all duplicates";
    EXPECT_EQ(health(), (Fields{{"accepted", "3"}, {"stored", "602"}, {"duplicates", "500"},
                                {"last_accepted_at", "2024-01-15T10:33:20.005Z"},
                                {"last_event_type", "sent"}}));
}

TEST_F(StoreScriptInRedis, AReplayOrAHealthKeyOfTheWrongTypeWritesNoHealth) {
    Intake intake = two_events();
    intake.replay_guard = ReplayGuard{"tok", "1tok", "first"};
    EXPECT_EQ(store(intake), (std::vector<long long>{2, 0}));
    intake.replay_guard->fingerprint = "second";
    EXPECT_EQ(store(intake), (std::vector<long long>{-1, 0}));
    EXPECT_EQ(health()["accepted"], "1") << "a replay is a rejection, recorded by the module";

    const Reply reply = stored_over_a_string("mailhook:health:conn-1", two_events());
    ASSERT_TRUE(reply.is_error());
    EXPECT_EQ(reply.text, "WRONGTYPE mailhook key mailhook:health:conn-1 holds a string");
    EXPECT_EQ(integer({"DBSIZE"}), 1) << "nothing stored";
}

// ---- several requests in one script call (the batch script) ------------------------

// What calls of one connection share goes once; each call keeps its own.
TEST(StoreBatchArgs, SharedKeysAndArgumentsOncePerConnection) {
    constexpr StoreTarget kOther{"inboxroad", "conn-2", "other"};
    const RespArgs one = store_script_args(two_events(), kTarget, StoreKeys{}, policy());
    const RespArgs two =
        store_script_args(many_events(1, SuppressionEffect::none), kTarget, StoreKeys{}, policy());
    const RespArgs other =
        store_script_args(many_events(1, SuppressionEffect::none), kOther, StoreKeys{}, policy());
    const RespArgs batch = store_batch_args({&one, &two, &other}).value();
    const std::vector<std::string> got = decode_bulk_strings(batch.encoded());
    EXPECT_EQ(batch.count(), got.size());

    const std::vector<std::string> a = decode_bulk_strings(one.encoded());
    const std::vector<std::string> b = decode_bulk_strings(two.encoded());
    const std::vector<std::string> c = decode_bulk_strings(other.encoded());
    const auto keys_of = [](const std::vector<std::string>& call) {
        return std::stoul(call[0]);
    };
    std::vector<std::string> want = {std::to_string(10 + keys_of(a) - 5 + keys_of(b) - 5 +
                                                    keys_of(c) - 5)};
    const auto append = [&want](const std::vector<std::string>& from, std::size_t begin,
                                std::size_t end) {
        want.insert(want.end(), from.begin() + begin, from.begin() + end);
    };
    append(a, 1, 6);  // the first connection's shared keys
    append(c, 1, 6);  // the other's
    for (const auto* call : {&a, &b, &c}) append(*call, 6, 1 + keys_of(*call));
    want.push_back("3");
    want.push_back("2");
    for (const auto* call : {&a, &c}) {  // ARGV 1-4, 7-10
        const std::size_t argv = 1 + keys_of(*call);
        append(*call, argv, argv + 4);
        append(*call, argv + 6, argv + 10);
    }
    std::size_t header = 1;
    for (const auto* call : {&a, &b, &c}) {
        want.push_back(std::to_string(call == &c ? 2 : header));
        want.push_back(std::to_string(keys_of(*call) - 5));
        want.push_back(std::to_string(call->size() - 1 - keys_of(*call) - 8));
    }
    for (const auto* call : {&a, &b, &c}) {  // ARGV 5, 6, 11, 12, 13, then the rest
        const std::size_t argv = 1 + keys_of(*call);
        for (const std::size_t i : {4, 5, 10, 11, 12}) want.push_back((*call)[argv + i]);
        append(*call, argv + 13, call->size());
    }
    EXPECT_EQ(got, want);

    RespArgs not_a_call;
    not_a_call.add("x");
    EXPECT_FALSE(store_batch_args({&one, &not_a_call}));
}

TEST(StoreScript, TheBatchScriptIsAnotherScript) {
    EXPECT_NE(store_batch_script_sha1(), store_script_sha1());
    EXPECT_EQ(store_batch_script_source().substr(0, 200), store_script_source().substr(0, 200));
}

class BatchStoreInRedis : public StoreScriptInRedis {
  protected:
    Reply run_batch(const std::vector<RespArgs>& calls) {
        std::vector<const RespArgs*> pointers;
        for (const RespArgs& call : calls) pointers.push_back(&call);
        return redis_->command({"EVAL", store_batch_script_source()},
                               store_batch_args(pointers).value());
    }
    static RespArgs call_of(const Intake& intake, const StorePolicy& with = policy()) {
        return store_script_args(intake, kTarget, StoreKeys{}, with);
    }
    static std::vector<long long> answer(const Reply& reply) {
        if (reply.is_error()) return {-100};
        return {reply.elements.at(0).integer, reply.elements.at(1).integer};
    }
};

// Each request is answered as its own call would have been, and stores what
// its own call would have stored.
TEST_F(BatchStoreInRedis, EachRequestIsAnsweredAsItsOwnCallWouldBe) {
    Intake replayed = two_events();
    replayed.replay_guard = ReplayGuard{"token-1", "signed-1", "print-a"};
    Intake replay = many_events(1, SuppressionEffect::none);
    replay.replay_guard = ReplayGuard{"token-1", "signed-2", "print-b"};
    const Reply reply =
        run_batch({call_of(two_events()), call_of(many_events(3)), call_of(two_events())});
    ASSERT_EQ(reply.elements.size(), 3u) << reply.text;
    EXPECT_EQ(answer(reply.elements[0]), (std::vector<long long>{2, 0}));
    EXPECT_EQ(answer(reply.elements[1]), (std::vector<long long>{3, 0}));
    EXPECT_EQ(answer(reply.elements[2]), (std::vector<long long>{0, 2}));
    EXPECT_EQ(stream_events().size(), 5u);
    EXPECT_EQ(reason("jane@example.com"), "hard_bounce");
    using Fields = std::map<std::string, std::string>;
    EXPECT_EQ(health(), (Fields{{"accepted", "3"}, {"stored", "5"}, {"duplicates", "2"},
                                {"last_accepted_at", "1970-01-01T00:00:00.000Z"},
                                {"last_event_type", "complained"}}))
        << "written once for the batch, as three calls would have";

    const Reply second = run_batch({call_of(replayed), call_of(replay)});
    ASSERT_EQ(second.elements.size(), 2u) << second.text;
    EXPECT_EQ(answer(second.elements[0]), (std::vector<long long>{0, 2}));
    EXPECT_EQ(answer(second.elements[1]), (std::vector<long long>{-1, 0})) << "a replay";
    EXPECT_EQ(stream_events().size(), 5u);
}

// Requests of two connections in one batch: each its own keys and health.
TEST_F(BatchStoreInRedis, TwoConnectionsInOneBatch) {
    constexpr StoreTarget kOther{"inboxroad", "conn-2", "other"};
    const std::vector<RespArgs> calls = {
        call_of(two_events()),
        store_script_args(many_events(2), kOther, StoreKeys{}, policy()),
        call_of(many_events(1, SuppressionEffect::none))};
    const Reply reply = run_batch(calls);
    ASSERT_EQ(reply.elements.size(), 3u) << reply.text;
    EXPECT_EQ(answer(reply.elements[0]), (std::vector<long long>{2, 0}));
    EXPECT_EQ(answer(reply.elements[1]), (std::vector<long long>{2, 0}));
    EXPECT_EQ(answer(reply.elements[2]), (std::vector<long long>{0, 1})) << "e0 again";
    EXPECT_EQ(health()["accepted"], "2");
    EXPECT_EQ(health()["duplicates"], "1");
    EXPECT_EQ(health("mailhook:health:conn-2")["stored"], "2");
    EXPECT_EQ(integer({"ZCARD", "mailhook:softbounce:other:e1@example.com"}), 1);
    EXPECT_EQ(integer({"EXISTS", "mailhook:softbounce:acme:e1@example.com"}), 0);
}

// A request whose key holds the wrong type fails alone, and stores nothing.
TEST_F(BatchStoreInRedis, ARequestThatFailsFailsAlone) {
    redis_->command({"SET", "mailhook:softbounce:acme:e1@example.com", "not-a-set"});
    Intake other = two_events();
    const Reply reply = run_batch({call_of(other), call_of(many_events(3)),
                                   call_of(many_events(1, SuppressionEffect::none)),
                                   call_of(many_events(3))});
    ASSERT_EQ(reply.elements.size(), 4u) << reply.text;
    EXPECT_EQ(answer(reply.elements[0]), (std::vector<long long>{2, 0}));
    for (const std::size_t failed : {1, 3}) {
        ASSERT_TRUE(reply.elements[failed].is_error()) << "the second one too: the type "
                                                          "checked once is remembered";
        EXPECT_EQ(reply.elements[failed].text,
                  "WRONGTYPE mailhook key mailhook:softbounce:acme:e1@example.com holds a string");
    }
    EXPECT_EQ(answer(reply.elements[2]), (std::vector<long long>{1, 0}));
    EXPECT_EQ(health()["accepted"], "2") << "the failed requests are not counted";
    EXPECT_EQ(integer({"EXISTS", "mailhook:dedup:e1"}), 0) << "the failed request claimed nothing";
    EXPECT_EQ(stream_events().size(), 3u);
}

// The common request's short path fails alone too, and its health check is
// remembered for the batch's other requests.
TEST_F(BatchStoreInRedis, ACommonRequestThatFailsFailsAlone) {
    redis_->command({"SET", "mailhook:health:conn-2", "not-a-hash"});
    constexpr StoreTarget kOther{"inboxroad", "conn-2", "other"};
    Intake second;
    second.events.push_back(ready("e1", EventType::sent, SuppressionEffect::none, "", 0));
    const Reply reply = run_batch(
        {store_script_args(many_events(1, SuppressionEffect::none), kOther, StoreKeys{}, policy()),
         call_of(many_events(1, SuppressionEffect::none)),
         store_script_args(second, kOther, StoreKeys{}, policy()), call_of(second)});
    ASSERT_EQ(reply.elements.size(), 4u) << reply.text;
    for (const std::size_t failed : {0, 2}) {
        ASSERT_TRUE(reply.elements[failed].is_error());
        EXPECT_EQ(reply.elements[failed].text,
                  "WRONGTYPE mailhook key mailhook:health:conn-2 holds a string");
    }
    EXPECT_EQ(answer(reply.elements[1]), (std::vector<long long>{1, 0}));
    EXPECT_EQ(answer(reply.elements[3]), (std::vector<long long>{1, 0}));
    EXPECT_EQ(stream_events(), (std::vector<std::string>{R"({"id":"e0","raw":{"shared":true}})",
                                                         R"({"id":"e1"})"}));
    EXPECT_EQ(health()["stored"], "2");
}

// An error a Redis command raises half-way (here SET with a bad TTL) is
// that request's answer; the next request is still stored.
TEST_F(BatchStoreInRedis, AnErrorRaisedInsideARequestIsItsAnswer) {
    StorePolicy bad = policy();
    bad.dedup_ttl_seconds = -5;
    const Reply reply = run_batch({call_of(two_events(), bad), call_of(many_events(2))});
    ASSERT_EQ(reply.elements.size(), 2u) << reply.text;
    ASSERT_TRUE(reply.elements[0].is_error());
    EXPECT_NE(reply.elements[0].text.find("invalid expire time"), std::string::npos)
        << reply.elements[0].text;
    EXPECT_EQ(answer(reply.elements[1]), (std::vector<long long>{2, 0}));
}

}  // namespace
}  // namespace mailhook
