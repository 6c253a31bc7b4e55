// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_redis.hpp"

#include "ngx_http_mailhook_redis_cluster.hpp"
#include "ngx_http_mailhook_redis_sentinel.hpp"

namespace mailhook::nginx {

RedisClient::RedisClient(const RedisSettings& settings, MetricsRecorder* metrics,
                         ngx_log_t* log) {
    if (settings.target.cluster) {
        cluster_ = std::make_unique<RedisCluster>(settings, metrics, log);
        return;
    }
    if (settings.target.uses_sentinel()) {
        links_.push_back(std::make_unique<RedisLink>(settings.link, RedisNode{}, metrics, log));
        sentinel_ = std::make_unique<SentinelWatcher>(settings, *links_.front(), metrics, log);
        return;
    }
    for (const RedisNode& node : settings.nodes) {
        links_.push_back(std::make_unique<RedisLink>(settings.link, node, metrics, log));
    }
}

RedisClient::~RedisClient() = default;

void RedisClient::add_script(const RedisScript* script) {
    if (cluster_) {
        cluster_->add_script(script);
    }
    for (auto& link : links_) {
        link->add_script(script);
    }
}

void RedisClient::start() {
    if (cluster_) {
        cluster_->start();
    }
    if (sentinel_) {
        sentinel_->start();  // starts the primary's link once it knows where
        return;
    }
    for (auto& link : links_) {
        link->start();
    }
}

void RedisClient::shutdown() {
    if (cluster_) {
        cluster_->shutdown();
    }
    if (sentinel_) {
        sentinel_->shutdown();
    }
    for (auto& link : links_) {
        link->shutdown();
    }
}

// Standalone and sentinel=: every call goes to the one link (the primary).
RedisLink& RedisClient::route() { return *links_.front(); }

bool RedisClient::accepts_calls() const {
    return cluster_ ? cluster_->accepts_calls() : links_.front()->accepts_calls();
}

bool RedisClient::ready() const {
    return cluster_ ? cluster_->ready() : links_.front()->state() == RedisLink::State::ready;
}

bool RedisClient::call(std::string_view key, std::string_view command, RedisCallback callback,
                       void* data) {
    return cluster_ ? cluster_->call(key, command, callback, data)
                    : route().call(key, command, callback, data);
}

bool RedisClient::eval(const RedisScript& script, std::shared_ptr<const RespArgs> args,
                       RedisCallback callback, void* data) {
    return cluster_ ? cluster_->eval(script, std::move(args), callback, data)
                    : route().eval(script, std::move(args), callback, data);
}

void RedisClient::note_timeout() {
    if (cluster_) {
        cluster_->note_timeout();
        return;
    }
    route().note_timeout();
}

void RedisClient::set_state_hook(StateHook hook, void* data) {
    if (cluster_) {
        cluster_->set_state_hook(hook, data);
    }
    for (auto& link : links_) {
        link->set_state_hook(hook, data);
    }
}

}  // namespace mailhook::nginx
