// SPDX-License-Identifier: BSD-2-Clause
// SMTP2GO: no signature; Basic or Bearer credentials from the connection
// secret. The body is JSON or form-encoded, chosen per webhook at SMTP2GO.
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr EventRow kEvents[] = {
    {"processed", EventType::queued},
    {"delivered", EventType::delivered},
    {"open", EventType::opened},
    {"click", EventType::clicked},
    {"bounce", EventType::bounced},
    {"spam", EventType::complained},
    {"unsubscribe", EventType::unsubscribed},
    {"resubscribe", EventType::subscribed},
    {"reject", EventType::rejected},
};

BounceClass bounce_class(Fields& f, const json_t* item) {
    const auto value = f.string(item, "bounce");
    if (value && *value == "hard") return BounceClass::hard;
    if (value && *value == "soft") return BounceClass::soft;
    return BounceClass::undetermined;
}

constexpr std::string_view kReservedKeys[] = {
    "event", "time", "sendtime", "sender", "from", "rcpt", "recipients", "email",
    "auth", "host", "message", "context", "email_id", "bounce", "subject", "id",
    "message-id", "user-agent", "read-secs", "client", "client-device",
    "client-os", "srchost", "url", "geoip-city", "geoip-country",
    "geoip-region", "geoip-latitude", "geoip-longitude", "Message-Id"};

Event normalize(Fields& f, const json_t* item) {
    Event event;
    event.vendor_event = f.string(item, "event").value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    if (event.type == EventType::bounced) {
        event.bounce_class = bounce_class(f, item);
    } else if (event.type == EventType::rejected) {
        event.reject_reason = RejectReason::other;
    }
    event.recipient = f.string(item, "rcpt").value_or(
        f.string(item, "email").value_or(""));
    event.message_id = f.text(item, "message-id");
    if (!event.message_id) event.message_id = f.text(item, "Message-Id");
    event.event_id = f.text(item, "id");
    // `sendtime` is when the email left, not when this event happened.
    event.timestamp = f.time(item, "time");
    event.mta_response = f.text(item, "message");
    event.description = f.text(item, "context");
    if (event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    event.click_url = f.text(item, "url");
    event.user_agent = f.text(item, "user-agent");
    event.ip = f.text(item, "srchost");
    event.metadata_json = unreserved_members_json(item, kReservedKeys);
    set_raw(event, item);
    event.dedup_key = event.event_id ? "s2g:" + *event.event_id
                                     : std::string();
    return event;
}

class Smtp2go final : public Vendor {
  public:
    std::string_view name() const override { return "smtp2go"; }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        return check_authorization_header(delivery, connection);
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        JsonPtr form;
        const json_t* body = delivery.json();
        if (body == nullptr &&
            delivery.content_type_is("application/x-www-form-urlencoded")) {
            const FormFields* fields = delivery.form();
            if (fields != nullptr) form = form_object(*fields);
            body = form.get();
        }
        return normalize_objects(body, BodyShape::object_or_array, normalize, batch);
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("SMTP2GO `event`", kEvents)};
    }
};

}  // namespace

const Vendor& smtp2go_vendor() {
    static const Smtp2go vendor;
    return vendor;
}

}  // namespace mailhook
