// SPDX-License-Identifier: BSD-2-Clause
// Amazon SES event notifications delivered by an Amazon SNS HTTP/S
// subscription (the transport, its signature and options: sns.hpp). The SES
// event is a JSON string inside `Message`; one notification naming several
// recipients becomes one event each.
//
// Catalogue: the SES event publishing records
// (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html:
// Bounce, Complaint, Delivery, Send, Reject, Open, Click, Rendering Failure,
// DeliveryDelay, Subscription), the identity notifications of
// notification-contents.html (Bounce, Complaint, Delivery), and their bounce
// types and subtypes, delay types.
#include "../encoding.hpp"
#include "../sns.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

// eventType (event publishing) / notificationType (identity notifications).
constexpr EventRow kEvents[] = {
    {"Send", EventType::sent},
    {"Delivery", EventType::delivered},
    {"Bounce", EventType::bounced},
    {"Complaint", EventType::complained},
    {"Reject", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"Rendering Failure", EventType::failed},
    {"DeliveryDelay", EventType::deferred, BounceClass::soft},
    {"Open", EventType::opened},
    {"Click", EventType::clicked},
    {"Subscription", EventType::unsubscribed},
};

// A bounce's bounceType / bounceSubType: the type gives the class; a
// subtype the reason where it says more than "bounced".
constexpr EventRow kBounceTypes[] = {
    {"Permanent", EventType::bounced, BounceClass::hard},
    {"Transient", EventType::bounced, BounceClass::soft},
    {"Undetermined", EventType::bounced, BounceClass::undetermined},
};

constexpr EventRow kBounceSubTypes[] = {
    {"General", EventType::bounced, BounceClass::none, RejectReason::bounced},
    {"NoEmail", EventType::bounced, BounceClass::none, RejectReason::invalid},
    // SES did not send: the address is on a suppression list.
    {"Suppressed", EventType::bounced, BounceClass::none, RejectReason::bounced},
    {"OnAccountSuppressionList", EventType::bounced, BounceClass::none,
     RejectReason::bounced},
    {"MailboxFull", EventType::bounced, BounceClass::none, RejectReason::bounced},
    {"MessageTooLarge", EventType::bounced, BounceClass::none, RejectReason::other},
    {"ContentRejected", EventType::bounced, BounceClass::none, RejectReason::spam},
    {"AttachmentRejected", EventType::bounced, BounceClass::none, RejectReason::blocked},
    {"Undetermined", EventType::bounced, BounceClass::none, RejectReason::other},
};

// A DeliveryDelay's delayType, where it says more than "other".
constexpr EventRow kDelayTypes[] = {
    {"SpamDetected", EventType::deferred, BounceClass::soft, RejectReason::spam},
    {"MailboxFull", EventType::deferred, BounceClass::soft, RejectReason::bounced},
    {"IPFailure", EventType::deferred, BounceClass::soft, RejectReason::blocked},
};

// The member holding the event's details: "bounce" for "Bounce", ...
const char* detail_member(std::string_view kind) {
    if (kind == "Rendering Failure") return "failure";
    if (kind == "DeliveryDelay") return "deliveryDelay";
    for (const char* member : {"send", "delivery", "bounce", "complaint", "reject",
                               "open", "click", "subscription"}) {
        if (iequals_ascii(kind, member)) return member;
    }
    return nullptr;
}

void classify_bounce(Fields& f, const json_t* bounce, Event& event) {
    const auto type = f.string(bounce, "bounceType");
    const EventRow* row = type ? find_by_name(kBounceTypes, *type) : nullptr;
    event.bounce_class = row != nullptr ? row->bounce : BounceClass::undetermined;
    const auto subtype = f.string(bounce, "bounceSubType");
    if (const EventRow* sub = subtype ? find_by_name(kBounceSubTypes, *subtype) : nullptr) {
        event.reject_reason = sub->reason;
    }
}

// newTopicPreferences: unsubscribeAll, or any topic opted out, is an
// unsubscribe; preferences without an opt-out are a (re)subscribe.
EventType subscription_type(Fields& f, const json_t* subscription) {
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
        const auto status = f.string(topic, "subscriptionStatus");
        if (status && *status == "OptOut") return EventType::unsubscribed;
    }
    return EventType::subscribed;
}

