// SPDX-License-Identifier: BSD-2-Clause
// Resend, signed the Standard Webhooks (Svix) way: HMAC-SHA256 over
// "id.timestamp.body" with the base64 key after "whsec_"; the signature
// header lists "v1,<base64>" entries, any of which may match.
//
// Catalogue: Resend's webhook event types
// (https://resend.com/docs/dashboard/webhooks/event-types; the same list in
// repo resend/resend-webhooks-ingester, src/types/webhook.ts): email.*
// events of a message, contact.* and domain.* events of the account, and
// email.received for inbound mail.
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::int64_t kDefaultToleranceSeconds = 300;
constexpr std::string_view kSecretPrefix = "whsec_";

struct SignatureHeaders {
    std::string_view id;
    std::string_view timestamp;
    std::string_view signatures;
};

// Standard Webhooks names first, then Svix's own.
std::optional<SignatureHeaders> signature_headers(const Delivery& delivery) {
    for (const std::string_view prefix : {"webhook-", "svix-"}) {
        const std::string base(prefix);
        const auto id = delivery.header(base + "id");
        const auto timestamp = delivery.header(base + "timestamp");
        const auto signatures = delivery.header(base + "signature");
        if (id && timestamp && signatures) {
            return SignatureHeaders{*id, *timestamp, *signatures};
        }
    }
    return std::nullopt;
}

bool any_v1_signature_matches(const std::vector<std::string>& keys,
                              const SignatureHeaders& headers,
                              std::string_view body) {
    bool matched = false;
    for (const std::string& key : keys) {
        const std::string expected = base64_encode(hmac(
            DigestAlgorithm::sha256, key,
            {headers.id, ".", headers.timestamp, ".", body}));
        std::string_view list = headers.signatures;
        while (!list.empty()) {
            const std::size_t space = list.find(' ');
            const std::string_view entry = list.substr(0, space);
            list = space == std::string_view::npos ? std::string_view{}
                                                   : list.substr(space + 1);
            if (entry.substr(0, 3) == "v1,") {
                matched |= constant_time_equal(entry.substr(3), expected);
            }
        }
    }
    return matched;
}

constexpr EventRow kEvents[] = {
    {"email.scheduled", EventType::queued},
    {"email.sent", EventType::sent},
    {"email.delivered", EventType::delivered},
    {"email.delivery_delayed", EventType::deferred, BounceClass::soft},
    // `bounce.type` says which: see kBounceTypes.
    {"email.bounced", EventType::bounced, BounceClass::undetermined},
    {"email.complained", EventType::complained},
    {"email.opened", EventType::opened},
    {"email.clicked", EventType::clicked},
    {"email.failed", EventType::failed},
    // Resend did not send: the address is on its suppression list.
    {"email.suppressed", EventType::rejected, BounceClass::none, RejectReason::blocked},
    // Inbound mail, and changes to the account's contacts and domains: not a
    // recipient's delivery, kept apart (contact.updated that unsubscribes
    // the contact is an unsubscribe, see contact_event).
    {"email.received", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"contact.created", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"contact.updated", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"contact.deleted", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"domain.created", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"domain.updated", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"domain.deleted", EventType::unknown, BounceClass::none, RejectReason::none, true},
};

// `bounce.type` (Amazon SES's bounce types, which Resend passes on).
constexpr EventRow kBounceTypes[] = {
    {"Permanent", EventType::bounced, BounceClass::hard},
    {"Transient", EventType::bounced, BounceClass::soft},
    {"Undetermined", EventType::bounced, BounceClass::undetermined},
};

// Resend tags arrive as {"name": "value"} or [{"name": .., "value": ..}].
std::string tags_metadata(Fields& f, const json_t* tags) {
    if (json_is_object(tags)) return json_dump_compact(tags);
    if (tags != nullptr && !json_is_null(tags) && !json_is_array(tags)) {
        f.note("tags", tags, "an object or an array");
    }
    JsonPtr out(json_object());
    std::size_t index;
    const json_t* tag;
    json_array_foreach(tags, index, tag) {
        const auto name = f.string(tag, "name");
        const json_t* value = json_object_get(tag, "value");
        if (name && value) {
            // _new: the object takes over the copy (json_object_setn would
            // add a reference of its own and leak the copy).
            json_object_setn_new(out.get(), name->data(), name->size(),
                                 json_deep_copy(value));
        }
    }
    return json_dump_compact(out.get());
}

// `to` entries may carry a display name ("Acme <a@b.c>"): the bare address
// is the recipient. Contact events name theirs in `email`.
std::vector<std::string> recipients(Fields& f, const json_t* data) {
    const json_t* to = json_object_get(data, "to");
    if (to == nullptr) to = json_object_get(data, "email");
    std::vector<std::string> out;
    for (const std::string& entry : f.list(to, "to")) {
        out.push_back(bare_address(entry).value_or(entry));
    }
    return out;
}

