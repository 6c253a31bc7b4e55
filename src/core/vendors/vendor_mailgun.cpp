// SPDX-License-Identifier: BSD-2-Clause
// Mailgun webhooks: HMAC-SHA256(signing key, timestamp + token), hex, inside
// the JSON body; one event per request. The body itself is not signed, so a
// token may carry only the event it was first seen with.
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::int64_t kDefaultToleranceSeconds = 300;

constexpr EventRow kEvents[] = {
    {"accepted", EventType::queued},
    {"rejected", EventType::rejected},
    {"delivered", EventType::delivered},
    {"failed", EventType::bounced},
    {"opened", EventType::opened},
    {"clicked", EventType::clicked},
    {"unsubscribed", EventType::unsubscribed},
    {"complained", EventType::complained},
};

// `reason` values meaning Mailgun refused to send at all.
constexpr EventRow kSuppressReasons[] = {
    {"suppress-bounce", EventType::rejected, BounceClass::none, RejectReason::bounced},
    {"suppress-unsubscribe", EventType::rejected, BounceClass::none,
     RejectReason::unsubscribed},
    {"suppress-complaint", EventType::rejected, BounceClass::none, RejectReason::spam},
};

void classify_failure(Fields& f, const json_t* data, Event& event) {
    const auto severity = f.string(data, "severity");
    const auto reason = f.string(data, "reason");
    if (severity && *severity == "temporary") {
        event.type = EventType::deferred;
        event.bounce_class = BounceClass::soft;
        return;
    }
    if (const EventRow* row = reason ? find_by_name(kSuppressReasons, *reason) : nullptr) {
        classify(event, row);
        return;
    }
    if (reason && *reason == "espblock") {
        event.bounce_class = BounceClass::block;
    } else if (severity && *severity == "permanent") {
        event.bounce_class = BounceClass::hard;
    } else {
        event.bounce_class = BounceClass::undetermined;
    }
}

void set_delivery_status(Fields& f, const json_t* data, Event& event) {
    const json_t* status = json_object_get(data, "delivery-status");
    event.smtp_status = f.text(status, "enhanced-code");
    event.mta_response = f.text(status, "message");
    event.description = f.text(status, "description");
    if (!event.smtp_status && event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
}

std::optional<std::string> first_campaign(Fields& f, const json_t* data) {
    const json_t* first = json_array_get(json_object_get(data, "campaigns"), 0);
    if (json_is_object(first)) return f.text(first, "id");
    if (json_is_string(first)) return std::string(json_string_value(first));
    return std::nullopt;
}

Event normalize(Fields& f, const json_t* data) {
    Event event;
    event.vendor_event = f.string(data, "event").value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    set_delivery_status(f, data, event);
    if (event.vendor_event == "failed") {
        classify_failure(f, data, event);
    } else if (event.type == EventType::rejected) {
        event.reject_reason = RejectReason::other;
        event.description = f.text(json_object_get(data, "reject"), "reason");
    }
    event.recipient = f.string(data, "recipient").value_or("");
    event.message_id =
        f.text(f.path(data, {"message", "headers"}), "message-id");
    event.event_id = f.text(data, "id");
    event.timestamp = f.time(data, "timestamp");
    event.click_url = f.text(data, "url");
    event.ip = f.text(data, "ip");
    event.user_agent = f.text(json_object_get(data, "client-info"), "user-agent");
    event.campaign_id = first_campaign(f, data);
    event.tags = f.list(json_object_get(data, "tags"));
    event.metadata_json = f.object_text(json_object_get(data, "user-variables"), "user-variables");
    set_raw(event, data);
    // Mailgun ids are unique within a day only: pair with the event time.
    const auto timestamp = json_text_at(data, "timestamp");
    event.dedup_key = event.event_id
                          ? "mg:" + *event.event_id + "@" + timestamp.value_or("")
                          : std::string();
    return event;
}

class Mailgun final : public Vendor {
  public:
    std::string_view name() const override { return "mailgun"; }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch& batch) const override {
        const json_t* body = delivery.json();
        if (!json_is_object(body)) {
            return Verdict::reject(Rejection::malformed, "body is not a JSON object");
        }
        const json_t* signature = json_object_get(body, "signature");
        const auto timestamp = json_string_at(signature, "timestamp");
        const auto token = json_string_at(signature, "token");
        const auto presented = json_string_at(signature, "signature");
        if (!timestamp || !token || !presented || token->empty()) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "missing signature fields");
        }
        if (!hmac_matches_any(connection.signing_keys, DigestAlgorithm::sha256,
                              {*timestamp, *token}, *presented)) {
            return Verdict::reject(Rejection::unauthenticated, "signature mismatch");
        }
        const auto signed_at = parse_epoch_seconds(*timestamp);
        if (!signed_at) {
            return Verdict::reject(Rejection::stale_timestamp,
                                   "timestamp is not epoch seconds");
        }
        Verdict fresh = check_timestamp(
            *signed_at, delivery,
            timestamp_tolerance(delivery, connection, kDefaultToleranceSeconds));
        if (!fresh.ok()) return fresh;
        batch.replay_guard =
            ReplayGuard{std::string(*token), std::string(*timestamp) + std::string(*token), {}};
        return Verdict::accept();
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* data = json_object_get(delivery.json(), "event-data");
        if (!json_is_object(data)) {
            return Verdict::reject(Rejection::malformed, "no event-data object");
        }
        batch.events.push_back(normalize(batch.fields, data));
        return Verdict::accept();
    }
};

}  // namespace

const Vendor& mailgun_vendor() {
    static const Mailgun vendor;
    return vendor;
}

}  // namespace mailhook
