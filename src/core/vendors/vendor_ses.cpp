// SPDX-License-Identifier: BSD-2-Clause
// Amazon SES event notifications delivered by an Amazon SNS HTTP/S
// subscription. SNS signs a canonical string (not the body) with RSA-SHA1
// (SignatureVersion 1) or RSA-SHA256 (2); the key is the certificate at
// SigningCertURL, looked up through Delivery::certificates() (pinned or
// fetched by the caller). The SES event is a JSON string inside `Message`;
// one notification naming several recipients becomes one event each.
//
// Connection options: `topic_arn` (comma-separated allow-list; without it any
// AWS-signed message is accepted), `allow_raw_delivery` (accept SNS raw
// message delivery, which is NOT signed), `auto_confirm` (off: never confirm
// subscriptions). An optional `secret` (user:password) additionally requires
// HTTP Basic credentials, which SNS sends after a 401 challenge.
#include "../encoding.hpp"
#include "../sns.hpp"
#include "../vendor_support.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kChallenge = "Basic realm=\"mailhook\"";

bool option_is(const Connection& connection, std::string_view name,
               std::initializer_list<std::string_view> values) {
    const auto value = connection.option(name);
    if (!value) return false;
    const std::string lower = to_lower_ascii(trim_ascii(*value));
    for (const std::string_view candidate : values) {
        if (lower == candidate) return true;
    }
    return false;
}

bool option_true(const Connection& connection, std::string_view name) {
    return option_is(connection, name, {"1", "true", "yes", "on"});
}

bool option_false(const Connection& connection, std::string_view name) {
    return option_is(connection, name, {"0", "false", "no", "off"});
}

bool has_topic_list(const Connection& connection) {
    return connection.option("topic_arn").has_value();
}

bool topic_allowed(const Connection& connection, std::string_view topic) {
    const auto list = connection.option("topic_arn");
    if (!list) return true;
    std::string_view rest = *list;
    while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        if (trim_ascii(rest.substr(0, comma)) == topic) return true;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return false;
}

bool is_raw_delivery(const Delivery& delivery) {
    const auto header = delivery.header("x-amz-sns-rawdelivery");
    return header && iequals_ascii(trim_ascii(*header), "true");
}

// The SNS JSON envelope, or nullptr when the body is not one.
const json_t* envelope_of(const Delivery& delivery) {
    const json_t* body = delivery.json();
    if (!json_is_object(body) || !json_is_string(json_object_get(body, "Type")) ||
        (json_object_get(body, "Signature") == nullptr &&
         json_object_get(body, "SignatureVersion") == nullptr)) {
        return nullptr;
    }
    return body;
}

std::string string_member(const json_t* object, const char* key) {
    return std::string(json_string_at(object, key).value_or(""));
}

// What the SNS layer tells about the notification an SES event came in.
struct SnsContext {
    std::optional<std::string> message_id;
    std::optional<EpochMillis> timestamp;
};

struct SesMapping {
    std::string_view kind;  // eventType / notificationType
    EventType type;
    const char* object;     // member holding the event details
};

constexpr SesMapping kSesEvents[] = {
    {"Send", EventType::sent, "send"},
    {"Delivery", EventType::delivered, "delivery"},
    {"Bounce", EventType::bounced, "bounce"},
    {"Complaint", EventType::complained, "complaint"},
    {"Reject", EventType::rejected, "reject"},
    {"Rendering Failure", EventType::failed, "failure"},
    {"DeliveryDelay", EventType::deferred, "deliveryDelay"},
    {"Open", EventType::opened, "open"},
    {"Click", EventType::clicked, "click"},
    {"Subscription", EventType::unsubscribed, "subscription"},
};

const SesMapping* ses_mapping(std::string_view kind) {
    for (const SesMapping& mapping : kSesEvents) {
        if (mapping.kind == kind) return &mapping;
    }
    return nullptr;
}

