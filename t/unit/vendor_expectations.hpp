// SPDX-License-Identifier: BSD-2-Clause
// Vendor unit tests: run a vendor the way a request does (verify, parse,
// normalize, write the stored JSON) and compare every field of the result.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.hpp"
#include "core/intake.hpp"
#include "core/vendor.hpp"
#include "test_support.hpp"

namespace mailhook::test {

// When the tests' requests arrive: 2023-11-14T22:13:20.000Z.
constexpr EpochMillis kReceivedAt = at_seconds(1700000000);
constexpr std::string_view kConnectionId = "conn-1";

// A connection as a load prepares it; the test fails when prepare refuses.
inline Connection prepared_connection(const Vendor& vendor,
                                      std::vector<std::string> secrets) {
    Connection connection;
    connection.id = std::string(kConnectionId);
    connection.vendor = std::string(vendor.name());
    connection.secrets = std::move(secrets);
    const Verdict prepared = vendor.prepare(connection);
    EXPECT_TRUE(prepared.ok()) << prepared.reason;
    return connection;
}

inline std::string basic_auth(std::string_view user_password) {
    return "Basic " + base64_encode(user_password);
}

// The outcome of one request: its verdict and the stored events, decoded.
struct Outcome {
    Verdict verdict;
    JsonPtr events{json_array()};

    std::size_t size() const { return json_array_size(events.get()); }
    const json_t* event(std::size_t index) const {
        return json_array_get(events.get(), index);
    }
};

inline Outcome run_request(const Vendor& vendor, const Connection& connection,
                           std::string_view body, const MapHeaders& headers) {
    const Delivery delivery(body, headers, kReceivedAt);
    const EventOrigin origin{vendor.name(), connection.id, std::nullopt,
                             kReceivedAt, true};
    Intake intake = take_in(vendor, delivery, connection, origin);
    Outcome outcome;
    outcome.verdict = intake.verdict;
    for (const ReadyEvent& ready : intake.events) {
        json_array_append_new(outcome.events.get(), parse_json(stored_event_json(intake, ready)).release());
    }
    return outcome;
}

inline std::string readable(const json_t* value) {
    char* text = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    std::string out = text ? text : "(null)";
    std::free(text);
    return out;
}

// Compares a stored event with `fields` (a JSON object naming every
// vendor-dependent field of schema 1), plus what the origin fixes: schema,
// vendor, connection, tenant, received_at; `raw` must be `vendor_event` and
// `id` the stable id of `dedup_key`.
inline void expect_event(const json_t* actual, std::string_view fields,
                         const json_t* vendor_event, std::string_view vendor,
                         std::string_view dedup_key) {
    JsonPtr expected = parse_json(fields);
    ASSERT_TRUE(json_is_object(expected.get())) << "expected fields are not JSON";
    for (const char* key :
         {"type", "bounce_class", "reject_reason", "recipient", "message_id",
          "event_id", "timestamp", "smtp_status", "mta_response", "description",
          "click_url", "user_agent", "ip", "campaign_id", "tags", "metadata",
          "vendor_event"}) {
        ASSERT_NE(json_object_get(expected.get(), key), nullptr)
            << "the expectation leaves out " << key;
    }
    json_t* object = expected.get();
    json_object_set_new(object, "schema", json_integer(1));
    const std::string id = event_id_for(vendor, kConnectionId, dedup_key);
    json_object_set_new(object, "id", json_stringn(id.data(), id.size()));
    json_object_set_new(object, "vendor", json_stringn(vendor.data(), vendor.size()));
    json_object_set_new(object, "connection",
                        json_stringn(kConnectionId.data(), kConnectionId.size()));
    json_object_set_new(object, "tenant", json_null());
    json_object_set_new(object, "received_at",
                        json_string(format_rfc3339_millis(kReceivedAt).c_str()));
    json_object_set(object, "raw", const_cast<json_t*>(vendor_event));
    EXPECT_TRUE(json_equal(object, actual))
        << "expected:\n" << readable(object) << "\nactual:\n" << readable(actual);
}

}  // namespace mailhook::test
