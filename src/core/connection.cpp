// SPDX-License-Identifier: BSD-2-Clause
#include "connection.hpp"

#include "key_layout.hpp"

#include "encoding.hpp"

namespace mailhook {

std::optional<std::string_view> Connection::option(std::string_view name) const {
    const auto it = options.find(name);
    if (it == options.end() || it->second.empty()) {
        return std::nullopt;
    }
    return std::string_view(it->second);
}

namespace {

bool is_false(std::string_view value) {
    return value == "0" || value == "false" || value == "no" || value == "off";
}

bool is_true(std::string_view value) {
    return value == "1" || value == "true" || value == "yes" || value == "on";
}

}  // namespace

std::optional<bool> Connection::flag(std::string_view name) const {
    const auto value = option(name);
    if (!value) return std::nullopt;
    const std::string lower = to_lower_ascii(trim_ascii(*value));
    if (is_true(lower)) return true;
    if (is_false(lower)) return false;
    return std::nullopt;
}

std::optional<Connection> connection_from_fields(std::string_view id,
                                                 const FieldList& fields,
                                                 std::string& error) {
    error.clear();
    Connection connection;
    connection.id = std::string(id);
    std::string secret;
    std::string secret_next;
    for (const auto& [name, value] : fields) {
        if (name == "vendor") {
            connection.vendor = value;
        } else if (name == "secret") {
            secret = value;
        } else if (name == "secret_next") {
            secret_next = value;
        } else if (name == "tenant") {
            if (!value.empty()) connection.tenant = value;
        } else if (name == "enabled") {
            if (is_false(value)) return std::nullopt;
        } else if (name == "disabled") {
            if (!is_false(value)) return std::nullopt;
        } else {
            connection.options[name] = value;
        }
    }
    if (connection.vendor.empty()) {
        error = "no vendor field";
        return std::nullopt;
    }
    // The tenant names keys and may be their hash tag (key_layout.hpp).
    if (connection.tenant && !is_valid_key_scope(*connection.tenant)) {
        error = "tenant must be 1 to 128 bytes without braces or control characters";
        return std::nullopt;
    }
    if (!secret.empty()) connection.secrets.push_back(std::move(secret));
    if (!secret_next.empty()) connection.secrets.push_back(std::move(secret_next));
    return connection;
}

bool is_valid_connection_id(std::string_view id) {
    if (id.empty() || id.size() > 128) {
        return false;
    }
    for (const char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                        c == '.' || c == ':';
        if (!ok) return false;
    }
    return id != "." && id != "..";
}

}  // namespace mailhook
