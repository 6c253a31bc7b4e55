// SPDX-License-Identifier: BSD-2-Clause
// Brevo (ex-Sendinblue) transactional webhooks: no signature; credentials in
// the URL (Basic) or a bearer token configured on the webhook. One JSON
// object per event, or an array of them when the webhook is `batched`.
#include "../vendor_support.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

struct EventMapping {
    std::string_view name;
    EventType type;
    BounceClass bounce_class;
    RejectReason reject_reason;
};

constexpr EventMapping kEvents[] = {
    {"request", EventType::sent, BounceClass::none, RejectReason::none},
    {"delivered", EventType::delivered, BounceClass::none, RejectReason::none},
    {"deferred", EventType::deferred, BounceClass::soft, RejectReason::none},
    {"soft_bounce", EventType::bounced, BounceClass::soft, RejectReason::none},
    {"hard_bounce", EventType::bounced, BounceClass::hard, RejectReason::none},
    {"blocked", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"invalid_email", EventType::rejected, BounceClass::none, RejectReason::invalid},
    {"error", EventType::failed, BounceClass::none, RejectReason::none},
    {"spam", EventType::complained, BounceClass::none, RejectReason::none},
    {"opened", EventType::opened, BounceClass::none, RejectReason::none},
    {"unique_opened", EventType::opened, BounceClass::none, RejectReason::none},
    // Opens reported by a mail privacy proxy (Apple MPP and the like), not
    // necessarily by a person: still opens; `vendor_event` tells them apart.
    {"proxy_open", EventType::opened, BounceClass::none, RejectReason::none},
    {"unique_proxy_open", EventType::opened, BounceClass::none, RejectReason::none},
    {"click", EventType::clicked, BounceClass::none, RejectReason::none},
    {"unsubscribed", EventType::unsubscribed, BounceClass::none, RejectReason::none},
};

// ts_epoch (milliseconds) is the most precise event time; ts_event and ts
// are seconds. `date` is local time in Brevo's zone and is never read.
std::optional<EpochMillis> event_time(const json_t* item) {
    if (auto at = epoch_millis_field(item, "ts_epoch")) return at;
    if (auto at = time_field(item, "ts_event")) return at;
    return time_field(item, "ts");
}

Event normalize(const json_t* item) {
    Event event;
    event.vendor_event = json_text_at(item, "event").value_or("");
    if (const EventMapping* mapping = find_by_name(kEvents, event.vendor_event)) {
        event.type = mapping->type;
        event.bounce_class = mapping->bounce_class;
        event.reject_reason = mapping->reject_reason;
    }
    event.recipient = json_text_at(item, "email").value_or("");
    event.message_id = text_field(item, "message-id");
    event.timestamp = event_time(item);
    event.description = text_field(item, "reason");
    if (event.description) {
        event.smtp_status = find_enhanced_status(*event.description);
    }
    event.click_url = text_field(item, "link");
    event.tags = string_list(json_object_get(item, "tags"));
    const JsonPtr custom =
        custom_text_object("X-Mailin-custom", text_field(item, "X-Mailin-custom"));
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
        return normalize_objects(delivery.json(), BodyShape::object_or_array, normalize,
                                 batch.events, "event");
    }
};

}  // namespace

const Vendor& brevo_vendor() {
    static const Brevo vendor;
    return vendor;
}

}  // namespace mailhook
