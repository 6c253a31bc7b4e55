// SPDX-License-Identifier: BSD-2-Clause
// Unisender Go: the body's own `auth` member is the MD5 digest (hex) of the
// body in which that value is replaced by the API key of the user or
// project whose webhook it is. The key never travels; the digest sits in
// the body, so the body is read (within the pre-authentication budget)
// before anything is verified.
//
// Catalogue: Unisender Go's Web API reference, "Callback format"
// (https://godocs.unisender.ru/web-api-ref#callback-format): the
// events_by_user envelope (or one flat event with "use single event"),
// transactional_email_status events with their `status` and
// `delivery_info.delivery_status` codes, and transactional_spam_block
// events about the sending servers.
#include "../encoding.hpp"
#include "../vendor_auth.hpp"
#include "vendors.hpp"

namespace mailhook {
namespace {

constexpr std::size_t kDigestHexLength = 32;
constexpr std::string_view kEmailStatus = "transactional_email_status";

// `event_name` other than transactional_email_status (which `status`
// classifies, below).
constexpr EventRow kEventNames[] = {
    // A spam block of the sending servers: about the account.
    {"transactional_spam_block", EventType::unknown, BounceClass::none, RejectReason::none,
     true},
};

// `status` of a transactional_email_status event.
constexpr EventRow kStatuses[] = {
    {"sent", EventType::sent},
    {"delivered", EventType::delivered},
    {"opened", EventType::opened},
    {"clicked", EventType::clicked},
    {"unsubscribed", EventType::unsubscribed},
    {"subscribed", EventType::subscribed},
    {"spam", EventType::complained},
    // Unisender Go tries again (delivery_status err_will_retry).
    {"soft_bounced", EventType::deferred, BounceClass::soft},
    {"hard_bounced", EventType::bounced, BounceClass::hard},
};

// `delivery_info.delivery_status` of a bounce.
constexpr EventRow kDeliveryStatuses[] = {
    {"err_user_unknown", EventType::unknown, BounceClass::none, RejectReason::invalid},
    {"err_user_inactive", EventType::unknown, BounceClass::none, RejectReason::bounced},
    {"err_will_retry", EventType::unknown, BounceClass::none, RejectReason::other},
    {"err_mailbox_discarded", EventType::unknown, BounceClass::none, RejectReason::bounced},
    {"err_mailbox_full", EventType::unknown, BounceClass::none, RejectReason::bounced},
    {"err_spam_rejected", EventType::unknown, BounceClass::none, RejectReason::spam},
    {"err_blacklisted", EventType::unknown, BounceClass::block, RejectReason::blocked},
    {"err_too_large", EventType::unknown, BounceClass::none, RejectReason::bounced},
    {"err_unsubscribed", EventType::unknown, BounceClass::none, RejectReason::unsubscribed},
    {"err_unreachable", EventType::unknown, BounceClass::none, RejectReason::bounced},
    {"err_skip_letter", EventType::unknown, BounceClass::none, RejectReason::bounced},
    {"err_domain_inactive", EventType::unknown, BounceClass::none, RejectReason::invalid},
    {"err_destination_misconfigured", EventType::unknown, BounceClass::none,
     RejectReason::bounced},
    {"err_delivery_failed", EventType::unknown, BounceClass::none, RejectReason::other},
    {"err_spam_skipped", EventType::unknown, BounceClass::none, RejectReason::spam},
    {"err_lost", EventType::unknown, BounceClass::none, RejectReason::other},
};

bool is_lower_hex(std::string_view text) {
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

// Where the quoted digest sits in the body; nullopt unless exactly once (a
// second copy would make "the body with the value replaced" ambiguous).
std::optional<std::size_t> digest_position(std::string_view body, std::string_view digest) {
    const std::string quoted = "\"" + std::string(digest) + "\"";
    const std::size_t at = body.find(quoted);
    if (at == std::string_view::npos ||
        body.find(quoted, at + quoted.size()) != std::string_view::npos) {
        return std::nullopt;
    }
    return at + 1;
}

bool digest_matches(std::string_view body, std::size_t at, std::string_view digest,
                    const std::vector<std::string>& keys) {
    bool matched = false;
    for (const std::string& key : keys) {
        std::string keyed(body.substr(0, at));
        keyed += key;
        keyed += body.substr(at + digest.size());
        matched |= constant_time_equal(hex_encode(md5(keyed)), digest);
    }
    return matched;
}

void read_delivery_info(Fields& f, const json_t* info, Event& event) {
    if (info == nullptr || json_is_null(info)) return;
    const auto status = f.text(info, "delivery_status");
    if (event.type == EventType::bounced || event.type == EventType::deferred) {
        const EventRow* row = status ? find_by_name(kDeliveryStatuses, *status) : nullptr;
        if (row != nullptr) {
            event.reject_reason = row->reason;
            if (event.type == EventType::bounced && row->bounce != BounceClass::none) {
                event.bounce_class = row->bounce;
            }
        }
    }
    event.description = status;
    event.mta_response = f.text(info, "destination_response");
    if (event.mta_response) event.smtp_status = find_enhanced_status(*event.mta_response);
    event.user_agent = f.text(info, "user_agent");
    event.ip = f.text(info, "ip");
}

// One event from its name and data (`raw`: what is stored as its raw).
Event normalize(Fields& f, std::string_view event_name, const json_t* data, const json_t* raw) {
    Event event;
    if (event_name == kEmailStatus) {
        event.vendor_event = f.string(data, "status").value_or("");
        classify(event, find_by_name(kStatuses, event.vendor_event));
    } else {
        event.vendor_event = std::string(event_name);
        classify(event, find_by_name(kEventNames, event_name));
    }
    event.recipient = f.string(data, "email").value_or("");
    event.message_id = f.text(data, "job_id");
    event.timestamp = f.first_time(data, {"event_time", "block_time"});
    event.click_url = f.text(data, "url");
    read_delivery_info(f, json_object_get(data, "delivery_info"), event);
    if (!event.description) event.description = f.text(data, "comment");
    event.metadata_json = f.object_text(json_object_get(data, "metadata"), "metadata");
    set_raw(event, raw);
    return event;
}

// The members of a "single event" body, its `auth` left out: its raw.
JsonPtr without_auth(const json_t* body) {
    JsonPtr copy(json_copy(const_cast<json_t*>(body)));
    json_object_del(copy.get(), "auth");
    return copy;
}

class UnisenderGo final : public Vendor {
  public:
    std::string_view name() const override { return "unisender_go"; }

    Verdict verify(const Delivery& delivery, const Connection& connection,
                   Batch&) const override {
        if (Verdict budget = json_pre_auth_budget(delivery); !budget.ok()) return budget;
        const json_t* body = delivery.json();
        if (!json_is_object(body)) {
            return Verdict::reject(Rejection::malformed, "body is not a JSON object");
        }
        const auto digest = json_string_at(body, "auth");
        if (!digest || digest->size() != kDigestHexLength || !is_lower_hex(*digest)) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "no auth member of 32 hex digits");
        }
        const auto at = digest_position(delivery.body(), *digest);
        if (!at) {
            return Verdict::reject(Rejection::unauthenticated,
                                   "the auth value is not in the body exactly once");
        }
        if (!digest_matches(delivery.body(), *at, *digest, connection.signing_keys)) {
            return Verdict::reject(Rejection::unauthenticated, "auth digest mismatch");
        }
        return Verdict::accept();
    }

