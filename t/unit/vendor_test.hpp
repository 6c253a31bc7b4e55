// SPDX-License-Identifier: BSD-2-Clause
// The helpers of every vendor unit test: a connection prepared as a load
// prepares it, requests signed the way each vendor signs them, one request
// run the way the module runs it (take_in), and whole-event expectations.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/connection.hpp"
#include "core/crypto.hpp"
#include "core/delivery.hpp"
#include "core/encoding.hpp"
#include "core/event.hpp"
#include "core/intake.hpp"
#include "core/sns.hpp"
#include "core/vendor.hpp"
#include "test_support.hpp"

namespace mailhook::test {

// Tue, 14 Nov 2023 22:13:20 UTC: when the tests' requests arrive.
inline constexpr EpochMillis kNow = at_seconds(1700000000);
inline constexpr std::string_view kConnectionId = "conn-1";

// ---- connections ----------------------------------------------------------

struct Prepared {
    Connection connection;
    Verdict verdict;
};

// connection_from_fields + Vendor::prepare, as a Redis hash or a
// mailhook_connection directive gives them; the verdict says whether the
// vendor took the connection.
inline Prepared prepare_connection(std::string_view vendor, FieldList fields,
                                   std::string_view id = kConnectionId) {
    fields.insert(fields.begin(), {"vendor", std::string(vendor)});
    Prepared out;
    std::string error;
    auto connection = connection_from_fields(id, fields, error);
    if (!connection) {
        out.verdict = Verdict::reject(Rejection::misconfigured, error);
        return out;
    }
    out.connection = std::move(*connection);
    const Vendor* implementation = find_vendor(vendor);
    out.verdict = implementation
                      ? implementation->prepare(out.connection)
                      : Verdict::reject(Rejection::misconfigured, "no such vendor");
    return out;
}

// A connection that must prepare cleanly (the test fails otherwise).
inline Connection prepared_connection(std::string_view vendor, FieldList fields,
                                      std::string_view id = kConnectionId) {
    Prepared prepared = prepare_connection(vendor, std::move(fields), id);
    EXPECT_TRUE(prepared.verdict.ok()) << vendor << ": " << prepared.verdict.reason;
    return prepared.connection;
}

// The same with `secret` (and `secret_next`) only.
inline Connection prepared_connection(const Vendor& vendor,
                                      const std::vector<std::string>& secrets) {
    FieldList fields;
    if (!secrets.empty()) fields.emplace_back("secret", secrets[0]);
    if (secrets.size() > 1) fields.emplace_back("secret_next", secrets[1]);
    return prepared_connection(vendor.name(), std::move(fields));
}

// ---- signed requests, one helper per vendor scheme --------------------------

// A name or value of an application/x-www-form-urlencoded body: unreserved
// bytes as they are, the rest %XX.
inline std::string form_escape(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[byte >> 4]);
            out.push_back(kHex[byte & 15]);
        }
    }
    return out;
}

inline std::string basic_auth(std::string_view user_password) {
    return "Basic " + base64_encode(user_password);
}

inline constexpr std::string_view kSendGridSignature =
    "X-Twilio-Email-Event-Webhook-Signature";
inline constexpr std::string_view kSendGridTimestamp =
    "X-Twilio-Email-Event-Webhook-Timestamp";

inline MapHeaders sendgrid_headers(const EcKey& key, const std::string& timestamp,
                                   std::string_view body) {
    MapHeaders headers;
    headers.set("Content-Type", "application/json");
    headers.set(std::string(kSendGridTimestamp), timestamp);
    headers.set(std::string(kSendGridSignature),
                base64_encode(key.sign({timestamp, body})));
    return headers;
}

inline std::string mailgun_signature(const std::string& signing_key,
                                     const std::string& timestamp,
                                     const std::string& token) {
    return hex_encode(hmac(DigestAlgorithm::sha256, signing_key, {timestamp, token}));
}

