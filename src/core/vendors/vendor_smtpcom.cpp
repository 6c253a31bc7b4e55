// SPDX-License-Identifier: BSD-2-Clause
// SMTP.com callbacks: a JSON array of 1 to 1000 events, `id` identifying
// each.
//
// Catalogue: https://kb.smtp.com/article/2331-integration-and-callbacks-guide
// (the callback payload, a "received" event first) and
// https://kb.smtp.com/article/2136-push-notifications-reference-document
// (delivery, bounce, complaint rows with feedback_type "spam", unsubscribe
// rows: event_label "complaint" with feedback_type "remove", opens and
// clicks). SMTP.com publishes no signature scheme, so a connection either names
// a signature_header (the configured HMAC scheme, configured_hmac.hpp) or
// is checked with Basic / Bearer credentials from its secret.
#include "../configured_hmac.hpp"
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

// Fields SMTP.com documents; every other top-level member is a custom
// argument from the X-SMTPAPI "unique_args" of the message (metadata).
constexpr std::string_view kReservedKeys[] = {
    "id", "event_label", "sender_id", "tracking_id", "mail_from", "rcpt_to",
    "subject", "time_started", "time_finished", "tries", "resp_code",
    "resp_class", "resp_msg", "url", "user_agent", "ip", "feedback_type", "time_received",
    "time_sent", "resolution", "event_code", "status"};

// "received" is SMTP.com's first event (the message was accepted for
// sending); other labels follow the common ESP vocabulary.
// SMTP.com's own labels; others follow the common ESP vocabulary.
constexpr EventRow kEvents[] = {
    {"received", EventType::queued},
    {"delivery", EventType::delivered},
    {"delivered", EventType::delivered},
    {"bounce", EventType::bounced, BounceClass::undetermined},
    // feedback_type says which: "spam" a complaint, "remove" an unsubscribe.
    {"complaint", EventType::complained},
    {"open", EventType::opened},
    {"click", EventType::clicked},
};

// A complaint row's `feedback_type`.
constexpr EventRow kFeedbackTypes[] = {
    {"spam", EventType::complained},
    {"abuse", EventType::complained},
    {"remove", EventType::unsubscribed},
};

const EventRow* event_row(std::string_view label) {
    for (const EventRow& row : kEvents) {
        if (iequals_ascii(row.name, label)) return &row;
    }
    return common_event_row(label);
}

// SMTP reply classes (RFC 5321): 5yz is permanent, 4yz transient.
// `resp_class` is left alone: its code table is not published.
BounceClass bounce_class_of(const std::optional<std::string>& resp_code) {
    if (!resp_code || resp_code->size() != 3) return BounceClass::undetermined;
    if ((*resp_code)[0] == '5') return BounceClass::hard;
    if ((*resp_code)[0] == '4') return BounceClass::soft;
    return BounceClass::undetermined;
}

// The remote reply as one line: "550 5.9.1 <...>: Recipient address rejected".
std::optional<std::string> mta_response_of(const std::optional<std::string>& code,
                                           const std::optional<std::string>& message) {
    if (code && message) return *code + " " + *message;
    return message;
}

Event normalize(Fields& f, const json_t* item) {
    Event event;
    event.vendor_event = f.text(item, "event_label").value_or("");
    classify(event, event_row(event.vendor_event));
    const auto feedback = f.text(item, "feedback_type");
    if (event.type == EventType::complained && feedback) {
        if (const EventRow* row = find_by_name(kFeedbackTypes, *feedback)) {
            classify(event, row);
        }
        event.description = feedback;
    }
    const auto resp_code = f.text(item, "resp_code");
    const auto resp_msg = f.text(item, "resp_msg");
    if (event.type == EventType::bounced &&
        event.bounce_class == BounceClass::undetermined) {
        event.bounce_class = bounce_class_of(resp_code);
    }
    event.recipient = f.text(item, "rcpt_to").value_or("");
    event.message_id = f.text(item, "tracking_id");
    event.event_id = f.text(item, "id");
    event.timestamp = f.first_time(item, {"time_finished", "time_started", "time_received"});
    event.mta_response = mta_response_of(resp_code, resp_msg);
    if (resp_msg) event.smtp_status = find_enhanced_status(*resp_msg);
    event.click_url = f.text(item, "url");
    event.user_agent = f.text(item, "user_agent");
    event.ip = f.text(item, "ip");
    event.metadata_json = unreserved_members_json(item, kReservedKeys);
    set_raw(event, item);
    event.dedup_key = event.event_id ? "smtpcom:" + *event.event_id
                                     : std::string();
    return event;
}

class SmtpCom final : public Vendor {
  public:
    std::string_view name() const override { return "smtpcom"; }

    std::optional<std::int64_t> default_tolerance(const Connection& connection) const override {
        return configured_hmac_tolerance(connection);
    }

    Verdict prepare(Connection& connection) const override {
        return has_hmac_scheme(connection) ? prepare_hmac_scheme(connection)
                                           : Vendor::prepare(connection);
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        return has_hmac_scheme(connection)
                   ? verify_hmac_scheme(delivery, connection)
                   : check_authorization_header(delivery, connection);
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        return normalize_objects(delivery.json(), BodyShape::array, normalize,
                                 batch);
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("SMTP.com `event_label`", kEvents),
                event_table("complaint `feedback_type`", kFeedbackTypes)};
    }
};

}  // namespace

const Vendor& smtpcom_vendor() {
    static const SmtpCom vendor;
    return vendor;
}

}  // namespace mailhook
