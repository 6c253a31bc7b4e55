// SPDX-License-Identifier: BSD-2-Clause
// Shared helpers for the unit tests.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/connection.hpp"
#include "core/crypto.hpp"
#include "core/delivery.hpp"
#include "core/encoding.hpp"
#include "core/event.hpp"
#include "core/intake.hpp"
#include "core/json.hpp"
#include "core/vendor.hpp"

namespace mailhook::test {

// Headers for a Delivery, looked up case-insensitively like nginx does.
class MapHeaders final : public HeaderLookup {
  public:
    MapHeaders() = default;
    MapHeaders(std::initializer_list<std::pair<const std::string, std::string>> init)
        : headers_(init) {}

    void set(const std::string& name, const std::string& value) {
        headers_[name] = value;
    }
    void erase(const std::string& name) { headers_.erase(name); }

    std::optional<std::string_view> find(std::string_view name) const override {
        for (const auto& [key, value] : headers_) {
            if (iequals_ascii(key, name)) return std::string_view(value);
        }
        return std::nullopt;
    }

  private:
    std::map<std::string, std::string> headers_;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Test vectors from the vendors' SDK tests, copied into t/vectors/.
inline JsonPtr load_vector(const std::string& name) {
    JsonPtr vector = parse_json(read_file("t/vectors/" + name));
    if (!vector) throw std::runtime_error("t/vectors/" + name + " is not JSON");
    return vector;
}

inline std::string vector_string(const json_t* vector, const char* key) {
    const auto value = json_string_at(vector, key);
    return value ? std::string(*value) : std::string();
}

// The vector's "headers" object as request headers.
inline MapHeaders vector_headers(const json_t* vector) {
    MapHeaders headers;
    const char* key;
    json_t* value;
    json_object_foreach(json_object_get(vector, "headers"), key, value) {
        if (json_is_string(value)) headers.set(key, json_string_value(value));
    }
    return headers;
}

// Epoch milliseconds from epoch seconds.
constexpr EpochMillis at_seconds(std::int64_t seconds) { return seconds * 1000; }

inline std::string unhex(std::string_view text) {
    auto bytes = hex_decode(text);
    if (!bytes) throw std::runtime_error("bad hex in test");
    return *bytes;
}

// A connection as nginx builds it: fields (Redis hash or directive), then
// the vendor's prepare(). Throws (a test failure) when either refuses.
inline Connection prepared_connection(std::string_view vendor_name,
                                      FieldList fields,
                                      std::string_view id = "conn-1") {
    fields.insert(fields.begin(), {"vendor", std::string(vendor_name)});
    std::string error;
    std::optional<Connection> connection = connection_from_fields(id, fields, error);
    if (!connection) throw std::runtime_error("connection_from_fields: " + error);
    const Vendor* vendor = find_vendor(vendor_name);
    if (vendor == nullptr) throw std::runtime_error("no vendor " + std::string(vendor_name));
    const Verdict verdict = vendor->prepare(*connection);
    if (!verdict.ok()) throw std::runtime_error("prepare: " + verdict.reason);
    return *connection;
}

// A P-256 key pair made for the test, signing like SendGrid does
// (SHA-256, DER signature).
class EcKey {
  public:
    EcKey() : key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free) {
        if (!key_) throw std::runtime_error("EC key generation failed");
    }

    // base64(DER SubjectPublicKeyInfo): SendGrid's "verification key".
    std::string verification_key() const { return base64_encode(public_der()); }

    std::string public_der() const {
        unsigned char* der = nullptr;
        const int length = i2d_PUBKEY(key_.get(), &der);
        if (length <= 0) throw std::runtime_error("i2d_PUBKEY failed");
        std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
        OPENSSL_free(der);
        return out;
    }

