// SPDX-License-Identifier: BSD-2-Clause
// A connection: one ESP account sending to us (docs/design.md §3.2).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto.hpp"

namespace mailhook {

struct Connection {
    std::string id;
    std::string vendor;
    std::optional<std::string> tenant;
    // `secret` first, then `secret_next` during a rotation: either verifies.
    std::vector<std::string> secrets;
    // Vendor options (signature_header, topic_arn, tolerance, ...).
    std::map<std::string, std::string, std::less<>> options;
    // Material the vendor derived from the secrets once, when the connection
    // was loaded, so requests never re-parse them: decoded HMAC keys, parsed
    // public keys.
    std::vector<std::string> signing_keys;
    std::vector<PublicKey> public_keys;

    std::optional<std::string_view> option(std::string_view name) const;
    // An on/off option: 1/true/yes/on or 0/false/no/off (any case);
    // nullopt when it is absent or says neither.
    std::optional<bool> flag(std::string_view name) const;
    // Where suppression entries of this connection live.
    std::string_view suppression_scope() const {
        return tenant ? std::string_view(*tenant) : std::string_view(id);
    }
};

using FieldList = std::vector<std::pair<std::string, std::string>>;

// Builds a connection from the fields of `mailhook:connection:{id}` or a
// static `mailhook_connection` directive. nullopt with `error` set when the
// fields do not describe a usable connection; nullopt with an empty `error`
// when the connection is disabled.
std::optional<Connection> connection_from_fields(std::string_view id,
                                                 const FieldList& fields,
                                                 std::string& error);

// Connection ids travel in URLs and Redis keys: keep them boring.
bool is_valid_connection_id(std::string_view id);

}  // namespace mailhook
