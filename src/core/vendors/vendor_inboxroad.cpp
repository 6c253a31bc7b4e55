// SPDX-License-Identifier: BSD-2-Clause
// Inboxroad: X-Signature = HMAC-SHA256(secret, raw body), base64 (hex also
// accepted). The header name can be changed per connection
// (`signature_header`) since Inboxroad does not publish it.
#include "../encoding.hpp"
#include "../vendor_support.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kDefaultSignatureHeader = "X-Signature";

struct EventMapping {
    std::string_view kind;
    EventType type;
    BounceClass bounce_class;
};

constexpr EventMapping kEvents[] = {
    {"sent", EventType::sent, BounceClass::none},
    {"delivered", EventType::delivered, BounceClass::none},
    {"deferred", EventType::deferred, BounceClass::soft},
    {"open", EventType::opened, BounceClass::none},
    {"opened", EventType::opened, BounceClass::none},
    {"click", EventType::clicked, BounceClass::none},
    {"clicked", EventType::clicked, BounceClass::none},
    {"bounce", EventType::bounced, BounceClass::undetermined},
    {"bounced", EventType::bounced, BounceClass::undetermined},
    {"hard_bounce", EventType::bounced, BounceClass::hard},
    {"soft_bounce", EventType::bounced, BounceClass::soft},
    {"complaint", EventType::complained, BounceClass::none},
    {"spam", EventType::complained, BounceClass::none},
    {"unsubscribe", EventType::unsubscribed, BounceClass::none},
    {"unsubscribed", EventType::unsubscribed, BounceClass::none},
};

Event normalize(const json_t* item) {
    Event event;
    event.vendor_event = json_string_at(item, "kind").value_or("");
    const std::string kind = to_lower_ascii(event.vendor_event);
    for (const EventMapping& mapping : kEvents) {
        if (mapping.kind == kind) {
            event.type = mapping.type;
            event.bounce_class = mapping.bounce_class;
        }
    }
    if (event.type == EventType::bounced) {
        // An explicit hard/soft field wins over the kind's default.
        const BounceClass given =
            explicit_bounce_class(item, {"bounce_type", "bounce_class", "bounce"});
        if (given != BounceClass::none) event.bounce_class = given;
    }
    event.recipient = json_string_at(item, "recipient").value_or("");
    event.message_id = text_field(item, "message_id");
    event.event_id = text_field(item, "id");
    event.timestamp = time_field(item, "timestamp");
    event.click_url = text_field(item, "url");
    event.user_agent = text_field(item, "user_agent");
    event.ip = text_field(item, "ip");
    event.mta_response = text_field(item, "smtp_response");
    event.description = text_field(item, "reason");
    if (event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    const json_t* campaign = json_object_get(item, "campaign");
    event.campaign_id = json_is_object(campaign) ? text_field(campaign, "id")
                                                 : text_field(item, "campaign_id");
    event.tags = string_list(json_object_get(item, "tags"), "tags");
    event.metadata_json = object_json(json_object_get(item, "metadata"), "metadata");
    set_raw(event, item);
    return event;
}

class Inboxroad final : public Vendor {
  public:
    std::string_view name() const override { return "inboxroad"; }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        const std::string_view header_name =
            connection.option("signature_header").value_or(kDefaultSignatureHeader);
        const auto signature = delivery.header(header_name);
        if (!signature) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "missing signature header");
        }
        if (!hmac_matches_any(connection.signing_keys, DigestAlgorithm::sha256,
                              {delivery.body()}, *signature)) {
            return Verdict::reject(Rejection::unauthenticated, "signature mismatch");
        }
        return Verdict::accept();
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        std::vector<const json_t*> items;
        if (Verdict verdict = collect_objects(delivery.json(), items);
            !verdict.ok()) {
            return verdict;
        }
        for (const json_t* item : items) {
            batch.events.push_back(normalize(item));
        }
        return Verdict::accept();
    }
};

}  // namespace

const Vendor& inboxroad_vendor() {
    static const Inboxroad vendor;
    return vendor;
}

}  // namespace mailhook
