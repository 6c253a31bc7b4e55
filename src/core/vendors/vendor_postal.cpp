// SPDX-License-Identifier: BSD-2-Clause
// Postal (self-hosted): RSA PKCS#1 v1.5 signatures over the raw body with the
// installation's signing key. X-Postal-Signature-256 (SHA-256) is the one to
// check; X-Postal-Signature (SHA-1, "for legacy use") counts only when the
// SHA-256 header is absent, as from Postal versions that send no other.
// One event per POST: {"event","timestamp","payload","uuid"}.
//
// Catalogue: https://docs.postalserver.io/developer/webhooks (repo
// postalserver/docs) and the server's WebhookEvent::EVENTS (repo
// postalserver/postal, app/models/webhook_event.rb): the message events,
// DomainDNSError and the send limit events.
#include <algorithm>

#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kSha256Header = "X-Postal-Signature-256";
constexpr std::string_view kSha1Header = "X-Postal-Signature";

constexpr EventRow kEvents[] = {
    {"MessageSent", EventType::delivered},
    {"MessageDelayed", EventType::deferred, BounceClass::soft},
    // Postal gave up (status HardFail: a permanent SMTP failure, or retries
    // exhausted); without a status it is a failure Postal did not classify.
    {"MessageDeliveryFailed", EventType::failed},
    // Postal holds the message (spam, send limit, suppression list, ...)
    // until someone releases it: not sent yet.
    {"MessageHeld", EventType::queued},
    // A bounce message came back for a message Postal had sent: the
    // receiving side refused it for good.
    {"MessageBounced", EventType::bounced, BounceClass::hard},
    {"MessageLinkClicked", EventType::clicked},
    {"MessageLoaded", EventType::opened},
    // About the server or its domains, not a message.
    {"DomainDNSError", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"SendLimitApproaching", EventType::unknown, BounceClass::none, RejectReason::none,
     true},
    {"SendLimitExceeded", EventType::unknown, BounceClass::none, RejectReason::none, true},
};

// A delivery event's `status`, where it decides more than the event name.
constexpr EventRow kStatuses[] = {
    {"HardFail", EventType::bounced, BounceClass::hard},
    {"SoftFail", EventType::deferred, BounceClass::soft},
};

// The value of the `p=` tag of a DKIM-style DNS record
// ("v=DKIM1; t=s; h=sha256; p=MIIB..."); other text is returned whole.
std::string_view dns_key_tag(std::string_view record) {
    std::size_t start = 0;
    while (start < record.size()) {
        std::size_t end = record.find(';', start);
        if (end == std::string_view::npos) end = record.size();
        const std::string_view tag = trim_ascii(record.substr(start, end - start));
        if (tag.size() > 2 && tag[0] == 'p' && tag[1] == '=') return tag.substr(2);
        start = end + 1;
    }
    return record;
}

// Every form in which a Postal admin can copy the signing key: the JWK Set
// at /.well-known/jwks.json (or one JWK of it), a PEM public key, base64 DER,
// or the DNS record `postal default-dkim-record` prints.
std::vector<PublicKey> parse_keys(std::string_view secret) {
    secret = trim_ascii(secret);
    if (!secret.empty() && secret.front() == '{') {
        const JsonPtr jwk = parse_json(secret);
        return rsa_keys_from_jwk(jwk.get());
    }
    std::vector<PublicKey> keys;
    // A TXT record copied from DNS tools comes as quoted strings: unquote.
    std::string key_text;
    for (const char c : dns_key_tag(secret)) {
        if (c != '"') key_text.push_back(c);
    }
    if (auto key = public_key_from_text(key_text)) keys.push_back(std::move(*key));
    return keys;
}

bool any_key_verifies(const std::vector<PublicKey>& keys, DigestAlgorithm algorithm,
                      std::string_view body, std::string_view signature) {
    bool valid = false;
    for (const PublicKey& key : keys) {
        valid = valid || key.verify(algorithm, {body}, signature);
    }
    return valid;
}

