// SPDX-License-Identifier: BSD-2-Clause
#include "vendor_support.hpp"

#include <charconv>

#include "encoding.hpp"

namespace mailhook {

std::optional<std::string> text_field(const json_t* object, const char* key) {
    auto text = json_text_at(object, key);
    if (text && text->empty()) {
        return std::nullopt;
    }
    return text;
}

std::optional<EpochMillis> time_field(const json_t* object, const char* key) {
    if (object != nullptr && !json_is_null(object) && !json_is_object(object)) {
        StrictTypes::note(key, object, "inside an object");
    }
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
    if (value != nullptr && !json_is_null(value)) {
        StrictTypes::note(key, value, "a time");
    }
    return std::nullopt;
}

std::optional<EpochMillis> epoch_millis_field(const json_t* object,
                                              const char* key) {
    // Up to year 5138, as time_field() allows for seconds.
    constexpr EpochMillis kLatest = 100000000000LL * 1000;
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
    return std::nullopt;
}

std::optional<std::string> first_text_field(const json_t* object,
                                            std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        if (auto text = text_field(object, key)) return text;
    }
    return std::nullopt;
}

std::optional<EpochMillis> first_time_field(const json_t* object,
                                            std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        if (json_object_get(object, key) != nullptr) return time_field(object, key);
    }
    return std::nullopt;
}

std::vector<std::string> string_list(const json_t* value, const char* what) {

    std::vector<std::string> out;
    if (json_is_string(value)) {
        if (json_string_length(value) > 0) {
            out.emplace_back(json_string_value(value), json_string_length(value));
        }
        return out;
    }
    if (value != nullptr && !json_is_null(value) && !json_is_array(value)) {
        StrictTypes::note(what, value, "a string or an array of strings");
        return out;
    }
    std::size_t index;
    const json_t* item;
    json_array_foreach(value, index, item) {
        if (json_is_string(item)) {
            out.emplace_back(json_string_value(item), json_string_length(item));
        } else if (!json_is_null(item)) {
            StrictTypes::note(what, item, "a string in the list");
        }
    }
    return out;
}

std::string object_json(const json_t* value, const char* what) {
    if (json_is_object(value)) return json_dump_compact(value);
    if (value != nullptr && !json_is_null(value)) {
        StrictTypes::note(what, value, "an object");
    }
    return "{}";
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

std::optional<PublicKey> public_key_from_text(std::string_view text) {
    text = trim_ascii(text);
    if (text.find("-----BEGIN") != std::string_view::npos) {
        return PublicKey::from_pem(text);
    }
    std::string base64;
    base64.reserve(text.size());
    for (const char c : text) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') base64.push_back(c);
    }
    const auto der = base64_decode(base64);
    if (!der || der->empty()) return std::nullopt;
    return PublicKey::from_der(*der);
}

namespace {

std::optional<PublicKey> rsa_key_from_jwk(const json_t* jwk) {
    const auto type = json_string_at(jwk, "kty");
    const auto modulus = json_string_at(jwk, "n");
    const auto exponent = json_string_at(jwk, "e");
    if (!type || *type != "RSA" || !modulus || !exponent) return std::nullopt;
    const auto n = base64_decode(*modulus, Base64Alphabet::url);
    const auto e = base64_decode(*exponent, Base64Alphabet::url);
    if (!n || !e) return std::nullopt;
    return PublicKey::from_rsa_components(*n, *e);
}

}  // namespace

std::vector<PublicKey> rsa_keys_from_jwk(const json_t* jwk_or_set) {
    std::vector<PublicKey> keys;
    const json_t* set = json_object_get(jwk_or_set, "keys");
    if (!json_is_array(set)) {
        if (auto key = rsa_key_from_jwk(jwk_or_set)) keys.push_back(std::move(*key));
        return keys;
    }
    std::size_t index;
    const json_t* member;
    json_array_foreach(set, index, member) {
        if (auto key = rsa_key_from_jwk(member)) keys.push_back(std::move(*key));
    }
    return keys;
}

void set_raw(Event& event, const json_t* vendor_event) {
    event.raw_value = JsonRef(vendor_event);
    event.raw_json.clear();
}

Verdict collect_objects(const json_t* body, std::vector<const json_t*>& out) {
    if (json_is_object(body)) {
        out.push_back(body);
        return Verdict::accept();
    }
    if (!json_is_array(body)) {
        return Verdict::reject(Rejection::malformed,
                               "body is not a JSON object or array");
    }
    std::size_t index;
    const json_t* item;
    json_array_foreach(body, index, item) {
        if (!json_is_object(item)) {
            return Verdict::reject(Rejection::malformed,
                                   "array element " + std::to_string(index) +
                                       " is not an object");
        }
        out.push_back(item);
    }
    return Verdict::accept();
}

