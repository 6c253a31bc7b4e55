// SPDX-License-Identifier: BSD-2-Clause
// event.hpp: the schema-1 JSON writer, stable ids, suppression effects and
// enhanced status codes in MTA text.
#include <gtest/gtest.h>

#include <set>
#include <type_traits>

#include "core/event.hpp"
#include "test_support.hpp"

namespace mailhook {
namespace {

// A vector of events that grows moves them rather than copying every string.
static_assert(std::is_nothrow_move_constructible_v<Event>);

using test::at_seconds;

Event full_event() {
    Event event;
    event.type = EventType::bounced;
    event.bounce_class = BounceClass::hard;
    event.reject_reason = RejectReason::bounced;
    event.recipient = "Jane.Doe@Example.com";
    event.message_id = "<msg-1@example.com>";
    event.event_id = "evt-1";
    event.timestamp = at_seconds(1705314600) + 456;
    event.smtp_status = "5.1.1";
    event.mta_response = "550 5.1.1 <jane@example.com>... User unknown\r\n";
    event.description = "Say \"hi\"\t\\ \x01";
    event.click_url = "https://example.com/a?b=1&c=2";
    event.user_agent = "Mozilla/5.0 (X11; Linux x86_64)";
    event.ip = "203.0.113.7";
    event.campaign_id = "spring";
    event.tags = {"a", "b\"c"};
    event.metadata_json = R"({"user_id":43})";
    event.vendor_event = "bounce";
    event.raw_json = R"({"event":"bounce","email":"Jane.Doe@Example.com"})";
    event.dedup_key = "sg:evt-1";
    return event;
}

TEST(WriteEventJson, FullyPopulatedEvent) {
    EventOrigin origin;
    origin.vendor = "sendgrid";
    origin.connection = "conn-1";
    origin.tenant = "acme";
    origin.received_at = at_seconds(1705314700) + 7;
    origin.include_raw = false;
    EXPECT_EQ(
        write_event_json(full_event(), "0123456789abcdef0123456789abcdef", origin),
        R"({"schema":1,"id":"0123456789abcdef0123456789abcdef","vendor":"sendgrid",)"
        R"("connection":"conn-1","tenant":"acme","type":"bounced","bounce_class":"hard",)"
        R"("reject_reason":"bounced","recipient":"Jane.Doe@Example.com",)"
        R"("message_id":"<msg-1@example.com>","event_id":"evt-1",)"
        R"("timestamp":"2024-01-15T10:30:00Z","received_at":"2024-01-15T10:31:40.007Z",)"
        R"("smtp_status":"5.1.1","mta_response":"550 5.1.1 <jane@example.com>... User unknown\r\n",)"
        R"("description":"Say \"hi\"\t\\ \u0001","click_url":"https://example.com/a?b=1&c=2",)"
        R"~("user_agent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"203.0.113.7",)~"
        R"("campaign_id":"spring","tags":["a","b\"c"],"metadata":{"user_id":43},)"
        R"("vendor_event":"bounce"})");
}

TEST(WriteEventJson, MinimalEventWritesNulls) {
    Event event;
    event.type = EventType::delivered;
    event.recipient = "x@example.com";
    event.vendor_event = "delivered";
    EventOrigin origin;
    origin.vendor = "mailgun";
    origin.connection = "c";
    origin.received_at = at_seconds(1705314600) + 250;
    origin.include_raw = false;
    // No vendor time: the event is dated when it was received.
    EXPECT_EQ(write_event_json(event, "id", origin),
              R"({"schema":1,"id":"id","vendor":"mailgun","connection":"c","tenant":null,)"
              R"("type":"delivered","bounce_class":null,"reject_reason":null,)"
              R"("recipient":"x@example.com","message_id":null,"event_id":null,)"
              R"("timestamp":"2024-01-15T10:30:00Z","received_at":"2024-01-15T10:30:00.250Z",)"
              R"("smtp_status":null,"mta_response":null,"description":null,"click_url":null,)"
              R"("user_agent":null,"ip":null,"campaign_id":null,"tags":[],"metadata":{},)"
              R"("vendor_event":"delivered"})");
}

TEST(WriteEventJson, RawIsAppendedWhenIncluded) {
    EventOrigin origin;
    origin.vendor = "sendgrid";
    origin.connection = "conn-1";
    origin.received_at = 0;
    origin.include_raw = false;
    const std::string without = write_event_json(full_event(), "id", origin);
    origin.include_raw = true;
    const std::string with = write_event_json(full_event(), "id", origin);
    EXPECT_EQ(with, without.substr(0, without.size() - 1) +
                        R"(,"raw":{"event":"bounce","email":"Jane.Doe@Example.com"}})");
    EXPECT_NE(parse_json(with), nullptr);
}

