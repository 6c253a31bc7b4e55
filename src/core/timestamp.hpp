// SPDX-License-Identifier: BSD-2-Clause
// Vendor timestamps in, RFC 3339 UTC out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailhook {

// Milliseconds since the Unix epoch.
using EpochMillis = std::int64_t;

// "2024-01-15T10:30:00Z"
std::string format_rfc3339_seconds(EpochMillis at);
// "2024-01-15T10:30:00.123Z"
std::string format_rfc3339_millis(EpochMillis at);

// ISO 8601 / RFC 3339 date-time with 'Z' or a numeric offset (+01:00, +0100),
// optional fraction; also "YYYY-MM-DD HH:MM:SS" taken as UTC.
std::optional<EpochMillis> parse_iso8601(std::string_view text);
// Decimal epoch seconds, integral or fractional ("1529006854.329574").
std::optional<EpochMillis> parse_epoch_seconds(std::string_view text);
// Either form.
std::optional<EpochMillis> parse_vendor_time(std::string_view text);

}  // namespace mailhook
