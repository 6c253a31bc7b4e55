// SPDX-License-Identifier: BSD-2-Clause
// Postmark: no signature. The webhook URL carries credentials
// (https://user:pass@host/...), which arrive as `Authorization: Basic`; a
// Bearer token set as a custom webhook header works too. One JSON object per
// POST, its kind in `RecordType`.
#include "../encoding.hpp"
#include "../vendor_support.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

// Postmark's placeholder when a record belongs to no message (test
// webhooks, manual suppressions): it identifies nothing, so it is no id.
constexpr std::string_view kNilMessageId = "00000000-0000-0000-0000-000000000000";

struct RecordMapping {
    std::string_view name;
    EventType type;
    const char* time_key;  // when the event happened; nullptr: not known
};

constexpr RecordMapping kRecords[] = {
    {"Delivery", EventType::delivered, "DeliveredAt"},
    {"Bounce", EventType::bounced, "BouncedAt"},
    {"SpamComplaint", EventType::complained, "BouncedAt"},
    {"Open", EventType::opened, "ReceivedAt"},
    {"Click", EventType::clicked, "ReceivedAt"},
    {"SubscriptionChange", EventType::unsubscribed, "ChangedAt"},  // or subscribed
};

// A bounce record's `Type` (Postmark's bounce type names; the TypeCode
// numbers are not all published, so only the name is read). Types not
// listed are bounced/undetermined.
struct BounceMapping {
    std::string_view name;
    EventType type;
    BounceClass bounce_class;
    RejectReason reject_reason;
};

constexpr BounceMapping kBounceTypes[] = {
    {"HardBounce", EventType::bounced, BounceClass::hard, RejectReason::none},
    {"BadEmailAddress", EventType::bounced, BounceClass::hard, RejectReason::none},
    {"SoftBounce", EventType::bounced, BounceClass::soft, RejectReason::none},
    {"Transient", EventType::bounced, BounceClass::soft, RejectReason::none},
    {"DnsError", EventType::bounced, BounceClass::soft, RejectReason::none},
    {"Blocked", EventType::bounced, BounceClass::block, RejectReason::none},
    {"DMARCPolicy", EventType::bounced, BounceClass::block, RejectReason::none},
    // "delivered, but blocked by the user or classified as spam"
    {"SpamNotification", EventType::bounced, BounceClass::block, RejectReason::none},
    // automatic replies, not failures
    {"AutoResponder", EventType::autoresponded, BounceClass::none, RejectReason::none},
    {"AddressChange", EventType::autoresponded, BounceClass::none, RejectReason::none},
    {"ChallengeVerification", EventType::autoresponded, BounceClass::none,
     RejectReason::none},
    {"SpamComplaint", EventType::complained, BounceClass::none, RejectReason::none},
    {"Unsubscribe", EventType::unsubscribed, BounceClass::none, RejectReason::none},
    {"Subscribe", EventType::subscribed, BounceClass::none, RejectReason::none},
    // Postmark refused to send: the address was deactivated by hand, or the
    // sender signature is not confirmed.
    {"ManuallyDeactivated", EventType::rejected, BounceClass::none,
     RejectReason::blocked},
    {"Unconfirmed", EventType::rejected, BounceClass::none, RejectReason::other},
    {"SMTPApiError", EventType::failed, BounceClass::none, RejectReason::none},
    {"TemplateRenderingFailed", EventType::failed, BounceClass::none,
     RejectReason::none},
    {"InboundError", EventType::failed, BounceClass::none, RejectReason::none},
};

// The record type; bounce and delivery webhooks without `RecordType` (older
// per-server hooks, Postmark's own marketing samples) are recognised by
// their time field.
std::optional<std::string> record_type(const json_t* record) {
    if (auto named = text_field(record, "RecordType")) return named;
    if (json_object_get(record, "BouncedAt") != nullptr) return "Bounce";
    if (json_object_get(record, "DeliveredAt") != nullptr) return "Delivery";
    return std::nullopt;
}

