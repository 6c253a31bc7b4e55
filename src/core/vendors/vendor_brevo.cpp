// SPDX-License-Identifier: BSD-2-Clause
// Brevo (ex-Sendinblue) transactional webhooks: no signature; credentials in
// the URL (Basic) or a bearer token configured on the webhook. One JSON
// object per event, or a batch of them when the webhook is `batched` (an
// array, or {"items": [...]}).
//
// Catalogue: the transactional email events of
// https://developers.brevo.com/docs/transactional-webhooks (Sent =
// "request", Delivered, Deferred, Soft/Hard Bounced, Invalid Email, Blocked,
// Error, Spam/Complaint, Opened, First Opening = "unique_opened", Proxy
// Open, Unique Proxy Open, Clicked, Unsubscribed) and the event names of
// the transactional email logs (https://developers.brevo.com/reference/
// gettransacemailcontent: sent, open, invalid, unsubscribed, ...).
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr EventRow kEvents[] = {
    // "message is pushed for delivery": accepted, not yet sent (it may
    // still be blocked), so queued, as django-anymail reads it.
    {"request", EventType::queued},
    {"sent", EventType::sent},
    {"delivered", EventType::delivered},
    {"deferred", EventType::deferred, BounceClass::soft},
    {"soft_bounce", EventType::bounced, BounceClass::soft},
    {"hard_bounce", EventType::bounced, BounceClass::hard},
    // The address is not valid: a hard bounce of that reason.
    {"invalid_email", EventType::bounced, BounceClass::hard, RejectReason::invalid},
    {"invalid", EventType::bounced, BounceClass::hard, RejectReason::invalid},
    {"blocked", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"error", EventType::failed},
    {"spam", EventType::complained},
    {"complaint", EventType::complained},
    {"opened", EventType::opened},
    {"open", EventType::opened},
    {"unique_opened", EventType::opened},
    // Opens reported by a mail privacy proxy (Apple MPP and the like), not
    // necessarily by a person: still opens; `vendor_event` tells them apart.
    {"proxy_open", EventType::opened},
    {"unique_proxy_open", EventType::opened},
    {"click", EventType::clicked},
    {"unsubscribed", EventType::unsubscribed},
    {"unsubscribe", EventType::unsubscribed},
};

// ts_epoch (milliseconds) is the most precise event time; ts_event and ts
// are seconds. Brevo's own Sent example puts seconds in ts_epoch: a value
// before 1973 in milliseconds is read as not being milliseconds. `date` is
// local time in Brevo's zone and is never read.
std::optional<EpochMillis> event_time(Fields& f, const json_t* item) {
    constexpr EpochMillis kEarliestMillis = 100000000000LL;  // 1973-03-03
    if (auto at = f.epoch_millis(item, "ts_epoch"); at && *at >= kEarliestMillis) {
        return at;
    }
    if (auto at = f.time(item, "ts_event")) return at;
    return f.time(item, "ts");
}

Event normalize(Fields& f, const json_t* item) {
    Event event;
    event.vendor_event = f.text(item, "event").value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    event.recipient = f.text(item, "email").value_or("");
    event.message_id = f.text(item, "message-id");
    event.timestamp = event_time(f, item);
    // `reason`: the receiving server's reply for bounces and deferrals,
    // Brevo's own words otherwise.
    const auto reason = f.text(item, "reason");
    if (event.type == EventType::bounced || event.type == EventType::deferred) {
        event.mta_response = reason;
    } else {
        event.description = reason;
    }
    if (reason) event.smtp_status = find_enhanced_status(*reason);
    event.click_url = f.text(item, "link");
    event.tags = f.list(json_object_get(item, "tags"));
    const JsonPtr custom =
        custom_text_object("X-Mailin-custom", f.text(item, "X-Mailin-custom"));
    event.metadata_json = json_dump_compact(custom.get());
    // `id` is the webhook's id, the same for all its events: no event id.
    set_raw(event, item);
    return event;
}

class Brevo final : public Vendor {
  public:
    std::string_view name() const override { return "brevo"; }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        return check_authorization_header(delivery, connection);
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* body = delivery.json();
        // A batched webhook may wrap its events: {"items": [...]}.
        const json_t* items = json_object_get(body, "items");
        if (json_is_array(items) && json_object_get(body, "event") == nullptr) {
            body = items;
        }
        return normalize_objects(body, BodyShape::object_or_array, normalize, batch,
                                 "event");
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("Brevo `event`", kEvents)};
    }
};

}  // namespace

const Vendor& brevo_vendor() {
    static const Brevo vendor;
    return vendor;
}

}  // namespace mailhook
