// SPDX-License-Identifier: BSD-2-Clause
// Mailgun webhooks: HMAC-SHA256(signing key, timestamp + token), hex. The
// JSON webhooks carry it inside the body ({"signature": {...},
// "event-data": {...}}, one event per request); legacy webhooks (accounts
// that never moved to the 2018 webhooks) post form fields, the signature
// fields among them. The event itself is not signed, so a token may carry
// only the event it was first seen with (Batch::replay_guard).
//
// Catalogue: the webhook events of the User Manual ("Webhooks": accepted,
// delivered, permanent_fail and temporary_fail as `failed`, opened, clicked,
// unsubscribed, complained) with the Events reference samples
// (https://documentation.mailgun.com/docs/mailgun/user-manual/events/),
// `rejected`, and the legacy webhooks' parameters (User Manual before
// 2018-06-29: delivered, dropped, bounced, complained, unsubscribed,
// opened, clicked; repo mailgun/documentation at 412bfa3^).
#include <algorithm>
#include <cctype>

#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::int64_t kDefaultToleranceSeconds = 300;
// Work before the signature is checked (legacy webhooks): a few dozen
// fields are normal, custom variables included.
constexpr std::size_t kMaxFormFields = 500;

constexpr EventRow kEvents[] = {
    {"accepted", EventType::queued},
    {"rejected", EventType::rejected, BounceClass::none, RejectReason::other},
    {"delivered", EventType::delivered},
    // `severity` and `reason` say which failure: see classify_failure.
    {"failed", EventType::bounced, BounceClass::undetermined},
    {"opened", EventType::opened},
    {"clicked", EventType::clicked},
    {"unsubscribed", EventType::unsubscribed},
    {"complained", EventType::complained},
};

// A failed event's `reason` when Mailgun refused to send at all (the
// address is on a suppression list), or a block.
constexpr EventRow kFailureReasons[] = {
    {"suppress-bounce", EventType::rejected, BounceClass::none, RejectReason::bounced},
    {"suppress-unsubscribe", EventType::rejected, BounceClass::none,
     RejectReason::unsubscribed},
    {"suppress-complaint", EventType::rejected, BounceClass::none, RejectReason::spam},
    {"espblock", EventType::bounced, BounceClass::block, RejectReason::blocked},
};

constexpr EventRow kLegacyEvents[] = {
    {"delivered", EventType::delivered},
    // "hardfail" (a suppressed address) or "old" (retried for 8 hours).
    {"dropped", EventType::rejected, BounceClass::none, RejectReason::other},
    // The legacy bounce webhook fires for hard bounces only.
    {"bounced", EventType::bounced, BounceClass::hard},
    {"complained", EventType::complained},
    {"unsubscribed", EventType::unsubscribed},
    {"opened", EventType::opened},
    {"clicked", EventType::clicked},
};

// A legacy dropped event's `reason`.
constexpr EventRow kLegacyDropReasons[] = {
    {"old", EventType::rejected, BounceClass::none, RejectReason::timed_out},
    {"hardfail", EventType::rejected, BounceClass::none, RejectReason::other},
};

// Parameters the legacy webhooks document; the rest are custom variables.
constexpr std::string_view kLegacyFields[] = {
    "event", "recipient", "domain", "message-headers", "Message-Id", "message-id",
    "timestamp", "token", "signature", "code", "error", "notification", "reason",
    "description", "ip", "country", "region", "city", "user-agent", "device-type",
    "client-type", "client-name", "client-os", "campaign-id", "campaign-name", "tag",
    "mailing-list", "url", "X-Mailgun-Sid", "body-plain"};

constexpr std::string_view kSignatureFields[] = {"timestamp", "token", "signature"};

void classify_failure(Fields& f, const json_t* data, Event& event) {
    const auto severity = f.string(data, "severity");
    const auto reason = f.string(data, "reason");
    if (severity && *severity == "temporary") {
        event.type = EventType::deferred;
        event.bounce_class = BounceClass::soft;
        return;
    }
    if (const EventRow* row = reason ? find_by_name(kFailureReasons, *reason) : nullptr) {
        classify(event, row);
        return;
    }
    if (severity && *severity == "permanent") event.bounce_class = BounceClass::hard;
}