// A Mailgun webhook body: signature block + event-data (a JSON object text).
inline std::string mailgun_body(const std::string& signing_key,
                                const std::string& timestamp,
                                const std::string& token,
                                std::string_view event_data_json) {
    return "{\"signature\":{\"timestamp\":\"" + timestamp + "\",\"token\":\"" + token +
           "\",\"signature\":\"" + mailgun_signature(signing_key, timestamp, token) +
           "\"},\"event-data\":" + std::string(event_data_json) + "}";
}

// Standard Webhooks / Svix: HMAC-SHA256 over "id.timestamp.body".
inline std::string svix_signature(std::string_view key_bytes, std::string_view id,
                                  std::string_view timestamp, std::string_view body) {
    return "v1," + base64_encode(hmac(DigestAlgorithm::sha256, key_bytes,
                                      {id, ".", timestamp, ".", body}));
}

inline MapHeaders svix_headers(std::string_view key_bytes, const std::string& id,
                               const std::string& timestamp, std::string_view body,
                               const std::string& prefix = "svix-") {
    MapHeaders headers;
    headers.set("Content-Type", "application/json");
    headers.set(prefix + "id", id);
    headers.set(prefix + "timestamp", timestamp);
    headers.set(prefix + "signature", svix_signature(key_bytes, id, timestamp, body));
    return headers;
}

// Amazon SNS: signing certificates by URL, as pinned or fetched ones are.
class MapCertificates final : public CertificateLookup {
  public:
    void add(const std::string& url, PublicKey key) { keys_.emplace(url, std::move(key)); }
    const PublicKey* find(std::string_view url) const override {
        const auto it = keys_.find(std::string(url));
        return it == keys_.end() ? nullptr : &it->second;
    }

  private:
    std::map<std::string, PublicKey> keys_;
};

inline PublicKey public_key_of(const RsaKey& key) {
    auto public_key = PublicKey::from_der(key.public_der());
    if (!public_key) throw std::runtime_error("PublicKey::from_der failed");
    return std::move(*public_key);
}

// Completes an SNS message (SignatureVersion, SigningCertURL, Signature) the
// way SNS signs it and returns the body.
inline std::string sign_sns(json_t* message, const RsaKey& key, const char* version,
                            const char* certificate_url) {
    json_object_set_new(message, "SignatureVersion", json_string(version));
    json_object_set_new(message, "SigningCertURL", json_string(certificate_url));
    const auto text = sns_string_to_sign(message);
    EXPECT_TRUE(text) << json_dump_compact(message);
    const std::string signature =
        key.sign(text.value_or(""),
                 std::string_view(version) == "1" ? EVP_sha1() : EVP_sha256());
    json_object_set_new(message, "Signature", json_string(base64_encode(signature).c_str()));
    return json_dump_compact(message);
}

// ---- one request, run as the module runs it -------------------------------

// What one request gave: the verdict, the events as the vendor normalized
// them, and (decoded) what take_in() hands the store script.
struct Outcome {
    Verdict verdict;
    std::vector<Event> events;
    JsonPtr stored{json_array()};
    std::optional<ReplayGuard> replay_guard;
    std::string notice;
    std::optional<std::string> confirm_url;
    std::string key_url;

    std::size_t size() const { return json_array_size(stored.get()); }
    const json_t* event(std::size_t index) const {
        return json_array_get(stored.get(), index);
    }
    // The one stored event (the test fails when there is not exactly one).
    const json_t* one() const {
        EXPECT_TRUE(verdict.ok()) << verdict.reason;
        EXPECT_EQ(size(), 1u);
        return size() == 1 ? event(0) : nullptr;
    }
};

inline EventOrigin origin_of(const Connection& connection, EpochMillis received_at,
                             bool include_raw = true) {
    EventOrigin origin;
    origin.include_raw = include_raw;
    origin.vendor = connection.vendor;
    origin.connection = connection.id;
    if (connection.tenant) origin.tenant = std::string_view(*connection.tenant);
    origin.received_at = received_at;
    return origin;
}

