// SPDX-License-Identifier: BSD-2-Clause
#include "vendor_fields.hpp"

#include <charconv>

#include "encoding.hpp"
#include "vendor.hpp"

namespace mailhook {
namespace {

bool present(const json_t* value) {
    return value != nullptr && !json_is_null(value);
}

}  // namespace

void Fields::note(const char* key, const json_t* value, std::string_view expected) {
    if (!error_.empty()) return;
    error_ = "\"" + sanitize_utf8(key ? key : "") + "\" is " +
             std::string(json_type_name(value)) + ", expected " +
             std::string(expected);
}

std::string Fields::take_error() {
    std::string error = std::move(error_);
    error_.clear();
    return error;
}

// A member looked up in something that is not an object (e.g. a string
// where the vendor sends a nested object).
void Fields::check_container(const json_t* object, const char* key) {
    if (present(object) && !json_is_object(object)) {
        note(key, object, "inside an object");
    }
}

std::optional<std::string_view> Fields::string(const json_t* object, const char* key) {
    check_container(object, key);
    const json_t* value = json_object_get(object, key);
    if (present(value) && !json_is_string(value)) note(key, value, "a string");
    return json_string_at(object, key);
}

std::optional<std::string> Fields::text(const json_t* object, const char* key) {
    check_container(object, key);
    auto text = json_text_at(object, key);
    if (!text) {
        const json_t* value = json_object_get(object, key);
        if (present(value)) note(key, value, "text");
        return std::nullopt;
    }
    if (text->empty()) return std::nullopt;
    return text;
}

std::optional<std::string> Fields::first_text(const json_t* object,
                                              std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        if (auto found = text(object, key)) return found;
    }
    return std::nullopt;
}

std::optional<EpochMillis> Fields::time(const json_t* object, const char* key) {
    check_container(object, key);
    const json_t* value = json_object_get(object, key);
    if (json_is_integer(value)) {
        const json_int_t seconds = json_integer_value(value);
        if (seconds < 0 || seconds > 100000000000LL) return std::nullopt;
        return static_cast<EpochMillis>(seconds) * 1000;
    }
    if (json_is_real(value)) {
        const double seconds = json_real_value(value);
        if (!(seconds >= 0 && seconds < 1e11)) return std::nullopt;
        return static_cast<EpochMillis>(seconds * 1000.0);
    }
    if (json_is_string(value)) {
        return parse_vendor_time(
            std::string_view(json_string_value(value), json_string_length(value)));
    }
    if (present(value)) note(key, value, "a time");
    return std::nullopt;
}

std::optional<EpochMillis> Fields::first_time(const json_t* object,
                                              std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        if (json_object_get(object, key) != nullptr) return time(object, key);
    }
    return std::nullopt;
}

std::optional<EpochMillis> Fields::epoch_millis(const json_t* object, const char* key) {
    // Up to year 5138, as time() allows for seconds.
    constexpr EpochMillis kLatest = 100000000000LL * 1000;
    check_container(object, key);
    const json_t* value = json_object_get(object, key);
    if (json_is_integer(value)) {
        const json_int_t millis = json_integer_value(value);
        if (millis < 0 || millis > kLatest) return std::nullopt;
        return static_cast<EpochMillis>(millis);
    }
    if (json_is_real(value)) {
        const double millis = json_real_value(value);
        if (!(millis >= 0 && millis < static_cast<double>(kLatest))) {
            return std::nullopt;
        }
        return static_cast<EpochMillis>(millis);
    }
    if (json_is_string(value)) {
        const std::string_view text(json_string_value(value),
                                    json_string_length(value));
        EpochMillis millis = 0;
        const auto [end, error] =
            std::from_chars(text.data(), text.data() + text.size(), millis);
        if (error != std::errc() || end != text.data() + text.size() ||
            text.empty() || millis < 0 || millis > kLatest) {
            return std::nullopt;
        }
        return millis;
    }
    if (present(value)) note(key, value, "a time");
    return std::nullopt;
}

std::vector<std::string> Fields::list(const json_t* value, const char* what) {
    std::vector<std::string> out;
    if (json_is_string(value)) {
        if (json_string_length(value) > 0) {
            out.emplace_back(json_string_value(value), json_string_length(value));
        }
        return out;
    }
    if (present(value) && !json_is_array(value)) {
        note(what, value, "a string or an array of strings");
        return out;
    }
    std::size_t index;
    const json_t* item;
    json_array_foreach(value, index, item) {
        if (json_is_string(item)) {
            out.emplace_back(json_string_value(item), json_string_length(item));
        } else if (!json_is_null(item)) {
            note(what, item, "a string in the list");
        }
    }
    return out;
}

std::string Fields::object_text(const json_t* value, const char* what) {
    if (json_is_object(value)) return json_dump_compact(value);
    if (present(value)) note(what, value, "an object");
    return "{}";
}

