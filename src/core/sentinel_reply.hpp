// SPDX-License-Identifier: BSD-2-Clause
// What Redis Sentinel says about where a primary is.
#pragma once

#include <optional>
#include <string_view>

#include "redis_address.hpp"
#include "redis_reply.hpp"

namespace mailhook {

// A host and port as Sentinel gives them (an IPv6 address unbracketed);
// nothing when they do not make an address.
std::optional<RedisEndpoint> sentinel_endpoint(std::string_view host, std::string_view port);

// SENTINEL get-master-addr-by-name's answer: [host, port]; nothing for a
// nil (the Sentinel does not know the name) or anything malformed.
std::optional<RedisEndpoint> sentinel_primary(const redisReply& reply);

// A +switch-master message, "name old-host old-port new-host new-port":
// the new primary when it is about `name`, else nothing.
std::optional<RedisEndpoint> switched_primary(std::string_view message, std::string_view name);

}  // namespace mailhook
