// SPDX-License-Identifier: BSD-2-Clause
// Postmark: no signature. The webhook URL carries credentials
// (https://user:pass@host/...), which arrive as `Authorization: Basic`; a
// Bearer token set as a custom webhook header works too. One JSON object per
// POST, its kind in `RecordType`.
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

// Postmark's placeholder when a record belongs to no message (test
// webhooks, manual suppressions): it identifies nothing, so it is no id.
constexpr std::string_view kNilMessageId = "00000000-0000-0000-0000-000000000000";

constexpr EventRow kRecords[] = {
    {"Delivery", EventType::delivered},
    {"Bounce", EventType::bounced},
    {"SpamComplaint", EventType::complained},
    {"Open", EventType::opened},
    {"Click", EventType::clicked},
    {"SubscriptionChange", EventType::unsubscribed},  // or subscribed
};

// When a record's event happened; nullptr: not known.
const char* time_key(std::string_view record_type) {
    if (record_type == "Delivery") return "DeliveredAt";
    if (record_type == "Bounce" || record_type == "SpamComplaint") return "BouncedAt";
    if (record_type == "Open" || record_type == "Click") return "ReceivedAt";
    if (record_type == "SubscriptionChange") return "ChangedAt";
    return nullptr;
}

// A bounce record's `Type` (Postmark's bounce type names; the TypeCode
// numbers are not all published, so only the name is read). Types not
// listed are bounced/undetermined.
constexpr EventRow kBounceTypes[] = {
    {"HardBounce", EventType::bounced, BounceClass::hard},
    {"BadEmailAddress", EventType::bounced, BounceClass::hard},
    {"SoftBounce", EventType::bounced, BounceClass::soft},
    {"Transient", EventType::bounced, BounceClass::soft},
    {"DnsError", EventType::bounced, BounceClass::soft},
    {"Blocked", EventType::bounced, BounceClass::block},
    {"DMARCPolicy", EventType::bounced, BounceClass::block},
    // "delivered, but blocked by the user or classified as spam"
    {"SpamNotification", EventType::bounced, BounceClass::block},
    // automatic replies, not failures
    {"AutoResponder", EventType::autoresponded},
    {"AddressChange", EventType::autoresponded},
    {"ChallengeVerification", EventType::autoresponded},
    {"SpamComplaint", EventType::complained},
    {"Unsubscribe", EventType::unsubscribed},
    {"Subscribe", EventType::subscribed},
    // Postmark refused to send: the address was deactivated by hand, or the
    // sender signature is not confirmed.
    {"ManuallyDeactivated", EventType::rejected, BounceClass::none,
     RejectReason::blocked},
    {"Unconfirmed", EventType::rejected, BounceClass::none, RejectReason::other},
    {"SMTPApiError", EventType::failed},
    {"TemplateRenderingFailed", EventType::failed},
    {"InboundError", EventType::failed},
};

constexpr EventRow kUnlistedBounce = {"", EventType::bounced,
                                      BounceClass::undetermined};

// The record type; bounce and delivery webhooks without `RecordType` (older
// per-server hooks, Postmark's own marketing samples) are recognised by
// their time field.
std::optional<std::string> record_type(Fields& f, const json_t* record) {
    if (auto named = f.text(record, "RecordType")) return named;
    if (json_object_get(record, "BouncedAt") != nullptr) return "Bounce";
    if (json_object_get(record, "DeliveredAt") != nullptr) return "Delivery";
    return std::nullopt;
}

void classify_bounce(Fields& f, const json_t* record, Event& event) {
    const auto type = f.string(record, "Type");
    const EventRow* row = type ? find_by_name(kBounceTypes, *type) : nullptr;
    classify(event, row != nullptr ? row : &kUnlistedBounce);
}

void set_subscription(Fields& f, const json_t* record, Event& event) {
    // SuppressSending: true = the address was suppressed, false = reactivated.
    const bool suppressed = json_is_true(json_object_get(record, "SuppressSending"));
    event.type = suppressed ? EventType::unsubscribed : EventType::subscribed;
    event.description = f.text(record, "SuppressionReason");
}

std::optional<std::string> message_id(Fields& f, const json_t* record) {
    auto id = f.text(record, "MessageID");
    if (id && *id == kNilMessageId) return std::nullopt;
    return id;
}

// Bounce records (bounces and spam complaints) carry Postmark's bounce id;
// other records have none, so their identity is what they describe.
std::string dedup_key(Fields& f, const json_t* record, const Event& event) {
    if (event.event_id) return "postmark:bounce:" + *event.event_id;
    const char* key_name = time_key(event.vendor_event);
    const auto at = key_name ? f.text(record, key_name) : std::nullopt;
    if (!at) return {};  // the raw event's hash
    std::string key = "postmark:";
    key.append(event.vendor_event).push_back('|');
    key.append(f.text(record, "MessageID").value_or("")).push_back('|');
    key.append(*at).push_back('|');
    key.append(event.recipient);
    return key;
}

// A record type missing from kRecords (added after this table) is kept,
// typed unknown.
Event normalize(Fields& f, const json_t* record, std::string_view type) {
    Event event;
    event.vendor_event = std::string(type);
    classify(event, find_by_name(kRecords, type));
    if (type == "Bounce" || type == "SpamComplaint") {
        classify_bounce(f, record, event);
        event.event_id = f.text(record, "ID");
        event.description = f.text(record, "Description");
    } else if (type == "SubscriptionChange") {
        set_subscription(f, record, event);
    }
    event.recipient = f.text(record, "Recipient")
                          .value_or(f.text(record, "Email").value_or(""));
    event.message_id = message_id(f, record);
    if (const char* key = time_key(type)) event.timestamp = f.time(record, key);
    // Delivery: the receiving server's reply; bounces: the bounce text.
    event.mta_response = f.text(record, "Details");
    if (event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    event.click_url = f.text(record, "OriginalLink");
    event.user_agent = f.text(record, "UserAgent");
    event.ip = f.text(json_object_get(record, "Geo"), "IP");
    event.tags = f.list(json_object_get(record, "Tag"));
    event.metadata_json = f.object_text(json_object_get(record, "Metadata"));
    set_raw(event, record);
    event.dedup_key = dedup_key(f, record, event);
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
        const auto type = record_type(batch.fields, record);
        if (!type) {
            return Verdict::reject(Rejection::malformed, "no RecordType");
        }
        batch.events.push_back(normalize(batch.fields, record, *type));
        return Verdict::accept();
    }
};

}  // namespace

const Vendor& postmark_vendor() {
    static const Postmark vendor;
    return vendor;
}

}  // namespace mailhook