BounceClass bounce_class(const json_t* bounce) {
    const auto type = json_string_at(bounce, "bounceType");
    if (type && *type == "Permanent") return BounceClass::hard;
    if (type && *type == "Transient") return BounceClass::soft;
    return BounceClass::undetermined;
}

// newTopicPreferences: unsubscribeAll, or any topic opted out, is an
// unsubscribe; preferences without an opt-out are a (re)subscribe.
EventType subscription_type(const json_t* subscription) {
    const json_t* preferences =
        json_object_get(subscription, "newTopicPreferences");
    if (!json_is_object(preferences)) return EventType::unknown;
    if (json_is_true(json_object_get(preferences, "unsubscribeAll"))) {
        return EventType::unsubscribed;
    }
    std::size_t index;
    const json_t* topic;
    json_array_foreach(json_object_get(preferences, "topicSubscriptionStatus"),
                       index, topic) {
        const auto status = json_string_at(topic, "subscriptionStatus");
        if (status && *status == "OptOut") return EventType::unsubscribed;
    }
    return EventType::subscribed;
}

// mail.tags (event publishing): {"name": ["value", ...]}; SES's own
// "ses:*" / "aws:*" tags are left out, the rest become "name:value".
std::vector<std::string> user_tags(const json_t* tags) {
    std::vector<std::string> out;
    const char* name;
    json_t* values;
    json_object_foreach(const_cast<json_t*>(tags), name, values) {
        const std::string_view key(name);
        if (key.substr(0, 4) == "ses:" || key.substr(0, 4) == "aws:") continue;
        for (const std::string& value : string_list(values)) {
            out.push_back(std::string(key) + ":" + value);
        }
    }
    return out;
}

struct Recipient {
    std::string address;
    std::optional<std::string> smtp_status;
    std::optional<std::string> mta_response;
};

// Who the event is about: the detail object's own recipient list for
// bounces, complaints, deliveries and delays, else mail.destination.
std::vector<Recipient> recipients(std::string_view kind, const json_t* detail,
                                  const json_t* mail) {
    std::vector<Recipient> out;
    const auto from_objects = [&](const char* list) {
        std::size_t index;
        const json_t* item;
        json_array_foreach(json_object_get(detail, list), index, item) {
            const auto address = json_string_at(item, "emailAddress");
            if (!address) continue;
            out.push_back({std::string(*address), text_field(item, "status"),
                           text_field(item, "diagnosticCode")});
        }
    };
    const auto from_strings = [&](const json_t* list) {
        if (!json_is_array(list)) return;
        for (std::string& address : string_list(list)) {
            out.push_back({std::move(address), {}, {}});
        }
    };
    if (kind == "Bounce") {
        from_objects("bouncedRecipients");
    } else if (kind == "Complaint") {
        from_objects("complainedRecipients");
    } else if (kind == "DeliveryDelay") {
        from_objects("delayedRecipients");
    } else if (kind == "Delivery") {
        from_strings(json_object_get(detail, "recipients"));
    } else {
        from_strings(json_object_get(mail, "destination"));
    }
    return out;
}

std::optional<std::string> joined(std::optional<std::string> a,
                                  std::optional<std::string> b) {
    if (a && b) return *a + ": " + *b;
    return a ? a : b;
}