TEST(WriteEventJson, TextIsValidJsonWhateverTheBytes) {
    Event event;
    event.type = EventType::opened;
    event.recipient = "zo\xc3\xab@example.com";  // valid UTF-8 stays
    event.user_agent = "caf\xe9";                // a Latin-1 byte becomes U+FFFD
    event.description = std::string("a\0b", 3);  // form bodies can carry %00
    event.vendor_event = "open";
    EventOrigin origin;
    origin.vendor = "v";
    origin.connection = "c";
    origin.include_raw = false;
    const std::string json = write_event_json(event, "id", origin);
    EXPECT_NE(json.find(R"("description":"a\u0000b")"), std::string::npos) << json;
    event.description.reset();
    const std::string clean = write_event_json(event, "id", origin);
    const JsonPtr parsed = parse_json(clean);
    ASSERT_NE(parsed, nullptr) << clean;
    EXPECT_EQ(*json_string_at(parsed.get(), "recipient"), "zo\xc3\xab@example.com");
    EXPECT_EQ(*json_string_at(parsed.get(), "user_agent"), "caf\xef\xbf\xbd");
}

TEST(WriteEventJson, EveryEnumHasItsSchemaName) {
    const std::pair<EventType, const char*> types[] = {
        {EventType::queued, "queued"},       {EventType::sent, "sent"},
        {EventType::rejected, "rejected"},   {EventType::failed, "failed"},
        {EventType::bounced, "bounced"},     {EventType::deferred, "deferred"},
        {EventType::delivered, "delivered"}, {EventType::autoresponded, "autoresponded"},
        {EventType::opened, "opened"},       {EventType::clicked, "clicked"},
        {EventType::complained, "complained"}, {EventType::unsubscribed, "unsubscribed"},
        {EventType::subscribed, "subscribed"}, {EventType::replied, "replied"},
        {EventType::unknown, "unknown"},
    };
    for (const auto& [type, name] : types) EXPECT_EQ(to_string(type), name);
    EXPECT_EQ(to_string(BounceClass::hard), "hard");
    EXPECT_EQ(to_string(BounceClass::soft), "soft");
    EXPECT_EQ(to_string(BounceClass::block), "block");
    EXPECT_EQ(to_string(BounceClass::undetermined), "undetermined");
    EXPECT_EQ(to_string(BounceClass::none), "");
    const std::pair<RejectReason, const char*> reasons[] = {
        {RejectReason::invalid, "invalid"},   {RejectReason::bounced, "bounced"},
        {RejectReason::timed_out, "timed_out"}, {RejectReason::blocked, "blocked"},
        {RejectReason::spam, "spam"},         {RejectReason::unsubscribed, "unsubscribed"},
        {RejectReason::other, "other"},       {RejectReason::none, ""},
    };
    for (const auto& [reason, name] : reasons) EXPECT_EQ(to_string(reason), name);
}

TEST(EventIdFor, StableThirtyTwoHexDigits) {
    const std::string id = event_id_for("sendgrid", "conn-1", "sg:6g4ZI7SA-xmRDv57GoPIPw==");
    // Pinned: ids already stored for dedup must not change across releases.
    EXPECT_EQ(id, "8f2d11e2a8f117060e37511b2dee0a0f");
    EXPECT_EQ(event_id_for("sendgrid", "conn-1", "sg:6g4ZI7SA-xmRDv57GoPIPw=="), id);
}

TEST(EventIdFor, DistinctPerVendorConnectionAndKey) {
    std::set<std::string> ids = {
        event_id_for("sendgrid", "conn-1", "k"),
        event_id_for("mailgun", "conn-1", "k"),
        event_id_for("sendgrid", "conn-2", "k"),
        event_id_for("sendgrid", "conn-1", "k2"),
        event_id_for("sendgrid", "conn-1", "K"),
        // Field boundaries count: no two splits of the same bytes collide.
        event_id_for("ab", "c", "d"),
        event_id_for("a", "bc", "d"),
        event_id_for("a", "b", "cd"),
        event_id_for("", "", ""),
    };
    EXPECT_EQ(ids.size(), 9u);
    for (const std::string& id : ids) {
        EXPECT_EQ(id.size(), 32u);
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    }
}

