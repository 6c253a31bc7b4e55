#include "delivery.hpp"

#include "encoding.hpp"

namespace mailhook {

std::optional<std::string_view> Delivery::header(std::string_view name) const {
    if (headers_.count(name) > 1) {
        if (repeated_header_.empty()) repeated_header_ = std::string(name);
        return std::nullopt;
    }
    return headers_.find(name);
}

bool Delivery::content_type_is(std::string_view media_type) const {
    const auto value = header("Content-Type");
    if (!value) {
        return false;
    }
    std::string_view type = *value;
    type = trim_ascii(type.substr(0, type.find(';')));
    return iequals_ascii(type, media_type);
}

const json_t* Delivery::json() const {
    if (!json_parsed_) {
        json_ = parse_json(body_, max_json_depth_);
        json_parsed_ = true;
    }
    return json_.get();
}

const FormFields* Delivery::form() const {
    if (!form_parsed_) {
        form_ = parse_form(body_);
        form_parsed_ = true;
    }
    return form_ ? &*form_ : nullptr;
}

}  // namespace mailhook