// The SES event (already decoded from `Message`) to one event per recipient.
void ses_events(const json_t* message, const SnsContext& sns,
                std::vector<Event>& out) {
    std::string kind = json_text_at(message, "eventType").value_or("");
    if (kind.empty()) kind = json_text_at(message, "notificationType").value_or("");
    const SesMapping* mapping = ses_mapping(kind);
    const json_t* mail = json_object_get(message, "mail");
    const json_t* detail =
        mapping != nullptr ? json_object_get(message, mapping->object) : nullptr;

    Event base;
    base.vendor_event = kind;
    base.type = mapping != nullptr ? mapping->type : EventType::unknown;
    base.message_id = text_field(mail, "messageId");
    base.event_id = text_field(detail, "feedbackId");
    if (!base.event_id) base.event_id = sns.message_id;
    base.timestamp = time_field(detail, "timestamp");
    if (!base.timestamp) base.timestamp = sns.timestamp;
    if (!base.timestamp) base.timestamp = time_field(mail, "timestamp");
    base.tags = user_tags(json_object_get(mail, "tags"));

    if (kind == "Bounce") {
        base.bounce_class = bounce_class(detail);
        base.description = joined(text_field(detail, "bounceType"),
                                  text_field(detail, "bounceSubType"));
    } else if (kind == "Complaint") {
        base.description = text_field(detail, "complaintFeedbackType");
        base.user_agent = text_field(detail, "userAgent");
    } else if (kind == "Delivery") {
        base.mta_response = text_field(detail, "smtpResponse");
    } else if (kind == "DeliveryDelay") {
        base.bounce_class = BounceClass::soft;
        base.description = text_field(detail, "delayType");
    } else if (kind == "Reject") {
        base.reject_reason = RejectReason::blocked;
        base.description = text_field(detail, "reason");
    } else if (kind == "Rendering Failure") {
        base.description = text_field(detail, "errorMessage");
    } else if (kind == "Open") {
        base.ip = text_field(detail, "ipAddress");
        base.user_agent = text_field(detail, "userAgent");
    } else if (kind == "Click") {
        base.click_url = text_field(detail, "link");
        base.ip = text_field(detail, "ipAddress");
        base.user_agent = text_field(detail, "userAgent");
    } else if (kind == "Subscription") {
        base.type = subscription_type(detail);
    }
    set_raw(base, message);

    // SNS keeps MessageId across retries: with the recipient it names each
    // event for good.
    const std::string key_prefix =
        sns.message_id ? "sns:" + *sns.message_id : std::string();
    const std::vector<Recipient> list = recipients(kind, detail, mail);
    if (list.empty()) {
        out.push_back(base);
        out.back().dedup_key = key_prefix;
        return;
    }
    for (const Recipient& recipient : list) {
        Event event = base;
        event.recipient = recipient.address;
        if (recipient.mta_response) event.mta_response = recipient.mta_response;
        event.smtp_status = recipient.smtp_status;
        if (!event.smtp_status && event.mta_response) {
            event.smtp_status = find_enhanced_status(*event.mta_response);
        }
        event.dedup_key = key_prefix + ":" + to_lower_ascii(recipient.address);
        out.push_back(std::move(event));
    }
}

bool is_ses_event(const json_t* message) {
    return json_is_object(message) &&
           (json_is_string(json_object_get(message, "eventType")) ||
            json_is_string(json_object_get(message, "notificationType")));
}

// A verified notification whose Message is not an SES event (an SNS test
// publish, SES's "Successfully validated SNS topic" note): kept as it came.
Event foreign_notification(std::string_view vendor_event, const json_t* raw,
                           const SnsContext& sns) {
    Event event;
    event.vendor_event = std::string(vendor_event);
    event.event_id = sns.message_id;
    event.timestamp = sns.timestamp;
    set_raw(event, raw);
    event.dedup_key = sns.message_id ? "sns:" + *sns.message_id
                                     : std::string();
    return event;
}

std::string control_metadata(std::string_view control, const json_t* envelope) {
    JsonPtr metadata(json_object());
    json_object_set_new(metadata.get(), "control",
                        json_stringn(control.data(), control.size()));
    for (const auto& [key, name] :
         {std::pair{"subscribe_url", "SubscribeURL"}, {"topic_arn", "TopicArn"}}) {
        const json_t* value = json_object_get(envelope, name);
        if (json_is_string(value)) {
            json_object_set(metadata.get(), key, const_cast<json_t*>(value));
        }
    }
    return json_dump_compact(metadata.get());
}

class Ses final : public Vendor {
  public:
    std::string_view name() const override { return "ses"; }

    // No secret needed (SNS signs with certificates); one given is a Basic
    // (or Bearer) credential checked on top of the signature.
    Verdict prepare(Connection& connection) const override {
        connection.signing_keys = connection.secrets;
        return Verdict::accept();
    }

