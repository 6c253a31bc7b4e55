// SPDX-License-Identifier: BSD-2-Clause
// One stored event (schema 1, docs/events.md) as one line of text.
#pragma once

#include <string>
#include <string_view>

namespace mailhook::cli {

// "2026-12-01T10:30:00.123Z bounced sendgrid/c42 a@example.com hard 5.1.1
// 550 5.1.1 user unknown"; the JSON text itself when it does not parse.
std::string event_line(std::string_view event_json);

// The event's "id", or empty.
std::string event_id(std::string_view event_json);

}  // namespace mailhook::cli