void classify_bounce(const json_t* record, Event& event) {
    const auto type = json_string_at(record, "Type");
    const BounceMapping* mapping =
        type ? find_by_name(kBounceTypes, *type) : nullptr;
    if (mapping == nullptr) {
        event.type = EventType::bounced;
        event.bounce_class = BounceClass::undetermined;
        return;
    }
    event.type = mapping->type;
    event.bounce_class = mapping->bounce_class;
    event.reject_reason = mapping->reject_reason;
}

void set_subscription(const json_t* record, Event& event) {
    // SuppressSending: true = the address was suppressed, false = reactivated.
    const bool suppressed = json_is_true(json_object_get(record, "SuppressSending"));
    event.type = suppressed ? EventType::unsubscribed : EventType::subscribed;
    event.description = text_field(record, "SuppressionReason");
}

std::optional<std::string> message_id(const json_t* record) {
    auto id = text_field(record, "MessageID");
    if (id && *id == kNilMessageId) return std::nullopt;
    return id;
}

// Bounce records (bounces and spam complaints) carry Postmark's bounce id;
// other records have none, so their identity is what they describe.
std::string dedup_key(const json_t* record, const Event& event,
                      const RecordMapping& mapping) {
    if (event.event_id) return "postmark:bounce:" + *event.event_id;
    const auto at = mapping.time_key ? text_field(record, mapping.time_key)
                                     : std::nullopt;
    if (!at) return {};  // the raw event's hash
    std::string key = "postmark:";
    key.append(mapping.name).push_back('|');
    key.append(text_field(record, "MessageID").value_or("")).push_back('|');
    key.append(*at).push_back('|');
    key.append(event.recipient);
    return key;
}

Event normalize(const json_t* record, const RecordMapping& mapping) {
    Event event;
    event.vendor_event = std::string(mapping.name);
    event.type = mapping.type;
    if (mapping.name == "Bounce" || mapping.name == "SpamComplaint") {
        classify_bounce(record, event);
        event.event_id = text_field(record, "ID");
        event.description = text_field(record, "Description");
    } else if (mapping.name == "SubscriptionChange") {
        set_subscription(record, event);
    }
    event.recipient = json_text_at(record, "Recipient")
                          .value_or(json_text_at(record, "Email").value_or(""));
    event.message_id = message_id(record);
    if (mapping.time_key) event.timestamp = time_field(record, mapping.time_key);
    // Delivery: the receiving server's reply; bounces: the bounce text.
    event.mta_response = text_field(record, "Details");
    if (event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    event.click_url = text_field(record, "OriginalLink");
    event.user_agent = text_field(record, "UserAgent");
    event.ip = text_field(json_object_get(record, "Geo"), "IP");
    event.tags = string_list(json_object_get(record, "Tag"));
    event.metadata_json = object_json(json_object_get(record, "Metadata"));
    set_raw(event, record);
    event.dedup_key = dedup_key(record, event, mapping);
    return event;
}

class Postmark final : public Vendor {
  public:
    std::string_view name() const override { return "postmark"; }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        return check_authorization_header(delivery, connection);
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* record = delivery.json();
        if (!json_is_object(record)) {
            return Verdict::reject(Rejection::malformed, "body is not a JSON object");
        }
        const auto type = record_type(record);
        if (!type) {
            return Verdict::reject(Rejection::malformed, "no RecordType");
        }
        if (const RecordMapping* mapping = find_by_name(kRecords, *type)) {
            batch.events.push_back(normalize(record, *mapping));
        } else {
            // A record type added after this table: keep it, typed unknown.
            const RecordMapping unknown{*type, EventType::unknown, nullptr};
            batch.events.push_back(normalize(record, unknown));
        }
        return Verdict::accept();
    }
};

}  // namespace

const Vendor& postmark_vendor() {
    static const Postmark vendor;
    return vendor;
}

}  // namespace mailhook
