// SPDX-License-Identifier: BSD-2-Clause
// Opens and clicks served by nginx itself: the pixel, machine-traffic
// flags, and the normalized event (schema 1) for one hit.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "event.hpp"
#include "tracking_token.hpp"

namespace mailhook {

// The 43-byte transparent 1x1 GIF served for every open request.
std::string_view tracking_pixel_gif();

// One row of the machine user-agent table (tracking_event.cpp lists the
// rows with their sources).
struct MachineAgent {
    std::string_view name;     // reported as metadata.machine_agent
    std::string_view pattern;  // matched case-insensitively
    bool exact;                // whole User-Agent equals pattern; else substring
};

// The row matching `user_agent` for this kind of hit, or nullptr.
const MachineAgent* find_machine_agent(std::string_view user_agent, TrackingKind kind);

// Why a hit counts as machine traffic. Events are never dropped for it.
enum class MachineReason { none, head, user_agent, no_user_agent, after_delivery };
std::string_view to_string(MachineReason reason);

struct MachineVerdict {
    MachineReason reason = MachineReason::none;
    const MachineAgent* agent = nullptr;
    bool machine() const { return reason != MachineReason::none; }
};

// From the request alone: HEAD, a known proxy/scanner agent, no agent.
// (after_delivery needs Redis and is decided by the store script.)
MachineVerdict classify_hit(TrackingKind kind, bool head,
                            std::optional<std::string_view> user_agent);

// The `metadata` object of a tracking event:
// {"machine":false} or {"machine":true,"machine_reason":"..."[,"machine_agent":"..."]}
std::string machine_metadata_json(const MachineVerdict& verdict);

// Stored header values are capped (a whole User-Agent can be ~10 KB).
constexpr std::size_t kMaxStoredUserAgent = 512;
constexpr std::size_t kMaxStoredIp = 64;

struct TrackingHit {
    TrackingKind kind = TrackingKind::open;
    std::string token;  // as presented (the repeat window is per token and kind)
    bool head = false;
    std::optional<std::string> user_agent;
    std::optional<std::string> ip;
    EpochMillis received_at = 0;
    bool include_raw = true;
};

// A normalized tracking event, split around its metadata so the store
// script can choose the variant once it knows the delivery time.
struct TrackingEvent {
    std::string id;
    EventType type = EventType::opened;
    std::string connection;
    std::optional<std::string> tenant;
    // 32 hex digits naming the token and kind (the repeat window's key).
    std::string repeat_digest;
    std::optional<std::string> message_id;
    std::string json_head;  // ... "metadata":
    std::string json_tail;  // ,"vendor_event":... }
    std::string metadata;   // from the request alone
    // Used instead when a click comes within the window after the message's
    // `delivered` event; empty when no such check applies (already machine,
    // an open, or no message id).
    std::string metadata_after_delivery;
    MachineVerdict machine;

    std::string json() const { return json_head + metadata + json_tail; }
    // Where its keys live: the tenant, else the connection (key_layout.hpp).
    std::string_view scope() const {
        return tenant ? std::string_view(*tenant) : std::string_view(connection);
    }
    bool checks_delivery() const { return !metadata_after_delivery.empty(); }
};

constexpr std::string_view kTrackingVendor = "tracking";

// 128 random bits from OpenSSL's CSPRNG, 32 hex digits. Throws
// std::runtime_error if the generator fails.
std::string random_event_id();

// vendor "tracking", the token's connection and tenant, type opened or
// clicked, timestamp = received_at, raw = the verified token payload.
TrackingEvent make_tracking_event(const TrackingClaims& claims, const TrackingHit& hit,
                                  std::string id);

}  // namespace mailhook