const json_t* Fields::path(const json_t* object, std::initializer_list<const char*> keys) {
    const json_t* current = object;
    for (const char* key : keys) {
        check_container(current, key);
        current = json_object_get(current, key);
        if (current == nullptr) return nullptr;
    }
    return current;
}

void classify(Event& event, const EventRow* row) {
    event.type = row != nullptr ? row->type : EventType::unknown;
    event.bounce_class = row != nullptr ? row->bounce : BounceClass::none;
    event.reject_reason = row != nullptr ? row->reason : RejectReason::none;
    event.control = row != nullptr && row->control;
}

namespace {

constexpr EventRow kCommonEvents[] = {
    {"queued", EventType::queued},
    {"processed", EventType::queued},
    {"accepted", EventType::queued},
    {"send", EventType::sent},
    {"sent", EventType::sent},
    {"delivery", EventType::delivered},
    {"delivered", EventType::delivered},
    {"delay", EventType::deferred, BounceClass::soft},
    {"delayed", EventType::deferred, BounceClass::soft},
    {"deferral", EventType::deferred, BounceClass::soft},
    {"deferred", EventType::deferred, BounceClass::soft},
    {"bounce", EventType::bounced, BounceClass::undetermined},
    {"bounced", EventType::bounced, BounceClass::undetermined},
    {"hard_bounce", EventType::bounced, BounceClass::hard},
    {"hard_bounced", EventType::bounced, BounceClass::hard},
    {"hardbounce", EventType::bounced, BounceClass::hard},
    {"soft_bounce", EventType::bounced, BounceClass::soft},
    {"soft_bounced", EventType::bounced, BounceClass::soft},
    {"softbounce", EventType::bounced, BounceClass::soft},
    {"dropped", EventType::rejected, BounceClass::none, RejectReason::other},
    {"reject", EventType::rejected, BounceClass::none, RejectReason::other},
    {"rejected", EventType::rejected, BounceClass::none, RejectReason::other},
    {"blocked", EventType::rejected, BounceClass::none, RejectReason::blocked},
    {"failed", EventType::failed},
    {"failure", EventType::failed},
    {"open", EventType::opened},
    {"opened", EventType::opened},
    {"click", EventType::clicked},
    {"clicked", EventType::clicked},
    {"spam", EventType::complained},
    {"spamreport", EventType::complained},
    {"spam_complaint", EventType::complained},
    {"complaint", EventType::complained},
    {"complained", EventType::complained},
    {"unsub", EventType::unsubscribed},
    {"unsubscribe", EventType::unsubscribed},
    {"unsubscribed", EventType::unsubscribed},
    {"subscribe", EventType::subscribed},
    {"subscribed", EventType::subscribed},
    {"resubscribe", EventType::subscribed},
    {"resubscribed", EventType::subscribed},
    {"reply", EventType::replied},
    {"replied", EventType::replied},
    {"autoreply", EventType::autoresponded},
    {"auto_reply", EventType::autoresponded},
    {"autoresponded", EventType::autoresponded},
};

}  // namespace

EventTable common_event_table() { return event_table("event name", kCommonEvents); }

const EventRow* common_event_row(std::string_view name) {
    for (const EventRow& row : kCommonEvents) {
        if (iequals_ascii(row.name, name)) return &row;
    }
    return nullptr;
}

BounceClass explicit_bounce_class(const json_t* item,
                                  std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        const auto value = json_string_at(item, key);
        if (!value) continue;
        if (iequals_ascii(*value, "hard")) return BounceClass::hard;
        if (iequals_ascii(*value, "soft")) return BounceClass::soft;
        if (iequals_ascii(*value, "block") || iequals_ascii(*value, "blocked")) {
            return BounceClass::block;
        }
    }
    return BounceClass::none;
}

JsonPtr form_object(const FormFields& fields) {
    JsonPtr object(json_object());
    for (const auto& [key, value] : fields) {
        if (!is_valid_utf8(key) || !is_valid_utf8(value)) return nullptr;
        json_object_setn_new(object.get(), key.data(), key.size(),
                             json_stringn(value.data(), value.size()));
    }
    return object;
}

std::optional<std::string> bare_address(std::string_view text) {
    text = trim_ascii(text);
    const std::size_t open = text.rfind('<');
    if (open != std::string_view::npos) {
        const std::size_t close = text.find('>', open);
        if (close == std::string_view::npos || close + 1 != text.size()) return std::nullopt;
        // A display name may hold commas only inside quotes; an unquoted
        // comma before the bracket starts another address.
        const std::string_view name = text.substr(0, open);
        if (name.find(',') != std::string_view::npos &&
            name.find('"') == std::string_view::npos) {
            return std::nullopt;
        }
        text = trim_ascii(text.substr(open + 1, close - open - 1));
    }
    if (text.empty() || text.find('@') == std::string_view::npos ||
        text.find_first_of(" ,<>") != std::string_view::npos) {
        return std::nullopt;
    }
    return std::string(text);
}

