// SPDX-License-Identifier: BSD-2-Clause
// The fields of a connection hash (docs/design.md §3.2) as the command
// edits them, and what the module will make of them: every edit is checked
// with the module's own parsers (connection_from_fields, Vendor::prepare)
// before anything is written.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/connection.hpp"

namespace mailhook::cli {

using ConnectionFields = std::map<std::string, std::string>;

struct FieldCheck {
    enum class State { usable, disabled, unusable };
    State state = State::unusable;
    std::string reason;  // why unusable; never contains a secret

    bool usable_when_enabled() const { return state != State::unusable; }
};

// What the module does with these fields: uses them, treats the connection
// as disabled (its secrets are still checked), or refuses them (500 for
// every request) and why.
FieldCheck check_fields(std::string_view id, const ConnectionFields& fields);

// The connection as the module loads it (parsed and prepared by its
// vendor), ignoring its on/off switch; nullopt with `reason` when the module
// would refuse it.
std::optional<Connection> load_connection(std::string_view id, const ConnectionFields& fields,
                                          std::string& reason);

// Whether the fields switch the connection off (enabled=0 / disabled=1).
bool is_disabled(const ConnectionFields& fields);

// Fields the command sets through its own flags, never through --option.
bool is_reserved_field(std::string_view name);

// "set (44 bytes)": no digest either, since a short digest of a weak
// password pasted into a ticket can be searched for offline.
std::string secret_summary(std::string_view secret);

}  // namespace mailhook::cli