    std::string public_pem() const {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
        if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
            throw std::runtime_error("PEM_write_bio_PUBKEY failed");
        }
        char* data = nullptr;
        const long length = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(length));
    }

    // DER ECDSA signature over the concatenated parts.
    std::string sign(std::initializer_list<std::string_view> parts) const {
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    EVP_MD_CTX_free);
        if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                                       key_.get()) != 1) {
            throw std::runtime_error("EVP_DigestSignInit failed");
        }
        for (const std::string_view part : parts) {
            EVP_DigestSignUpdate(ctx.get(), part.data(), part.size());
        }
        std::size_t length = 0;
        EVP_DigestSignFinal(ctx.get(), nullptr, &length);
        std::string signature(length, '\0');
        if (EVP_DigestSignFinal(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()),
                                &length) != 1) {
            throw std::runtime_error("EVP_DigestSignFinal failed");
        }
        signature.resize(length);
        return signature;
    }

  private:
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
};

// ---- signed requests, one helper per vendor scheme ------------------------

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

// A Mailgun webhook body: signature block + event-data (a JSON object text).
inline std::string mailgun_body(const std::string& signing_key,
                                const std::string& timestamp,
                                const std::string& token,
                                std::string_view event_data_json) {
    const std::string signature =
        hex_encode(hmac(DigestAlgorithm::sha256, signing_key, {timestamp, token}));
    return "{\"signature\":{\"timestamp\":\"" + timestamp + "\",\"token\":\"" + token +
           "\",\"signature\":\"" + signature + "\"},\"event-data\":" +
           std::string(event_data_json) + "}";
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

inline std::string basic_authorization(std::string_view credentials) {
    return "Basic " + base64_encode(credentials);
}

// ---- normalized events ------------------------------------------------------

// verify() then parse(), as take_in() does, keeping the Event structs.
struct Parsed {
    Verdict verdict;
    std::vector<Event> events;
    std::optional<ReplayGuard> replay_guard;
};

inline Parsed verify_and_parse(const Connection& connection, const Delivery& delivery) {
    const Vendor* vendor = find_vendor(connection.vendor);
    if (vendor == nullptr) throw std::runtime_error("no vendor " + connection.vendor);
    Parsed parsed;
    Batch batch;
    parsed.verdict = vendor->verify(delivery, connection, batch);
    if (parsed.verdict.ok()) parsed.verdict = vendor->parse(delivery, connection, batch);
    parsed.events = std::move(batch.events);
    parsed.replay_guard = std::move(batch.replay_guard);
    return parsed;
}

// The vendor's event as a normalizer left it, serialized (take_in stores the
// request's own bytes where it can; see raw_event_text).
inline std::string raw_text_of(const Event& event) {
    return event.raw_value ? json_dump_compact(event.raw_value.get()) : event.raw_json;
}

inline EventOrigin origin_of(const Connection& connection, EpochMillis received_at,
                             bool include_raw = true) {
    EventOrigin origin;
    origin.vendor = connection.vendor;
    origin.connection = connection.id;
    if (connection.tenant) origin.tenant = std::string_view(*connection.tenant);
    origin.received_at = received_at;
    origin.include_raw = include_raw;
    return origin;
}

// Runs the whole intake path and checks that what reaches the store script
// is exactly the parsed events, written out.
inline void expect_intake_matches(const Connection& connection, const Delivery& delivery,
                                  const std::vector<Event>& events) {
    const EventOrigin origin = origin_of(connection, delivery.now());
    const Intake intake = take_in(*find_vendor(connection.vendor), delivery, connection, origin);
    ASSERT_TRUE(intake.verdict.ok()) << intake.verdict.reason;
    ASSERT_EQ(intake.events.size(), events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& event = events[i];
        const ReadyEvent& ready = intake.events[i];
        const std::string raw = raw_event_text(event, delivery);
        EXPECT_EQ(ready.id, event_id_for(connection.vendor, connection.id,
                                         effective_dedup_key(event, raw)));
        EXPECT_EQ(stored_event_json(intake, ready),
                  write_event_json(event, ready.id, origin, raw));
        EXPECT_NE(parse_json(ready.json), nullptr) << ready.json;
        EXPECT_EQ(ready.type, event.type);
        EXPECT_EQ(ready.effect, suppression_effect(event));
        EXPECT_EQ(ready.recipient_key, to_lower_ascii(trim_ascii(event.recipient)));
        EXPECT_EQ(ready.at, event.timestamp.value_or(delivery.now()));
    }
}

// verify + parse, and the same delivery through take_in() must store
// exactly the parsed events: what the normalizer tests run.
inline Parsed run_delivery(const Connection& connection, const Delivery& delivery) {
    Parsed parsed = verify_and_parse(connection, delivery);
    if (parsed.verdict.ok()) expect_intake_matches(connection, delivery, parsed.events);
    return parsed;
}

// The one event of an accepted delivery.
inline Event single_event(const Parsed& parsed) {
    EXPECT_TRUE(parsed.verdict.ok()) << parsed.verdict.reason;
    if (parsed.events.size() != 1) {
        ADD_FAILURE() << parsed.events.size() << " events, expected 1";
        return Event{};
    }
    return parsed.events[0];
}

// Every normalized field. Whatever a test does not set must be absent:
// a vendor field that is missing becomes nullopt, never a guess.
struct Expected {
    EventType type = EventType::unknown;
    BounceClass bounce_class = BounceClass::none;
    RejectReason reject_reason = RejectReason::none;
    std::string recipient;
    std::optional<std::string> message_id;
    std::optional<std::string> event_id;
    std::optional<EpochMillis> timestamp;
    std::optional<std::string> smtp_status;
    std::optional<std::string> mta_response;
    std::optional<std::string> description;
    std::optional<std::string> click_url;
    std::optional<std::string> user_agent;
    std::optional<std::string> ip;
    std::optional<std::string> campaign_id;
    std::vector<std::string> tags;
    std::string metadata_json = "{}";
    std::string vendor_event;
    // Exact dedup key, or "sha256:" for a content-hash key.
    std::string dedup_key;
    // The vendor's own event, compared as JSON when set.
    std::optional<std::string> raw_json;
};

inline void expect_json_equal(const std::string& actual, const std::string& expected,
                              const char* what) {
    const JsonPtr a = parse_json(actual);
    const JsonPtr b = parse_json(expected);
    ASSERT_NE(a, nullptr) << what << " is not JSON: " << actual;
    ASSERT_NE(b, nullptr) << "expected " << what << " is not JSON: " << expected;
    EXPECT_TRUE(json_equal(a.get(), b.get()))
        << what << ": " << actual << "\n   expected: " << expected;
}

inline void expect_event(const Event& event, const Expected& want) {
    EXPECT_EQ(to_string(event.type), to_string(want.type));
    EXPECT_EQ(to_string(event.bounce_class), to_string(want.bounce_class));
    EXPECT_EQ(to_string(event.reject_reason), to_string(want.reject_reason));
    EXPECT_EQ(event.recipient, want.recipient);
    EXPECT_EQ(event.message_id, want.message_id);
    EXPECT_EQ(event.event_id, want.event_id);
    EXPECT_EQ(event.timestamp, want.timestamp);
    EXPECT_EQ(event.smtp_status, want.smtp_status);
    EXPECT_EQ(event.mta_response, want.mta_response);
    EXPECT_EQ(event.description, want.description);
    EXPECT_EQ(event.click_url, want.click_url);
    EXPECT_EQ(event.user_agent, want.user_agent);
    EXPECT_EQ(event.ip, want.ip);
    EXPECT_EQ(event.campaign_id, want.campaign_id);
    EXPECT_EQ(event.tags, want.tags);
    expect_json_equal(event.metadata_json, want.metadata_json, "metadata");
    EXPECT_EQ(event.vendor_event, want.vendor_event);
    if (want.dedup_key == "sha256:") {
        // No vendor id: the hash of the raw event's bytes (set by take_in).
        EXPECT_EQ(event.dedup_key, "") << event.dedup_key;
    } else {
        EXPECT_EQ(event.dedup_key, want.dedup_key);
    }
    if (want.raw_json) {
        expect_json_equal(raw_text_of(event), *want.raw_json, "raw");
    }
}

}  // namespace mailhook::test
