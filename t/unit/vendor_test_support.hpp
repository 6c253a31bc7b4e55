// SPDX-License-Identifier: BSD-2-Clause
// Helpers for vendor unit tests: a connection prepared the way the glue
// prepares it, one delivery run through verify + parse, and the normalized
// fields of an event as JSON for whole-event comparisons.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/connection.hpp"
#include "core/event.hpp"
#include "core/vendor.hpp"
#include "test_support.hpp"

namespace mailhook::test {

// Tue, 14 Nov 2023 22:13:20 UTC: "now" for deliveries unless a test says.
constexpr EpochMillis kNow = at_seconds(1700000000);

struct Prepared {
    Connection connection;
    Verdict verdict;
};

// connection_from_fields + Vendor::prepare, as a Redis hash or a
// mailhook_connection directive would give them.
inline Prepared prepare_connection(std::string_view vendor, FieldList fields) {
    fields.insert(fields.begin(), {"vendor", std::string(vendor)});
    Prepared out;
    std::string error;
    auto connection = connection_from_fields("c1", fields, error);
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
inline Connection ready_connection(std::string_view vendor, FieldList fields) {
    Prepared prepared = prepare_connection(vendor, std::move(fields));
    EXPECT_TRUE(prepared.verdict.ok()) << vendor << ": " << prepared.verdict.reason;
    return prepared.connection;
}

struct Received {
    Verdict verdict;
    std::vector<Event> events;
};

// What take_in does before storage: verify, then parse if verify passed.
inline Received receive(std::string_view vendor, const Connection& connection,
                        std::string_view body, const MapHeaders& headers,
                        EpochMillis now = kNow, std::string_view public_url = {}) {
    const Vendor& implementation = *find_vendor(vendor);
    Delivery delivery(body, headers, now);
    delivery.set_public_url(public_url);
    Batch batch;
    Received out;
    out.verdict = implementation.verify(delivery, connection, batch);
    if (out.verdict.ok()) {
        out.verdict = implementation.parse(delivery, connection, batch);
    }
    out.events = std::move(batch.events);
    return out;
}

// The fields a vendor normalizer decides, as the stored JSON spells them
// (origin fields and `raw` left out; a missing timestamp is null).
inline JsonPtr normalized_fields(const Event& event) {
    EventOrigin origin;
    origin.vendor = "v";
    origin.connection = "c";
    origin.include_raw = false;
    JsonPtr json = parse_json(write_event_json(event, "id", origin));
    for (const char* key :
         {"schema", "id", "vendor", "connection", "tenant", "received_at"}) {
        json_object_del(json.get(), key);
    }
    if (!event.timestamp) json_object_set_new(json.get(), "timestamp", json_null());
    return json;
}

inline ::testing::AssertionResult json_equals(const json_t* actual,
                                              std::string_view expected_text) {
    const JsonPtr expected = parse_json(expected_text);
    if (!expected) {
        return ::testing::AssertionFailure() << "expected text is not JSON: "
                                             << expected_text;
    }
    if (json_equal(const_cast<json_t*>(actual), expected.get())) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "\n  actual:   " << json_dump_compact(actual)
           << "\n  expected: " << json_dump_compact(expected.get());
}

// Every normalized field of `event` against `expected` (a JSON object).
#define EXPECT_EVENT(event, expected) \
    EXPECT_TRUE(::mailhook::test::json_equals(                              \
        ::mailhook::test::normalized_fields(event).get(), expected))

inline ::testing::AssertionResult raw_equals(const Event& event,
                                             std::string_view expected_text) {
    const JsonPtr raw = parse_json(raw_text_of(event));
    return json_equals(raw.get(), expected_text);
}

inline std::string basic_credentials(std::string_view user_password) {
    return "Basic " + base64_encode(user_password);
}

}  // namespace mailhook::test
