// SPDX-License-Identifier: BSD-2-Clause
#include "sns.hpp"

#include "https_url.hpp"

namespace mailhook {
namespace {

constexpr const char* kNotificationKeys[] = {
    "Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"};
constexpr const char* kConfirmationKeys[] = {
    "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
    "Type"};

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() &&
           text.substr(text.size() - suffix.size()) == suffix;
}

bool is_region_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_certificate_path_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
           c == '/';
}

}  // namespace

std::optional<SnsMessageType> sns_message_type(std::string_view type) {
    if (type == "Notification") return SnsMessageType::notification;
    if (type == "SubscriptionConfirmation") {
        return SnsMessageType::subscription_confirmation;
    }
    if (type == "UnsubscribeConfirmation") {
        return SnsMessageType::unsubscribe_confirmation;
    }
    return std::nullopt;
}

std::optional<std::string> sns_string_to_sign(const json_t* message) {
    const auto type_name = json_string_at(message, "Type");
    const auto type = type_name ? sns_message_type(*type_name) : std::nullopt;
    if (!type) {
        return std::nullopt;
    }
    const bool notification = *type == SnsMessageType::notification;
    const auto append = [&](std::string& out, const char* key) {
        const json_t* value = json_object_get(message, key);
        if (notification && std::string_view(key) == "Subject" &&
            (value == nullptr || json_is_null(value))) {
            return true;  // optional, and a null Subject counts as absent
        }
        if (!json_is_string(value)) {
            return false;
        }
        out.append(key).push_back('\n');
        out.append(json_string_value(value), json_string_length(value));
        out.push_back('\n');
        return true;
    };
    std::string out;
    if (notification) {
        for (const char* key : kNotificationKeys) {
            if (!append(out, key)) return std::nullopt;
        }
    } else {
        for (const char* key : kConfirmationKeys) {
            if (!append(out, key)) return std::nullopt;
        }
    }
    return out;
}

std::optional<DigestAlgorithm> sns_signature_algorithm(std::string_view version) {
    if (version == "1") return DigestAlgorithm::sha1;
    if (version == "2") return DigestAlgorithm::sha256;
    return std::nullopt;
}

bool is_sns_host(std::string_view host) {
    constexpr std::string_view kPrefix = "sns.";
    std::string_view rest = host;
    if (rest.substr(0, kPrefix.size()) != kPrefix) {
        return false;
    }
    rest.remove_prefix(kPrefix.size());
    if (ends_with(rest, ".amazonaws.com.cn")) {
        rest.remove_suffix(std::string_view(".amazonaws.com.cn").size());
    } else if (ends_with(rest, ".amazonaws.com")) {
        rest.remove_suffix(std::string_view(".amazonaws.com").size());
    } else {
        return false;
    }
    if (rest.size() < 3) {
        return false;
    }
    for (const char c : rest) {
        if (!is_region_char(c)) return false;
    }
    return true;
}

bool is_sns_certificate_url(std::string_view url) {
    const auto parsed = parse_https_url(url);
    if (!parsed || !is_sns_host(parsed->host) ||
        url.find('?') != std::string_view::npos ||
        !ends_with(parsed->path, ".pem") || parsed->path.size() <= 5) {
        return false;
    }
    for (const char c : parsed->path) {
        if (!is_certificate_path_char(c)) return false;
    }
    return true;
}

bool is_sns_url(std::string_view url) {
    const auto parsed = parse_https_url(url);
    return parsed && is_sns_host(parsed->host);
}

}  // namespace mailhook
