// SPDX-License-Identifier: BSD-2-Clause
// SparkPost (Bird) event webhooks: a JSON array of
// {"msys": {"<class>_event": {...}}} elements.
//
// Catalogue: the event types of https://developers.sparkpost.com/api/webhooks/
// (repo SparkPost/developers.sparkpost.com, content/api/webhooks.apib, and
// the samples of repo SparkPost/gosparkpost, events/events.json) and the
// bounce classification codes of the support docs. SparkPost signs nothing; it
// authenticates with Basic (secret "user:password"), an OAuth2 Bearer token
// (secret = the token) or the deprecated X-MessageSystems-Webhook-Token
// header (secret = that token). Option `auth` = basic | bearer | token pins
// one of them; without it any of them that matches is accepted.
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kLegacyTokenHeader = "X-MessageSystems-Webhook-Token";

enum class Auth { any, basic, bearer, token };

std::optional<Auth> auth_of(const Connection& connection) {
    const auto option = connection.option("auth");
    if (!option) return Auth::any;
    if (*option == "basic") return Auth::basic;
    if (*option == "bearer") return Auth::bearer;
    if (*option == "token") return Auth::token;
    return std::nullopt;
}

Verdict check_legacy_token(const Delivery& delivery, const Connection& connection) {
    const auto token = delivery.header(kLegacyTokenHeader);
    if (!token) {
        return Verdict::reject(Rejection::bad_credentials,
                               "no X-MessageSystems-Webhook-Token header");
    }
    if (!secret_matches_any(connection, trim_ascii(*token))) {
        return Verdict::reject(Rejection::bad_credentials, "wrong webhook token");
    }
    return Verdict::accept();
}

// Without a pinned scheme, one of the credentials SparkPost sent must match.
Verdict check_any_credential(const Delivery& delivery, const Connection& connection) {
    const bool has_token = delivery.header(kLegacyTokenHeader).has_value();
    if (delivery.header("Authorization")) {
        Verdict verdict = check_authorization_header(delivery, connection);
        if (verdict.ok() || !has_token) return verdict;
    }
    if (has_token) return check_legacy_token(delivery, connection);
    return Verdict::reject(Rejection::bad_credentials,
                           "no Authorization or X-MessageSystems-Webhook-Token header");
}

constexpr EventRow kEvents[] = {
    {"injection", EventType::queued},
    {"delivery", EventType::delivered},
    // `bounce_class` says which bounce: kBounceCodes.
    {"bounce", EventType::bounced, BounceClass::undetermined},
    {"out_of_band", EventType::bounced, BounceClass::undetermined},
    {"delay", EventType::deferred, BounceClass::soft},
    {"policy_rejection", EventType::rejected},
    {"generation_rejection", EventType::rejected},
    {"generation_failure", EventType::failed},
    {"spam_complaint", EventType::complained},
    {"open", EventType::opened},
    {"initial_open", EventType::opened},
    {"amp_open", EventType::opened},
    {"amp_initial_open", EventType::opened},
    {"click", EventType::clicked},
    {"amp_click", EventType::clicked},
    {"list_unsubscribe", EventType::unsubscribed},
    {"link_unsubscribe", EventType::unsubscribed},
    // Inbound relay (mail SparkPost received for a relay webhook) and SMS:
    // not outbound mail, kept apart.
    {"relay_injection", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"relay_rejection", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"relay_delivery", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"relay_tempfail", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"relay_permfail", EventType::unknown, BounceClass::none, RejectReason::none, true},
    {"sms_status", EventType::unknown, BounceClass::none, RejectReason::none, true},
};

// SparkPost's bounce classification codes
// (https://support.sparkpost.com/docs/deliverability/bounce-classification-codes),
// their category as the class: Hard, Soft, Block, Undetermined, and Admin
// (SparkPost's own policy, suppression-level as SparkPost says) as hard.
// Four codes are not failures at all: an auto-reply, a challenge-response
// probe, a subscribe and an unsubscribe request; and 70, "temporarily
// delayed", is a deferral.
constexpr EventRow kBounceCodes[] = {
    {"1", EventType::bounced, BounceClass::undetermined, RejectReason::other},
    {"10", EventType::bounced, BounceClass::hard, RejectReason::invalid},
    {"20", EventType::bounced, BounceClass::soft, RejectReason::bounced},
    {"21", EventType::bounced, BounceClass::soft, RejectReason::bounced},
    {"22", EventType::bounced, BounceClass::soft, RejectReason::bounced},
    {"23", EventType::bounced, BounceClass::soft, RejectReason::bounced},
    {"24", EventType::bounced, BounceClass::soft, RejectReason::timed_out},
    {"25", EventType::bounced, BounceClass::hard, RejectReason::blocked},
    {"30", EventType::bounced, BounceClass::hard, RejectReason::bounced},
    {"40", EventType::bounced, BounceClass::soft, RejectReason::bounced},
    {"50", EventType::bounced, BounceClass::block, RejectReason::blocked},
    {"51", EventType::bounced, BounceClass::block, RejectReason::spam},
    {"52", EventType::bounced, BounceClass::block, RejectReason::spam},
    {"53", EventType::bounced, BounceClass::block, RejectReason::other},
    {"54", EventType::bounced, BounceClass::block, RejectReason::blocked},
    {"60", EventType::autoresponded},
    {"70", EventType::deferred, BounceClass::soft, RejectReason::other},
    {"80", EventType::subscribed},
    {"90", EventType::unsubscribed},
    {"100", EventType::autoresponded},
};