    std::string_view www_authenticate(const Connection& connection) const override {
        return connection.secrets.empty() ? std::string_view() : kChallenge;
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch& batch) const override {
        if (!connection.secrets.empty()) {
            Verdict auth = check_authorization_header(delivery, connection);
            if (!auth.ok()) return auth;
        }
        if (const json_t* envelope = envelope_of(delivery)) {
            return verify_envelope(envelope, delivery, connection, batch);
        }
        if (is_raw_delivery(delivery)) {
            return verify_raw(delivery, connection);
        }
        return Verdict::reject(Rejection::malformed,
                               "body is not an SNS message (JSON with Type and "
                               "Signature)");
    }

    Verdict parse(const Delivery& delivery, const Connection& connection,
                  Batch& batch) const override {
        const json_t* envelope = envelope_of(delivery);
        if (envelope == nullptr) {
            return parse_raw(delivery, batch);
        }
        SnsContext sns;
        sns.message_id = text_field(envelope, "MessageId");
        sns.timestamp = time_field(envelope, "Timestamp");
        const std::string type = string_member(envelope, "Type");
        const auto message_type = sns_message_type(type);
        if (!message_type) {
            return Verdict::reject(Rejection::malformed, "unknown SNS message Type");
        }
        switch (*message_type) {
            case SnsMessageType::notification: {
                const auto text = json_string_at(envelope, "Message");
                JsonPtr message = parse_json(text.value_or(""));
                if (is_ses_event(message.get())) {
                    ses_events(message.get(), sns, batch.events);
                } else {
                    batch.events.push_back(foreign_notification(type, envelope, sns));
                }
                return Verdict::accept();
            }
            case SnsMessageType::subscription_confirmation:
                batch.events.push_back(control_event(
                    "subscription_confirmation", type, envelope, sns));
                confirm(envelope, connection, batch);
                return Verdict::accept();
            case SnsMessageType::unsubscribe_confirmation:
                // Its SubscribeURL would subscribe again: never fetched.
                batch.events.push_back(control_event(
                    "unsubscribe_confirmation", type, envelope, sns));
                return Verdict::accept();
        }
        return Verdict::reject(Rejection::malformed, "unknown SNS message Type");
    }