    Verdict parse(const Delivery& delivery, const Connection&,
                  Batch& batch) const override {
        const json_t* body = delivery.json();
        Fields& f = batch.fields;
        const json_t* users = json_object_get(body, "events_by_user");
        if (users == nullptr) {
            // "Use single event": the event's fields at the top.
            const auto event_name = f.string(body, "event_name");
            if (!event_name) {
                return Verdict::reject(Rejection::malformed,
                                       "neither events_by_user nor event_name");
            }
            const JsonPtr raw = without_auth(body);
            batch.events.push_back(normalize(f, *event_name, body, raw.get()));
            return Verdict::accept();
        }
        if (!json_is_array(users)) {
            return Verdict::reject(Rejection::malformed, "events_by_user is not an array");
        }
        std::size_t i;
        const json_t* user;
        json_array_foreach(users, i, user) {
            const json_t* events = json_object_get(user, "events");
            std::size_t j;
            const json_t* item;
            json_array_foreach(events, j, item) {
                const auto event_name = f.string(item, "event_name");
                const json_t* data = json_object_get(item, "event_data");
                if (!event_name || !json_is_object(data)) {
                    return Verdict::reject(Rejection::malformed,
                                           "an event without event_name and event_data");
                }
                batch.events.push_back(normalize(f, *event_name, data, data));
            }
        }
        return Verdict::accept();
    }

    std::vector<EventTable> catalogue() const override {
        return {event_table("other `event_name`", kEventNames),
                event_table("`status` (transactional_email_status)", kStatuses),
                event_table("`delivery_info.delivery_status`", kDeliveryStatuses)};
    }
};

}  // namespace

const Vendor& unisender_go_vendor() {
    static const UnisenderGo vendor;
    return vendor;
}

}  // namespace mailhook
