// SPDX-License-Identifier: BSD-2-Clause
#include "cluster_topology.hpp"

#include <algorithm>
#include <string>

namespace mailhook {
namespace {

std::string_view text_of(const redisReply* reply) {
    if (reply == nullptr || (reply->type != REDIS_REPLY_STRING &&
                             reply->type != REDIS_REPLY_STATUS) || reply->str == nullptr) {
        return {};
    }
    return {reply->str, reply->len};
}

// A number given as an integer or as digits.
std::optional<long long> number_of(const redisReply* reply) {
    if (reply == nullptr) {
        return std::nullopt;
    }
    if (reply->type == REDIS_REPLY_INTEGER) {
        return reply->integer;
    }
    const std::string_view text = text_of(reply);
    if (text.empty() || text.size() > 18) {
        return std::nullopt;
    }
    long long value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

bool is_array(const redisReply* reply) {
    return reply != nullptr && reply->type == REDIS_REPLY_ARRAY;
}

// The value after `name` in a RESP2 map (a flat array of name, value, ...).
const redisReply* field(const redisReply* map, std::string_view name) {
    for (std::size_t i = 0; i + 1 < map->elements; i += 2) {
        if (text_of(map->element[i]) == name) {
            return map->element[i + 1];
        }
    }
    return nullptr;
}

std::optional<std::uint16_t> port_of(const redisReply* reply) {
    const auto number = number_of(reply);
    if (!number || *number <= 0 || *number > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(*number);
}

bool valid_range(long long first, long long last) {
    return first >= 0 && first <= last && last < static_cast<long long>(kClusterSlots);
}

std::optional<RedisEndpoint> shard_primary(const redisReply* nodes, bool tls,
                                           std::string_view replying_host) {
    const redisReply* chosen = nullptr;
    for (std::size_t i = 0; i < nodes->elements; ++i) {
        const redisReply* node = nodes->element[i];
        if (!is_array(node) || text_of(field(node, "role")) != "master") {
            continue;
        }
        if (chosen == nullptr || text_of(field(node, "health")) == "online") {
            chosen = node;
        }
    }
    if (chosen == nullptr) {
        return std::nullopt;
    }
    std::optional<std::uint16_t> port;
    if (tls) {
        port = port_of(field(chosen, "tls-port"));
    }
    if (!port) {
        port = port_of(field(chosen, "port"));
    }
    if (!port) {
        return std::nullopt;
    }
    RedisEndpoint endpoint;
    const std::string_view ip = text_of(field(chosen, "ip"));
    endpoint.host = std::string(ip.empty() || ip == "?" ? replying_host : ip);
    endpoint.port = *port;
    return endpoint;
}

}  // namespace

std::optional<std::vector<ClusterShard>> parse_cluster_shards(const redisReply& reply, bool tls,
                                                              std::string_view replying_host) {
    if (reply.type != REDIS_REPLY_ARRAY) {
        return std::nullopt;
    }
    std::vector<ClusterShard> shards;
    for (std::size_t i = 0; i < reply.elements; ++i) {
        const redisReply* shard = reply.element[i];
        if (!is_array(shard)) {
            return std::nullopt;
        }
        const redisReply* slots = field(shard, "slots");
        const redisReply* nodes = field(shard, "nodes");
        if (!is_array(slots) || !is_array(nodes) || slots->elements % 2 != 0) {
            return std::nullopt;
        }
        ClusterShard parsed;
        for (std::size_t s = 0; s + 1 < slots->elements; s += 2) {
            const auto first = number_of(slots->element[s]);
            const auto last = number_of(slots->element[s + 1]);
            if (!first || !last || !valid_range(*first, *last)) {
                return std::nullopt;
            }
            parsed.slots.emplace_back(*first, *last);
        }
        auto primary = shard_primary(nodes, tls, replying_host);
        if (!primary || parsed.slots.empty()) {
            continue;
        }
        parsed.primary = std::move(*primary);
        shards.push_back(std::move(parsed));
    }
    return shards;
}

std::optional<std::vector<ClusterShard>> parse_cluster_slots(const redisReply& reply,
                                                             std::string_view replying_host) {
    if (reply.type != REDIS_REPLY_ARRAY) {
        return std::nullopt;
    }
    std::vector<ClusterShard> shards;
    for (std::size_t i = 0; i < reply.elements; ++i) {
        const redisReply* range = reply.element[i];
        if (!is_array(range) || range->elements < 3 || !is_array(range->element[2]) ||
            range->element[2]->elements < 2) {
            return std::nullopt;
        }
        const auto first = number_of(range->element[0]);
        const auto last = number_of(range->element[1]);
        const redisReply* primary = range->element[2];
        const auto port = port_of(primary->element[1]);
        if (!first || !last || !valid_range(*first, *last) || !port) {
            return std::nullopt;
        }
        const std::string_view host = text_of(primary->element[0]);
        RedisEndpoint endpoint;
        endpoint.host = std::string(host.empty() || host == "?" ? replying_host : host);
        endpoint.port = *port;
        // One entry per range; ranges of one primary are kept together.
        auto same = std::find_if(shards.begin(), shards.end(), [&](const ClusterShard& s) {
            return s.primary.host == endpoint.host && s.primary.port == endpoint.port;
        });
        if (same == shards.end()) {
            shards.push_back({std::move(endpoint), {}});
            same = shards.end() - 1;
        }
        same->slots.emplace_back(*first, *last);
    }
    return shards;
}

std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view error,
                                                      std::string_view replying_host) {
    ClusterRedirect redirect{ClusterRedirect::Kind::moved, 0, {}};
    std::string_view rest;
    if (error.substr(0, 6) == "MOVED ") {
        rest = error.substr(6);
    } else if (error.substr(0, 4) == "ASK ") {
        redirect.kind = ClusterRedirect::Kind::ask;
        rest = error.substr(4);
    } else {
        return std::nullopt;
    }
    const std::size_t space = rest.find(' ');
    if (space == std::string_view::npos || space == 0 || space > 5) {
        return std::nullopt;
    }
    std::uint32_t slot = 0;
    for (const char c : rest.substr(0, space)) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        slot = slot * 10 + static_cast<std::uint32_t>(c - '0');
    }
    const std::string_view address = rest.substr(space + 1);
    // host:port, the host an IPv4 address, a name or a bare IPv6 address.
    const std::size_t colon = address.rfind(':');
    if (slot >= kClusterSlots || colon == std::string_view::npos ||
        address.find(' ') != std::string_view::npos) {
        return std::nullopt;
    }
    std::uint32_t port = 0;
    const std::string_view digits = address.substr(colon + 1);
    for (const char c : digits) {
        if (c < '0' || c > '9' || port > 65535) {
            return std::nullopt;
        }
        port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (digits.empty() || port == 0 || port > 65535) {
        return std::nullopt;
    }
    std::string_view host = address.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    redirect.slot = slot;
    redirect.target.host = std::string(host.empty() ? replying_host : host);
    redirect.target.port = static_cast<std::uint16_t>(port);
    return redirect;
}

void ClusterSlotTable::assign(std::uint32_t first, std::uint32_t last, int node) {
    for (std::uint32_t slot = first; slot <= last && slot < kClusterSlots; ++slot) {
        nodes_[slot] = node;
    }
}

void ClusterSlotTable::forget(int node) {
    std::replace(nodes_.begin(), nodes_.end(), node, kUnknown);
}

std::uint32_t ClusterSlotTable::unknown_slots() const {
    return static_cast<std::uint32_t>(std::count(nodes_.begin(), nodes_.end(), kUnknown));
}

}  // namespace mailhook
