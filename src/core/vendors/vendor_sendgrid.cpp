// SPDX-License-Identifier: BSD-2-Clause
// SendGrid Event Webhook: ECDSA P-256/SHA-256 over timestamp header + raw
// body; JSON array batches; `sg_event_id` identifies each event.
//
// Catalogue: the Event Webhook Reference,
// https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
// (delivery events processed, dropped, delivered, deferred, bounce/blocked;
// engagement events open, click, spamreport, unsubscribe,
// group_unsubscribe, group_resubscribe; account event
// account_status_change), its drop reasons, and the bounce classifications
// of the Bounces API (Invalid Address, Technical Failure, ...).
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kSignatureHeader =
    "X-Twilio-Email-Event-Webhook-Signature";
constexpr std::string_view kTimestampHeader =
    "X-Twilio-Email-Event-Webhook-Timestamp";

// Seconds a signed timestamp may be old by default (see verify).
constexpr std::int64_t kDefaultToleranceSeconds = 25 * 3600;

constexpr EventRow kEvents[] = {
    {"processed", EventType::queued},
    {"delivered", EventType::delivered},
    {"deferred", EventType::deferred, BounceClass::soft},
    // `type` says which bounce: see kBounceTypes.
    {"bounce", EventType::bounced, BounceClass::undetermined},
    {"dropped", EventType::rejected},
    {"open", EventType::opened},
    {"click", EventType::clicked},
    {"spamreport", EventType::complained},
    {"unsubscribe", EventType::unsubscribed},
    {"group_unsubscribe", EventType::unsubscribed},
    {"group_resubscribe", EventType::subscribed},
    // SendGrid's compliance team changed the account's state: no recipient.
    {"account_status_change", EventType::unknown, BounceClass::none,
     RejectReason::none, true},
};

// A bounce's `type`: "bounce" is a hard bounce, "blocked" a block (the
// receiving server refused the message for now). Without one, the status
// class decides (5.x.x hard, 4.x.x soft).
constexpr EventRow kBounceTypes[] = {
    {"bounce", EventType::bounced, BounceClass::hard},
    {"blocked", EventType::bounced, BounceClass::block, RejectReason::blocked},
    // SendGrid gave up retrying a deferred message.
    {"expired", EventType::bounced, BounceClass::undetermined, RejectReason::timed_out},
};

// A bounce's `bounce_classification`: what the reason says beyond hard or
// block.
constexpr EventRow kBounceClassifications[] = {
    {"Invalid Address", EventType::bounced, BounceClass::none, RejectReason::invalid},
    {"Mailbox Unavailable", EventType::bounced, BounceClass::none, RejectReason::bounced},
    {"Content", EventType::bounced, BounceClass::none, RejectReason::spam},
    {"Reputation", EventType::bounced, BounceClass::none, RejectReason::blocked},
    {"Frequency or Volume Too High", EventType::bounced, BounceClass::none,
     RejectReason::blocked},
    {"Technical Failure", EventType::bounced, BounceClass::none, RejectReason::other},
    {"Unclassified", EventType::bounced, BounceClass::none, RejectReason::bounced},
};

// A dropped event's `reason`; others are `other`.
constexpr EventRow kDropReasons[] = {
    {"Bounced Address", EventType::rejected, BounceClass::none, RejectReason::bounced},
    {"Unsubscribed Address", EventType::rejected, BounceClass::none,
     RejectReason::unsubscribed},
    {"Spam Reporting Address", EventType::rejected, BounceClass::none,
     RejectReason::spam},
    {"Spam Content", EventType::rejected, BounceClass::none, RejectReason::spam},
    {"Invalid", EventType::rejected, BounceClass::none, RejectReason::invalid},
    {"Invalid SMTPAPI header", EventType::rejected, BounceClass::none,
     RejectReason::other},
    {"Recipient List over Package Quota", EventType::rejected, BounceClass::none,
     RejectReason::other},
};

// Keys SendGrid defines; everything else at the top level is a custom arg.
constexpr std::string_view kReservedKeys[] = {
    "email", "timestamp", "event", "smtp-id", "sg_event_id", "sg_message_id",
    "category", "reason", "status", "response", "attempt", "type", "useragent",
    "ip", "url", "url_offset", "asm_group_id", "tls", "cert_err", "pool",
    "marketing_campaign_id", "marketing_campaign_name",
    "marketing_campaign_version", "marketing_campaign_split_id", "send_at",
    "sg_content_type", "sg_machine_open", "sg_template_id", "sg_template_name",
    "singlesend_id", "singlesend_name", "template_id", "template_name",
    "bounce_classification", "ab_variation_id", "ab_phase_id", "mc_stats",
    "phase_id", "variation_id", "sg_user_id", "newsletter"};

RejectReason drop_reason(const std::optional<std::string>& text) {
    const EventRow* row = text ? find_by_name(kDropReasons, *text) : nullptr;
    return row != nullptr ? row->reason : RejectReason::other;
}

BounceClass status_class(const std::optional<std::string>& status) {
    if (status && !status->empty() && (*status)[0] == '5') return BounceClass::hard;
    if (status && !status->empty() && (*status)[0] == '4') return BounceClass::soft;
    return BounceClass::undetermined;
}

