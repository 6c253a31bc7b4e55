// SPDX-License-Identifier: BSD-2-Clause
// Mailjet Event API: no signature; Basic credentials embedded in the
// callback URL. A JSON object per event, or an array of them (Event API v2
// groups the events of one second); a form body holds one event's fields.
//
// Catalogue: https://dev.mailjet.com/email/guides/webhooks/ (event types
// sent, open, click, bounce, blocked, spam, unsub; the `error_related_to` /
// `error` values of bounce and blocked events).
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr EventRow kEvents[] = {
    // "sent": accepted by the recipient's mail server, which is what the
    // schema calls delivered (Mailjet has no later delivery event).
    {"sent", EventType::delivered},
    {"open", EventType::opened},
    {"click", EventType::clicked},
    {"bounce", EventType::bounced},
    {"spam", EventType::complained},
    {"blocked", EventType::rejected},
    {"unsub", EventType::unsubscribed},
};

// The `error` of a bounce or blocked event (Mailjet lists them by
// `error_related_to`: recipient, domain, content, spam, system, mailjet);
// unlisted ones are `other`.
constexpr EventRow kErrors[] = {
    // recipient (older events say "user")
    {"user unknown", EventType::bounced, BounceClass::hard, RejectReason::bounced},
    {"mailbox inactive", EventType::bounced, BounceClass::hard, RejectReason::bounced},
    {"quota exceeded", EventType::bounced, BounceClass::soft, RejectReason::bounced},
    {"blacklisted", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"spam reporter", EventType::rejected, BounceClass::none, RejectReason::spam},
    // domain
    {"invalid domain", EventType::bounced, BounceClass::hard, RejectReason::bounced},
    {"no mail host", EventType::bounced, BounceClass::hard, RejectReason::bounced},
    {"relay/access denied", EventType::bounced, BounceClass::hard, RejectReason::bounced},
    // Greylisting: the receiver will take the message later.
    {"greylisted", EventType::deferred, BounceClass::soft, RejectReason::other},
    {"typofix", EventType::rejected, BounceClass::none, RejectReason::invalid},
    // spam (Mailjet's policy and filtering)
    {"sender blocked", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"content blocked", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"policy issue", EventType::rejected, BounceClass::none, RejectReason::blocked},
    // mailjet: the address is on Mailjet's own suppression list
    {"preblocked", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"duplicate in campaign", EventType::rejected, BounceClass::none, RejectReason::other},
    // system
    {"system issue", EventType::failed, BounceClass::none, RejectReason::other},
    {"protocol issue", EventType::failed, BounceClass::none, RejectReason::other},
    {"connection issue", EventType::failed, BounceClass::none, RejectReason::other},
};

// A permanent error is hard even when Mailjet also blocks the address after
// it; `blocked` alone (a temporary error that got the address blocked) is a
// block; `hard_bounce: false` is soft; without either flag, undetermined.
// Form bodies carry the flags as "true"/"false".
bool flag(const json_t* item, const char* key, bool value) {
    const json_t* member = json_object_get(item, key);
    if (json_is_boolean(member)) return json_is_true(member) == value;
    return json_is_string(member) &&
           std::string_view(json_string_value(member)) == (value ? "true" : "false");
}

BounceClass bounce_class(const json_t* item) {
    if (flag(item, "hard_bounce", true)) return BounceClass::hard;
    if (flag(item, "blocked", true)) return BounceClass::block;
    if (flag(item, "hard_bounce", false)) return BounceClass::soft;
    return BounceClass::undetermined;
}

// A bounce that is only greylisting (hard_bounce false) is a deferral; a
// blocked event's error says why Mailjet did not send.
void classify_error(const std::optional<std::string>& error, const json_t* item,
                    Event& event) {
    const EventRow* row = error ? find_by_name(kErrors, *error) : nullptr;
    if (event.type == EventType::bounced) {
        event.bounce_class = bounce_class(item);
        if (row != nullptr && row->type == EventType::deferred &&
            !flag(item, "hard_bounce", true)) {
            classify(event, row);
        } else if (row != nullptr) {
            event.reject_reason = row->reason;
        }
    } else if (event.type == EventType::rejected) {
        event.reject_reason = row != nullptr ? row->reason : RejectReason::other;
    }
}

// Mailjet sends 0 for "no campaign"; `customcampaign` is the sender's name.
std::optional<std::string> campaign(Fields& f, const json_t* item) {
    auto id = f.text(item, "mj_campaign_id");
    if (id && *id != "0") return id;
    return f.text(item, "customcampaign");
}

// The sender's data from send time: EventPayload (`Payload`) and CustomID.
std::string metadata_json(Fields& f, const json_t* item) {
    const JsonPtr metadata = custom_text_object("Payload", f.text(item, "Payload"));
    if (auto custom_id = f.text(item, "CustomID");
        custom_id && json_object_get(metadata.get(), "CustomID") == nullptr) {
        json_object_set_new(metadata.get(), "CustomID",
                            json_stringn(custom_id->data(), custom_id->size()));
    }
    return json_dump_compact(metadata.get());
}

Event normalize(Fields& f, const json_t* item) {
    Event event;
    event.vendor_event = f.text(item, "event").value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    if (event.type == EventType::bounced || event.type == EventType::rejected) {
        event.description = f.text(item, "error");
        event.mta_response = f.text(item, "comment");
    } else if (event.type == EventType::complained) {
        event.description = f.text(item, "source");
    } else {
        event.mta_response = f.text(item, "smtp_reply");
    }
    classify_error(event.description, item, event);
    if (event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    event.recipient = f.text(item, "email").value_or("");
    event.message_id = f.text(item, "MessageID");
    event.timestamp = f.time(item, "time");
    event.click_url = f.text(item, "url");
    event.user_agent = f.text(item, "agent");
    event.ip = f.text(item, "ip");
    event.campaign_id = campaign(f, item);
    event.metadata_json = metadata_json(f, item);
    // No per-event id: the content identifies the event.
    set_raw(event, item);
    return event;
}

class Mailjet final : public Vendor {
  public:
    std::string_view name() const override { return "mailjet"; }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        return check_authorization_header(delivery, connection);
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* body = delivery.json();
        JsonPtr form;
        if (body == nullptr &&
            delivery.content_type_is("application/x-www-form-urlencoded")) {
            const FormFields* fields = delivery.form();
            if (fields != nullptr) form = form_object(*fields);
            body = form.get();
        }
        return normalize_objects(body, BodyShape::object_or_array, normalize, batch,
                                 "event");
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("Mailjet `event`", kEvents),
                event_table("bounce / blocked `error`", kErrors)};
    }
};

}  // namespace

const Vendor& mailjet_vendor() {
    static const Mailjet vendor;
    return vendor;
}

}  // namespace mailhook
