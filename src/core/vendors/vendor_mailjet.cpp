// SPDX-License-Identifier: BSD-2-Clause
// Mailjet Event API: no signature; Basic credentials embedded in the
// callback URL. A JSON object per event, or an array of them (Event API v2
// groups the events of one second).
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

// `error` values of a blocked event that say why; the rest are `other`.
constexpr EventRow kBlockReasons[] = {
    {"user unknown", EventType::rejected, BounceClass::none, RejectReason::invalid},
    {"invalid domain", EventType::rejected, BounceClass::none, RejectReason::invalid},
    {"no mail host", EventType::rejected, BounceClass::none, RejectReason::invalid},
    {"preblocked", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"blacklisted", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"spam preblocked", EventType::rejected, BounceClass::none, RejectReason::spam},
    {"spam reporter", EventType::rejected, BounceClass::none, RejectReason::spam},
};

// A permanent error is hard even when Mailjet also blocks the address after
// it; `blocked` alone (a temporary error that got the address blocked) is a
// block; `hard_bounce: false` is soft; without either flag, undetermined.
BounceClass bounce_class(const json_t* item) {
    const json_t* hard = json_object_get(item, "hard_bounce");
    if (json_is_true(hard)) return BounceClass::hard;
    if (json_is_true(json_object_get(item, "blocked"))) return BounceClass::block;
    if (json_is_false(hard)) return BounceClass::soft;
    return BounceClass::undetermined;
}

RejectReason block_reason(const std::optional<std::string>& error) {
    const EventRow* row = error ? find_by_name(kBlockReasons, *error) : nullptr;
    return row ? row->reason : RejectReason::other;
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
    if (event.type == EventType::bounced) event.bounce_class = bounce_class(item);
    if (event.type == EventType::rejected) {
        event.reject_reason = block_reason(event.description);
    }
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
        return normalize_objects(delivery.json(), BodyShape::object_or_array, normalize,
                                 batch, "event");
    }
};

}  // namespace

const Vendor& mailjet_vendor() {
    static const Mailjet vendor;
    return vendor;
}

}  // namespace mailhook
