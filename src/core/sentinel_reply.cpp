// SPDX-License-Identifier: BSD-2-Clause
#include "sentinel_reply.hpp"

#include <string>
#include <vector>

namespace mailhook {
namespace {

std::vector<std::string_view> words(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = std::min(text.find(' ', at), text.size());
        if (end > at) {
            out.push_back(text.substr(at, end - at));
        }
        at = end + 1;
    }
    return out;
}

}  // namespace

std::optional<RedisEndpoint> sentinel_endpoint(std::string_view host, std::string_view port) {
    if (host.empty() || host.find_first_of("[]/ \t") != std::string_view::npos) {
        return std::nullopt;
    }
    const bool v6 = host.find(':') != std::string_view::npos;
    return parse_redis_endpoint((v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" +
                                std::string(port));
}

std::optional<RedisEndpoint> sentinel_primary(const redisReply& reply) {
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < 2; ++i) {
        if (reply.element[i]->type != REDIS_REPLY_STRING) {
            return std::nullopt;
        }
    }
    return sentinel_endpoint(reply_text(*reply.element[0]), reply_text(*reply.element[1]));
}

std::optional<RedisEndpoint> switched_primary(std::string_view message, std::string_view name) {
    const auto parts = words(message);
    if (parts.size() != 5 || parts[0] != name) {
        return std::nullopt;
    }
    return sentinel_endpoint(parts[3], parts[4]);
}

}  // namespace mailhook
