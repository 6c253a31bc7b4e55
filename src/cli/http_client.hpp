// SPDX-License-Identifier: BSD-2-Clause
// One HTTP/1.1 POST over the command's transport (http or https with the
// system's CAs), for `mailhook sign --send`.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mailhook::cli {

struct HttpUrl {
    bool https = false;
    std::string host;    // without brackets
    std::string port;    // "80" / "443" when the URL names none
    std::string target;  // path and query, at least "/"
    std::string authority;  // the Host header: host[:port] as written
};

// "http[s]://host[:port][/path]"; throws UsageError.
HttpUrl parse_http_url(const std::string& url);

struct HttpResponse {
    int status = 0;
    std::string body;
};

// Throws Failure when the server cannot be reached or answers no HTTP.
HttpResponse http_post(const std::string& url,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& body, int timeout_ms);

}  // namespace mailhook::cli
