// SPDX-License-Identifier: BSD-2-Clause
// Strict parsing of the https URLs vendors ask us to fetch (signing
// certificates, subscription confirmations): what passes here is safe to
// hand to nginx as a proxy_pass target.
#pragma once

#include <optional>
#include <string_view>

namespace mailhook {

struct HttpsUrl {
    std::string_view host;   // lower-case letters, digits, '-' and '.'
    std::string_view path;   // starts with '/'
    std::string_view query;  // without '?'; may be empty
};

// "https://host/path[?query]" and nothing else: no port, no user info, no
// fragment, no upper-case host, no bytes outside printable ASCII, no spaces,
// quotes, '<', '>', '\\', '^', '`', '{', '|', '}'.
std::optional<HttpsUrl> parse_https_url(std::string_view url);

// A host pattern: an exact host, or "*.suffix" (one or more labels before
// the suffix). Case-sensitive: parse_https_url only yields lower case.
bool host_matches(std::string_view host, std::string_view pattern);
// Any of the comma-separated patterns (blanks around commas ignored).
bool host_matches_any(std::string_view host, std::string_view patterns);

}  // namespace mailhook
