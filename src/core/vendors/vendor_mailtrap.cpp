// SPDX-License-Identifier: BSD-2-Clause
// Mailtrap: `Mailtrap-Signature` = hex HMAC-SHA256(signing secret, raw
// body), whichever payload format the webhook uses: JSON ({"events": [...]})
// or JSON Lines (one event object per line). Up to 500 events a request; no
// signed time.
//
// Catalogue: Mailtrap's webhook docs (https://docs.mailtrap.io/email-api-smtp/
// webhooks, repo mailtrap/mailtrap-docs documentation/email-api-smtp/
// webhooks.md: "Event types", the SendingWebhookEvent `event` enum and
// "Webhook Signature Verification"), the bounce categories of
// documentation/email-api-smtp/bounce-categorization.md, and what the
// events mean in documentation/email-api-smtp/analytics/statuses-and-events.md.
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kSignatureHeader = "Mailtrap-Signature";
// Audit Log events (Enterprise accounts) are about the account.
constexpr std::string_view kAuditLogPrefix = "activity_log.";

// `event`.
constexpr EventRow kEvents[] = {
    {"delivery", EventType::delivered},
    {"open", EventType::opened},
    {"click", EventType::clicked},
    {"unsubscribe", EventType::unsubscribed},
    {"spam", EventType::complained},
    // "Temporary failure (will retry)": the message is still queued.
    {"soft bounce", EventType::deferred, BounceClass::soft},
    {"bounce", EventType::bounced, BounceClass::hard},
    // Held (e.g. the account's sending limit, a domain not verified yet);
    // a reject follows if it never goes out.
    {"suspension", EventType::deferred, BounceClass::none, RejectReason::other},
    // Not sent: most often the recipient is on the domain's suppression list.
    {"reject", EventType::rejected, BounceClass::none, RejectReason::blocked},
};

// `bounce_category` of a bounce or soft bounce.
constexpr EventRow kBounceCategories[] = {
    {"transientfail", EventType::unknown, BounceClass::none, RejectReason::other},
    {"greylisting", EventType::unknown, BounceClass::none, RejectReason::other},
    {"badsender", EventType::unknown, BounceClass::none, RejectReason::other},
    {"block", EventType::unknown, BounceClass::block, RejectReason::blocked},
    {"content", EventType::unknown, BounceClass::none, RejectReason::spam},
    {"dnsFail", EventType::unknown, BounceClass::none, RejectReason::bounced},
    {"generalfail", EventType::unknown, BounceClass::none, RejectReason::bounced},
    {"other", EventType::unknown, BounceClass::none, RejectReason::other},
    {"relayfail", EventType::unknown, BounceClass::none, RejectReason::other},
    {"serverfail", EventType::unknown, BounceClass::none, RejectReason::bounced},
    {"spam", EventType::unknown, BounceClass::none, RejectReason::spam},
    {"verifyfail", EventType::unknown, BounceClass::none, RejectReason::invalid},
    {"timeout", EventType::unknown, BounceClass::none, RejectReason::timed_out},
    {"badrecipient", EventType::unknown, BounceClass::none, RejectReason::invalid},
    {"overquota", EventType::unknown, BounceClass::none, RejectReason::bounced},
    {"serverpolicy", EventType::unknown, BounceClass::block, RejectReason::blocked},
    {"spam_gmail", EventType::unknown, BounceClass::none, RejectReason::blocked},
};

void read_bounce_category(Fields& f, const json_t* item, Event& event) {
    const auto category = f.string(item, "bounce_category");
    const EventRow* row = category ? find_by_name(kBounceCategories, *category) : nullptr;
    if (row == nullptr) return;
    event.reject_reason = row->reason;
    if (event.type == EventType::bounced && row->bounce != BounceClass::none) {
        event.bounce_class = row->bounce;
    }
}

Event normalize(Fields& f, const json_t* item) {
    Event event;
    event.vendor_event = f.string(item, "event").value_or("");
    classify(event, find_by_name(kEvents, event.vendor_event));
    if (event.vendor_event.substr(0, kAuditLogPrefix.size()) == kAuditLogPrefix) {
        event.control = true;
    }
    if (event.type == EventType::bounced || event.type == EventType::deferred) {
        read_bounce_category(f, item, event);
    }
    event.recipient = f.string(item, "email").value_or("");
    event.message_id = f.text(item, "message_id");
    event.event_id = f.text(item, "event_id");
    event.timestamp = f.time(item, "timestamp");
    event.mta_response = f.text(item, "response");
    if (event.mta_response) event.smtp_status = find_enhanced_status(*event.mta_response);
    event.description = f.text(item, "reason");
    event.click_url = f.text(item, "url");
    event.user_agent = f.text(item, "user_agent");
    event.ip = f.text(item, "ip");
    if (const auto category = f.text(item, "category")) event.tags.push_back(*category);
    event.metadata_json =
        f.object_text(json_object_get(item, "custom_variables"), "custom_variables");
    set_raw(event, item);
    event.dedup_key = event.event_id ? "mailtrap:" + *event.event_id : std::string();
    return event;
}

// A JSON Lines body as an array of its lines' values; nullptr when a
// non-empty line is not JSON.
JsonPtr json_lines(std::string_view body, std::size_t max_depth) {
    JsonPtr lines(json_array());
    while (!body.empty()) {
        const std::size_t end = body.find('\n');
        const std::string_view line = trim_ascii(body.substr(0, end));
        body = end == std::string_view::npos ? std::string_view{} : body.substr(end + 1);
        if (line.empty()) continue;
        JsonPtr value = parse_json(line, max_depth);
        if (value == nullptr) return nullptr;
        json_array_append_new(lines.get(), value.release());
    }
    return json_array_size(lines.get()) > 0 ? std::move(lines) : nullptr;
}

class Mailtrap final : public Vendor {
  public:
    std::string_view name() const override { return "mailtrap"; }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        const auto signature = delivery.header(kSignatureHeader);
        if (!signature) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "no Mailtrap-Signature header");
        }
        if (!hmac_matches_any(connection.signing_keys, DigestAlgorithm::sha256,
                              {delivery.body()}, trim_ascii(*signature))) {
            return Verdict::reject(Rejection::unauthenticated, "signature mismatch");
        }
        return Verdict::accept();
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* body = delivery.json();
        if (json_is_object(body)) {
            const json_t* events = json_object_get(body, "events");
            if (!json_is_array(events)) {
                return Verdict::reject(Rejection::malformed, "no events array");
            }
            return normalize_objects(events, BodyShape::array, normalize, batch, "event");
        }
        // Several lines are no one JSON text: read them as JSON Lines (the
        // events hold references to the values they came from).
        const JsonPtr lines =
            body == nullptr ? json_lines(delivery.body(), delivery.max_json_depth()) : nullptr;
        if (lines == nullptr) {
            return Verdict::reject(Rejection::malformed,
                                   "body is neither JSON with events nor JSON Lines");
        }
        return normalize_objects(lines.get(), BodyShape::array, normalize, batch, "event");
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("Mailtrap `event`", kEvents),
                event_table("`bounce_category`", kBounceCategories)};
    }
};

}  // namespace

const Vendor& mailtrap_vendor() {
    static const Mailtrap vendor;
    return vendor;
}

}  // namespace mailhook
