// SPDX-License-Identifier: BSD-2-Clause
// Postmark: no signature. The webhook URL carries credentials
// (https://user:pass@host/...), which arrive as `Authorization: Basic`; a
// Bearer token set as a custom webhook header works too. One JSON object per
// POST, its kind in `RecordType`.
//
// Catalogue: https://postmarkapp.com/developer/webhooks/webhooks-overview
// (record types Delivery, Bounce, SpamComplaint, Open, Click,
// SubscriptionChange), the bounce types of
// https://postmarkapp.com/developer/api/bounce-api#bounce-types, and the
// SuppressionReason values of the subscription change webhook
// (https://postmarkapp.com/developer/webhooks/subscription-change-webhook).
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
    {"Bounce", EventType::bounced},  // `Type` says which: kBounceTypes
    {"SpamComplaint", EventType::complained},
    {"Open", EventType::opened},
    {"Click", EventType::clicked},
    // SuppressSending and SuppressionReason say which: kSuppressionReasons
    {"SubscriptionChange", EventType::unsubscribed},
    // An inbound message posted to the tracking URL: not a delivery event.
    {"Inbound", EventType::unknown, BounceClass::none, RejectReason::none, true},
};

// When a record's event happened; nullptr: not known.
const char* time_key(std::string_view record_type) {
    if (record_type == "Delivery") return "DeliveredAt";
    if (record_type == "Bounce" || record_type == "SpamComplaint") return "BouncedAt";
    if (record_type == "Open" || record_type == "Click") return "ReceivedAt";
    if (record_type == "SubscriptionChange") return "ChangedAt";
    return nullptr;
}

// A bounce record's `Type`, as Postmark's bounce types describe them (the
// TypeCode numbers are not all published, so only the name is read).
constexpr EventRow kBounceTypes[] = {
    // "unable to deliver your message (ex: unknown user, mailbox not found)"
    {"HardBounce", EventType::bounced, BounceClass::hard},
    // "could not temporarily deliver your message": Postmark retries
    {"Transient", EventType::deferred, BounceClass::soft},
    {"Unsubscribe", EventType::unsubscribed},
    {"Subscribe", EventType::subscribed},
    // automatic replies and address-change notices, not failures
    {"AutoResponder", EventType::autoresponded},
    {"AddressChange", EventType::autoresponded},
    {"ChallengeVerification", EventType::autoresponded},
    {"DnsError", EventType::deferred, BounceClass::soft},
    // "delivered, but was either blocked by the user, or classified as
    // spam, bulk mail, or had rejected content"
    {"SpamNotification", EventType::bounced, BounceClass::block, RejectReason::spam},
    // the receiving server probed Postmark for an open relay
    {"OpenRelayTest", EventType::deferred, BounceClass::soft},
    {"Unknown", EventType::bounced, BounceClass::undetermined},
    {"SoftBounce", EventType::bounced, BounceClass::soft},
    {"VirusNotification", EventType::bounced, BounceClass::undetermined,
     RejectReason::other},
    // Postmark refused the address before sending
    {"BadEmailAddress", EventType::rejected, BounceClass::none, RejectReason::invalid},
    {"SpamComplaint", EventType::complained},
    {"ManuallyDeactivated", EventType::rejected, BounceClass::none,
     RejectReason::blocked},
    {"Unconfirmed", EventType::rejected, BounceClass::none, RejectReason::other},
    // the receiving ISP blocked the message
    {"Blocked", EventType::bounced, BounceClass::block, RejectReason::blocked},
    {"DMARCPolicy", EventType::bounced, BounceClass::block, RejectReason::blocked},
    {"SMTPApiError", EventType::failed},
    {"InboundError", EventType::failed},
    {"TemplateRenderingFailed", EventType::failed},
};

constexpr EventRow kUnlistedBounce = {"", EventType::bounced,
                                      BounceClass::undetermined};

// Why a SubscriptionChange suppressed the address (SuppressSending true);
// reactivation (false) is a subscribe.
constexpr EventRow kSuppressionReasons[] = {
    {"HardBounce", EventType::bounced, BounceClass::hard},
    {"SpamComplaint", EventType::complained},
    {"ManualSuppression", EventType::unsubscribed},
};

// The record type; bounce and delivery webhooks without `RecordType` (older
// per-server hooks, Postmark's own marketing samples) are recognised by
// their time field.
std::optional<std::string> record_type(Fields& f, const json_t* record) {
    if (auto named = f.text(record, "RecordType")) return named;
    if (json_object_get(record, "FromFull") != nullptr) return "Inbound";
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
    const auto reason = f.text(record, "SuppressionReason");
    event.description = reason;
    if (!suppressed) {
        event.type = EventType::subscribed;
        return;
    }
    const EventRow* row = reason ? find_by_name(kSuppressionReasons, *reason) : nullptr;
    if (row != nullptr) classify(event, row);
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

    std::vector<EventTable> catalogue() const override {
        return {event_table("Postmark `RecordType`", kRecords),
                event_table("Bounce `Type`", kBounceTypes),
                event_table("SubscriptionChange `SuppressionReason`", kSuppressionReasons)};
    }
};

}  // namespace

const Vendor& postmark_vendor() {
    static const Postmark vendor;
    return vendor;
}

}  // namespace mailhook
