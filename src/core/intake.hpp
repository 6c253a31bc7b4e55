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
    // The event's JSON without `raw`: the store script adds it (or, for an
    // event sharing its raw text with others, a reference), see Intake::raws.
    std::string json;
    std::size_t raw = 0;  // 1-based index into Intake::raws; 0: no raw
    EventType type = EventType::unknown;
    SuppressionEffect effect = SuppressionEffect::none;
    std::string recipient_key;  // lower-cased recipient
    std::string message_id;     // the vendor's message id, or empty
    EpochMillis at = 0;
    bool control = false;       // see Event::control
};

struct Intake {
    Verdict verdict;
    std::vector<ReadyEvent> events;
    // Each distinct raw text of the request once, on one line (events made
    // from one vendor event, e.g. an SES notification naming many
    // recipients, share it); empty with `mailhook_raw off`.
    std::vector<std::string> raws;
    std::optional<ReplayGuard> replay_guard;
    std::string key_url;                     // see Batch
    std::optional<std::string> confirm_url;  // see Batch
    std::string notice;                      // see Batch
};

// The most bytes a request may store (event JSON and raw texts): four times
// its body, 1 KiB per event and 64 KiB. Normalized fields copy at most about
// one body, raw texts one more; beyond that a request amplifies itself.
std::size_t store_byte_limit(std::size_t body_bytes, std::size_t events);

// An event as it is stored when it holds its raw text itself (as every event
// with a raw text of its own does).
std::string stored_event_json(const Intake& intake, const ReadyEvent& event);

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
