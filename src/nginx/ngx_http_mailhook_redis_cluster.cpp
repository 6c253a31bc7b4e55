// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_redis_cluster.hpp"

#include "../core/key_slot.hpp"
#include "ngx_http_mailhook_redis.hpp"

namespace mailhook::nginx {
namespace {

// A call that keeps being redirected has met a cluster in flux: it ends as
// a transient failure (spooled, or 503) instead of bouncing on.
constexpr unsigned kMaxRedirects = 5;
// TRYAGAIN (a multi-key call during a slot migration): retried after
// 20, 40, 80, ... ms, for at most this long.
constexpr ngx_msec_t kTryAgainFirst = 20;
constexpr ngx_msec_t kTryAgainBudget = 1000;
// The topology is asked for at most once per kRefreshMin (MOVED, a lost
// primary, CLUSTERDOWN), and every kRefreshEvery anyway.
constexpr ngx_msec_t kRefreshMin = 1000;
constexpr ngx_msec_t kRefreshEvery = 10000;
// A refresh that keeps failing the same way is logged once per this.
constexpr ngx_msec_t kRepeatedFailureLog = 60000;

void ignore_reply(void*, const RedisOutcome&) noexcept {}

RedisCluster* cluster_of_timer(ngx_event_t* ev) {
    return static_cast<RedisCluster*>(static_cast<ngx_connection_t*>(ev->data)->data);
}

}  // namespace

// One call in flight: what is needed to send it again elsewhere.
struct RedisCluster::Call {
    RedisCluster* cluster;
    std::uint32_t slot;
    RedisCallback callback;
    void* data;
    std::string key;      // a plain command's key, for logs
    std::string command;  // a plain command; empty for a script call
    const RedisScript* script = nullptr;
    std::shared_ptr<const RespArgs> args = nullptr;
    Node* node = nullptr;  // where it went last (valid while it is there)
    unsigned redirects = 0;
    ngx_msec_t retry_started = 0;
    ngx_msec_t retry_delay = 0;
    ngx_msec_t retry_due = 0;
};

RedisCluster::RedisCluster(const RedisSettings& settings, MetricsRecorder* metrics,
                           ngx_log_t* log)
    : settings_(settings), metrics_(metrics) {
    log_ = *log;
    log_.action = const_cast<char*>("talking to the redis cluster");
    pool_ = ngx_create_pool(4096, &log_);
    if (pool_ == nullptr) {
        throw std::bad_alloc();
    }
    ngx_memzero(&timer_owner_, sizeof(timer_owner_));
    timer_owner_.fd = (ngx_socket_t) -1;
    timer_owner_.data = this;
    for (ngx_event_t* timer : {&refresh_timer_, &retry_timer_}) {
        ngx_memzero(timer, sizeof(*timer));
        timer->data = &timer_owner_;
        timer->log = &log_;
        timer->cancelable = 1;
    }
    refresh_timer_.handler = on_refresh_timer;
    retry_timer_.handler = on_retry_timer;
    for (const RedisNode& seed : settings.nodes) {
        add_node(seed.endpoint, seed.addresses, true);
    }
}

RedisCluster::~RedisCluster() {
    shutdown();
    nodes_.clear();
    ngx_destroy_pool(pool_);
}

void RedisCluster::add_script(const RedisScript* script) {
    scripts_.push_back(script);
    for (auto& node : nodes_) {
        if (node) node->link->add_script(script);
    }
}

// The seeds connect; the first one ready is asked for the topology.
void RedisCluster::start() {
    for (auto& node : nodes_) {
        if (node) node->link->start();
    }
    refresh();
}

void RedisCluster::shutdown() {
    if (stopping_) {
        return;
    }
    stopping_ = true;
    for (ngx_event_t* timer : {&refresh_timer_, &retry_timer_}) {
        if (timer->timer_set) {
            ngx_del_timer(timer);
        }
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i]) nodes_[i]->link->shutdown();
    }
    std::deque<Call*> retrying;
    retrying.swap(retrying_);
    for (Call* call : retrying) {
        fail(call, "the worker is exiting");
    }
}

// --- nodes ------------------------------------------------------------------------

