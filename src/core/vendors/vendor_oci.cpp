// SPDX-License-Identifier: BSD-2-Clause
// OCI Email Delivery, through an OCI Notifications (ONS) HTTPS (Custom URL)
// subscription. ONS authenticates only with HTTP Basic credentials in the
// subscription URL (secret "user:password"), sent after a 401 challenge; the
// X-OCI-NS-Signature headers exist but their scheme is unpublished, so they
// are not checked. Bodies carry Email Delivery log entries (outboundaccepted
// / outboundrelayed: recipient, action, errorType, smtpStatus, messageId),
// one or an array of them, bare or wrapped as a Logging entry
// ({"logContent": {"data": {...}, "id", "time", ...}}).
//
// Connection option `confirm_host`: comma-separated hosts ("*.suffix"
// allowed) a ConfirmationURL may point at; by default an OCI Notifications
// host ([...].notification.<region>[.oci].oraclecloud.com).
#include "../encoding.hpp"
#include "../https_url.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() &&
           text.substr(text.size() - suffix.size()) == suffix;
}

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

// [<labels>.]notification.<region>.oraclecloud.com or .oci.oraclecloud.com
// (e.g. cell1.notification.us-phoenix-1.oci.oraclecloud.com).
bool is_notification_host(std::string_view host) {
    for (const std::string_view suffix : {".oci.oraclecloud.com", ".oraclecloud.com"}) {
        if (!ends_with(host, suffix)) continue;
        const std::string_view rest = host.substr(0, host.size() - suffix.size());
        const std::size_t dot = rest.rfind('.');
        if (dot == std::string_view::npos || dot + 1 == rest.size()) continue;
        const std::string_view before_region = rest.substr(0, dot);
        if (before_region == "notification" ||
            ends_with(before_region, ".notification")) {
            return true;
        }
    }
    return false;
}

bool confirm_host_allowed(std::string_view host, const Connection& connection) {
    if (const auto patterns = connection.option("confirm_host")) {
        return host_matches_any(host, *patterns);
    }
    return is_notification_host(host);
}

std::optional<std::string> header_text(const Delivery& delivery,
                                       std::string_view name) {
    const auto value = delivery.header(name);
    if (!value || trim_ascii(*value).empty()) return std::nullopt;
    return std::string(trim_ascii(*value));
}

// When ONS published the message ("2019-04-19T21:26:00.310+0000").
std::optional<EpochMillis> published_at(const Delivery& delivery) {
    const auto value = header_text(delivery, "X-OCI-NS-Timestamp");
    return value ? parse_vendor_time(*value) : std::nullopt;
}

// Reject reason from an acceptance errorType ("Invalid recipient",
// "Recipient suppressed", "Daily limit reached", ...).
RejectReason reject_reason(const std::string& error_type) {
    const std::string lower = to_lower_ascii(error_type);
    if (contains(lower, "invalid")) return RejectReason::invalid;
    return RejectReason::other;
}

// Hard or soft only where a field says so: the errorType's words, else the
// class of the SMTP reply (5xx permanent, 4xx transient).
BounceClass bounce_class(const std::optional<std::string>& error_type,
                         const std::optional<std::string>& smtp_status) {
    const std::string lower = to_lower_ascii(error_type.value_or(""));
    if (contains(lower, "hard") || contains(lower, "permanent")) {
        return BounceClass::hard;
    }
    if (contains(lower, "soft") || contains(lower, "transient")) {
        return BounceClass::soft;
    }
    const std::string reply = smtp_status.value_or("");
    const std::string_view status = trim_ascii(reply);
    if (!status.empty() && status[0] == '5') return BounceClass::hard;
    if (!status.empty() && status[0] == '4') return BounceClass::soft;
    return BounceClass::undetermined;
}

// A failed relay: complaint, suppression, delay, else a bounce.
void classify_failure(Event& event, const std::optional<std::string>& error_type,
                      const std::optional<std::string>& smtp_status) {
    const std::string lower = to_lower_ascii(error_type.value_or(""));
    if (contains(lower, "complaint")) {
        event.type = EventType::complained;
    } else if (contains(lower, "suppress")) {
        event.type = EventType::rejected;
        event.reject_reason = RejectReason::other;
    } else if (contains(lower, "defer") || contains(lower, "delay")) {
        event.type = EventType::deferred;
        event.bounce_class = BounceClass::soft;
    } else {
        event.type = EventType::bounced;
        event.bounce_class = bounce_class(error_type, smtp_status);
    }
}

// The log record's `action` (outboundaccepted: accept; outboundrelayed:
// relay, bounce, complaint, suppress); an errorType refines it below.
constexpr EventRow kActions[] = {
    {"accept", EventType::queued},
    {"relay", EventType::delivered},
    {"bounce", EventType::bounced, BounceClass::undetermined},
    {"complaint", EventType::complained},
    {"suppress", EventType::rejected, BounceClass::none, RejectReason::other},
    {"suppressed", EventType::rejected, BounceClass::none, RejectReason::other},
};

void classify(Event& event, std::string_view action,
              const std::optional<std::string>& error_type,
              const std::optional<std::string>& smtp_status) {
    const std::string lower = to_lower_ascii(action);
    // Anything unlisted stays `unknown`, with the entry kept in `raw`.
    classify(event, find_by_name(kActions, lower));
    if (lower == "accept" && error_type) {
        event.type = EventType::rejected;
        event.reject_reason = reject_reason(*error_type);
    } else if (lower == "relay" && error_type) {
        classify_failure(event, error_type, smtp_status);
    } else if (lower == "bounce") {
        event.bounce_class = bounce_class(error_type, smtp_status);
    }
}

