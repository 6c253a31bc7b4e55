// SPDX-License-Identifier: BSD-2-Clause
// Mailjet Event API: no signature; Basic credentials embedded in the
// callback URL. A JSON object per event, or an array of them (Event API v2
// groups the events of one second).
#include "../vendor_support.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

struct EventMapping {
    std::string_view name;
    EventType type;
};

constexpr EventMapping kEvents[] = {
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
struct BlockReason {
    std::string_view name;
    RejectReason reason;
};

constexpr BlockReason kBlockReasons[] = {
    {"user unknown", RejectReason::invalid},
    {"invalid domain", RejectReason::invalid},
    {"no mail host", RejectReason::invalid},
    {"preblocked", RejectReason::blocked},
    {"blacklisted", RejectReason::blocked},
    {"spam preblocked", RejectReason::spam},
    {"spam reporter", RejectReason::spam},
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
    const BlockReason* row = error ? find_by_name(kBlockReasons, *error) : nullptr;
    return row ? row->reason : RejectReason::other;
}

// Mailjet sends 0 for "no campaign"; `customcampaign` is the sender's name.
std::optional<std::string> campaign(const json_t* item) {
    auto id = text_field(item, "mj_campaign_id");
    if (id && *id != "0") return id;
    return text_field(item, "customcampaign");
}

// The sender's data from send time: EventPayload (`Payload`) and CustomID.
std::string metadata_json(const json_t* item) {
    const JsonPtr metadata = custom_text_object("Payload", text_field(item, "Payload"));
    if (auto custom_id = text_field(item, "CustomID");
        custom_id && json_object_get(metadata.get(), "CustomID") == nullptr) {
        json_object_set_new(metadata.get(), "CustomID",
                            json_stringn(custom_id->data(), custom_id->size()));
    }
    return json_dump_compact(metadata.get());
}

Event normalize(const json_t* item) {
    Event event;
    event.vendor_event = json_text_at(item, "event").value_or("");
    if (const EventMapping* mapping = find_by_name(kEvents, event.vendor_event)) {
        event.type = mapping->type;
    }
    if (event.type == EventType::bounced || event.type == EventType::rejected) {
        event.description = text_field(item, "error");
        event.mta_response = text_field(item, "comment");
    } else if (event.type == EventType::complained) {
        event.description = text_field(item, "source");
    } else {
        event.mta_response = text_field(item, "smtp_reply");
    }
    if (event.type == EventType::bounced) event.bounce_class = bounce_class(item);
    if (event.type == EventType::rejected) {
        event.reject_reason = block_reason(event.description);
    }
    if (event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    event.recipient = json_text_at(item, "email").value_or("");
    event.message_id = text_field(item, "MessageID");
    event.timestamp = time_field(item, "time");
    event.click_url = text_field(item, "url");
    event.user_agent = text_field(item, "agent");
    event.ip = text_field(item, "ip");
    event.campaign_id = campaign(item);
    event.metadata_json = metadata_json(item);
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
                                 batch.events, "event");
    }
};

}  // namespace

const Vendor& mailjet_vendor() {
    static const Mailjet vendor;
    return vendor;
}

}  // namespace mailhook