// The message an event is about: `message`, or `original_message` for bounces.
const json_t* subject_message(const json_t* payload) {
    const json_t* message = json_object_get(payload, "message");
    if (json_is_object(message)) return message;
    return json_object_get(payload, "original_message");
}

Event normalize(Fields& f, const json_t* envelope) {
    const json_t* payload = json_object_get(envelope, "payload");
    const json_t* message = subject_message(payload);
    Event event;
    event.vendor_event = f.text(envelope, "event").value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    if (event.vendor_event == "MessageDeliveryFailed") {
        const auto status = f.string(payload, "status");
        if (const EventRow* row = status ? find_by_name(kStatuses, *status) : nullptr) {
            classify(event, row);
        }
    }
    // Mail Postal received, not sent: its events are about no recipient of
    // ours.
    const auto direction = f.string(message, "direction");
    if (direction && *direction == "incoming") event.control = true;
    event.recipient = f.text(message, "to").value_or("");
    event.message_id = f.text(message, "message_id");
    event.event_id = f.text(envelope, "uuid");
    // Delivery events carry the attempt time; for the others the envelope
    // time (when Postal queued the webhook, right at the event) is the best.
    event.timestamp = f.time(payload, "timestamp");
    if (!event.timestamp) event.timestamp = f.time(envelope, "timestamp");
    event.mta_response = f.text(payload, "output");
    if (event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    event.description = f.text(payload, "details");
    event.click_url = f.text(payload, "url");
    event.ip = f.text(payload, "ip_address");
    event.user_agent = f.text(payload, "user_agent");
    event.tags = f.list(json_object_get(message, "tag"));
    set_raw(event, envelope);
    event.dedup_key = event.event_id ? "postal:" + *event.event_id
                                     : std::string();
    return event;
}

class Postal final : public Vendor {
  public:
    std::string_view name() const override { return "postal"; }

    Verdict prepare(Connection& connection) const override {
        connection.public_keys.clear();
        for (const std::string& secret : connection.secrets) {
            std::vector<PublicKey> keys = parse_keys(secret);
            const bool all_rsa = std::all_of(keys.begin(), keys.end(),
                                             [](const PublicKey& key) {
                                                 return key.is_rsa();
                                             });
            if (keys.empty() || !all_rsa) {
                return Verdict::reject(Rejection::misconfigured,
                                       "secret is not a Postal RSA public key "
                                       "(JWK Set, PEM, base64 DER or DNS p= value)");
            }
            for (PublicKey& key : keys) {
                connection.public_keys.push_back(std::move(key));
            }
        }
        return require_secret(connection);
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        DigestAlgorithm algorithm = DigestAlgorithm::sha256;
        auto header = delivery.header(kSha256Header);
        if (!header) {
            algorithm = DigestAlgorithm::sha1;
            header = delivery.header(kSha1Header);
        }
        if (!header) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "missing X-Postal-Signature-256 header");
        }
        const auto signature = base64_decode(trim_ascii(*header));
        if (!signature || signature->empty()) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "signature is not base64");
        }
        if (!any_key_verifies(connection.public_keys, algorithm, delivery.body(),
                              *signature)) {
            return Verdict::reject(Rejection::unauthenticated,
                                   algorithm == DigestAlgorithm::sha256
                                       ? "signature mismatch"
                                       : "legacy SHA-1 signature mismatch");
        }
        return Verdict::accept();
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* envelope = delivery.json();
        if (!json_is_object(envelope) ||
            !json_is_string(json_object_get(envelope, "event")) ||
            !json_is_object(json_object_get(envelope, "payload"))) {
            return Verdict::reject(Rejection::malformed,
                                   "not a Postal webhook (event, payload)");
        }
        batch.events.push_back(normalize(batch.fields, envelope));
        return Verdict::accept();
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("Postal `event`", kEvents),
                event_table("MessageDeliveryFailed `status`", kStatuses)};
    }
};

}  // namespace

const Vendor& postal_vendor() {
    static const Postal vendor;
    return vendor;
}

}  // namespace mailhook
