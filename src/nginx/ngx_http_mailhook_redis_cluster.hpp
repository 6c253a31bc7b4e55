// SPDX-License-Identifier: BSD-2-Clause
// A Redis Cluster seen from one worker: the slot table (CLUSTER SHARDS from
// a seed, refreshed periodically and after redirects), one pipelined link
// per primary, and every call sent to the primary of its key's slot. A call
// answered MOVED goes to the new primary (the table learns it), ASK to the
// importing node behind ASKING, TRYAGAIN is retried for a short while. The
// store script is idempotent (dedup), so a resent store is safe.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "../core/cluster_topology.hpp"
#include "ngx_http_mailhook_redis_link.hpp"

namespace mailhook::nginx {

struct RedisSettings;

class RedisCluster {
  public:
    RedisCluster(const RedisSettings& settings, MetricsRecorder* metrics, ngx_log_t* log);
    ~RedisCluster();
    RedisCluster(const RedisCluster&) = delete;
    RedisCluster& operator=(const RedisCluster&) = delete;

    void add_script(const RedisScript* script);
    void start();
    void shutdown();

    bool accepts_calls() const;
    // The slot table is known and every primary's link is ready.
    bool ready() const;

    // As RedisClient::call() and eval(): `key` picks the slot.
    bool call(std::string_view key, std::string_view command, RedisCallback callback,
              void* data);
    bool eval(const RedisScript& script, std::shared_ptr<const RespArgs> args,
              RedisCallback callback, void* data);
    void note_timeout();
    void set_state_hook(RedisLink::StateHook hook, void* data);

  private:
    struct Node {
        RedisCluster* cluster;
        int index;
        RedisEndpoint endpoint;
        std::string name;
        std::unique_ptr<RedisLink> link;
        bool seed = false;
        bool primary = false;
    };
    struct Call;
    struct TopologyCall {
        RedisCluster* cluster;
        Node* node;
    };

    Node* add_node(const RedisEndpoint& endpoint, std::vector<ngx_addr_t> addresses, bool seed);
    Node* node_at(const RedisEndpoint& endpoint);
    Node* route(std::uint32_t slot);
    bool send(Call* call, Node* node, bool asking);
    bool start_call(Call* call);
    static void on_reply(void* data, const RedisOutcome& outcome) noexcept;
    void replied(Call* call, const RedisOutcome& outcome);
    void follow(Call* call, const ClusterRedirect& redirect);
    bool retry_later(Call* call);
    static void on_retry_timer(ngx_event_t* ev) noexcept;
    void finish(Call* call, const RedisOutcome& outcome);
    void fail(Call* call, std::string_view why);

    void refresh_soon();
    void refresh();
    Node* topology_source();
    static void on_topology(void* data, const RedisOutcome& outcome) noexcept;
    void topology(Node* node, const RedisOutcome& outcome);
    void log_table_failure(const Node& node, std::string_view why);
    void apply(const std::vector<ClusterShard>& shards, Node* replying);
    void arm_refresh(ngx_msec_t delay);
    static void on_refresh_timer(ngx_event_t* ev) noexcept;
    static void on_link_state(void* data, bool ready, std::uint64_t reconnects);
    void update_state();

    const RedisSettings& settings_;
    MetricsRecorder* metrics_;
    ngx_log_t log_;
    ngx_pool_t* pool_;  // socket addresses of discovered nodes
    std::vector<const RedisScript*> scripts_;
    std::vector<std::unique_ptr<Node>> nodes_;  // null: a removed node's index, reused
    ClusterSlotTable table_;
    bool have_table_ = false;
    bool use_slots_ = false;  // CLUSTER SLOTS (Redis before 7)
    bool refreshing_ = false;
    bool stopping_ = false;
    ngx_msec_t last_refresh_ = 0;
    std::size_t refresh_turn_ = 0;
    std::string primaries_;  // as last logged
    std::string table_failure_;  // why the last refresh gave no table, as logged
    ngx_msec_t table_failure_logged_ = 0;
    std::deque<Call*> retrying_;  // TRYAGAIN, in due order

    bool ready_ = false;
    RedisLink::StateHook state_hook_ = nullptr;
    void* state_hook_data_ = nullptr;
    ngx_connection_t timer_owner_;  // timers need a connection-shaped `data`
    ngx_event_t refresh_timer_;
    ngx_event_t retry_timer_;
};

}  // namespace mailhook::nginx
