// SPDX-License-Identifier: BSD-2-Clause
// The normalized event (docs/design.md §3.3, schema 1) and its JSON writer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"
#include "timestamp.hpp"

namespace mailhook {

enum class EventType {
    queued, sent, rejected, failed, bounced, deferred, delivered,
    autoresponded, opened, clicked, complained, unsubscribed, subscribed,
    replied, unknown
};
enum class BounceClass { none, hard, soft, block, undetermined };
enum class RejectReason {
    none, invalid, bounced, timed_out, blocked, spam, unsubscribed, other
};

std::string_view to_string(EventType type);
std::string_view to_string(BounceClass bounce_class);
std::string_view to_string(RejectReason reason);

struct Event {
    EventType type = EventType::unknown;
    BounceClass bounce_class = BounceClass::none;
    RejectReason reject_reason = RejectReason::none;
    std::string recipient;
    std::optional<std::string> message_id;
    std::optional<std::string> event_id;
    std::optional<EpochMillis> timestamp;  // absent: received_at is used
    std::optional<std::string> smtp_status;
    std::optional<std::string> mta_response;
    std::optional<std::string> description;
    std::optional<std::string> click_url;
    std::optional<std::string> user_agent;
    std::optional<std::string> ip;
    std::optional<std::string> campaign_id;
    std::vector<std::string> tags;
    std::string metadata_json = "{}";  // a JSON object, already serialized
    std::string vendor_event;
    // The vendor's own event: its serialized text, or (preferred, see
    // set_raw) the parsed value, written from the request's own bytes.
    std::string raw_json = "{}";
    JsonRef raw_value;
    // What identifies this event at the vendor (its event id); the schema
    // `id` is derived from it, see event_id_for(). Empty: a hash of the raw
    // event's bytes is used (vendors without event ids).
    std::string dedup_key;
    // A message about the webhook or the account itself (an SNS subscription
    // handshake, a SendGrid account status change), not about an email:
    // stored in the control stream, not the event stream; never suppresses.
    bool control = false;
};

// Where the events of one request came from.
struct EventOrigin {
    std::string_view vendor;
    std::string_view connection;
    std::optional<std::string_view> tenant;
    EpochMillis received_at = 0;
    bool include_raw = true;
};

// Stable id: the same vendor event on the same connection always gets the
// same 32 hex digits.
std::string event_id_for(std::string_view vendor, std::string_view connection,
                         std::string_view dedup_key);

// Content-hash dedup key for vendors without an event id.
std::string content_dedup_key(std::string_view canonical_bytes);

std::string write_event_json(const Event& event, std::string_view id,
                             const EventOrigin& origin);
// With the raw event's text given (event.raw_json is ignored).
std::string write_event_json(const Event& event, std::string_view id,
                             const EventOrigin& origin, std::string_view raw_text);

// A vendor's JSON as it was sent, on one line: JSON allows no raw line
// breaks or tabs inside strings, so every one is whitespace between tokens
// and a space means the same.
void append_one_line_json(std::string& out, std::string_view json);

// Suppression effect of an event (docs/design.md §3.4).
enum class SuppressionEffect { none, hard_bounce, complaint, unsubscribe,
                               resubscribe, soft_bounce };
SuppressionEffect suppression_effect(const Event& event);
std::string_view to_string(SuppressionEffect effect);

// Enhanced status code ("5.1.1") found in free text, if any.
std::optional<std::string> find_enhanced_status(std::string_view text);

}  // namespace mailhook