Event base_event(Fields& f, const json_t* body, const json_t* data,
                 std::string_view webhook_id) {
    Event event;
    event.vendor_event = f.text(body, "type").value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    event.message_id = f.text(data, "email_id");
    event.event_id = std::string(webhook_id);
    event.timestamp = f.time(body, "created_at");
    event.campaign_id = f.text(data, "broadcast_id");
    event.metadata_json = tags_metadata(f, json_object_get(data, "tags"));
    const json_t* bounce = json_object_get(data, "bounce");
    if (event.type == EventType::bounced) {
        const auto type = f.string(bounce, "type");
        if (const EventRow* row = type ? find_by_name(kBounceTypes, *type) : nullptr) {
            event.bounce_class = row->bounce;
        }
        const auto diagnostic = f.list(json_object_get(bounce, "diagnosticCode"),
                                       "diagnosticCode");
        if (!diagnostic.empty()) {
            event.mta_response = diagnostic.front();
            event.smtp_status = find_enhanced_status(diagnostic.front());
        }
    }
    event.description = f.text(bounce, "message");
    if (const json_t* click = json_object_get(data, "click")) {
        event.click_url = f.text(click, "link");
        event.ip = f.text(click, "ipAddress");
        event.user_agent = f.text(click, "userAgent");
    }
    if (const json_t* open = json_object_get(data, "open")) {
        event.ip = f.text(open, "ipAddress");
        event.user_agent = f.text(open, "userAgent");
    }
    // A contact that unsubscribed (from the audience or everything).
    if (event.vendor_event == "contact.updated" &&
        json_is_true(json_object_get(data, "unsubscribed"))) {
        event.type = EventType::unsubscribed;
        event.control = false;
    }
    set_raw(event, body);
    return event;
}

class Resend final : public Vendor {
  public:
    std::string_view name() const override { return "resend"; }

    std::optional<std::int64_t> default_tolerance(const Connection&) const override {
        return kDefaultToleranceSeconds;
    }

    Verdict prepare(Connection& connection) const override {
        connection.signing_keys.clear();
        for (const std::string& secret : connection.secrets) {
            std::string_view encoded = trim_ascii(secret);
            if (encoded.substr(0, kSecretPrefix.size()) == kSecretPrefix) {
                encoded.remove_prefix(kSecretPrefix.size());
            }
            auto key = base64_decode(encoded);
            if (!key || key->empty()) {
                return Verdict::reject(Rejection::misconfigured,
                                       "secret is not a whsec_ base64 key");
            }
            connection.signing_keys.push_back(std::move(*key));
        }
        return require_secret(connection);
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        const auto headers = signature_headers(delivery);
        if (!headers) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "missing webhook-id/timestamp/signature headers");
        }
        if (!any_v1_signature_matches(connection.signing_keys, *headers,
                                      delivery.body())) {
            return Verdict::reject(Rejection::unauthenticated, "signature mismatch");
        }
        const auto signed_at = parse_epoch_seconds(headers->timestamp);
        if (!signed_at || headers->timestamp.find('.') != std::string_view::npos) {
            return Verdict::reject(Rejection::stale_timestamp,
                                   "timestamp is not integer epoch seconds");
        }
        return check_timestamp(
            *signed_at, delivery,
            timestamp_tolerance(delivery, connection, kDefaultToleranceSeconds));
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* body = delivery.json();
        const json_t* data = json_object_get(body, "data");
        if (!json_is_object(body) || !json_is_string(json_object_get(body, "type")) ||
            !json_is_object(data)) {
            return Verdict::reject(Rejection::malformed,
                                   "body is not a {type, data} object");
        }
        const std::string webhook_id(signature_headers(delivery)->id);
        const std::vector<std::string> to = recipients(batch.fields, data);
        const Event event = base_event(batch.fields, body, data, webhook_id);
        if (to.empty()) {
            batch.events.push_back(event);
            batch.events.back().dedup_key = "svix:" + webhook_id;
            return Verdict::accept();
        }
        // One event per recipient, each with its own id.
        for (const std::string& recipient : to) {
            batch.events.push_back(event);
            batch.events.back().recipient = recipient;
            batch.events.back().dedup_key =
                to.size() == 1 ? "svix:" + webhook_id
                               : "svix:" + webhook_id + ":" + to_lower_ascii(recipient);
        }
        return Verdict::accept();
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("Resend `type`", kEvents),
                event_table("email.bounced `bounce.type`", kBounceTypes)};
    }
};

}  // namespace

const Vendor& resend_vendor() {
    static const Resend vendor;
    return vendor;
}

}  // namespace mailhook
