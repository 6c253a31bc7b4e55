// SPDX-License-Identifier: BSD-2-Clause
// Redis Sentinel: where the primary named by `mailhook_redis ...
// sentinel=name` is. The Sentinels are asked in turn (SENTINEL
// get-master-addr-by-name) whenever the primary's link is not up, one
// Sentinel link is subscribed to +switch-master so a failover moves the
// link at once, and the primary's link itself refuses a node whose ROLE is
// not master and drops the connection on READONLY (RedisLinkSettings::
// primary_only). docs/redis.md "Sentinel".
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../core/sentinel_reply.hpp"
#include "ngx_http_mailhook_redis_link.hpp"

namespace mailhook::nginx {

struct RedisSettings;

class SentinelWatcher {
  public:
    // `primary` is the link every call goes to; the watcher points it at
    // the primary (RedisLink::move_to) and never starts it otherwise.
    SentinelWatcher(const RedisSettings& settings, RedisLink& primary, MetricsRecorder* metrics,
                    ngx_log_t* log);
    ~SentinelWatcher();
    SentinelWatcher(const SentinelWatcher&) = delete;
    SentinelWatcher& operator=(const SentinelWatcher&) = delete;

    void start();
    void shutdown();

  private:
    void tick();
    void ask();
    void found(const RedisEndpoint& endpoint);
    bool node_for(const RedisEndpoint& endpoint, RedisNode& node);
    void subscribe();
    void complain(const std::string& why);
    static void on_tick(ngx_event_t* ev) noexcept;
    static void on_answer(void* data, const RedisOutcome& outcome) noexcept;
    static void on_subscribed(void* data, const RedisOutcome& outcome) noexcept;
    static void on_message(void* data, const redisReply* message) noexcept;
    static void on_events_state(void* data, bool ready, std::uint64_t reconnects);

    const RedisSettings& settings_;
    RedisLink& primary_;
    ngx_log_t log_;
    std::string ask_command_;
    std::vector<RedisNode> sentinels_;
    RedisNode primary_node_;  // where primary_ is pointed
    std::vector<std::unique_ptr<RedisLink>> queries_;  // one per Sentinel
    std::unique_ptr<RedisLink> events_;               // subscribed to +switch-master
    std::size_t next_query_ = 0;                      // the Sentinel asked next
    std::size_t events_sentinel_ = 0;
    unsigned events_down_ticks_ = 0;
    unsigned retry_ticks_ = 0;  // since the primary was last tried
    unsigned retry_wait_ = 0;   // ticks before the same lost primary is tried again
    bool asking_ = false;
    bool complained_ = false;  // "no Sentinel knows" logged once per outage
    bool stopping_ = false;
    ngx_pool_t* pool_ = nullptr;  // socket addresses of the primaries found
    ngx_connection_t timer_owner_;
    ngx_event_t tick_;
};

}  // namespace mailhook::nginx
