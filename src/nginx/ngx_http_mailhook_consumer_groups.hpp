// SPDX-License-Identifier: BSD-2-Clause
// mailhook_consumer_group: after each (re)connect the worker sends
// XGROUP CREATE <stream> <group> $ MKSTREAM for every configured group and
// stream (an existing group, BUSYGROUP, is what we want), so consumers of a
// Redis that restarted empty do not get NOGROUP. docs/events.md "Consuming".
#pragma once

#include <string>
#include <vector>

#include "../core/consumer_groups.hpp"
#include "ngx_http_mailhook.hpp"
#include "ngx_http_mailhook_redis.hpp"

namespace mailhook::nginx {

class ConsumerGroupCreator {
  public:
    // False when the group is configured already.
    bool add(ConsumerGroup group);
    bool empty() const { return groups_.empty(); }

    // In the worker, before the first connect: the streams each group goes
    // on (one per bucket with mailhook_key_hash_tag buckets).
    void prepare(ngx_uint_t key_buckets, ngx_log_t* log);
    // The worker's Redis has become ready.
    void create(RedisClient& redis);

  private:
    struct Pending {
        ConsumerGroupCreator* owner;
        ConsumerGroupTarget target;
    };
    static void on_created(void* data, const RedisOutcome& outcome) noexcept;

    std::vector<ConsumerGroup> groups_;
    std::vector<Pending> pending_;  // built once by prepare(): callbacks point into it
    ngx_log_t* log_ = nullptr;
};

// mailhook_consumer_group name [stream ...];
char* set_consumer_group(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;

}  // namespace mailhook::nginx
