// SPDX-License-Identifier: BSD-2-Clause
// MailerSend: `Signature` = hex HMAC-SHA256(signing secret, raw body), one
// event per request; no signed time.
//
// Catalogue: MailerSend's webhook events
// (https://developers.mailersend.com/api/v1/webhooks.html, "Available
// events"): activity.* events of an email, sender_identity.* and
// maintenance.* events of the account. The activity sits in `data`, its
// email in `data.email`, what only some events carry (bounce reason, click
// URL, IP) in `data.morph`.
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kSignatureHeader = "Signature";

// The webhook's `type`.
constexpr EventRow kEvents[] = {
    {"activity.sent", EventType::sent},
    {"activity.delivered", EventType::delivered},
    {"activity.soft_bounced", EventType::bounced, BounceClass::soft},
    {"activity.hard_bounced", EventType::bounced, BounceClass::hard},
    {"activity.opened", EventType::opened},
    {"activity.opened_unique", EventType::opened},
    {"activity.clicked", EventType::clicked},
    {"activity.clicked_unique", EventType::clicked},
    {"activity.unsubscribed", EventType::unsubscribed},
    {"activity.spam_complaint", EventType::complained},
    // The first open of an email with a survey; the answers to it.
    {"activity.survey_opened", EventType::opened},
    {"activity.survey_submitted", EventType::replied},
    // The account, not a recipient: kept apart as control entries.
    {"sender_identity.verified", EventType::unknown, BounceClass::none,
     RejectReason::none, true},
    {"maintenance.start", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"maintenance.end", EventType::unknown, BounceClass::none, RejectReason::none, true},
};

// `data.morph.object`: what a reason in the morph is about.
constexpr EventRow kMorphObjects[] = {
    {"recipient_bounce", EventType::bounced, BounceClass::none, RejectReason::bounced},
    {"spam_complaint", EventType::complained, BounceClass::none, RejectReason::spam},
    {"recipient_unsubscribe", EventType::unsubscribed, BounceClass::none,
     RejectReason::unsubscribed},
};

void read_morph(Fields& f, const json_t* morph, Event& event) {
    if (!json_is_object(morph)) {
        if (morph != nullptr && !json_is_null(morph)) f.note("morph", morph, "an object");
        return;
    }
    const auto object = f.string(morph, "object");
    const EventRow* row = object ? find_by_name(kMorphObjects, *object) : nullptr;
    if (row != nullptr && row->type == event.type) event.reject_reason = row->reason;
    // `reason` is the receiving server's answer for a bounce, the chosen
    // option for an unsubscribe; `readable_reason` says it in words.
    const auto reason = f.text(morph, "reason");
    if (event.type == EventType::bounced && reason) {
        event.mta_response = reason;
        event.smtp_status = find_enhanced_status(*reason);
    }
    event.description = f.text(morph, "readable_reason");
    if (!event.description && event.type != EventType::bounced) event.description = reason;
    event.click_url = f.text(morph, "url");
    event.ip = f.text(morph, "ip");
}

Event normalize(Fields& f, const json_t* body) {
    Event event;
    event.vendor_event = f.string(body, "type").value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    const json_t* data = json_object_get(body, "data");
    const json_t* email = f.path(data, {"email"});
    event.recipient = f.string(f.path(email, {"recipient"}), "email").value_or("");
    event.message_id = f.text(f.path(email, {"message"}), "id");
    event.event_id = f.text(data, "id");
    event.timestamp = f.time(data, "created_at");
    if (!event.timestamp) event.timestamp = f.time(body, "created_at");
    event.tags = f.list(json_object_get(email, "tags"), "tags");
    read_morph(f, json_object_get(data, "morph"), event);
    set_raw(event, body);
    event.dedup_key = event.event_id ? "mailersend:" + *event.event_id : std::string();
    return event;
}

class MailerSend final : public Vendor {
  public:
    std::string_view name() const override { return "mailersend"; }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        const auto signature = delivery.header(kSignatureHeader);
        if (!signature) {
            return Verdict::reject(Rejection::unauthenticated, "no Signature header");
        }
        if (!hmac_matches_any(connection.signing_keys, DigestAlgorithm::sha256,
                              {delivery.body()}, trim_ascii(*signature))) {
            return Verdict::reject(Rejection::unauthenticated, "signature mismatch");
        }
        return Verdict::accept();
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* body = delivery.json();
        if (!json_is_object(body) || !json_is_string(json_object_get(body, "type"))) {
            return Verdict::reject(Rejection::malformed,
                                   "body is not a JSON object with a type");
        }
        batch.events.push_back(normalize(batch.fields, body));
        return Verdict::accept();
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("MailerSend `type`", kEvents),
                event_table("`data.morph.object`", kMorphObjects)};
    }
};

}  // namespace

const Vendor& mailersend_vendor() {
    static const MailerSend vendor;
    return vendor;
}

}  // namespace mailhook