void set_delivery_status(Fields& f, const json_t* data, Event& event) {
    const json_t* status = json_object_get(data, "delivery-status");
    event.smtp_status = f.first_text(status, {"enhanced-code", "bounce-code"});
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
    } else if (event.vendor_event == "rejected") {
        event.description = f.text(json_object_get(data, "reject"), "reason");
    }
    const json_t* headers = f.path(data, {"message", "headers"});
    event.recipient = f.string(data, "recipient").value_or("");
    // A rejected message names no recipient; its To header does.
    if (event.recipient.empty()) {
        event.recipient = bare_address(f.text(headers, "to").value_or("")).value_or("");
    }
    event.message_id = f.text(headers, "message-id");
    event.event_id = f.text(data, "id");
    event.timestamp = f.time(data, "timestamp");
    event.click_url = f.text(data, "url");
    event.ip = f.text(data, "ip");
    event.user_agent = f.text(json_object_get(data, "client-info"), "user-agent");
    event.campaign_id = first_campaign(f, data);
    event.tags = f.list(json_object_get(data, "tags"));
    event.metadata_json =
        f.object_text(json_object_get(data, "user-variables"), "user-variables");
    set_raw(event, data);
    // Mailgun ids are unique within a day only: pair with the event time.
    const auto timestamp = json_text_at(data, "timestamp");
    event.dedup_key = event.event_id
                          ? "mg:" + *event.event_id + "@" + timestamp.value_or("")
                          : std::string();
    return event;
}

// ---- legacy (form) webhooks --------------------------------------------------

bool is_form(const Delivery& delivery) {
    return delivery.content_type_is("application/x-www-form-urlencoded") ||
           delivery.content_type_is("multipart/form-data");
}

std::optional<std::string_view> form_value(const FormFields& fields,
                                           std::string_view name) {
    for (const auto& [key, value] : fields) {
        if (key == name) return std::string_view(value);
    }
    return std::nullopt;
}

std::optional<std::string> non_empty(std::optional<std::string_view> value) {
    if (!value || value->empty()) return std::nullopt;
    return std::string(*value);
}

template <std::size_t N>
bool is_listed(std::string_view name, const std::string_view (&names)[N]) {
    for (const std::string_view listed : names) {
        if (listed == name) return true;
    }
    return false;
}

// The fields as the stored `raw` (one value per name: the first, since
// custom variables may repeat a documented name), without the signature.
JsonPtr legacy_raw(const FormFields& fields) {
    JsonPtr raw(json_object());
    for (const auto& [key, value] : fields) {
        if (is_listed(key, kSignatureFields) || json_object_get(raw.get(), key.c_str())) {
            continue;
        }
        json_object_set_new(raw.get(), key.c_str(),
                            json_stringn(value.data(), value.size()));
    }
    return raw;
}

// The Message-Id field, else the header of that name in message-headers
// (a JSON list of [name, value] pairs).
std::optional<std::string> legacy_message_id(const FormFields& fields) {
    if (auto id = non_empty(form_value(fields, "Message-Id"))) return id;
    if (auto id = non_empty(form_value(fields, "message-id"))) return id;
    const JsonPtr headers = parse_json(form_value(fields, "message-headers").value_or(""));
    std::size_t index;
    const json_t* header;
    json_array_foreach(headers.get(), index, header) {
        const json_t* key = json_array_get(header, 0);
        const json_t* value = json_array_get(header, 1);
        if (json_is_string(key) && json_is_string(value) &&
            iequals_ascii(json_string_value(key), "Message-Id")) {
            return std::string(json_string_value(value));
        }
    }
    return std::nullopt;
}

std::string legacy_metadata(const FormFields& fields) {
    JsonPtr metadata(json_object());
    for (const auto& [key, value] : fields) {
        if (is_listed(key, kLegacyFields) || key.rfind("attachment-", 0) == 0 ||
            json_object_get(metadata.get(), key.c_str())) {
            continue;
        }
        json_object_set_new(metadata.get(), key.c_str(),
                            json_stringn(value.data(), value.size()));
    }
    return json_dump_compact(metadata.get());
}