// mail.tags (event publishing): {"name": ["value", ...]}; SES's own
// "ses:*" / "aws:*" tags are left out, the rest become "name:value".
std::vector<std::string> user_tags(Fields& f, const json_t* tags) {
    std::vector<std::string> out;
    const char* name;
    json_t* values;
    json_object_foreach(const_cast<json_t*>(tags), name, values) {
        const std::string_view key(name);
        if (key.substr(0, 4) == "ses:" || key.substr(0, 4) == "aws:") continue;
        for (const std::string& value : f.list(values)) {
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
std::vector<Recipient> recipients(Fields& f, std::string_view kind, const json_t* detail,
                                  const json_t* mail) {
    std::vector<Recipient> out;
    const auto from_objects = [&](const char* list) {
        std::size_t index;
        const json_t* item;
        json_array_foreach(json_object_get(detail, list), index, item) {
            const auto address = f.string(item, "emailAddress");
            if (!address) continue;
            out.push_back({std::string(*address), f.text(item, "status"),
                           f.text(item, "diagnosticCode")});
        }
    };
    const auto from_strings = [&](const json_t* list) {
        if (!json_is_array(list)) return;
        for (std::string& address : f.list(list)) {
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
void ses_events(Fields& f, const json_t* message, const SnsMessage& sns,
                std::vector<Event>& out) {
    std::string kind = f.text(message, "eventType").value_or("");
    if (kind.empty()) kind = f.text(message, "notificationType").value_or("");
    const EventRow* row = find_by_name(kEvents, kind);
    const char* member = row != nullptr ? detail_member(kind) : nullptr;
    const json_t* mail = json_object_get(message, "mail");
    const json_t* detail = member != nullptr ? json_object_get(message, member) : nullptr;

    Event base;
    base.vendor_event = kind;
    classify(base, row);
    base.message_id = f.text(mail, "messageId");
    base.event_id = f.text(detail, "feedbackId");
    if (!base.event_id) base.event_id = sns.message_id;
    base.timestamp = f.time(detail, "timestamp");
    if (!base.timestamp) base.timestamp = sns.timestamp;
    if (!base.timestamp) base.timestamp = f.time(mail, "timestamp");
    base.tags = user_tags(f, json_object_get(mail, "tags"));

    if (kind == "Bounce") {
        classify_bounce(f, detail, base);
        base.description = joined(f.text(detail, "bounceType"),
                                  f.text(detail, "bounceSubType"));
    } else if (kind == "Complaint") {
        base.description = f.text(detail, "complaintFeedbackType");
        base.user_agent = f.text(detail, "userAgent");
    } else if (kind == "Delivery") {
        base.mta_response = f.text(detail, "smtpResponse");
    } else if (kind == "DeliveryDelay") {
        base.description = f.text(detail, "delayType");
        if (const EventRow* row = base.description
                                      ? find_by_name(kDelayTypes, *base.description)
                                      : nullptr) {
            base.reject_reason = row->reason;
        }
    } else if (kind == "Reject") {
        base.description = f.text(detail, "reason");
    } else if (kind == "Rendering Failure") {
        base.description = f.text(detail, "errorMessage");
    } else if (kind == "Open") {
        base.ip = f.text(detail, "ipAddress");
        base.user_agent = f.text(detail, "userAgent");
    } else if (kind == "Click") {
        base.click_url = f.text(detail, "link");
        base.ip = f.text(detail, "ipAddress");
        base.user_agent = f.text(detail, "userAgent");
    } else if (kind == "Subscription") {
        base.type = subscription_type(f, detail);
    }
    set_raw(base, message);

    // SNS keeps MessageId across retries: with the recipient it names each
    // event for good.
    const std::string key_prefix =
        sns.message_id ? "sns:" + *sns.message_id : std::string();
    const std::vector<Recipient> list = recipients(f, kind, detail, mail);
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

bool ses_payload(Fields& fields, const json_t* message, const SnsMessage& sns,
                 std::vector<Event>& out) {
    if (!is_ses_event(message)) return false;
    ses_events(fields, message, sns, out);
    return true;
}

class Ses final : public Vendor {
  public:
    std::string_view name() const override { return "ses"; }

    // SNS signs its Timestamp; the check is off unless configured, since
    // retries keep the original (docs/vendors/ses.md).
    std::optional<std::int64_t> default_tolerance(const Connection&) const override {
        return 0;
    }

    // No secret needed (SNS signs with certificates); one given is a Basic
    // (or Bearer) credential checked on top of the signature.
    Verdict prepare(Connection& connection) const override {
        connection.signing_keys = connection.secrets;
        return Verdict::accept();
    }

    std::string_view www_authenticate(const Connection& connection) const override {
        return sns_www_authenticate(connection);
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch& batch) const override {
        return sns_verify(delivery, connection, batch);
    }

    Verdict parse(const Delivery& delivery, const Connection& connection,
                  Batch& batch) const override {
        return sns_parse(delivery, connection, batch, ses_payload);
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("SES `eventType` / `notificationType`", kEvents),
                event_table("Bounce `bounceType`", kBounceTypes),
                event_table("Bounce `bounceSubType`", kBounceSubTypes),
                event_table("DeliveryDelay `delayType`", kDelayTypes)};
    }
};

}  // namespace

const Vendor& ses_vendor() {
    static const Ses vendor;
    return vendor;
}

}  // namespace mailhook