RedisCluster::Node* RedisCluster::add_node(const RedisEndpoint& endpoint,
                                           std::vector<ngx_addr_t> addresses, bool seed) {
    std::size_t index = 0;
    while (index < nodes_.size() && nodes_[index]) {
        ++index;
    }
    if (index == nodes_.size()) {
        nodes_.emplace_back();
    }
    auto node = std::make_unique<Node>();
    node->cluster = this;
    node->index = static_cast<int>(index);
    node->endpoint = endpoint;
    node->name = endpoint.describe();
    node->seed = seed;
    node->link = std::make_unique<RedisLink>(settings_.link,
                                             RedisNode{endpoint, std::move(addresses)},
                                             metrics_, &log_);
    for (const RedisScript* script : scripts_) {
        node->link->add_script(script);
    }
    node->link->set_state_hook(on_link_state, node.get());
    nodes_[index] = std::move(node);
    return nodes_[index].get();
}

// The node at a discovered address (a redirect, the topology), added and
// connecting when new. Null when it cannot be reached: a host name and no
// `resolver`.
RedisCluster::Node* RedisCluster::node_at(const RedisEndpoint& endpoint) {
    const std::string name = endpoint.describe();
    for (auto& node : nodes_) {
        if (node && node->name == name) {
            return node.get();
        }
    }
    std::vector<ngx_addr_t> addresses;
    if (is_ip_address(endpoint.host)) {
        ngx_addr_t address;
        auto* text = reinterpret_cast<u_char*>(const_cast<char*>(endpoint.host.data()));
        if (ngx_parse_addr(pool_, &address, text, endpoint.host.size()) != NGX_OK) {
            return nullptr;
        }
        ngx_inet_set_port(address.sockaddr, endpoint.port);
        addresses.push_back(address);
    } else if (settings_.link.resolver == nullptr) {
        ngx_log_error(NGX_LOG_ERR, &log_, 0, "mailhook: redis cluster node %s has a host name "
                      "and no \"resolver\" is configured", name.c_str());
        return nullptr;
    }
    Node* node = add_node(endpoint, std::move(addresses), false);
    if (!stopping_) {
        node->link->start();
    }
    return node;
}

// The primary of the slot; before the table knows it, any node that takes
// calls (it answers MOVED when the slot is elsewhere).
RedisCluster::Node* RedisCluster::route(std::uint32_t slot) {
    const int index = table_.node(slot);
    if (index != ClusterSlotTable::kUnknown && nodes_[index]) {
        return nodes_[index].get();
    }
    for (auto& node : nodes_) {
        if (node && node->link->state() == RedisLink::State::ready) {
            return node.get();
        }
    }
    for (auto& node : nodes_) {
        if (node && node->link->accepts_calls()) {
            return node.get();
        }
    }
    return nullptr;
}

// --- calls ------------------------------------------------------------------------

bool RedisCluster::call(std::string_view key, std::string_view command, RedisCallback callback,
                        void* data) {
    if (stopping_) {
        return false;
    }
    auto* call = new Call{this, key_slot(key), callback, data, {}, {}};
    call->key = std::string(key);
    call->command = std::string(command);
    return start_call(call);
}

// The slot of a script call is its first key's ("numkeys key ...").
bool RedisCluster::eval(const RedisScript& script, std::shared_ptr<const RespArgs> args,
                        RedisCallback callback, void* data) {
    if (stopping_) {
        return false;
    }
    const auto head = resp_bulk_strings(args->encoded(), 2);
    const std::uint32_t slot = head.size() == 2 && head[0] != "0" ? key_slot(head[1]) : 0;
    auto* call = new Call{this, slot, callback, data, {}, {}};
    call->script = &script;
    call->args = std::move(args);
    return start_call(call);
}

bool RedisCluster::start_call(Call* call) {
    Node* node = route(call->slot);
    if (!send(call, node, false)) {
        delete call;
        refresh_soon();
        return false;
    }
    return true;
}

bool RedisCluster::send(Call* call, Node* node, bool asking) {
    if (node == nullptr || !node->link->accepts_calls()) {
        return false;
    }
    if (asking) {
        static const std::string kAsking = resp_command({"ASKING"});
        if (!node->link->call("", kAsking, ignore_reply, nullptr)) {
            return false;
        }
    }
    call->node = node;
    return call->script != nullptr
               ? node->link->eval(*call->script, call->args, on_reply, call,
                                  asking ? std::nullopt : std::optional(call->slot))
               : node->link->call(call->key, call->command, on_reply, call);
}

