// SPDX-License-Identifier: BSD-2-Clause
// Connections known from Redis, as bytes: one record per connection (its id
// and the fields of its Redis hash, which hold its secrets), kept in shared
// memory for every worker and in a snapshot file in the spool directory, so
// that during a Redis outage every worker, and an nginx restarted, still
// knows them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"

namespace mailhook {

struct KnownConnection {
    std::string id;
    FieldList fields;
};

// u32 id length | id | u32 field count | per field: u32 length | name |
// u32 length | value. Little-endian.
std::string encode_known_connection(std::string_view id, const FieldList& fields);
std::optional<KnownConnection> decode_known_connection(std::string_view bytes);

// "MHC1" | u32 record count | per record: u32 length | record | u32 crc32 of
// everything before it.
std::string encode_connection_snapshot(const std::vector<std::string>& records);
// The records of a snapshot; nullopt when it is damaged (then nothing of it
// is used).
std::optional<std::vector<std::string>> decode_connection_snapshot(std::string_view bytes);

}  // namespace mailhook
