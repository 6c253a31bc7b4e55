// SPDX-License-Identifier: BSD-2-Clause
// A request signed the way a vendor signs (headers, and for some vendors
// the body itself), for a connection as the module loaded it. What it
// builds is checked by the caller with the module's own verify and parse
// (intake.hpp), so a scheme that drifts from the vendor's code fails there.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/connection.hpp"
#include "core/crypto.hpp"
#include "core/timestamp.hpp"

namespace mailhook::cli {

struct SignedRequest {
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct SigningInput {
    std::string url;        // where it goes (Mandrill signs it)
    std::string payload;    // the vendor's JSON (Mandrill: its events; SES: the SES event)
    std::size_t secret = 0;  // which of the connection's secrets (0 secret, 1 secret_next)
    const PrivateKey* private_key = nullptr;  // SendGrid, Postal, SES
    std::string certificate_url;              // SES: SigningCertURL
    EpochMillis now = 0;
};

// Throws Failure when the vendor's scheme needs what `input` lacks.
SignedRequest sign_request(const Connection& connection, const SigningInput& input);

}  // namespace mailhook::cli