constexpr EventRow kUnlistedCode = {"", EventType::bounced, BounceClass::undetermined,
                                    RejectReason::other};

const EventRow& bounce_code(const std::optional<std::string>& code) {
    const EventRow* row = code ? find_by_name(kBounceCodes, *code) : nullptr;
    return row != nullptr ? *row : kUnlistedCode;
}

// A bounce takes its class, reason and (for the codes that are no failure)
// its type from the code; a rejection its reason; a delay stays a soft
// deferral (SparkPost retries it whatever the code).
void classify_code(Fields& f, const json_t* fields, Event& event) {
    const auto code = f.text(fields, "bounce_class");
    const EventRow& row = bounce_code(code);
    switch (event.type) {
        case EventType::bounced:
            classify(event, &row);
            break;
        case EventType::deferred:
            // why it was held back; "bounced" it was not (yet)
            if (row.type == EventType::bounced && row.reason != RejectReason::bounced) {
                event.reject_reason = row.reason;
            }
            break;
        case EventType::rejected:
            event.reject_reason = row.type == EventType::bounced ? row.reason
                                                                  : RejectReason::other;
            break;
        default:
            break;
    }
}

bool is_engagement(EventType type) {
    return type == EventType::opened || type == EventType::clicked ||
           type == EventType::unsubscribed;
}

Event normalize(Fields& f, const json_t* element, const json_t* fields) {
    Event event;
    event.vendor_event = f.text(fields, "type").value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    // In message events ip_address is the receiving MX; only engagement
    // events name the reader's address there.
    const bool engagement = is_engagement(event.type);
    classify_code(f, fields, event);
    // raw_rcpt_to keeps the sender's spelling; rcpt_to is lower-cased.
    event.recipient = f.first_text(fields, {"raw_rcpt_to", "rcpt_to"}).value_or("");
    event.message_id = f.text(fields, "message_id");
    event.event_id = f.text(fields, "event_id");
    event.timestamp = f.time(fields, "timestamp");
    event.mta_response = f.text(fields, "raw_reason");
    event.description = f.text(fields, "reason");
    if (event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    event.click_url = f.text(fields, "target_link_url");
    event.user_agent = f.text(fields, "user_agent");
    if (engagement) event.ip = f.text(fields, "ip_address");
    event.campaign_id = f.text(fields, "campaign_id");
    event.tags = f.list(json_object_get(fields, "rcpt_tags"));
    event.metadata_json = f.object_text(json_object_get(fields, "rcpt_meta"));
    set_raw(event, element);
    event.dedup_key = event.event_id ? "sp:" + *event.event_id
                                     : std::string();
    return event;
}

// One element: {"msys": {}} is SparkPost's validation ping and yields
// nothing; otherwise each "<class>_event" member is one event.
void read_element(Fields& f, const json_t* element, std::size_t,
                  std::vector<Event>& events) {
    const json_t* msys = json_object_get(element, "msys");
    if (!json_is_object(msys)) {
        f.note("msys", msys, "an object");
        return;
    }
    const char* event_class;
    json_t* fields;
    // json_object_foreach wants a non-const object; it does not modify it.
    json_object_foreach(const_cast<json_t*>(msys), event_class, fields) {
        if (!json_is_object(fields)) {
            f.note(event_class, fields, "an object");
            return;
        }
        events.push_back(normalize(f, element, fields));
    }
}

class SparkPost final : public Vendor {
  public:
    std::string_view name() const override { return "sparkpost"; }

    Verdict prepare(Connection& connection) const override {
        if (!auth_of(connection)) {
            return Verdict::reject(Rejection::misconfigured,
                                   "option auth must be basic, bearer or token");
        }
        return Vendor::prepare(connection);
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        switch (auth_of(connection).value_or(Auth::any)) {
            case Auth::basic:
                return check_authorization_header(delivery, connection,
                                                  HttpAuthScheme::basic);
            case Auth::bearer:
                return check_authorization_header(delivery, connection,
                                                  HttpAuthScheme::bearer);
            case Auth::token:
                return check_legacy_token(delivery, connection);
            case Auth::any:
                break;
        }
        return check_any_credential(delivery, connection);
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* body = delivery.json();
        if (!json_is_array(body)) {
            return Verdict::reject(Rejection::malformed, "body is not a JSON array");
        }
        normalize_elements(body, read_element, batch);
        return Verdict::accept();
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("SparkPost `type`", kEvents),
                event_table("`bounce_class`", kBounceCodes)};
    }
};

}  // namespace

const Vendor& sparkpost_vendor() {
    static const SparkPost vendor;
    return vendor;
}

}  // namespace mailhook
