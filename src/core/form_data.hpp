// SPDX-License-Identifier: BSD-2-Clause
// multipart/form-data bodies (RFC 7578), as Mailgun's legacy webhooks send
// them when an event carries attachments.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "encoding.hpp"

namespace mailhook {

// The boundary of a `multipart/form-data; boundary=...` Content-Type value;
// nullopt for any other media type or a missing boundary.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// The text fields of a multipart/form-data body, in order; parts that carry
// a file (a `filename` parameter: attachments) are left out. nullopt when
// the body is not delimited by `boundary` as RFC 2046 says, a part has no
// `form-data` name, or a name or value holds a NUL byte (as parse_form).
std::optional<FormFields> parse_multipart_form(std::string_view body,
                                               std::string_view boundary);

}  // namespace mailhook