// take_in(), as the module calls it, and verify() + parse() on their own to
// keep the Event structs; what reaches the store script must be exactly
// those events written out.
inline Outcome run_request(const Connection& connection, const Delivery& delivery) {
    const Vendor& vendor = *find_vendor(connection.vendor);
    const EventOrigin origin = origin_of(connection, delivery.now());
    Intake intake = take_in(vendor, delivery, connection, origin);
    Outcome outcome;
    outcome.verdict = intake.verdict;
    outcome.replay_guard = std::move(intake.replay_guard);
    outcome.notice = std::move(intake.notice);
    outcome.confirm_url = std::move(intake.confirm_url);
    outcome.key_url = std::move(intake.key_url);
    for (const ReadyEvent& ready : intake.events) {
        JsonPtr stored = parse_json(stored_event_json(intake, ready));
        EXPECT_NE(stored, nullptr) << ready.json;
        json_array_append_new(outcome.stored.get(), stored.release());
    }
    Batch batch;
    Verdict verdict = vendor.verify(delivery, connection, batch);
    if (verdict.ok()) verdict = vendor.parse(delivery, connection, batch);
    if (!intake.verdict.ok()) return outcome;
    outcome.events = std::move(batch.events);
    for (Event& event : outcome.events) default_reject_reason(event);
    EXPECT_EQ(intake.events.size(), outcome.events.size());
    for (std::size_t i = 0; i < intake.events.size() && i < outcome.events.size(); ++i) {
        const Event& event = outcome.events[i];
        const ReadyEvent& ready = intake.events[i];
        const std::string raw = raw_event_text(event, delivery);
        EXPECT_EQ(ready.id, event_id_for(connection.vendor, connection.id,
                                         effective_dedup_key(event, raw)));
        EXPECT_EQ(stored_event_json(intake, ready),
                  write_event_json(event, ready.id, origin, raw));
        EXPECT_EQ(ready.type, event.type);
        EXPECT_EQ(ready.effect, suppression_effect(event));
        EXPECT_EQ(ready.recipient_key, to_lower_ascii(trim_ascii(event.recipient)));
        EXPECT_EQ(ready.at, event.timestamp.value_or(delivery.now()));
    }
    return outcome;
}

inline Outcome run_request(const Connection& connection, std::string_view body,
                           const HeaderLookup& headers, EpochMillis now = kNow,
                           std::string_view public_url = {}) {
    Delivery delivery(body, headers, now);
    delivery.set_public_url(public_url);
    return run_request(connection, delivery);
}

inline Outcome run_request(const Connection& connection, std::string_view body,
                           const MapHeaders& headers, EpochMillis now = kNow,
                           std::string_view public_url = {}) {
    return run_request(connection, body, static_cast<const HeaderLookup&>(headers),
                       now, public_url);
}

// ---- whole-event expectations --------------------------------------------

// The vendor's event as a normalizer left it, serialized (take_in stores the
// request's own bytes where it can; see raw_event_text).
inline std::string raw_text_of(const Event& event) {
    return event.raw_value ? json_dump_compact(event.raw_value.get()) : event.raw_json;
}

// The fields a vendor normalizer decides, as the stored JSON spells them;
// with `raw`, and a missing timestamp as null (origin fields left out).
inline JsonPtr normalized_fields(const Event& event) {
    EventOrigin origin;
    origin.vendor = "v";
    origin.connection = "c";
    JsonPtr json = parse_json(write_event_json(event, "id", origin, raw_text_of(event)));
    for (const char* key :
         {"schema", "id", "vendor", "connection", "tenant", "received_at"}) {
        json_object_del(json.get(), key);
    }
    if (!event.timestamp) json_object_set_new(json.get(), "timestamp", json_null());
    // Empty: the hash of the raw event's bytes (vendors without event ids).
    json_object_set_new(json.get(), "dedup_key",
                        json_stringn(event.dedup_key.data(), event.dedup_key.size()));
    return json;
}