Verdict normalize_objects(const json_t* body, BodyShape shape,
                          Event (*normalize)(const json_t* item),
                          std::vector<Event>& events, const char* required_key) {
    if (shape == BodyShape::array && !json_is_array(body)) {
        return Verdict::reject(Rejection::malformed, "body is not a JSON array");
    }
    std::vector<const json_t*> items;
    if (Verdict verdict = collect_objects(body, items); !verdict.ok()) {
        return verdict;
    }
    for (const json_t* item : items) {
        if (required_key != nullptr &&
            !json_is_string(json_object_get(item, required_key))) {
            return Verdict::reject(Rejection::malformed,
                                   std::string("an event without \"") + required_key +
                                       "\"");
        }
    }
    events.reserve(events.size() + items.size());
    for (const json_t* item : items) {
        events.push_back(normalize(item));
    }
    return Verdict::accept();
}

namespace {

struct CommonEventName {
    std::string_view name;
    EventKind kind;
};

constexpr CommonEventName kCommonEvents[] = {
    {"queued", {EventType::queued}},
    {"processed", {EventType::queued}},
    {"accepted", {EventType::queued}},
    {"send", {EventType::sent}},
    {"sent", {EventType::sent}},
    {"delivery", {EventType::delivered}},
    {"delivered", {EventType::delivered}},
    {"delay", {EventType::deferred, BounceClass::soft}},
    {"delayed", {EventType::deferred, BounceClass::soft}},
    {"deferral", {EventType::deferred, BounceClass::soft}},
    {"deferred", {EventType::deferred, BounceClass::soft}},
    {"bounce", {EventType::bounced, BounceClass::undetermined}},
    {"bounced", {EventType::bounced, BounceClass::undetermined}},
    {"hard_bounce", {EventType::bounced, BounceClass::hard}},
    {"hard_bounced", {EventType::bounced, BounceClass::hard}},
    {"hardbounce", {EventType::bounced, BounceClass::hard}},
    {"soft_bounce", {EventType::bounced, BounceClass::soft}},
    {"soft_bounced", {EventType::bounced, BounceClass::soft}},
    {"softbounce", {EventType::bounced, BounceClass::soft}},
    {"dropped", {EventType::rejected, BounceClass::none, RejectReason::other}},
    {"reject", {EventType::rejected, BounceClass::none, RejectReason::other}},
    {"rejected", {EventType::rejected, BounceClass::none, RejectReason::other}},
    {"blocked", {EventType::rejected, BounceClass::none, RejectReason::blocked}},
    {"failed", {EventType::failed}},
    {"failure", {EventType::failed}},
    {"open", {EventType::opened}},
    {"opened", {EventType::opened}},
    {"click", {EventType::clicked}},
    {"clicked", {EventType::clicked}},
    {"spam", {EventType::complained}},
    {"spamreport", {EventType::complained}},
    {"spam_complaint", {EventType::complained}},
    {"complaint", {EventType::complained}},
    {"complained", {EventType::complained}},
    {"unsub", {EventType::unsubscribed}},
    {"unsubscribe", {EventType::unsubscribed}},
    {"unsubscribed", {EventType::unsubscribed}},
    {"subscribe", {EventType::subscribed}},
    {"subscribed", {EventType::subscribed}},
    {"resubscribe", {EventType::subscribed}},
    {"resubscribed", {EventType::subscribed}},
    {"reply", {EventType::replied}},
    {"replied", {EventType::replied}},
    {"autoreply", {EventType::autoresponded}},
    {"auto_reply", {EventType::autoresponded}},
    {"autoresponded", {EventType::autoresponded}},
};

}  // namespace

std::optional<EventKind> common_event_kind(std::string_view name) {
    for (const CommonEventName& entry : kCommonEvents) {
        if (iequals_ascii(entry.name, name)) return entry.kind;
    }
    return std::nullopt;
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

bool hmac_matches_any(const std::vector<std::string>& keys,
                      DigestAlgorithm algorithm,
                      std::initializer_list<std::string_view> parts,
                      std::string_view presented) {
    presented = trim_ascii(presented);
    const std::string presented_lower = to_lower_ascii(presented);
    bool matched = false;
    for (const std::string& key : keys) {
        const std::string mac = hmac(algorithm, key, parts);
        if (mac.empty()) continue;
        matched |= constant_time_equal(hex_encode(mac), presented_lower);
        matched |= constant_time_equal(base64_encode(mac), presented);
    }
    return matched;
}

}  // namespace mailhook
