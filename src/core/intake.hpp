// SPDX-License-Identifier: BSD-2-Clause
// verify → parse → normalize: everything a request needs before Redis.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "connection.hpp"
#include "delivery.hpp"
#include "event.hpp"
#include "vendor.hpp"
#include "verdict.hpp"

namespace mailhook {

// A normalized event ready for the store script.
struct ReadyEvent {
    std::string id;
    std::string json;
    EventType type = EventType::unknown;
    SuppressionEffect effect = SuppressionEffect::none;
    std::string recipient_key;  // lower-cased recipient
    std::string message_id;     // the vendor's message id, or empty
    EpochMillis at = 0;
};

struct Intake {
    Verdict verdict;
    std::vector<ReadyEvent> events;
    std::optional<ReplayGuard> replay_guard;
    std::string key_url;                     // see Batch
    std::optional<std::string> confirm_url;  // see Batch
    std::string notice;                      // see Batch
};

Intake take_in(const Vendor& vendor, const Delivery& delivery,
               const Connection& connection, const EventOrigin& origin);

// The text stored as an event's `raw`: the request's own bytes when the
// vendor's value came straight from the body (the body, an element of a body
// array, a member of a body object), else the value serialized.
std::string raw_event_text(const Event& event, const Delivery& delivery);
// The key the event's id is derived from: the vendor's, or the hash of the
// raw text for vendors without event ids.
std::string effective_dedup_key(const Event& event, std::string_view raw_text);

}  // namespace mailhook
