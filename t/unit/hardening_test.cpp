// SPDX-License-Identifier: BSD-2-Clause
// Regression tests for bugs found by sanitizer builds, fuzzing (t/fuzz/) and
// the hostile-input catalog (t/hostile.t). Each test names what it guards.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "core/intake.hpp"
#include "core/json.hpp"
#include "core/timestamp.hpp"
#include "core/vendor.hpp"

namespace mailhook {
namespace {

// The sanitizer build failed with -Wformat-truncation: the buffer was too
// small for the widest values the format can produce. Any int64 must give a
// complete timestamp.
TEST(Rfc3339, ExtremeValuesAreNotTruncated) {
    for (const EpochMillis at : {std::numeric_limits<EpochMillis>::min(),
                                 std::numeric_limits<EpochMillis>::max(),
                                 EpochMillis{-1}, EpochMillis{0}}) {
        const std::string seconds = format_rfc3339_seconds(at);
        const std::string millis = format_rfc3339_millis(at);
        ASSERT_FALSE(seconds.empty());
        EXPECT_EQ(seconds.back(), 'Z') << seconds;
        EXPECT_EQ(millis.back(), 'Z') << millis;
    }
    EXPECT_EQ(format_rfc3339_millis(-1), "1969-12-31T23:59:59.999Z");
}

// Headers as nginx holds them: a list, so a name may occur twice.
class ListHeaders final : public HeaderLookup {
  public:
    void add(std::string name, std::string value) {
        headers_.emplace_back(std::move(name), std::move(value));
    }
    std::optional<std::string_view> find(std::string_view name) const override {
        for (const auto& [key, value] : headers_) {
            if (iequals_ascii(key, name)) return std::string_view(value);
        }
        return std::nullopt;
    }
    std::size_t count(std::string_view name) const override {
        std::size_t n = 0;
        for (const auto& header : headers_) n += iequals_ascii(header.first, name);
        return n;
    }

  private:
    std::vector<std::pair<std::string, std::string>> headers_;
};

Connection prepared(const std::string& vendor, const std::string& secret) {
    std::string error;
    auto connection = connection_from_fields(
        "c1", {{"vendor", vendor}, {"secret", secret}}, error);
    EXPECT_TRUE(connection) << error;
    EXPECT_TRUE(find_vendor(vendor)->prepare(*connection).ok());
    return *connection;
}

Intake run(const Connection& connection, const HeaderLookup& headers,
           std::string_view body, EpochMillis now = 1700000000000) {
    Delivery delivery(body, headers, now);
    EventOrigin origin;
    origin.vendor = connection.vendor;
    origin.connection = connection.id;
    origin.received_at = now;
    return take_in(*find_vendor(connection.vendor), delivery, connection, origin);
}

constexpr std::string_view kInboxroadEvent =
    R"({"kind":"delivered","recipient":"a@example.com"})";

// A header sent twice is ambiguous: it counts as absent (401 for a
// signature), even when both copies are valid, and the log says why.
TEST(RepeatedHeaders, TwoValidSignaturesAreRefused) {
    const Connection connection = prepared("inboxroad", "s1");
    const std::string good =
        base64_encode(hmac(DigestAlgorithm::sha256, "s1", kInboxroadEvent));
    ListHeaders once;
    once.add("X-Signature", good);
    EXPECT_TRUE(run(connection, once, kInboxroadEvent).verdict.ok());

    ListHeaders twice;
    twice.add("X-Signature", good);
    twice.add("x-signature", good);
    const Intake intake = run(connection, twice, kInboxroadEvent);
    EXPECT_EQ(intake.verdict.rejection, Rejection::unauthenticated);
    EXPECT_NE(intake.verdict.reason.find("X-Signature sent more than once"),
              std::string::npos)
        << intake.verdict.reason;
    EXPECT_TRUE(intake.events.empty());
}

TEST(RepeatedHeaders, AppliesToEveryHeaderVendorsRead) {
    // SMTP2GO: Authorization twice, one of them right.
    const Connection s2g = prepared("smtp2go", "token-1");
    ListHeaders auth;
    auth.add("Authorization", "Bearer token-1");
    auth.add("Authorization", "Bearer wrong");
    EXPECT_EQ(run(s2g, auth, R"({"event":"delivered"})").verdict.rejection,
              Rejection::bad_credentials);

    // Resend: webhook-id twice, signature over the first.
    const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const Connection resend = prepared("resend", secret);
    const std::string body = R"({"type":"email.sent","data":{"to":["a@example.com"]}})";
    const std::string ts = "1700000000";
    const std::string key = *base64_decode(secret.substr(6));
    const std::string sig = "v1," + base64_encode(hmac(
        DigestAlgorithm::sha256, key, {"msg_1", ".", ts, ".", body}));
    ListHeaders ok;
    ok.add("webhook-id", "msg_1");
    ok.add("webhook-timestamp", ts);
    ok.add("webhook-signature", sig);
    EXPECT_TRUE(run(resend, ok, body).verdict.ok());
    ListHeaders dup = ok;
    dup.add("Webhook-Id", "msg_2");
    EXPECT_EQ(run(resend, dup, body).verdict.rejection, Rejection::unauthenticated);
}

// Found by fuzz_vendor (crash-smtp2go-form-nul-name): a NUL in a form
// field name became a JSON key jansson cannot read back ("a\u0000b") and
// was truncated in metadata. Form bodies refuse NUL like JSON bodies do.
TEST(Form, RefusesNulBytes) {
    EXPECT_FALSE(parse_form(std::string_view("a\0b=1", 5)));
    EXPECT_FALSE(parse_form(std::string_view("a=1\0", 4)));
    EXPECT_FALSE(parse_form("a%00b=1"));
    EXPECT_FALSE(parse_form("a=%00"));
    EXPECT_TRUE(parse_form("a=%01&b=%7F"));

    const Connection s2g = prepared("smtp2go", "token-1");
    ListHeaders headers;
    headers.add("Authorization", "Bearer token-1");
    headers.add("Content-Type", "application/x-www-form-urlencoded");
    EXPECT_TRUE(run(s2g, headers, "event=delivered&rcpt=a%40example.com").verdict.ok());
    EXPECT_EQ(run(s2g, headers, std::string_view("event=delivered&ev\0il=1", 23))
                  .verdict.rejection,
              Rejection::malformed);
    EXPECT_EQ(run(s2g, headers, "event=delivered&rcpt=a%00b").verdict.rejection,
              Rejection::malformed);
}

// The hostile catalog (t/hostile.t): a member the parser reads with a JSON
// type that cannot hold its value is a 400 with nothing stored; null counts
// as absent; every event needs its event name.
struct TypeCase {
    const char* body;
    bool accepted;
    const char* reason;  // substring of the rejection reason
};

TEST(StrictTypes, WrongTypesAreNotTheVendorsFormat) {
    const Connection connection = prepared("inboxroad", "s1");
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
        {R"([{"kind":"delivered"},{"kind":"open","ip":[]}])", false, R"("ip" is an array)"},
    };
    for (const TypeCase& c : cases) {
        ListHeaders headers;
        headers.add("X-Signature",
                    base64_encode(hmac(DigestAlgorithm::sha256, "s1", c.body)));
        const Intake intake = run(connection, headers, c.body);
        EXPECT_EQ(intake.verdict.ok(), c.accepted) << c.body << ": " << intake.verdict.reason;
        if (!c.accepted) {
            EXPECT_EQ(intake.verdict.rejection, Rejection::malformed) << c.body;
            EXPECT_NE(intake.verdict.reason.find(c.reason), std::string::npos)
                << c.body << ": " << intake.verdict.reason;
            EXPECT_TRUE(intake.events.empty());
        }
    }
}

TEST(StrictTypes, NestedObjectsMustBeObjects) {
    const Connection connection = prepared("mailgun", "key-1");
    const auto body = [](const std::string& event_data) {
        const std::string mac = hex_encode(
            hmac(DigestAlgorithm::sha256, "key-1", {"1700000000", "tok"}));
        return R"({"signature":{"timestamp":"1700000000","token":"tok","signature":")" +
               mac + R"("},"event-data":)" + event_data + "}";
    };
    ListHeaders headers;
    EXPECT_TRUE(run(connection, headers,
                    body(R"({"event":"failed","delivery-status":{"code":550}})"))
                    .verdict.ok());
    const Intake nested = run(connection, headers,
                              body(R"({"event":"failed","delivery-status":"550 no"})"));
    EXPECT_EQ(nested.verdict.rejection, Rejection::malformed);
    EXPECT_NE(nested.verdict.reason.find("inside an object"), std::string::npos)
        << nested.verdict.reason;
    EXPECT_EQ(run(connection, headers, body(R"({"event":"opened","message":"m"})"))
                  .verdict.rejection,
              Rejection::malformed);
    // Outside a parse (no StrictTypes scope) nothing is noted.
    const JsonPtr value = parse_json(R"({"a":{"b":1}})");
    EXPECT_FALSE(json_string_at(value.get(), "a"));
}