void RedisCluster::on_reply(void* data, const RedisOutcome& outcome) noexcept {
    auto* call = static_cast<Call*>(data);
    RedisCluster* cluster = call->cluster;
    try {
        cluster->replied(call, outcome);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, &cluster->log_, 0, "mailhook: redis cluster: %s", e.what());
        cluster->fail(call, "redis cluster: out of memory");
    }
}

void RedisCluster::replied(Call* call, const RedisOutcome& outcome) {
    const redisReply* reply = outcome.reply;
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR && !stopping_) {
        if (const auto redirect = parse_cluster_redirect(outcome.error, call->node->endpoint.host)) {
            follow(call, *redirect);
            return;
        }
        const std::string_view code = redis_error_code(outcome.error);
        if (code == "TRYAGAIN" && retry_later(call)) {
            return;
        }
        if (code == "CLUSTERDOWN" || code == "READONLY" || code == "MASTERDOWN") {
            refresh_soon();
        }
    } else if (reply == nullptr && outcome.failure == RedisFailure::transient) {
        refresh_soon();  // a primary lost: maybe a failover
    }
    finish(call, outcome);
}

// MOVED: the slot lives elsewhere for good (the table learns it, the whole
// topology is asked for soon); ASK: for this call only, behind ASKING.
void RedisCluster::follow(Call* call, const ClusterRedirect& redirect) {
    if (++call->redirects > kMaxRedirects) {
        fail(call, "redirected too many times (the cluster is changing)");
        return;
    }
    if (metrics_ != nullptr) {
        metrics_->redis_redirect();
    }
    Node* target = node_at(redirect.target);
    const bool moved = redirect.kind == ClusterRedirect::Kind::moved;
    if (moved && target != nullptr) {
        table_.assign(redirect.slot, redirect.slot, target->index);
        refresh_soon();
    }
    if (!send(call, target, !moved)) {
        fail(call, "the redis cluster node it was redirected to cannot take calls");
    }
}

bool RedisCluster::retry_later(Call* call) {
    if (call->retry_started == 0) {
        call->retry_started = ngx_current_msec;
        call->retry_delay = kTryAgainFirst;
    } else {
        call->retry_delay *= 2;
    }
    if (ngx_current_msec + call->retry_delay - call->retry_started > kTryAgainBudget) {
        return false;
    }
    call->retry_due = ngx_current_msec + call->retry_delay;
    call->redirects = 0;  // each try may be redirected again (ASK to the importing node)
    auto at = retrying_.begin();
    while (at != retrying_.end() && (*at)->retry_due <= call->retry_due) {
        ++at;
    }
    retrying_.insert(at, call);
    if (retry_timer_.timer_set) {
        ngx_del_timer(&retry_timer_);
    }
    ngx_add_timer(&retry_timer_, retrying_.front()->retry_due - ngx_current_msec);
    return true;
}

void RedisCluster::on_retry_timer(ngx_event_t* ev) noexcept {
    RedisCluster* cluster = cluster_of_timer(ev);
    try {
        while (!cluster->retrying_.empty() &&
               cluster->retrying_.front()->retry_due <= ngx_current_msec) {
            Call* call = cluster->retrying_.front();
            cluster->retrying_.pop_front();
            if (!cluster->send(call, cluster->route(call->slot), false)) {
                cluster->fail(call, "the redis cluster node of its slot cannot take calls");
            }
        }
        if (!cluster->retrying_.empty() && !cluster->retry_timer_.timer_set) {
            ngx_add_timer(&cluster->retry_timer_,
                          cluster->retrying_.front()->retry_due - ngx_current_msec);
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, &cluster->log_, 0, "mailhook: redis cluster: %s", e.what());
    }
}

void RedisCluster::finish(Call* call, const RedisOutcome& outcome) {
    const RedisCallback callback = call->callback;
    void* data = call->data;
    delete call;
    callback(data, outcome);
}

void RedisCluster::fail(Call* call, std::string_view why) {
    RedisOutcome outcome;
    outcome.failure = RedisFailure::transient;
    outcome.error = why;
    finish(call, outcome);
}

