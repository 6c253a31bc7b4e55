// SPDX-License-Identifier: BSD-2-Clause
// generic: any sender that signs its body with an HMAC the connection options
// describe (configured_hmac.hpp), posting a JSON object or an array of them
// with commonly named fields. What the normalizer reads, first match wins:
//   event name    event, type, event_type   (see event_kind below)
//   recipient     email, recipient, rcpt_to, rcpt, to
//   timestamp     timestamp, time, ts, created_at   (epoch s or ISO 8601)
//   message id    message_id, message-id, messageId
//   event id      event_id, id                       (dedup "gen:" + id)
//   bounce class  bounce_type, bounce_class, bounce  ("hard" / "soft" / "block")
//   smtp status   smtp_status, else found in the MTA response
//   mta response  smtp_response, mta_response, response
//   description   reason, description
//   click url     url, click_url, link
//   user agent    user_agent, useragent, user-agent
//   ip            ip, ip_address
//   campaign id   campaign_id
//   tags          tags, category  (string or array of strings)
//   metadata      metadata        (object)
#include "../configured_hmac.hpp"
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

// "email.bounced", "Hard-Bounce" and "hard bounce" all name hard_bounce:
// the part after the last '.', with '-' and ' ' read as '_'.
std::string canonical_event_name(std::string_view name) {
    if (const std::size_t dot = name.rfind('.'); dot != std::string_view::npos) {
        name.remove_prefix(dot + 1);
    }
    std::string out = to_lower_ascii(name);
    for (char& c : out) {
        if (c == '-' || c == ' ') c = '_';
    }
    return out;
}

void set_kind(Event& event, const json_t* item) {
    classify(event, common_event_row(canonical_event_name(event.vendor_event)));
    if (event.type == EventType::bounced) {
        const BounceClass given =
            explicit_bounce_class(item, {"bounce_type", "bounce_class", "bounce"});
        if (given != BounceClass::none) event.bounce_class = given;
    }
}

std::vector<std::string> tags_of(Fields& f, const json_t* item) {
    const json_t* tags = json_object_get(item, "tags");
    return f.list(tags != nullptr ? tags : json_object_get(item, "category"));
}

Event normalize(Fields& f, const json_t* item) {
    Event event;
    event.vendor_event = f.first_text(item, {"event", "type", "event_type"}).value_or("");
    set_kind(event, item);
    event.recipient =
        f.first_text(item, {"email", "recipient", "rcpt_to", "rcpt", "to"}).value_or("");
    event.timestamp = f.first_time(item, {"timestamp", "time", "ts", "created_at"});
    event.message_id = f.first_text(item, {"message_id", "message-id", "messageId"});
    event.event_id = f.first_text(item, {"event_id", "id"});
    event.mta_response = f.first_text(item, {"smtp_response", "mta_response", "response"});
    event.smtp_status = f.text(item, "smtp_status");
    if (!event.smtp_status && event.mta_response) {
        event.smtp_status = find_enhanced_status(*event.mta_response);
    }
    event.description = f.first_text(item, {"reason", "description"});
    event.click_url = f.first_text(item, {"url", "click_url", "link"});
    event.user_agent = f.first_text(item, {"user_agent", "useragent", "user-agent"});
    event.ip = f.first_text(item, {"ip", "ip_address"});
    event.campaign_id = f.text(item, "campaign_id");
    event.tags = tags_of(f, item);
    event.metadata_json = f.object_text(json_object_get(item, "metadata"));
    set_raw(event, item);
    event.dedup_key = event.event_id ? "gen:" + *event.event_id
                                     : std::string();
    return event;
}

class Generic final : public Vendor {
  public:
    std::string_view name() const override { return "generic"; }

    std::optional<std::int64_t> default_tolerance(const Connection& connection) const override {
        return configured_hmac_tolerance(connection);
    }

    Verdict prepare(Connection& connection) const override {
        return prepare_hmac_scheme(connection);
    }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        return verify_hmac_scheme(delivery, connection);
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        return normalize_objects(delivery.json(), BodyShape::object_or_array, normalize,
                                 batch);
    }

    std::vector<EventTable> catalogue() const override { return {common_event_table()}; }
};

}  // namespace

const Vendor& generic_vendor() {
    static const Generic vendor;
    return vendor;
}

}  // namespace mailhook
