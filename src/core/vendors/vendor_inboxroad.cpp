// SPDX-License-Identifier: BSD-2-Clause
// Inboxroad: X-Signature = HMAC-SHA256(secret, raw body), base64 (hex also
// accepted). The header name can be changed per connection
// (`signature_header`) since Inboxroad does not publish it.
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kDefaultSignatureHeader = "X-Signature";

// `kind` values, compared in lower case.
constexpr EventRow kEvents[] = {
    {"sent", EventType::sent},
    {"delivered", EventType::delivered},
    {"deferred", EventType::deferred, BounceClass::soft},
    {"open", EventType::opened},
    {"opened", EventType::opened},
    {"click", EventType::clicked},
    {"clicked", EventType::clicked},
    {"bounce", EventType::bounced, BounceClass::undetermined},
    {"bounced", EventType::bounced, BounceClass::undetermined},
    {"hard_bounce", EventType::bounced, BounceClass::hard},
    {"soft_bounce", EventType::bounced, BounceClass::soft},
    {"complaint", EventType::complained},
    {"spam", EventType::complained},
    {"unsubscribe", EventType::unsubscribed},
    {"unsubscribed", EventType::unsubscribed},
};

Event normalize(Fields& f, const json_t* item) {
    Event event;
    event.vendor_event = f.string(item, "kind").value_or("");
    classify(event, find_by_name(kEvents, to_lower_ascii(event.vendor_event)));
    if (event.type == EventType::bounced) {
        // An explicit hard/soft field wins over the kind's default.
        const BounceClass given =
            explicit_bounce_class(item, {"bounce_type", "bounce_class", "bounce"});
        if (given != BounceClass::none) event.bounce_class = given;
    }
    event.recipient = f.string(item, "recipient").value_or("");
    event.message_id = f.text(item, "message_id");
    event.event_id = f.text(item, "id");
    event.timestamp = f.time(item, "timestamp");
    event.click_url = f.text(item, "url");
    event.user_agent = f.text(item, "user_agent");
    event.ip = f.text(item, "ip");
    event.mta_response = f.text(item, "smtp_response");
    event.description = f.text(item, "reason");
    if (event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    const json_t* campaign = json_object_get(item, "campaign");
    event.campaign_id = json_is_object(campaign) ? f.text(campaign, "id")
                                                 : f.text(item, "campaign_id");
    event.tags = f.list(json_object_get(item, "tags"), "tags");
    event.metadata_json = f.object_text(json_object_get(item, "metadata"), "metadata");
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
        return normalize_objects(delivery.json(), BodyShape::object_or_array, normalize,
                                 batch);
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("Inboxroad `kind` (any case)", kEvents)};
    }
};

}  // namespace

const Vendor& inboxroad_vendor() {
    static const Inboxroad vendor;
    return vendor;
}

}  // namespace mailhook