void RedisCluster::note_timeout() {
    for (auto& node : nodes_) {
        if (node && node->link->awaiting_replies()) {
            node->link->note_timeout();
        }
    }
}

// --- topology ---------------------------------------------------------------------

void RedisCluster::refresh_soon() {
    if (stopping_ || refreshing_) {
        return;
    }
    const ngx_msec_t since = ngx_current_msec - last_refresh_;
    if (last_refresh_ == 0 || since >= kRefreshMin) {
        refresh();
        return;
    }
    const ngx_msec_t delay = kRefreshMin - since;
    if (!refresh_timer_.timer_set || refresh_timer_.timer.key > ngx_current_msec + delay) {
        arm_refresh(delay);
    }
}

// Asks one node for the topology; one question at a time.
void RedisCluster::refresh() {
    if (stopping_ || refreshing_) {
        return;
    }
    last_refresh_ = ngx_current_msec == 0 ? 1 : ngx_current_msec;
    Node* node = topology_source();
    static const std::string kShards = resp_command({"CLUSTER", "SHARDS"});
    static const std::string kSlots = resp_command({"CLUSTER", "SLOTS"});
    auto* ask = new TopologyCall{this, node};
    if (node == nullptr ||
        !node->link->call("", use_slots_ ? kSlots : kShards, on_topology, ask)) {
        delete ask;
        arm_refresh(kRefreshMin);
        return;
    }
    refreshing_ = true;
}

// A ready primary, else a ready node, else one that queues calls; the
// choice rotates so that a node that answers badly is not asked forever.
RedisCluster::Node* RedisCluster::topology_source() {
    const std::size_t turn = ++refresh_turn_;
    for (const bool primaries_only : {true, false}) {
        for (const auto state : {RedisLink::State::ready, RedisLink::State::setting_up}) {
            for (std::size_t i = 0; i < nodes_.size(); ++i) {
                Node* node = nodes_[(i + turn) % nodes_.size()].get();
                if (node != nullptr && (!primaries_only || node->primary) &&
                    node->link->state() == state) {
                    return node;
                }
            }
        }
    }
    for (auto& node : nodes_) {
        if (node && node->link->accepts_calls()) {
            return node.get();
        }
    }
    return nullptr;
}

void RedisCluster::on_topology(void* data, const RedisOutcome& outcome) noexcept {
    auto* ask = static_cast<TopologyCall*>(data);
    RedisCluster* cluster = ask->cluster;
    Node* node = ask->node;
    delete ask;
    cluster->refreshing_ = false;
    if (cluster->stopping_) {
        return;
    }
    try {
        cluster->topology(node, outcome);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, &cluster->log_, 0, "mailhook: redis cluster: %s", e.what());
        cluster->arm_refresh(kRefreshMin);
    }
}

void RedisCluster::topology(Node* node, const RedisOutcome& outcome) {
    const redisReply* reply = outcome.reply;
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR && !use_slots_ &&
        redis_error_code(outcome.error) == "ERR") {
        use_slots_ = true;  // Redis before 7: no CLUSTER SHARDS
        refresh();
        return;
    }
    std::optional<std::vector<ClusterShard>> shards;
    if (outcome.failure == RedisFailure::none && reply != nullptr) {
        shards = use_slots_ ? parse_cluster_slots(*reply, node->endpoint.host)
                            : parse_cluster_shards(*reply, settings_.target.tls,
                                                   node->endpoint.host);
    }
    if (!shards || shards->empty()) {
        const std::string_view why = !outcome.error.empty() ? outcome.error
                                     : shards ? std::string_view("no shard has a primary")
                                              : std::string_view("an unexpected reply");
        log_table_failure(*node, why);
        arm_refresh(kRefreshMin);
        return;
    }
    table_failure_.clear();
    apply(*shards, node);
}

// Asked again every second, a node that keeps failing the same way (a
// Redis with cluster support disabled, say) is logged when the reason
// changes and then once a minute, not every second.
void RedisCluster::log_table_failure(const Node& node, std::string_view why) {
    const std::string described = node.name + " (" + std::string(why) + ")";
    if (described == table_failure_ &&
        ngx_current_msec - table_failure_logged_ < kRepeatedFailureLog) {
        return;
    }
    const bool disabled = why.find("cluster support disabled") != std::string_view::npos;
    ngx_log_error(NGX_LOG_WARN, &log_, 0, "mailhook: redis cluster: %s gave no slot table%s",
                  described.c_str(),
                  disabled ? ": it is not a cluster node (drop \"cluster\" from mailhook_redis)"
                           : "");
    table_failure_ = described;
    table_failure_logged_ = ngx_current_msec;
}

