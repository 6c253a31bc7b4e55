// SPDX-License-Identifier: BSD-2-Clause
// SmartLead: one JSON object per request. SmartLead puts the webhook's
// `secret_key` in the body; it is compared with the connection secret and
// never stored. A connection that names a signature_header is checked with
// the configured HMAC scheme (configured_hmac.hpp) instead. Two payload
// shapes are documented (help center: event_type/to_email/event_timestamp;
// API reference: event/lead.email/timestamp); both are read.
//
// Catalogue: https://api.smartlead.ai/guides/webhook-integration (the event
// types a webhook subscribes to: EMAIL_SENT, EMAIL_OPEN, EMAIL_LINK_CLICK,
// EMAIL_REPLY, EMAIL_BOUNCE, LEAD_UNSUBSCRIBED, LEAD_CATEGORY_UPDATED) and
// https://api.smartlead.ai/core/webhooks (their other spelling: EMAIL_OPENED,
// EMAIL_CLICKED, EMAIL_REPLIED, EMAIL_BOUNCED, EMAIL_UNSUBSCRIBED).
#include "../configured_hmac.hpp"
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr const char* kSecretField = "secret_key";

// Event names, compared case-insensitively.
constexpr EventRow kEvents[] = {
    {"EMAIL_SENT", EventType::sent},
    {"EMAIL_OPEN", EventType::opened},
    {"EMAIL_OPENED", EventType::opened},
    {"EMAIL_LINK_CLICK", EventType::clicked},
    {"EMAIL_CLICKED", EventType::clicked},
    {"EMAIL_REPLY", EventType::replied},
    {"EMAIL_REPLIED", EventType::replied},
    {"EMAIL_BOUNCE", EventType::bounced},
    {"EMAIL_BOUNCED", EventType::bounced},
    {"LEAD_UNSUBSCRIBED", EventType::unsubscribed},
    {"EMAIL_UNSUBSCRIBED", EventType::unsubscribed},
    // The lead's category changed in SmartLead's CRM: not an email event.
    {"LEAD_CATEGORY_UPDATED", EventType::unknown, BounceClass::none, RejectReason::none,
     true},
};

// nullptr for names added after this table.
const EventRow* event_row(std::string_view name) {
    for (const EventRow& row : kEvents) {
        if (iequals_ascii(row.name, name)) return &row;
    }
    return nullptr;
}

Verdict check_secret_field(const Delivery& delivery, const Connection& connection) {
    // The secret sits in the body: read within a budget (review M2).
    if (Verdict budget = json_pre_auth_budget(delivery); !budget.ok()) return budget;
    const json_t* body = delivery.json();
    if (!json_is_object(body)) {
        return Verdict::reject(Rejection::malformed, "body is not a JSON object");
    }
    const auto presented = json_string_at(body, kSecretField);
    if (!presented) {
        return Verdict::reject(Rejection::bad_credentials, "no secret_key in the body");
    }
    if (!secret_matches_any(connection, *presented)) {
        return Verdict::reject(Rejection::bad_credentials, "wrong secret_key");
    }
    return Verdict::accept();
}

// The body without its secret_key, as stored in `raw` and hashed for dedup.
JsonPtr without_secret(const json_t* body) {
    // json_copy wants a non-const value; the copy shares members, the
    // original is not modified.
    JsonPtr copy(json_copy(const_cast<json_t*>(body)));
    json_object_del(copy.get(), kSecretField);
    return copy;
}

Event normalize(Fields& f, const json_t* body) {
    Event event;
    event.vendor_event = f.first_text(body, {"event_type", "event"}).value_or("");
    classify(event, event_row(event.vendor_event));
    if (event.type == EventType::bounced) {
        // SmartLead documents no hard/soft field; honour one if it appears.
        event.bounce_class =
            explicit_bounce_class(body, {"bounce_type", "bounce_category"});
        if (event.bounce_class == BounceClass::none) {
            event.bounce_class = BounceClass::undetermined;
        }
    }
    auto recipient = f.text(body, "to_email");
    if (!recipient) recipient = f.text(json_object_get(body, "lead"), "email");
    event.recipient = recipient.value_or("");
    // time_sent / time_opened: the fields event_timestamp replaces.
    event.timestamp = f.first_time(
        body, {"event_timestamp", "timestamp", "time_sent", "time_opened"});
    event.message_id = f.text(json_object_get(body, "sent_message"), "message_id");
    if (!event.message_id) event.message_id = f.text(body, "message_id");
    event.description = f.text(body, "description");
    // The bounce message SmartLead received (its replacement for the
    // deprecated bounce_reply_* fields).
    event.mta_response = f.text(json_object_get(body, "bounce_message"), "text");
    if (event.mta_response) event.smtp_status = find_enhanced_status(*event.mta_response);
    event.click_url = f.text(json_object_get(body, "link"), "url");
    event.campaign_id = f.text(body, "campaign_id");
    const JsonPtr stored = without_secret(body);
    set_raw(event, stored.get());
    return event;
}

class SmartLead final : public Vendor {
  public:
    std::string_view name() const override { return "smartlead"; }

    std::optional<std::int64_t> default_tolerance(const Connection& connection) const override {
        return configured_hmac_tolerance(connection);
    }

    Verdict prepare(Connection& connection) const override {
        return has_hmac_scheme(connection) ? prepare_hmac_scheme(connection)
                                           : Vendor::prepare(connection);
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        return has_hmac_scheme(connection) ? verify_hmac_scheme(delivery, connection)
                                           : check_secret_field(delivery, connection);
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* body = delivery.json();
        if (!json_is_object(body)) {
            return Verdict::reject(Rejection::malformed, "body is not a JSON object");
        }
        batch.events.push_back(normalize(batch.fields, body));
        return Verdict::accept();
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("SmartLead `event_type` / `event`", kEvents)};
    }
};

}  // namespace

const Vendor& smartlead_vendor() {
    static const SmartLead vendor;
    return vendor;
}

}  // namespace mailhook