  private:
    static Verdict verify_envelope(const json_t* envelope, const Delivery& delivery,
                                   const Connection& connection, Batch& batch) {
        const auto string_to_sign = sns_string_to_sign(envelope);
        if (!string_to_sign) {
            return Verdict::reject(Rejection::malformed,
                                   "SNS message of unknown Type or without a "
                                   "signed field");
        }
        const auto version = json_string_at(envelope, "SignatureVersion");
        const auto algorithm =
            version ? sns_signature_algorithm(*version) : std::nullopt;
        if (!algorithm) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "unsupported SignatureVersion");
        }
        const auto encoded = json_string_at(envelope, "Signature");
        const auto signature = encoded ? base64_decode(*encoded) : std::nullopt;
        if (!signature || signature->empty()) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "Signature is not base64");
        }
        const auto certificate_url = json_string_at(envelope, "SigningCertURL");
        if (!certificate_url || !is_sns_certificate_url(*certificate_url)) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "SigningCertURL is not an https .pem URL on "
                                   "an SNS host");
        }
        // A foreign topic fails whatever its signature: refused before any
        // certificate is fetched for it.
        const std::string topic = string_member(envelope, "TopicArn");
        if (!topic_allowed(connection, topic)) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "TopicArn " + topic +
                                       " is not in the connection's topic_arn");
        }
        const CertificateLookup* certificates = delivery.certificates();
        const PublicKey* key =
            certificates != nullptr ? certificates->find(*certificate_url) : nullptr;
        if (key == nullptr) {
            batch.key_url = std::string(*certificate_url);
            return Verdict::reject(Rejection::key_unavailable,
                                   "signing certificate " + batch.key_url +
                                       " is not available");
        }
        if (!key->verify(*algorithm, {*string_to_sign}, *signature)) {
            return Verdict::reject(Rejection::unauthenticated, "signature mismatch");
        }
        // SNS retries keep the original Timestamp (for up to an hour by
        // policy): no age check unless configured.
        const std::int64_t tolerance = timestamp_tolerance(delivery, connection, 0);
        if (tolerance > 0) {
            const auto signed_at = time_field(envelope, "Timestamp");
            if (!signed_at) {
                return Verdict::reject(Rejection::stale_timestamp,
                                       "Timestamp is not ISO 8601");
            }
            if (Verdict age = check_timestamp(*signed_at, delivery, tolerance);
                !age.ok()) {
                return age;
            }
        }
        if (string_member(envelope, "Type") == "SubscriptionConfirmation" &&
            !is_sns_url(string_member(envelope, "SubscribeURL"))) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "SubscribeURL is not an https URL on an SNS "
                                   "host");
        }
        return Verdict::accept();
    }

    static Verdict verify_raw(const Delivery& delivery, const Connection& connection) {
        if (!option_true(connection, "allow_raw_delivery")) {
            return Verdict::reject(Rejection::unsupported,
                                   "SNS raw message delivery carries no "
                                   "signature: turn RawMessageDelivery off on the "
                                   "subscription (or set allow_raw_delivery)");
        }
        if (has_topic_list(connection)) {
            const auto topic = delivery.header("x-amz-sns-topic-arn");
            if (!topic || !topic_allowed(connection, trim_ascii(*topic))) {
                return Verdict::reject(Rejection::unauthenticated,
                                       "raw delivery from a topic not in the "
                                       "connection's topic_arn");
            }
        }
        return Verdict::accept();
    }

    // Raw message delivery (allowed by the connection): the body is the SES
    // event itself; SNS headers give the message id.
    static Verdict parse_raw(const Delivery& delivery, Batch& batch) {
        SnsContext sns;
        if (const auto id = delivery.header("x-amz-sns-message-id")) {
            if (!trim_ascii(*id).empty()) sns.message_id = std::string(trim_ascii(*id));
        }
        const json_t* body = delivery.json();
        if (is_ses_event(body)) {
            ses_events(body, sns, batch.events);
            return Verdict::accept();
        }
        const std::string text = sanitize_utf8(delivery.body());
        JsonPtr raw(json_object());
        json_object_set_new(raw.get(), "Message",
                            json_stringn(text.data(), text.size()));
        batch.events.push_back(foreign_notification("Notification", raw.get(), sns));
        return Verdict::accept();
    }

    static Event control_event(std::string_view control, const std::string& type,
                               const json_t* envelope, const SnsContext& sns) {
        Event event;
        event.vendor_event = type;
        event.event_id = sns.message_id;
        event.timestamp = sns.timestamp;
        event.metadata_json = control_metadata(control, envelope);
        set_raw(event, envelope);
        event.dedup_key = sns.message_id ? "sns:" + *sns.message_id
                                         : std::string();
        return event;
    }

    // Any AWS account can make SNS send us a correctly signed confirmation:
    // confirm only what the connection restricts (topic_arn) or
    // authenticates (secret), and never when auto_confirm is off.
    static void confirm(const json_t* envelope, const Connection& connection,
                        Batch& batch) {
        const std::string topic = string_member(envelope, "TopicArn");
        if (option_false(connection, "auto_confirm")) {
            batch.notice = "SNS subscription to " + topic +
                           " recorded, not confirmed: auto_confirm is off";
            return;
        }
        if (!has_topic_list(connection) && connection.secrets.empty()) {
            batch.notice = "SNS subscription to " + topic +
                           " recorded, not confirmed: set topic_arn (or a "
                           "secret) on the connection to confirm automatically";
            return;
        }
        batch.confirm_url = string_member(envelope, "SubscribeURL");
    }
};

}  // namespace

const Vendor& ses_vendor() {
    static const Ses vendor;
    return vendor;
}

}  // namespace mailhook
