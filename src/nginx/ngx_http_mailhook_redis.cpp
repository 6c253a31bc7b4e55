// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_redis.hpp"

namespace mailhook::nginx {

RedisClient::RedisClient(const RedisSettings& settings, MetricsRecorder* metrics,
                         ngx_log_t* log) {
    for (const RedisNode& node : settings.nodes) {
        links_.push_back(std::make_unique<RedisLink>(settings.link, node, metrics, log));
    }
}

void RedisClient::add_script(const RedisScript* script) {
    for (auto& link : links_) {
        link->add_script(script);
    }
}

void RedisClient::start() {
    for (auto& link : links_) {
        link->start();
    }
}

void RedisClient::shutdown() {
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