// The new table; links to new primaries; nodes that are neither a primary
// nor a seed are closed (the one that answered at the next refresh).
void RedisCluster::apply(const std::vector<ClusterShard>& shards, Node* replying) {
    ClusterSlotTable table;
    std::vector<Node*> primaries;
    for (const ClusterShard& shard : shards) {
        Node* node = node_at(shard.primary);
        if (node == nullptr) {
            continue;
        }
        primaries.push_back(node);
        for (const auto& [first, last] : shard.slots) {
            table.assign(first, last, node->index);
        }
    }
    std::string described;
    for (auto& node : nodes_) {
        if (node) node->primary = false;
    }
    for (Node* node : primaries) {
        node->primary = true;
    }
    std::vector<std::unique_ptr<Node>> removed;
    for (auto& node : nodes_) {
        if (node && node->primary) {
            described.append(described.empty() ? "" : " ").append(node->name);
        } else if (node && !node->seed && node.get() != replying) {
            removed.push_back(std::move(node));
        }
    }
    table_ = std::move(table);
    have_table_ = true;
    if (described != primaries_) {
        const std::uint32_t unknown = table_.unknown_slots();
        const ngx_uint_t level = unknown > 0 ? NGX_LOG_WARN : NGX_LOG_NOTICE;
        ngx_log_error(level, &log_, 0,
                      "mailhook: redis cluster primaries: %s (%uD slots unserved)",
                      described.c_str(), unknown);
        primaries_ = described;
    }
    bool all_ready = true;
    for (Node* node : primaries) {
        all_ready = all_ready && node->link->state() == RedisLink::State::ready;
    }
    arm_refresh(all_ready && table_.unknown_slots() == 0 ? kRefreshEvery : kRefreshMin);
    update_state();
    for (auto& node : removed) {
        node->link->shutdown();  // its calls end (transient)
    }
}

void RedisCluster::arm_refresh(ngx_msec_t delay) {
    if (stopping_ || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }
    if (refresh_timer_.timer_set) {
        ngx_del_timer(&refresh_timer_);
    }
    ngx_add_timer(&refresh_timer_, delay);
}

void RedisCluster::on_refresh_timer(ngx_event_t* ev) noexcept {
    RedisCluster* cluster = cluster_of_timer(ev);
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }
    try {
        cluster->refresh();
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, &cluster->log_, 0, "mailhook: redis cluster: %s", e.what());
        cluster->arm_refresh(kRefreshMin);
    }
}

// --- state ------------------------------------------------------------------------

bool RedisCluster::accepts_calls() const {
    for (const auto& node : nodes_) {
        if (node && node->link->accepts_calls()) {
            return true;
        }
    }
    return false;
}

bool RedisCluster::ready() const {
    if (!have_table_ || stopping_) {
        return false;
    }
    for (const auto& node : nodes_) {
        if (node && node->primary && node->link->state() != RedisLink::State::ready) {
            return false;
        }
    }
    return true;
}

void RedisCluster::set_state_hook(RedisLink::StateHook hook, void* data) {
    state_hook_ = hook;
    state_hook_data_ = data;
}

void RedisCluster::on_link_state(void* data, bool ready, std::uint64_t) {
    Node* node = static_cast<Node*>(data);
    RedisCluster* cluster = node->cluster;
    if (ready && !cluster->have_table_) {
        cluster->refresh();  // the first seed up
    } else if (!ready && node->primary) {
        cluster->refresh_soon();  // maybe a failover
    }
    cluster->update_state();
}

// The worker's Redis is up when every primary is.
void RedisCluster::update_state() {
    const bool now = ready();
    if (now == ready_) {
        return;
    }
    ready_ = now;
    std::uint64_t reconnects = 0;
    for (const auto& node : nodes_) {
        if (node) reconnects += node->link->reconnects();
    }
    if (state_hook_ != nullptr && !stopping_) {
        state_hook_(state_hook_data_, now, reconnects);
    }
}

}  // namespace mailhook::nginx
