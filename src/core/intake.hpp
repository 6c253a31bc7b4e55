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

}  // namespace mailhook