Event normalize(Fields& f, const json_t* entry, std::size_t index, std::size_t count,
                const std::optional<std::string>& ons_message_id,
                std::optional<EpochMillis> published) {
    // A Logging entry wraps the record as logContent.data; a CloudEvent-like
    // object as data; otherwise the object is the record.
    const json_t* envelope = entry;
    if (const json_t* content = json_object_get(entry, "logContent");
        json_is_object(content)) {
        envelope = content;
    }
    const json_t* data = json_object_get(envelope, "data");
    const json_t* record = json_is_object(data) ? data : envelope;

    Event event;
    const auto action = f.text(record, "action");
    const auto error_type = f.text(record, "errorType");
    const auto smtp_status = f.text(record, "smtpStatus");
    // OCI's record shapes are not published: a record naming no action is
    // still kept (as "unknown") rather than refused.
    event.vendor_event = action.value_or(
        f.text(envelope, "type").value_or("unknown"));
    event.recipient = f.text(record, "recipient").value_or("");
    event.message_id = f.text(record, "messageId");
    if (record != envelope) event.event_id = f.text(envelope, "id");
    event.timestamp = f.time(envelope, "time");
    if (!event.timestamp) event.timestamp = f.time(record, "timestamp");
    if (!event.timestamp) event.timestamp = f.time(record, "time");
    if (!event.timestamp) event.timestamp = published;
    event.description = error_type;
    event.mta_response = smtp_status;
    if (smtp_status) event.smtp_status = find_enhanced_status(*smtp_status);
    classify(event, action.value_or(""), error_type, smtp_status);
    set_raw(event, entry);

    // The log entry's id survives any redelivery; ONS keeps its MessageId
    // across retries of one message.
    if (event.event_id) {
        event.dedup_key = "oci:log:" + *event.event_id;
    } else if (ons_message_id) {
        event.dedup_key = "ons:" + *ons_message_id;
        if (count > 1) event.dedup_key += ":" + std::to_string(index);
        event.dedup_key += ":" + to_lower_ascii(event.recipient);
    } else {
        event.dedup_key.clear();  // the raw event's hash
    }
    return event;
}

class Oci final : public Vendor {
  public:
    std::string_view name() const override { return "oci"; }

    std::string_view www_authenticate(const Connection&) const override {
        return kBasicChallenge;
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        return check_authorization_header(delivery, connection);
    }

    Verdict parse(const Delivery& delivery, const Connection& connection,
                  Batch& batch) const override {
        const auto message_id = header_text(delivery, "X-OCI-NS-MessageId");
        const auto type = header_text(delivery, "X-OCI-NS-MessageType");
        if (type && *type == "SubscriptionConfirmation") {
            confirmation(delivery, connection, message_id, batch);
            return Verdict::accept();
        }
        const json_t* body = delivery.json();
        const auto published = published_at(delivery);
        if (json_is_object(body)) {
            batch.events.push_back(
                normalize(batch.fields, body, 0, 1, message_id, published));
            return Verdict::accept();
        }
        if (!json_is_array(body)) {
            return Verdict::reject(Rejection::malformed,
                                   "body is not a JSON object or array");
        }
        const std::size_t count = json_array_size(body);
        normalize_elements(body,
                           [&](Fields& f, const json_t* entry, std::size_t index,
                               std::vector<Event>& out) {
                               out.push_back(normalize(f, entry, index, count,
                                                       message_id, published));
                           },
                           batch);
        return Verdict::accept();
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("Email Delivery log `action`", kActions)};
    }

  private:
    static void confirmation(const Delivery& delivery, const Connection& connection,
                             const std::optional<std::string>& message_id,
                             Batch& batch) {
        Fields& f = batch.fields;
        const json_t* body = delivery.json();
        std::optional<std::string> url = f.text(body, "ConfirmationURL");
        if (!url) url = header_text(delivery, "X-OCI-NS-ConfirmationURL");

        JsonPtr metadata(json_object());
        json_object_set_new(metadata.get(), "control",
                            json_string("subscription_confirmation"));
        const auto set = [&](const char* key, const std::optional<std::string>& value) {
            if (value) {
                json_object_set_new(metadata.get(), key,
                                    json_stringn(value->data(), value->size()));
            }
        };
        set("subscribe_url", url);
        set("topic_ocid", header_text(delivery, "X-OCI-NS-TopicOcid"));
        set("topic_name", header_text(delivery, "X-OCI-NS-TopicName"));
        set("subscription_id", header_text(delivery, "X-OCI-NS-SubscriptionId"));

        Event event;
        event.control = true;
        event.vendor_event = "SubscriptionConfirmation";
        event.event_id = message_id;
        event.timestamp = published_at(delivery);
        event.metadata_json = json_dump_compact(metadata.get());
        event.raw_json = f.object_text(body);
        event.dedup_key = message_id ? "ons:" + *message_id
                                     : content_dedup_key(delivery.body());
        batch.events.push_back(std::move(event));

        if (!url) {
            batch.notice = "OCI subscription confirmation without ConfirmationURL";
            return;
        }
        const auto parsed = parse_https_url(*url);
        if (!parsed || !confirm_host_allowed(parsed->host, connection)) {
            batch.notice = "OCI subscription recorded, not confirmed: "
                           "ConfirmationURL is not https on an OCI Notifications "
                           "host (see the confirm_host option)";
            return;
        }
        batch.confirm_url = std::move(url);
    }
};

}  // namespace

const Vendor& oci_vendor() {
    static const Oci vendor;
    return vendor;
}

}  // namespace mailhook
