// SPDX-License-Identifier: BSD-2-Clause
#include "sns.hpp"

#include "encoding.hpp"
#include "https_url.hpp"
#include "vendor_auth.hpp"

#include <vector>

namespace mailhook {
namespace {

constexpr const char* kNotificationKeys[] = {
    "Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"};
constexpr const char* kConfirmationKeys[] = {
    "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
    "Type"};

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() &&
           text.substr(text.size() - suffix.size()) == suffix;
}

bool is_lower_letters(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text) {
        if (c < 'a' || c > 'z') return false;
    }
    return true;
}

bool is_digits(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// An AWS region name: a two-letter area, an optional partition word
// ("gov", "iso", "isob"), a direction, a number: us-east-1, cn-north-1,
// us-gov-west-1, ap-southeast-2.
bool is_aws_region(std::string_view name) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t dash = name.find('-', start);
        parts.push_back(name.substr(start, dash - start));
        if (dash == std::string_view::npos) break;
        start = dash + 1;
    }
    if (parts.size() != 3 && parts.size() != 4) return false;
    const std::string_view area = parts.front();
    const std::string_view direction = parts[parts.size() - 2];
    const std::string_view number = parts.back();
    if (area.size() != 2 || !is_lower_letters(area)) return false;
    if (parts.size() == 4 && parts[1] != "gov" && parts[1] != "iso" && parts[1] != "isob") {
        return false;
    }
    return direction.size() >= 4 && direction.size() <= 12 &&
           is_lower_letters(direction) && number.size() <= 2 && is_digits(number);
}

bool is_certificate_path_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
           c == '/';
}

}  // namespace

std::optional<SnsMessageType> sns_message_type(std::string_view type) {
    if (type == "Notification") return SnsMessageType::notification;
    if (type == "SubscriptionConfirmation") {
        return SnsMessageType::subscription_confirmation;
    }
    if (type == "UnsubscribeConfirmation") {
        return SnsMessageType::unsubscribe_confirmation;
    }
    return std::nullopt;
}

std::optional<std::string> sns_string_to_sign(const json_t* message) {
    const auto type_name = json_string_at(message, "Type");
    const auto type = type_name ? sns_message_type(*type_name) : std::nullopt;
    if (!type) {
        return std::nullopt;
    }
    const bool notification = *type == SnsMessageType::notification;
    const auto append = [&](std::string& out, const char* key) {
        const json_t* value = json_object_get(message, key);
        if (notification && std::string_view(key) == "Subject" &&
            (value == nullptr || json_is_null(value))) {
            return true;  // optional, and a null Subject counts as absent
        }
        if (!json_is_string(value)) {
            return false;
        }
        out.append(key).push_back('\n');
        out.append(json_string_value(value), json_string_length(value));
        out.push_back('\n');
        return true;
    };
    std::string out;
    if (notification) {
        for (const char* key : kNotificationKeys) {
            if (!append(out, key)) return std::nullopt;
        }
    } else {
        for (const char* key : kConfirmationKeys) {
            if (!append(out, key)) return std::nullopt;
        }
    }
    return out;
}

std::optional<DigestAlgorithm> sns_signature_algorithm(std::string_view version) {
    if (version == "1") return DigestAlgorithm::sha1;
    if (version == "2") return DigestAlgorithm::sha256;
    return std::nullopt;
}

bool is_sns_host(std::string_view host) {
    constexpr std::string_view kPrefix = "sns.";
    constexpr std::string_view kChina = ".amazonaws.com.cn";
    constexpr std::string_view kGlobal = ".amazonaws.com";
    if (host.substr(0, kPrefix.size()) != kPrefix) {
        return false;
    }
    std::string_view region = host.substr(kPrefix.size());
    const bool china = ends_with(region, kChina);
    if (china) {
        region.remove_suffix(kChina.size());
    } else if (ends_with(region, kGlobal)) {
        region.remove_suffix(kGlobal.size());
    } else {
        return false;
    }
    // Only a region name, so S3 virtual hosts (`sns.s3-accelerate`,
    // `sns.s3-us-west-2`: a bucket named "sns") are not SNS (review L2).
    return is_aws_region(region) && (region.substr(0, 3) == "cn-") == china;
}

bool is_sns_certificate_url(std::string_view url) {
    const auto parsed = parse_https_url(url);
    if (!parsed || !is_sns_host(parsed->host) ||
        url.find('?') != std::string_view::npos ||
        !ends_with(parsed->path, ".pem") || parsed->path.size() <= 5) {
        return false;
    }
    for (const char c : parsed->path) {
        if (!is_certificate_path_char(c)) return false;
    }
    return true;
}

bool is_sns_url(std::string_view url) {
    const auto parsed = parse_https_url(url);
    return parsed && is_sns_host(parsed->host);
}

