// SPDX-License-Identifier: BSD-2-Clause
#include "http_client.hpp"

#include <charconv>

#include "args.hpp"
#include "cli.hpp"
#include "core/encoding.hpp"
#include "transport.hpp"

namespace mailhook::cli {
namespace {

// A chunked body's chunks, joined; the text as it is when it is not chunked.
std::string dechunk(const std::string& body) {
    std::string out;
    std::size_t at = 0;
    while (at < body.size()) {
        const std::size_t line_end = body.find("\r\n", at);
        if (line_end == std::string::npos) break;
        std::size_t size = 0;
        const char* first = body.data() + at;
        const auto [end, error] = std::from_chars(first, body.data() + line_end, size, 16);
        if (error != std::errc() || end == first) throw Failure("http: bad chunked answer");
        if (size == 0) break;
        out.append(body, line_end + 2, size);
        at = line_end + 2 + size + 2;
    }
    return out;
}

}  // namespace

HttpUrl parse_http_url(const std::string& url) {
    HttpUrl parsed;
    std::string rest;
    if (url.rfind("https://", 0) == 0) {
        parsed.https = true;
        rest = url.substr(8);
    } else if (url.rfind("http://", 0) == 0) {
        rest = url.substr(7);
    } else {
        throw UsageError("not an http:// or https:// URL: " + url);
    }
    const std::size_t slash = rest.find('/');
    parsed.authority = rest.substr(0, slash);
    parsed.target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (parsed.authority.empty() || parsed.authority.find('@') != std::string::npos) {
        throw UsageError("bad URL (no host, or user info in it): " + url);
    }
    const Endpoint endpoint = parse_endpoint(parsed.authority, parsed.https ? "443" : "80");
    if (!endpoint.unix_path.empty()) throw UsageError("bad URL: " + url);
    parsed.host = endpoint.host;
    parsed.port = endpoint.port;
    return parsed;
}

HttpResponse http_post(const std::string& url,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& body, int timeout_ms) {
    const HttpUrl target = parse_http_url(url);
    TlsSettings tls;
    tls.enabled = target.https;
    Transport transport({target.host, target.port, ""}, tls, timeout_ms, "http");
    std::string request = "POST " + target.target + " HTTP/1.1\r\nHost: " + target.authority +
                          "\r\nConnection: close\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n";
    for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
    request += "\r\n" + body;
    transport.write_all(request);
    std::string answer;
    char buffer[16384];
    while (const std::size_t got = transport.read_some(buffer, sizeof buffer)) {
        answer.append(buffer, got);
        if (answer.size() > 16 * 1024 * 1024) throw Failure("http: answer too large");
    }
    const std::size_t head_end = answer.find("\r\n\r\n");
    const auto status = parse_integer(answer.size() >= 12 ? std::string_view(answer).substr(9, 3)
                                                          : std::string_view());
    if (answer.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || !status) {
        throw Failure("http: the server did not answer HTTP");
    }
    HttpResponse response;
    response.status = static_cast<int>(*status);
    response.body = answer.substr(head_end + 4);
    const std::string head = to_lower_ascii(answer.substr(0, head_end));
    if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
        response.body = dechunk(response.body);
    }
    return response;
}

}  // namespace mailhook::cli
