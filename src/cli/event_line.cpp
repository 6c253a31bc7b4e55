// SPDX-License-Identifier: BSD-2-Clause
#include "event_line.hpp"

#include "core/json.hpp"

namespace mailhook::cli {
namespace {

// Control characters would let an event rewrite the operator's terminal.
std::string printable(std::string_view text, std::size_t limit) {
    std::string out;
    for (const char c : text.substr(0, limit)) {
        out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
    }
    if (text.size() > limit) out += "...";
    return out;
}

}  // namespace

std::string event_line(std::string_view event_json) {
    const JsonPtr event = parse_json(event_json);
    if (!event || !json_is_object(event.get())) return printable(event_json, 400);
    const auto text = [&](const char* name) {
        return std::string(json_string_at(event.get(), name).value_or(""));
    };
    std::string line = text("received_at") + " " + text("type") + " " + text("vendor") + "/" +
                       text("connection") + " " + text("recipient");
    for (const char* name : {"bounce_class", "smtp_status"}) {
        if (auto value = json_string_at(event.get(), name)) line += " " + std::string(*value);
    }
    for (const char* name : {"mta_response", "description", "click_url"}) {
        if (auto value = json_string_at(event.get(), name)) {
            line += " " + std::string(*value);
            break;
        }
    }
    return printable(line, 400);
}

std::string event_id(std::string_view event_json) {
    const JsonPtr event = parse_json(event_json);
    if (!event) return {};
    return std::string(json_string_at(event.get(), "id").value_or(""));
}

}  // namespace mailhook::cli