inline std::string readable(const json_t* value) {
    char* text = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    std::string out = text ? text : "(null)";
    std::free(text);
    return out;
}

// Every field the vendor decides: an expectation names them all.
inline constexpr const char* kVendorFields[] = {
    "type", "bounce_class", "reject_reason", "recipient", "message_id", "event_id",
    "timestamp", "smtp_status", "mta_response", "description", "click_url",
    "user_agent", "ip", "campaign_id", "tags", "metadata", "vendor_event"};

// `actual` (a stored event, or normalized_fields() of an Event) against
// `expected_text`, a JSON object that names every field of kVendorFields.
// Other members it names are compared too: "raw"; "dedup_key" (of a stored
// event: its `id` must be the one derived from that key; of an Event: the
// key itself, "" for the hash of the raw bytes); origin fields.
inline ::testing::AssertionResult event_matches(const json_t* actual,
                                                std::string_view expected_text) {
    const JsonPtr expected = parse_json(expected_text);
    if (!json_is_object(expected.get())) {
        return ::testing::AssertionFailure() << "expected text is not a JSON object: "
                                             << expected_text;
    }
    for (const char* key : kVendorFields) {
        if (json_object_get(expected.get(), key) == nullptr) {
            return ::testing::AssertionFailure() << "the expectation leaves out " << key;
        }
    }
    if (actual == nullptr) return ::testing::AssertionFailure() << "no event";
    const bool stored = json_object_get(actual, "id") != nullptr;
    JsonPtr want(json_object());
    JsonPtr got(json_object());
    const char* key;
    json_t* value;
    json_object_foreach(expected.get(), key, value) {
        const json_t* found = json_object_get(actual, key);
        if (stored && std::string_view(key) == "dedup_key") {
            const std::string id = event_id_for(
                json_string_value(json_object_get(actual, "vendor")),
                json_string_value(json_object_get(actual, "connection")),
                json_is_string(value) ? json_string_value(value) : "");
            json_object_set_new(want.get(), "id", json_string(id.c_str()));
            json_object_set(got.get(), "id", json_object_get(actual, "id"));
            continue;
        }
        json_object_set(want.get(), key, value);
        if (found != nullptr) {
            json_object_set(got.get(), key, const_cast<json_t*>(found));
        } else {
            json_object_set_new(got.get(), key, json_string("<absent>"));
        }
    }
    if (json_equal(want.get(), got.get())) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "\nexpected:\n" << readable(want.get())
                                         << "\nactual:\n" << readable(got.get());
}

inline ::testing::AssertionResult event_matches(const Event& actual,
                                                std::string_view expected_text) {
    const JsonPtr fields = normalized_fields(actual);
    return event_matches(fields.get(), expected_text);
}

inline ::testing::AssertionResult raw_equals(const Event& event,
                                             std::string_view expected_text) {
    const JsonPtr raw = parse_json(raw_text_of(event));
    const JsonPtr expected = parse_json(expected_text);
    if (expected && json_equal(raw.get(), expected.get())) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "raw " << raw_text_of(event)
                                         << "\n expected " << expected_text;
}

// `fields` with "raw" (`raw_json` parsed) and "dedup_key" added.
inline std::string with_raw(std::string_view fields, std::string_view raw_json,
                            std::string_view dedup_key) {
    JsonPtr object = parse_json(fields);
    EXPECT_TRUE(json_is_object(object.get())) << fields;
    JsonPtr raw = parse_json(raw_json);
    EXPECT_NE(raw, nullptr) << raw_json;
    json_object_set_new(object.get(), "raw", raw.release());
    json_object_set_new(object.get(), "dedup_key",
                        json_stringn(dedup_key.data(), dedup_key.size()));
    return json_dump_compact(object.get());
}

// EXPECT_EVENT(stored_event_or_Event, R"({"type": ..., every vendor field})")
#define EXPECT_EVENT(actual, expected) \
    EXPECT_TRUE(::mailhook::test::event_matches(actual, expected))

}  // namespace mailhook::test
