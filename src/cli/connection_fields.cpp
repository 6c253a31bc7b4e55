// SPDX-License-Identifier: BSD-2-Clause
#include "connection_fields.hpp"

#include "core/connection.hpp"
#include "core/vendor.hpp"

namespace mailhook::cli {
namespace {

std::string vendor_list() {
    std::string names;
    for (const std::string_view name : vendor_names()) {
        if (!names.empty()) names += ", ";
        names += name;
    }
    return names;
}

// The module's verdict on fields without their on/off switch.
std::string refusal(std::string_view id, const ConnectionFields& fields) {
    std::string reason;
    load_connection(id, fields, reason);
    return reason;
}

}  // namespace

std::optional<Connection> load_connection(std::string_view id, const ConnectionFields& fields,
                                          std::string& reason) {
    FieldList list;
    for (const auto& [name, value] : fields) {
        if (name != "enabled" && name != "disabled") list.emplace_back(name, value);
    }
    auto connection = connection_from_fields(id, list, reason);
    if (!connection) return std::nullopt;
    const Vendor* vendor = find_vendor(connection->vendor);
    if (vendor == nullptr) {
        reason = "unknown vendor \"" + connection->vendor + "\" (vendors: " + vendor_list() + ")";
        return std::nullopt;
    }
    if (Verdict verdict = vendor->prepare(*connection); !verdict.ok()) {
        reason = verdict.reason;
        return std::nullopt;
    }
    return connection;
}

bool is_disabled(const ConnectionFields& fields) {
    FieldList list;
    for (const auto& [name, value] : fields) {
        if (name == "enabled" || name == "disabled") list.emplace_back(name, value);
    }
    list.emplace_back("vendor", "-");
    std::string error;
    return !connection_from_fields("-", list, error) && error.empty();
}

FieldCheck check_fields(std::string_view id, const ConnectionFields& fields) {
    FieldCheck check;
    if (!is_valid_connection_id(id)) {
        check.reason = "connection ids are 1 to 128 of a-z A-Z 0-9 - _ . :";
        return check;
    }
    check.reason = refusal(id, fields);
    // Both secrets of a rotation: say which one is refused.
    if (!check.reason.empty() && fields.count("secret") && fields.count("secret_next")) {
        for (const char* name : {"secret", "secret_next"}) {
            ConnectionFields alone = fields;
            alone.erase(name == std::string_view("secret") ? "secret_next" : "secret");
            if (std::string why = refusal(id, alone); !why.empty()) {
                check.reason = std::string(name) + ": " + why;
                break;
            }
        }
    }
    if (check.reason.empty()) {
        check.state = is_disabled(fields) ? FieldCheck::State::disabled
                                          : FieldCheck::State::usable;
    }
    return check;
}

bool is_reserved_field(std::string_view name) {
    return name == "vendor" || name == "secret" || name == "secret_next" ||
           name == "tenant" || name == "enabled" || name == "disabled";
}

std::string secret_summary(std::string_view secret) {
    return "set (" + std::to_string(secret.size()) + " bytes)";
}

}  // namespace mailhook::cli
