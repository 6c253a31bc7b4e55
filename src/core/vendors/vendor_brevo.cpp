// SPDX-License-Identifier: BSD-2-Clause
// Brevo (ex-Sendinblue) transactional webhooks: no signature; credentials in
// the URL (Basic) or a bearer token configured on the webhook. One JSON
// object per event, or an array of them when the webhook is `batched`.
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr EventRow kEvents[] = {
    {"request", EventType::sent},
    {"delivered", EventType::delivered},
    {"deferred", EventType::deferred, BounceClass::soft},
    {"soft_bounce", EventType::bounced, BounceClass::soft},
    {"hard_bounce", EventType::bounced, BounceClass::hard},
    {"blocked", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"invalid_email", EventType::rejected, BounceClass::none, RejectReason::invalid},
    {"error", EventType::failed},
    {"spam", EventType::complained},
    {"opened", EventType::opened},
    {"unique_opened", EventType::opened},
    // Opens reported by a mail privacy proxy (Apple MPP and the like), not
    // necessarily by a person: still opens; `vendor_event` tells them apart.
    {"proxy_open", EventType::opened},
    {"unique_proxy_open", EventType::opened},
    {"click", EventType::clicked},
    {"unsubscribed", EventType::unsubscribed},
};

// ts_epoch (milliseconds) is the most precise event time; ts_event and ts
// are seconds. `date` is local time in Brevo's zone and is never read.
std::optional<EpochMillis> event_time(Fields& f, const json_t* item) {
    if (auto at = f.epoch_millis(item, "ts_epoch")) return at;
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
    event.description = f.text(item, "reason");
    if (event.description) {
        event.smtp_status = find_enhanced_status(*event.description);
    }
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
        return normalize_objects(delivery.json(), BodyShape::object_or_array, normalize,
                                 batch, "event");
    }
};

}  // namespace

const Vendor& brevo_vendor() {
    static const Brevo vendor;
    return vendor;
}

}  // namespace mailhook