// Found by fuzz_vendor (LeakSanitizer, seed-resend-clicked-signed): tags in
// the [{"name":..,"value":..}] form leaked one JSON value each.
TEST(ResendTags, ArrayFormBecomesMetadataWithoutLeaking) {
    const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const Connection resend = prepared("resend", secret);
    const std::string body =
        R"({"type":"email.sent","data":{"to":["a@example.com"],)"
        R"("tags":[{"name":"k","value":"v"},{"name":"n","value":{"deep":[1,2]}}]}})";
    const std::string ts = "1700000000";
    const std::string key = *base64_decode(secret.substr(6));
    ListHeaders headers;
    headers.add("webhook-id", "msg_1");
    headers.add("webhook-timestamp", ts);
    headers.add("webhook-signature",
                "v1," + base64_encode(hmac(DigestAlgorithm::sha256, key,
                                           {"msg_1", ".", ts, ".", body})));
    const Intake intake = run(resend, headers, body);
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), 1u);
    EXPECT_NE(intake.events[0].json.find(R"("metadata":{"k":"v","n":{"deep":[1,2]}})"),
              std::string::npos)
        << intake.events[0].json;
}

}  // namespace
}  // namespace mailhook

namespace mailhook {
namespace {

TEST(JsonDepth, CountsNestingOutsideStrings) {
    EXPECT_FALSE(json_depth_exceeds("{\"a\":[1,{\"b\":[]}]}", 4));
    EXPECT_TRUE(json_depth_exceeds("{\"a\":[1,{\"b\":[]}]}", 3));
    EXPECT_FALSE(json_depth_exceeds("{\"a\":\"[[[[{{{{\\\"[[[\"}", 1));
    EXPECT_TRUE(json_depth_exceeds(std::string(65, '[') + std::string(65, ']'), 64));
    EXPECT_FALSE(json_depth_exceeds(std::string(64, '[') + std::string(64, ']'), 64));
    EXPECT_EQ(parse_json(std::string(65, '[') + std::string(65, ']')), nullptr);
    EXPECT_NE(parse_json(std::string(64, '[') + std::string(64, ']')), nullptr);
}

}  // namespace
}  // namespace mailhook