namespace {

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

Verdict verify_envelope(const json_t* envelope, const Delivery& delivery,
                        const Connection& connection, Batch& batch) {
    const auto string_to_sign = sns_string_to_sign(envelope);
    if (!string_to_sign) {
        return Verdict::reject(Rejection::malformed,
                               "SNS message of unknown Type or without a "
                               "signed field");
    }
    const auto version = json_string_at(envelope, "SignatureVersion");
    const auto algorithm = version ? sns_signature_algorithm(*version) : std::nullopt;
    if (!algorithm) {
        return Verdict::reject(Rejection::unauthenticated,
                               "unsupported SignatureVersion");
    }
    const auto encoded = json_string_at(envelope, "Signature");
    const auto signature = encoded ? base64_decode(*encoded) : std::nullopt;
    if (!signature || signature->empty()) {
        return Verdict::reject(Rejection::unauthenticated, "Signature is not base64");
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
        const auto timestamp = json_string_at(envelope, "Timestamp");
        const auto signed_at =
            timestamp ? parse_vendor_time(*timestamp) : std::nullopt;
        if (!signed_at) {
            return Verdict::reject(Rejection::stale_timestamp,
                                   "Timestamp is not ISO 8601");
        }
        if (Verdict age = check_timestamp(*signed_at, delivery, tolerance); !age.ok()) {
            return age;
        }
    }
    if (string_member(envelope, "Type") == "SubscriptionConfirmation" &&
        !is_sns_url(string_member(envelope, "SubscribeURL"))) {
        return Verdict::reject(Rejection::unauthenticated,
                               "SubscribeURL is not an https URL on an SNS host");
    }
    return Verdict::accept();
}

Verdict verify_raw_delivery(const Delivery& delivery, const Connection& connection) {
    if (!connection.flag("allow_raw_delivery").value_or(false)) {
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

// A verified notification whose Message is not the service's event (an SNS
// test publish, SES's "Successfully validated SNS topic" note): kept as it
// came, as a control entry (it is about the subscription, not a recipient).
Event foreign_notification(std::string_view vendor_event, const json_t* raw,
                           const SnsMessage& sns) {
    Event event;
    event.control = true;
    event.vendor_event = std::string(vendor_event);
    event.event_id = sns.message_id;
    event.timestamp = sns.timestamp;
    set_raw(event, raw);
    event.dedup_key = sns.message_id ? "sns:" + *sns.message_id : std::string();
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

Event control_event(std::string_view control, const std::string& type,
                    const json_t* envelope, const SnsMessage& sns) {
    Event event = foreign_notification(type, envelope, sns);
    event.metadata_json = control_metadata(control, envelope);
    return event;
}

// Any AWS account can make SNS send us a correctly signed confirmation:
// confirm only what the connection restricts (topic_arn) or authenticates
// (secret), and never when auto_confirm is off.
void confirm(const json_t* envelope, const Connection& connection, Batch& batch) {
    const std::string topic = string_member(envelope, "TopicArn");
    if (!connection.flag("auto_confirm").value_or(true)) {
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

// Raw message delivery (allowed by the connection): the body is the
// service's event itself; SNS headers give the message id.
Verdict parse_raw_delivery(const Delivery& delivery, Batch& batch,
                           SnsPayloadParser payload) {
    SnsMessage sns;
    if (const auto id = delivery.header("x-amz-sns-message-id")) {
        if (!trim_ascii(*id).empty()) sns.message_id = std::string(trim_ascii(*id));
    }
    if (payload(batch.fields, delivery.json(), sns, batch.events)) {
        return Verdict::accept();
    }
    const std::string text = sanitize_utf8(delivery.body());
    JsonPtr raw(json_object());
    json_object_set_new(raw.get(), "Message", json_stringn(text.data(), text.size()));
    batch.events.push_back(foreign_notification("Notification", raw.get(), sns));
    return Verdict::accept();
}

}  // namespace

Verdict sns_verify(const Delivery& delivery, const Connection& connection,
                   Batch& batch) {
    if (!connection.secrets.empty()) {
        Verdict auth = check_authorization_header(delivery, connection);
        if (!auth.ok()) return auth;
    } else if (Verdict budget = json_pre_auth_budget(delivery); !budget.ok()) {
        // The signature sits in the envelope: read within a budget (M2).
        return budget;
    }
    if (const json_t* envelope = envelope_of(delivery)) {
        return verify_envelope(envelope, delivery, connection, batch);
    }
    if (is_raw_delivery(delivery)) {
        return verify_raw_delivery(delivery, connection);
    }
    return Verdict::reject(Rejection::malformed,
                           "body is not an SNS message (JSON with Type and "
                           "Signature)");
}

Verdict sns_parse(const Delivery& delivery, const Connection& connection,
                  Batch& batch, SnsPayloadParser payload) {
    const json_t* envelope = envelope_of(delivery);
    if (envelope == nullptr) {
        return parse_raw_delivery(delivery, batch, payload);
    }
    Fields& fields = batch.fields;
    SnsMessage sns;
    sns.message_id = fields.text(envelope, "MessageId");
    sns.timestamp = fields.time(envelope, "Timestamp");
    const std::string type = string_member(envelope, "Type");
    const auto message_type = sns_message_type(type);
    if (!message_type) {
        return Verdict::reject(Rejection::malformed, "unknown SNS message Type");
    }
    switch (*message_type) {
        case SnsMessageType::notification: {
            const auto text = json_string_at(envelope, "Message");
            JsonPtr message = parse_json(text.value_or(""));
            if (!payload(fields, message.get(), sns, batch.events)) {
                batch.events.push_back(foreign_notification(type, envelope, sns));
            }
            return Verdict::accept();
        }
        case SnsMessageType::subscription_confirmation:
            batch.events.push_back(
                control_event("subscription_confirmation", type, envelope, sns));
            confirm(envelope, connection, batch);
            return Verdict::accept();
        case SnsMessageType::unsubscribe_confirmation:
            // Its SubscribeURL would subscribe again: never fetched.
            batch.events.push_back(
                control_event("unsubscribe_confirmation", type, envelope, sns));
            return Verdict::accept();
    }
    return Verdict::reject(Rejection::malformed, "unknown SNS message Type");
}

std::string_view sns_www_authenticate(const Connection& connection) {
    return connection.secrets.empty() ? std::string_view() : kBasicChallenge;
}

}  // namespace mailhook