// A legacy event: Mailgun sends no event id, so the fields (without the
// signature, which changes on a retry) identify it.
Event normalize_legacy(const FormFields& fields) {
    Event event;
    event.vendor_event = std::string(form_value(fields, "event").value_or(""));
    classify(event, find_by_name(kLegacyEvents, event.vendor_event));
    if (event.vendor_event == "dropped") {
        const auto reason = form_value(fields, "reason");
        if (const EventRow* row = reason ? find_by_name(kLegacyDropReasons, *reason)
                                         : nullptr) {
            event.reject_reason = row->reason;
        }
    }
    event.recipient = std::string(form_value(fields, "recipient").value_or(""));
    event.message_id = legacy_message_id(fields);
    if (const auto seconds = parse_epoch_seconds(form_value(fields, "timestamp").value_or(""))) {
        event.timestamp = *seconds;
    }
    // bounced: `error` is the SMTP reply, `notification` the detailed
    // reason; dropped: `description` explains it.
    event.mta_response = non_empty(form_value(fields, "error"));
    event.description = non_empty(form_value(fields, "description"));
    if (!event.description) event.description = non_empty(form_value(fields, "notification"));
    if (const auto code = non_empty(form_value(fields, "code"))) {
        event.smtp_status = find_enhanced_status(*code);
    }
    if (!event.smtp_status && event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    event.click_url = non_empty(form_value(fields, "url"));
    event.ip = non_empty(form_value(fields, "ip"));
    event.user_agent = non_empty(form_value(fields, "user-agent"));
    event.campaign_id = non_empty(form_value(fields, "campaign-id"));
    for (const auto& [key, value] : fields) {
        if (key == "tag" && !value.empty()) event.tags.push_back(value);
    }
    event.metadata_json = legacy_metadata(fields);
    const JsonPtr raw = legacy_raw(fields);
    event.raw_json = json_dump_compact(raw.get());
    return event;
}

// ---- signature -----------------------------------------------------------------

// The signed string is timestamp + token with nothing between them (L6):
// only a timestamp of exactly 10 digits (epoch seconds until 2286) leaves
// one way to split it, so no digit can move from one to the other. Tokens
// are Mailgun's random alphanumerics (50 of them today).
bool is_ten_digits(std::string_view timestamp) {
    return timestamp.size() == 10 &&
           std::all_of(timestamp.begin(), timestamp.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool is_token(std::string_view token) {
    return !token.empty() && token.size() <= 256 &&
           std::all_of(token.begin(), token.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

struct SignatureFields {
    std::optional<std::string_view> timestamp;
    std::optional<std::string_view> token;
    std::optional<std::string_view> signature;
};

Verdict check_signature(const SignatureFields& fields, const Delivery& delivery,
                        const Connection& connection, Batch& batch) {
    if (!fields.timestamp || !fields.token || !fields.signature) {
        return Verdict::reject(Rejection::unauthenticated, "missing signature fields");
    }
    if (!is_ten_digits(*fields.timestamp)) {
        return Verdict::reject(Rejection::stale_timestamp,
                               "timestamp is not 10 digits of epoch seconds");
    }
    if (!is_token(*fields.token)) {
        return Verdict::reject(Rejection::unauthenticated, "token is not alphanumeric");
    }
    if (!hmac_matches_any(connection.signing_keys, DigestAlgorithm::sha256,
                          {*fields.timestamp, *fields.token}, *fields.signature)) {
        return Verdict::reject(Rejection::unauthenticated, "signature mismatch");
    }
    const auto signed_at = parse_epoch_seconds(*fields.timestamp);
    if (!signed_at) {
        return Verdict::reject(Rejection::stale_timestamp, "timestamp is not epoch seconds");
    }
    Verdict fresh = check_timestamp(
        *signed_at, delivery,
        timestamp_tolerance(delivery, connection, kDefaultToleranceSeconds));
    if (!fresh.ok()) return fresh;
    batch.replay_guard =
        ReplayGuard{std::string(*fields.token),
                    std::string(*fields.timestamp) + std::string(*fields.token), {}};
    return Verdict::accept();
}

class Mailgun final : public Vendor {
  public:
    std::string_view name() const override { return "mailgun"; }

    std::optional<std::int64_t> default_tolerance(const Connection&) const override {
        return kDefaultToleranceSeconds;
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch& batch) const override {
        // The signature sits in the body: it is read before anything is
        // authenticated, within a budget (review M2).
        if (is_form(delivery)) {
            if (Verdict budget = form_pre_auth_budget(delivery, kMaxFormFields); !budget.ok()) {
                return budget;
            }
            const FormFields* fields = delivery.form();
            if (fields == nullptr) {
                return Verdict::reject(Rejection::malformed, "body is not a form");
            }
            return check_signature({form_value(*fields, "timestamp"),
                                    form_value(*fields, "token"),
                                    form_value(*fields, "signature")},
                                   delivery, connection, batch);
        }
        if (Verdict budget = json_pre_auth_budget(delivery); !budget.ok()) return budget;
        const json_t* body = delivery.json();
        if (!json_is_object(body)) {
            return Verdict::reject(Rejection::malformed, "body is not a JSON object");
        }
        const json_t* signature = json_object_get(body, "signature");
        return check_signature({json_string_at(signature, "timestamp"),
                                json_string_at(signature, "token"),
                                json_string_at(signature, "signature")},
                               delivery, connection, batch);
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        if (is_form(delivery)) {
            batch.events.push_back(normalize_legacy(*delivery.form()));
            return Verdict::accept();
        }
        const json_t* data = json_object_get(delivery.json(), "event-data");
        if (!json_is_object(data)) {
            return Verdict::reject(Rejection::malformed, "no event-data object");
        }
        batch.events.push_back(normalize(batch.fields, data));
        return Verdict::accept();
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("Mailgun `event`", kEvents),
                event_table("failed `reason`", kFailureReasons),
                event_table("legacy webhook `event`", kLegacyEvents),
                event_table("legacy dropped `reason`", kLegacyDropReasons)};
    }
};

}  // namespace

const Vendor& mailgun_vendor() {
    static const Mailgun vendor;
    return vendor;
}

}  // namespace mailhook
