#include "vendor_support.hpp"

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

void set_raw(Event& event, const json_t* vendor_event) {
    event.raw_json = json_dump_compact(vendor_event);
}

void set_raw_with_content_key(Event& event, const json_t* vendor_event) {
    set_raw(event, vendor_event);
    event.dedup_key = content_dedup_key(event.raw_json);
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
