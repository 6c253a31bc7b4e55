// SPDX-License-Identifier: BSD-2-Clause
#include "https_url.hpp"

#include "encoding.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kScheme = "https://";

bool is_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

bool is_url_char(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) return false;
    switch (c) {
        case '"': case '<': case '>': case '\\': case '^': case '`':
        case '{': case '|': case '}': case '#':
            return false;
        default:
            return true;
    }
}

bool valid_host(std::string_view host) {
    if (host.empty() || host.size() > 253 || host.front() == '.' ||
        host.back() == '.' || host.front() == '-') {
        return false;
    }
    char previous = '\0';
    for (const char c : host) {
        if (!is_host_char(c) || (c == '.' && previous == '.')) return false;
        previous = c;
    }
    return true;
}

}  // namespace

std::optional<HttpsUrl> parse_https_url(std::string_view url) {
    if (url.size() > 4096 || url.substr(0, kScheme.size()) != kScheme) {
        return std::nullopt;
    }
    for (const char c : url) {
        if (!is_url_char(c)) return std::nullopt;
    }
    const std::string_view rest = url.substr(kScheme.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    HttpsUrl parsed;
    parsed.host = rest.substr(0, slash);
    if (!valid_host(parsed.host)) {
        return std::nullopt;
    }
    std::string_view target = rest.substr(slash);
    const std::size_t question = target.find('?');
    parsed.path = target.substr(0, question);
    if (question != std::string_view::npos) {
        parsed.query = target.substr(question + 1);
    }
    // No dot segments: the path goes to nginx as it is.
    if (parsed.path.find("/../") != std::string_view::npos ||
        parsed.path.find("/./") != std::string_view::npos ||
        (parsed.path.size() >= 3 &&
         parsed.path.substr(parsed.path.size() - 3) == "/..") ||
        parsed.path.find("//") != std::string_view::npos) {
        return std::nullopt;
    }
    return parsed;
}

bool host_matches(std::string_view host, std::string_view pattern) {
    if (pattern.substr(0, 2) != "*.") {
        return !pattern.empty() && host == pattern;
    }
    // ".example.com"; parse_https_url allows no empty labels, so anything
    // longer that ends with it has at least one label in front.
    const std::string_view suffix = pattern.substr(1);
    return host.size() > suffix.size() &&
           host.substr(host.size() - suffix.size()) == suffix;
}

bool host_matches_any(std::string_view host, std::string_view patterns) {
    while (!patterns.empty()) {
        const std::size_t comma = patterns.find(',');
        const std::string_view pattern = trim_ascii(patterns.substr(0, comma));
        if (host_matches(host, pattern)) return true;
        if (comma == std::string_view::npos) break;
        patterns.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace mailhook