void classify_bounce(Fields& f, const json_t* item, Event& event) {
    const auto type = f.string(item, "type");
    if (const EventRow* row = type ? find_by_name(kBounceTypes, *type) : nullptr) {
        classify(event, row);
    } else {
        event.bounce_class = status_class(event.smtp_status);
    }
    const auto classification = f.string(item, "bounce_classification");
    const EventRow* refined =
        classification ? find_by_name(kBounceClassifications, *classification) : nullptr;
    if (refined != nullptr && event.reject_reason == RejectReason::none) {
        event.reject_reason = refined->reason;
    }
}

Event normalize(Fields& f, const json_t* item) {
    Event event;
    event.vendor_event = f.string(item, "event").value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    event.recipient = f.string(item, "email").value_or("");
    event.message_id = f.text(item, "sg_message_id");
    event.event_id = f.text(item, "sg_event_id");
    event.timestamp = f.time(item, "timestamp");
    event.smtp_status = f.text(item, "status");
    event.user_agent = f.text(item, "useragent");
    event.ip = f.text(item, "ip");
    event.click_url = f.text(item, "url");
    event.campaign_id = f.text(item, "marketing_campaign_id");
    if (!event.campaign_id) event.campaign_id = f.text(item, "singlesend_id");
    event.tags = f.list(json_object_get(item, "category"), "category");
    event.metadata_json = unreserved_members_json(item, kReservedKeys);

    const auto reason = f.text(item, "reason");
    switch (event.type) {
        case EventType::bounced:
            classify_bounce(f, item, event);
            event.mta_response = reason;
            break;
        case EventType::deferred:
            event.mta_response = f.text(item, "response");
            break;
        case EventType::delivered:
            event.mta_response = f.text(item, "response");
            break;
        case EventType::rejected:
            event.reject_reason = drop_reason(reason);
            event.description = reason;
            break;
        default:
            event.description = reason;
            break;
    }
    if (!event.smtp_status && event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    set_raw(event, item);
    event.dedup_key = event.event_id ? "sg:" + *event.event_id
                                     : std::string();
    return event;
}

class SendGrid final : public Vendor {
  public:
    std::string_view name() const override { return "sendgrid"; }

    std::optional<std::int64_t> default_tolerance(const Connection&) const override {
        return kDefaultToleranceSeconds;
    }

    Verdict prepare(Connection& connection) const override {
        if (uses_http_auth(connection)) {
            return Vendor::prepare(connection);
        }
        connection.public_keys.clear();
        for (const std::string& secret : connection.secrets) {
            auto key = parse_key(secret);
            if (!key || !key->is_p256()) {
                return Verdict::reject(Rejection::misconfigured,
                                       "secret is not a SendGrid verification key "
                                       "(a P-256 public key, base64 DER or PEM)");
            }
            connection.public_keys.push_back(std::move(*key));
        }
        return require_secret(connection);
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        if (uses_http_auth(connection)) {
            return check_authorization_header(delivery, connection);
        }
        const auto signature_header = delivery.header(kSignatureHeader);
        const auto timestamp = delivery.header(kTimestampHeader);
        if (!signature_header || !timestamp) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "missing signature or timestamp header");
        }
        const auto signature = base64_decode(trim_ascii(*signature_header));
        if (!signature || signature->empty()) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "signature is not base64");
        }
        bool valid = false;
        for (const PublicKey& key : connection.public_keys) {
            valid = valid || key.verify(DigestAlgorithm::sha256,
                                        {*timestamp, delivery.body()}, *signature);
        }
        if (!valid) {
            return Verdict::reject(Rejection::unauthenticated, "signature mismatch");
        }
        // SendGrid retries for 24 h: a day and an hour lets every retry in,
        // and stays below mailhook_dedup_ttl (26 h), so a captured request
        // replayed later is a duplicate or stale, never new (review L7).
        const std::int64_t tolerance =
            timestamp_tolerance(delivery, connection, kDefaultToleranceSeconds);
        if (tolerance > 0) {
            const auto signed_at = parse_epoch_seconds(*timestamp);
            if (!signed_at) {
                return Verdict::reject(Rejection::stale_timestamp,
                                       "timestamp is not epoch seconds");
            }
            return check_timestamp(*signed_at, delivery, tolerance);
        }
        return Verdict::accept();
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        return normalize_objects(delivery.json(), BodyShape::array, normalize, batch);
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("SendGrid `event`", kEvents),
                event_table("bounce `type`", kBounceTypes),
                event_table("bounce `bounce_classification`", kBounceClassifications),
                event_table("dropped `reason`", kDropReasons)};
    }

  private:
    // Legacy basic auth or OAuth bearer instead of the signed webhook.
    static bool uses_http_auth(const Connection& connection) {
        const auto auth = connection.option("auth");
        return auth && (*auth == "basic" || *auth == "bearer");
    }

    static std::optional<PublicKey> parse_key(std::string_view secret) {
        secret = trim_ascii(secret);
        if (secret.find("-----BEGIN") != std::string_view::npos) {
            return PublicKey::from_pem(secret);
        }
        const auto der = base64_decode(secret);
        if (!der) return std::nullopt;
        return PublicKey::from_der(*der);
    }
};

}  // namespace

const Vendor& sendgrid_vendor() {
    static const SendGrid vendor;
    return vendor;
}

}  // namespace mailhook
