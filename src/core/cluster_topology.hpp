// SPDX-License-Identifier: BSD-2-Clause
// Redis Cluster as a client sees it: which primary serves each slot (from
// CLUSTER SHARDS, or CLUSTER SLOTS before Redis 7), and the redirects a
// node answers when a slot has moved (MOVED) or is moving (ASK).
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "key_slot.hpp"
#include "redis_address.hpp"

namespace mailhook {

// One primary and the slot ranges (first, last; inclusive) it serves.
struct ClusterShard {
    RedisEndpoint primary;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> slots;
};

// A CLUSTER SHARDS reply (RESP2 maps as flat arrays). Each shard's online
// primary (else any primary) at its IP address, on its tls-port when `tls`
// and the node has one. `replying_host` stands in for an empty address.
// Shards without slots or without a primary are left out; nullopt when the
// reply has another shape.
std::optional<std::vector<ClusterShard>> parse_cluster_shards(const redisReply& reply, bool tls,
                                                              std::string_view replying_host);

// A CLUSTER SLOTS reply: [first, last, [host, port, id, ...], replicas...].
std::optional<std::vector<ClusterShard>> parse_cluster_slots(const redisReply& reply,
                                                             std::string_view replying_host);

// "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381". An empty host
// (":6381", a node that does not know its address) is `replying_host`.
struct ClusterRedirect {
    enum class Kind { moved, ask };
    Kind kind;
    std::uint32_t slot;
    RedisEndpoint target;
};
std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view error,
                                                      std::string_view replying_host);
inline bool is_cluster_redirect(std::string_view error) {
    return error.substr(0, 6) == "MOVED " || error.substr(0, 4) == "ASK ";
}

// Which node (an index the caller gives out) serves each slot.
class ClusterSlotTable {
  public:
    static constexpr int kUnknown = -1;

    ClusterSlotTable() : nodes_(kClusterSlots, kUnknown) {}

    int node(std::uint32_t slot) const { return slot < kClusterSlots ? nodes_[slot] : kUnknown; }
    void assign(std::uint32_t first, std::uint32_t last, int node);
    // Slots of `node` become unknown.
    void forget(int node);
    void clear() { nodes_.assign(kClusterSlots, kUnknown); }
    // Slots no node serves.
    std::uint32_t unknown_slots() const;

  private:
    std::vector<int> nodes_;
};

}  // namespace mailhook
