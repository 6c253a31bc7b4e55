// SPDX-License-Identifier: BSD-2-Clause
// Mandrill (Mailchimp Transactional): a form body whose one field,
// mandrill_events, holds a JSON array of up to 1000 events.
// X-Mandrill-Signature = base64(HMAC-SHA1(webhook key, URL + every POST
// field sorted by name, as name + value)), URL being exactly the one
// registered at Mandrill (Delivery::public_url, from mailhook_public_url).
// Mandrill probes a new URL with HEAD, hence accepts_head().
//
// Catalogue: https://mailchimp.com/developer/transactional/docs/webhooks/
// (message events send, deferral, hard_bounce, soft_bounce, open, click,
// spam, unsub, reject; sync events whitelist and blacklist; inbound).
#include <algorithm>

#include "../configured_hmac.hpp"
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kSignatureHeader = "X-Mandrill-Signature";
// Mandrill posts one field, `mandrill_events`.
constexpr std::size_t kMaxFormFields = 16;
constexpr std::string_view kEventsField = "mandrill_events";

// URL, then name + value of each field in name order (decoded values).
std::string signed_data(std::string_view url, const FormFields& fields) {
    std::vector<const FormFields::value_type*> sorted;
    sorted.reserve(fields.size());
    std::size_t size = url.size();
    for (const auto& field : fields) {
        sorted.push_back(&field);
        size += field.first.size() + field.second.size();
    }
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto* a, const auto* b) { return a->first < b->first; });
    std::string data;
    data.reserve(size);
    data.append(url);
    for (const auto* field : sorted) {
        data.append(field->first).append(field->second);
    }
    return data;
}

constexpr EventRow kEvents[] = {
    {"send", EventType::sent},
    {"delivered", EventType::delivered},
    {"deferral", EventType::deferred, BounceClass::soft},
    {"hard_bounce", EventType::bounced, BounceClass::hard},
    {"soft_bounce", EventType::bounced, BounceClass::soft},
    {"open", EventType::opened},
    {"click", EventType::clicked},
    {"spam", EventType::complained},
    {"unsub", EventType::unsubscribed},
    // Mandrill's reject events name no reason we could map.
    {"reject", EventType::rejected, BounceClass::none, RejectReason::other},
    // Changes to the account's allow and deny lists, and inbound mail: not a
    // message's event, kept apart.
    {"whitelist", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"blacklist", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"inbound", EventType::unknown, BounceClass::none, RejectReason::none, true},
};

Event normalize(Fields& f, const json_t* item) {
    Event event;
    // Message events name themselves in `event`, sync events in `type`.
    event.vendor_event = f.first_text(item, {"event", "type"}).value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    const json_t* msg = json_object_get(item, "msg");
    auto recipient = f.text(msg, "email");
    if (!recipient) recipient = f.text(json_object_get(item, "reject"), "email");
    event.recipient = recipient.value_or("");
    event.message_id = f.text(msg, "_id");
    if (!event.message_id) event.message_id = f.text(item, "_id");
    event.timestamp = f.time(item, "ts");
    event.mta_response = f.text(msg, "diag");
    // A deferral's reply is in its latest SMTP event.
    if (!event.mta_response) {
        const json_t* attempts = json_object_get(msg, "smtp_events");
        const std::size_t count = json_array_size(attempts);
        if (count > 0) event.mta_response = f.text(json_array_get(attempts, count - 1), "diag");
    }
    if (event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    event.description = f.text(msg, "bounce_description");
    event.click_url = f.text(item, "url");
    event.user_agent = f.text(item, "user_agent");
    event.ip = f.text(item, "ip");
    event.tags = f.list(json_object_get(msg, "tags"));
    event.metadata_json = f.object_text(json_object_get(msg, "metadata"));
    // Mandrill sends no per-event id: the event's own bytes identify it.
    set_raw(event, item);
    return event;
}

std::optional<std::string_view> events_field(const FormFields& fields) {
    for (const auto& [name, value] : fields) {
        if (name == kEventsField) return std::string_view(value);
    }
    return std::nullopt;
}

class Mandrill final : public Vendor {
  public:
    std::string_view name() const override { return "mandrill"; }

    bool accepts_head() const override { return true; }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        const auto signature = delivery.header(kSignatureHeader);
        if (!signature) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "no X-Mandrill-Signature header");
        }
        // The signature covers the sorted fields: the form is parsed before
        // anything is authenticated, within a budget (review M2).
        if (Verdict budget = form_pre_auth_budget(delivery, kMaxFormFields); !budget.ok()) {
            return budget;
        }
        const FormFields* fields = delivery.form();
        if (fields == nullptr) {
            return Verdict::reject(Rejection::malformed, "body is not a form");
        }
        const std::string data = signed_data(delivery.public_url(), *fields);
        if (!hmac_matches_encoded(connection.signing_keys, DigestAlgorithm::sha1,
                                  {data}, *signature, SignatureEncoding::base64)) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "signature mismatch for URL " +
                                       std::string(delivery.public_url()));
        }
        return Verdict::accept();
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const FormFields* fields = delivery.form();
        const auto events_json = fields ? events_field(*fields) : std::nullopt;
        if (!events_json) {
            return Verdict::reject(Rejection::malformed, "no mandrill_events field");
        }
        const JsonPtr events = parse_json(*events_json);
        if (!json_is_array(events.get())) {
            return Verdict::reject(Rejection::malformed,
                                   "mandrill_events is not a JSON array");
        }
        return normalize_objects(events.get(), BodyShape::array, normalize,
                                 batch);
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("Mandrill `event` / `type`", kEvents)};
    }
};

}  // namespace

const Vendor& mandrill_vendor() {
    static const Mandrill vendor;
    return vendor;
}

}  // namespace mailhook