TEST(ContentDedupKey, Sha256OfTheBytes) {
    EXPECT_EQ(content_dedup_key("abc"),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_NE(content_dedup_key("{\"a\":1}"), content_dedup_key("{\"a\":2}"));
}

TEST(SuppressionEffect, Table) {
    const auto effect = [](EventType type, BounceClass bounce_class,
                           RejectReason reason = RejectReason::none) {
        Event event;
        event.type = type;
        event.bounce_class = bounce_class;
        event.reject_reason = reason;
        return suppression_effect(event);
    };
    using B = BounceClass;
    using E = EventType;
    using S = SuppressionEffect;
    EXPECT_EQ(effect(E::bounced, B::hard), S::hard_bounce);
    EXPECT_EQ(effect(E::bounced, B::soft), S::soft_bounce);
    EXPECT_EQ(effect(E::bounced, B::block), S::none);
    EXPECT_EQ(effect(E::bounced, B::undetermined), S::none);
    EXPECT_EQ(effect(E::bounced, B::none), S::none);
    EXPECT_EQ(effect(E::complained, B::none), S::complaint);
    EXPECT_EQ(effect(E::unsubscribed, B::none), S::unsubscribe);
    EXPECT_EQ(effect(E::subscribed, B::none), S::resubscribe);
    // A deferral is not a bounce; a refusal to send changes nothing either.
    EXPECT_EQ(effect(E::deferred, B::soft), S::none);
    EXPECT_EQ(effect(E::rejected, B::none, RejectReason::bounced), S::none);
    EXPECT_EQ(effect(E::rejected, B::none, RejectReason::unsubscribed), S::none);
    EXPECT_EQ(effect(E::rejected, B::hard), S::none);
    for (const E type : {E::queued, E::sent, E::failed, E::delivered, E::autoresponded,
                         E::opened, E::clicked, E::replied, E::unknown}) {
        EXPECT_EQ(effect(type, B::hard), S::none) << to_string(type);
        EXPECT_EQ(effect(type, B::none), S::none) << to_string(type);
    }
    EXPECT_EQ(to_string(S::hard_bounce), "hard_bounce");
    EXPECT_EQ(to_string(S::soft_bounce), "soft_bounce");
    EXPECT_EQ(to_string(S::complaint), "complaint");
    EXPECT_EQ(to_string(S::unsubscribe), "unsubscribe");
    EXPECT_EQ(to_string(S::resubscribe), "resubscribe");
    EXPECT_EQ(to_string(S::none), "");
}

TEST(FindEnhancedStatus, RealMtaReplies) {
    const std::pair<const char*, const char*> found[] = {
        {"550 5.1.1 <x@example.com>... User unknown", "5.1.1"},
        {"smtp; 550 5.1.1 <jane@example.com>... User", "5.1.1"},  // SES diagnosticCode
        {"smtp;550 5.1.1 The email account that you tried to reach does not exist.", "5.1.1"},
        {"550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
         "550-5.1.1 double-checking the recipient's email address", "5.1.1"},
        {"452 4.2.2 The email account that you tried to reach is over quota.", "4.2.2"},
        {"421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred", "4.7.0"},
        {"250 2.0.0 OK  1513299569 a1si123456qkb.123 - gsmtp", "2.0.0"},
        {"5.9.1 <sender@smtp.com>: Recipient address rejected: User does not exist", "5.9.1"},
        {"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
         "5.7.1"},
        {"4.7.652 The mail server [192.0.2.10] has exceeded the maximum number of connections.",
         "4.7.652"},
        {"550 #5.1.0 Address rejected.", "5.1.0"},
        {"5.0.0", "5.0.0"},
        {"Delivery failed with status 5.2.2.", "5.2.2"},  // end of a sentence
        {"(5.4.1)", "5.4.1"},
    };
    for (const auto& [text, status] : found) {
        EXPECT_EQ(find_enhanced_status(text), std::optional<std::string>(status)) << text;
    }
    for (const char* text : {
             "250 OK",
             "",
             "500 unknown recipient",
             "400 try again later",
             "Relay Not Permitted",
             "3.1.1 not a class",        // classes are 2, 4 and 5
             "5.1",                      // too short
             "5.1.",                     // no detail
             "5.1234.1",                 // subject longer than 3 digits
             "5.1.1234",                 // detail longer than 3 digits
             "15.1.1",                   // part of a longer number
             "Client host 10.5.1.1 refused",  // an IP address
             "Client host 5.1.1.1 refused",   // an IP address starting like a code
             "version 1.5.1.2",
         }) {
        EXPECT_EQ(find_enhanced_status(text), std::nullopt) << text;
    }
}

}  // namespace
}  // namespace mailhook

namespace mailhook {
namespace {

TEST(EventJson, RawAsSentStaysOnOneLine) {
    EventOrigin origin;
    origin.vendor = "v";
    origin.connection = "c";
    const std::string json =
        write_event_json(Event{}, "id", origin, "{\r\n\t\"a\": \"x\\ny\"\n}");
    EXPECT_EQ(json.find('\n'), std::string::npos);
    EXPECT_NE(json.find(R"("raw":{   "a": "x\ny" })"), std::string::npos) << json;
}

}  // namespace
}  // namespace mailhook