std::string unreserved_members_json(const json_t* object,
                                    const std::string_view* reserved,
                                    std::size_t reserved_count) {
    JsonPtr extra(json_object());
    const char* key;
    json_t* value;
    // json_object_foreach wants a non-const object; it does not modify it.
    json_object_foreach(const_cast<json_t*>(object), key, value) {
        bool is_reserved = false;
        for (std::size_t i = 0; i < reserved_count; ++i) {
            if (reserved[i] == key) {
                is_reserved = true;
                break;
            }
        }
        if (!is_reserved) {
            json_object_set(extra.get(), key, value);
        }
    }
    return json_dump_compact(extra.get());
}

JsonPtr custom_text_object(const char* field,
                           const std::optional<std::string>& text) {
    if (!text || text->empty()) return JsonPtr(json_object());
    JsonPtr parsed = parse_json(*text);
    if (json_is_object(parsed.get())) return parsed;
    JsonPtr wrapped(json_object());
    json_object_set_new(wrapped.get(), field, json_stringn(text->data(), text->size()));
    return wrapped;
}

void set_raw(Event& event, const json_t* vendor_event) {
    event.raw_value = JsonRef(vendor_event);
    event.raw_json.clear();
}

namespace {

// The event kept for an element that is not the vendor's format: what could
// be read of who and when, typed unknown, its bytes in `raw`.
Event malformed_event(const std::vector<Event>& partial, const json_t* element,
                      const std::string& reason) {
    Event event;
    if (!partial.empty()) {
        event.vendor_event = partial.front().vendor_event;
        event.recipient = partial.front().recipient;
        event.message_id = partial.front().message_id;
        event.event_id = partial.front().event_id;
        event.timestamp = partial.front().timestamp;
        event.dedup_key = partial.front().dedup_key;
    }
    event.description = "not the vendor's format: " + reason;
    set_raw(event, element);
    return event;
}

void note_malformed(MalformedElements& malformed, std::size_t index,
                    const std::string& reason) {
    if (malformed.first_reason.empty()) {
        malformed.first_reason = "element " + std::to_string(index) + ": " + reason;
    }
}

}  // namespace

void normalize_elements(const json_t* array, const ElementReader& read, Batch& batch,
                        const char* required_key) {
    Fields& fields = batch.fields;
    std::string outer_error = fields.take_error();
    std::size_t index;
    const json_t* element;
    json_array_foreach(array, index, element) {
        if (!json_is_object(element)) {
            ++batch.malformed.unreadable;
            note_malformed(batch.malformed, index,
                           std::string("is ") + std::string(json_type_name(element)) +
                               ", not an object");
            continue;
        }
        std::vector<Event> produced;
        read(fields, element, index, produced);
        std::string reason = fields.take_error();
        if (reason.empty() && required_key != nullptr &&
            !json_is_string(json_object_get(element, required_key))) {
            reason = std::string("no \"") + required_key + "\" string";
        }
        for (const Event& event : produced) {
            if (reason.empty() && event.vendor_event.empty()) reason = "no event name";
        }
        if (reason.empty()) {
            for (Event& event : produced) batch.events.push_back(std::move(event));
            continue;
        }
        note_malformed(batch.malformed, index, reason);
        batch.malformed.events.push_back(batch.events.size());
        batch.events.push_back(malformed_event(produced, element, reason));
    }
    fields.restore_error(std::move(outer_error));
}

Verdict normalize_objects(const json_t* body, BodyShape shape, Normalizer normalize,
                          Batch& batch, const char* required_key) {
    if (shape == BodyShape::array && !json_is_array(body)) {
        return Verdict::reject(Rejection::malformed, "body is not a JSON array");
    }
    if (json_is_object(body)) {
        if (required_key != nullptr &&
            !json_is_string(json_object_get(body, required_key))) {
            return Verdict::reject(Rejection::malformed,
                                   std::string("an event without \"") + required_key +
                                       "\"");
        }
        batch.events.push_back(normalize(batch.fields, body));
        return Verdict::accept();
    }
    if (!json_is_array(body)) {
        return Verdict::reject(Rejection::malformed,
                               "body is not a JSON object or array");
    }
    batch.events.reserve(batch.events.size() + json_array_size(body));
    normalize_elements(
        body,
        [normalize](Fields& fields, const json_t* element, std::size_t,
                    std::vector<Event>& out) {
            out.push_back(normalize(fields, element));
        },
        batch, required_key);
    return Verdict::accept();
}

void default_reject_reason(Event& event) {
    if (event.reject_reason != RejectReason::none) return;
    switch (event.type) {
        case EventType::complained: event.reject_reason = RejectReason::spam; break;
        case EventType::unsubscribed:
            event.reject_reason = RejectReason::unsubscribed;
            break;
        case EventType::deferred:
        case EventType::rejected: event.reject_reason = RejectReason::other; break;
        case EventType::bounced:
            event.reject_reason = event.bounce_class == BounceClass::block
                                      ? RejectReason::blocked
                                      : RejectReason::bounced;
            break;
        default: break;
    }
}

}  // namespace mailhook
