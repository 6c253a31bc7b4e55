// SPDX-License-Identifier: BSD-2-Clause
#include "redis_address.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kUnixPrefix = "unix:";

std::optional<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) {
        return std::nullopt;
    }
    unsigned value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

// `name=value` with a value: false (and `error`) when empty or given twice.
bool take_value(std::string_view arg, std::string_view name, std::string& value,
                std::string& error) {
    const std::string_view text = arg.substr(name.size() + 1);
    if (text.empty() || !value.empty()) {
        error = "\"" + std::string(name) + "=\" is " + (text.empty() ? "empty" : "given twice");
        return false;
    }
    value = std::string(text);
    return true;
}

// A host name or IPv4 address: no brackets, spaces or colons.
bool is_plain_host(std::string_view host) {
    return !host.empty() && host.find_first_of("[]/ :\t") == std::string_view::npos;
}

}  // namespace

std::string RedisEndpoint::describe() const {
    if (is_unix()) {
        return std::string(kUnixPrefix) + unix_path;
    }
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<RedisEndpoint> parse_redis_endpoint(std::string_view address) {
    RedisEndpoint endpoint;
    if (starts_with(address, kUnixPrefix)) {
        endpoint.unix_path = std::string(address.substr(kUnixPrefix.size()));
        if (endpoint.unix_path.empty()) {
            return std::nullopt;
        }
        return endpoint;
    }
    std::string_view host = address;
    std::string_view port;
    if (starts_with(address, "[")) {
        const std::size_t close = address.find(']');
        if (close == std::string_view::npos || close == 1) {
            return std::nullopt;
        }
        host = address.substr(1, close - 1);
        const std::string_view rest = address.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') {
                return std::nullopt;
            }
            port = rest.substr(1);
            if (port.empty()) {
                return std::nullopt;
            }
        }
        if (host.find_first_of("[]/ \t") != std::string_view::npos) {
            return std::nullopt;
        }
    } else {
        const std::size_t colon = address.find(':');
        if (colon != std::string_view::npos) {
            host = address.substr(0, colon);
            port = address.substr(colon + 1);
            if (port.empty()) {
                return std::nullopt;
            }
        }
        if (!is_plain_host(host)) {
            return std::nullopt;
        }
    }
    if (!port.empty()) {
        const auto number = parse_port(port);
        if (!number) {
            return std::nullopt;
        }
        endpoint.port = *number;
    }
    endpoint.host = std::string(host);
    return endpoint;
}

std::optional<RedisTarget> parse_redis_target(const std::vector<std::string_view>& args,
                                              std::string& error) {
    RedisTarget target;
    bool have_db = false;
    for (const std::string_view arg : args) {
        if (arg == "cluster") {
            if (target.cluster) {
                error = "\"cluster\" is given twice";
                return std::nullopt;
            }
            target.cluster = true;
        } else if (arg == "tls") {
            if (target.tls) {
                error = "\"tls\" is given twice";
                return std::nullopt;
            }
            target.tls = true;
        } else if (starts_with(arg, "user=")) {
            target.user = std::string(arg.substr(5));
            if (target.user.empty()) {
                error = "\"user=\" is empty";
                return std::nullopt;
            }
        } else if (starts_with(arg, "password=")) {
            target.password = std::string(arg.substr(9));
            if (target.password.empty()) {
                error = "\"password=\" is empty";
                return std::nullopt;
            }
        } else if (const auto name = arg.substr(0, arg.find('='));
                   arg.find('=') != std::string_view::npos &&
                   (name == "sentinel" || name == "sentinel_user" ||
                    name == "sentinel_password")) {
            std::string& value = name == "sentinel"        ? target.sentinel
                                 : name == "sentinel_user" ? target.sentinel_user
                                                           : target.sentinel_password;
            if (!take_value(arg, name, value, error)) {
                return std::nullopt;
            }
        } else if (starts_with(arg, "db=")) {
            const std::string_view number = arg.substr(3);
            std::int64_t value = 0;
            bool digits = !number.empty() && number.size() <= 9;
            for (const char c : number) {
                digits = digits && c >= '0' && c <= '9';
                value = value * 10 + (c - '0');
            }
            if (!digits || have_db) {
                error = "invalid \"" + std::string(arg) + "\"";
                return std::nullopt;
            }
            have_db = true;
            target.db = value;
        } else if (arg.find('=') != std::string_view::npos) {
            error = "invalid parameter \"" + std::string(arg) + "\"";
            return std::nullopt;
        } else if (const auto endpoint = parse_redis_endpoint(arg)) {
            target.endpoints.push_back(*endpoint);
        } else {
            error = "invalid address \"" + std::string(arg) + "\"";
            return std::nullopt;
        }
    }
    if (target.endpoints.empty()) {
        error = "no address";
        return std::nullopt;
    }
    if (target.cluster && target.uses_sentinel()) {
        error = "\"sentinel=\" with \"cluster\"";
        return std::nullopt;
    }
    if (target.endpoints.size() > 1 && !target.cluster && !target.uses_sentinel()) {
        error = "more than one address (seed nodes of a cluster need \"cluster\")";
        return std::nullopt;
    }
    if (target.cluster && have_db) {
        error = "\"db=\" with \"cluster\" (a cluster has database 0 only)";
        return std::nullopt;
    }
    if (!target.user.empty() && target.password.empty()) {
        error = "\"user=\" needs \"password=\"";
        return std::nullopt;
    }
    if (!target.uses_sentinel() &&
        (!target.sentinel_user.empty() || !target.sentinel_password.empty())) {
        error = "\"sentinel_user=\" and \"sentinel_password=\" need \"sentinel=\"";
        return std::nullopt;
    }
    if (!target.sentinel_user.empty() && target.sentinel_password.empty()) {
        error = "\"sentinel_user=\" needs \"sentinel_password=\"";
        return std::nullopt;
    }
    return target;
}

}  // namespace mailhook
