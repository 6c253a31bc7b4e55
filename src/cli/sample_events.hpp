// SPDX-License-Identifier: BSD-2-Clause
// A small delivery each vendor could send (one delivered event), for test
// requests: what `mailhook sign` signs when no --body is given.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailhook::cli {

struct SampleFields {
    std::string recipient;  // the event's recipient
    std::string id;         // unique per request: a new event, not a duplicate
    std::int64_t now_ms = 0;
};

// The body (for Mandrill: the JSON of its mandrill_events field; for SES:
// the SES event inside the SNS message); nullopt for a vendor without one.
std::optional<std::string> sample_body(std::string_view vendor, const SampleFields& fields);

}  // namespace mailhook::cli
