// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_redis.hpp"

#include "ngx_http_mailhook_redis_sentinel.hpp"

namespace mailhook::nginx {

RedisClient::RedisClient(const RedisSettings& settings, MetricsRecorder* metrics,
                         ngx_log_t* log) {
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
    for (auto& link : links_) {
        link->add_script(script);
    }
}

void RedisClient::start() {
    if (sentinel_) {
        sentinel_->start();  // starts the primary's link once it knows where
        return;
    }
    for (auto& link : links_) {
        link->start();
    }
}

void RedisClient::shutdown() {
    if (sentinel_) {
        sentinel_->shutdown();
    }
    for (auto& link : links_) {
        link->shutdown();
    }
}

// One node today: every call goes to it.
RedisLink& RedisClient::route() { return *links_.front(); }

bool RedisClient::accepts_calls() const { return links_.front()->accepts_calls(); }

bool RedisClient::ready() const {
    return links_.front()->state() == RedisLink::State::ready;
}

bool RedisClient::call(std::string_view key, std::string_view command, RedisCallback callback,
                       void* data) {
    return route().call(key, command, callback, data);
}

bool RedisClient::eval(const RedisScript& script, std::shared_ptr<const RespArgs> args,
                       RedisCallback callback, void* data) {
    return route().eval(script, std::move(args), callback, data);
}

void RedisClient::note_timeout() { route().note_timeout(); }

void RedisClient::set_state_hook(StateHook hook, void* data) {
    for (auto& link : links_) {
        link->set_state_hook(hook, data);
    }
}

}  // namespace mailhook::nginx
