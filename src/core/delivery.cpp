// SPDX-License-Identifier: BSD-2-Clause
#include "delivery.hpp"

#include "encoding.hpp"
#include "form_data.hpp"

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

// Children are matched to their bytes by position: jansson keeps arrays in
// order and objects in insertion order, as the scanner sees them.
std::optional<std::string_view> Delivery::source_text(const json_t* value) const {
    const json_t* root = json();
    if (value == nullptr || root == nullptr) {
        return std::nullopt;
    }
    if (value == root) {
        return trim_ascii(body_);
    }
    if (!children_mapped_) {
        children_mapped_ = true;
        child_spans_ = json_child_spans(body_);
        if (json_is_array(root)) {
            std::size_t index;
            const json_t* item;
            json_array_foreach(root, index, item) children_.push_back(item);
        } else if (json_is_object(root)) {
            const char* key;
            json_t* item;
            json_object_foreach(const_cast<json_t*>(root), key, item) {
                children_.push_back(item);
            }
        }
        // Duplicate object keys (jansson keeps one) break the pairing.
        if (children_.size() != child_spans_.size()) {
            children_.clear();
        }
    }
    // Events are usually asked for in order: look from the last hit on.
    for (std::size_t n = 0; n < children_.size(); ++n) {
        const std::size_t i = (next_child_ + n) % children_.size();
        if (children_[i] == value) {
            next_child_ = i + 1;
            return child_spans_[i];
        }
    }
    return std::nullopt;
}

const FormFields* Delivery::form() const {
    if (!form_parsed_) {
        const auto content_type = header("Content-Type");
        const auto boundary =
            content_type ? multipart_boundary(*content_type) : std::nullopt;
        form_ = boundary ? parse_multipart_form(body_, *boundary) : parse_form(body_);
        form_parsed_ = true;
    }
    return form_ ? &*form_ : nullptr;
}

}  // namespace mailhook
