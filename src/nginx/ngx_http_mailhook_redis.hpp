// SPDX-License-Identifier: BSD-2-Clause
// The worker's Redis: which link a call goes to (one node, or with
// `cluster` the primary of the key's slot: ngx_http_mailhook_redis_cluster),
// and the configuration that says where Redis is and how to reach it
// (mailhook_redis*).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../core/redis_address.hpp"
#include "ngx_http_mailhook.hpp"
#include "ngx_http_mailhook_redis_link.hpp"

namespace mailhook::nginx {

class RedisCluster;

// Everything the mailhook_redis* directives configure, ready for workers.
struct RedisSettings {
    RedisTarget target;  // mailhook_redis, parsed
    RedisLinkSettings link;
    std::vector<RedisNode> nodes;  // one per address of the target
    RedisLinkSettings sentinel_link;  // sentinel=: how to talk to the Sentinels
};

class SentinelWatcher;

class RedisClient {
  public:
    RedisClient(const RedisSettings& settings, MetricsRecorder* metrics, ngx_log_t* log);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    void add_script(const RedisScript* script);
    void start();
    void shutdown();

    // A call now would be sent (or queued until the connection is ready).
    bool accepts_calls() const;
    bool ready() const;

    // `key` is the key the command is about: a cluster sends it to the node
    // serving that key. See RedisLink::call() and RedisLink::eval(); the key
    // of a script call is its first KEYS argument.
    bool call(std::string_view key, std::string_view command, RedisCallback callback,
              void* data);
    bool eval(const RedisScript& script, std::shared_ptr<const RespArgs> args,
              RedisCallback callback, void* data);

    void note_timeout();

    // Called when Redis becomes usable or stops being usable.
    using StateHook = RedisLink::StateHook;
    void set_state_hook(StateHook hook, void* data);

  private:
    RedisLink& route();

    std::vector<std::unique_ptr<RedisLink>> links_;  // standalone and sentinel=: one
    std::unique_ptr<RedisCluster> cluster_;          // with `cluster`
    // sentinel=: the nodes are Sentinels; links_ holds the primary they name.
    std::unique_ptr<SentinelWatcher> sentinel_;
};

// mailhook_redis address ... [cluster | sentinel=master_name] [tls] [user=name]
//                [password=secret] [db=number] [sentinel_user=name]
//                [sentinel_password=secret];
char* set_redis(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
// mailhook_redis_wait replicas [timeout=time];
char* set_redis_wait(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
// From init_main_conf: defaults, the TLS context, addresses or the resolver.
char* configure_redis(ngx_conf_t* cf, MainConf* mcf) noexcept;

}  // namespace mailhook::nginx
