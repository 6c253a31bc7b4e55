// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_consumer_groups.hpp"

#include "../core/key_layout.hpp"
#include "ngx_http_mailhook_state.hpp"

namespace mailhook::nginx {

bool ConsumerGroupCreator::add(ConsumerGroup group) {
    for (const ConsumerGroup& known : groups_) {
        if (known.name == group.name) {
            return false;
        }
    }
    groups_.push_back(std::move(group));
    return true;
}

void ConsumerGroupCreator::prepare(ngx_uint_t key_buckets, ngx_log_t* log) {
    log_ = log;
    const auto tags = key_buckets > 0 ? bucket_tags(static_cast<std::uint32_t>(key_buckets))
                                      : std::vector<std::string>();
    pending_.clear();
    for (ConsumerGroupTarget& target : consumer_group_targets(groups_, tags)) {
        pending_.push_back({this, std::move(target)});
    }
}

// A call that cannot be sent now (the link went down again) is sent after
// the next connect, which calls this again.
void ConsumerGroupCreator::create(RedisClient& redis) {
    for (Pending& pending : pending_) {
        if (!redis.call(pending.target.stream, pending.target.command, on_created, &pending)) {
            return;
        }
    }
}

void ConsumerGroupCreator::on_created(void* data, const RedisOutcome& outcome) noexcept {
    const auto* pending = static_cast<const Pending*>(data);
    if (outcome.failure != RedisFailure::permanent || is_existing_group(outcome.error)) {
        return;  // created, there already, or the connection is gone (retried on the next)
    }
    ngx_log_error(NGX_LOG_ERR, pending->owner->log_, 0, "mailhook: consumer group \"%s\" on "
                  "stream \"%s\" not created: %*s", pending->target.group.c_str(),
                  pending->target.stream.c_str(), outcome.error.size(), outcome.error.data());
}

char* set_consumer_group(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    try {
        auto* mcf = static_cast<MainConf*>(conf);
        auto* args = static_cast<ngx_str_t*>(cf->args->elts);
        ConsumerGroup group;
        for (ngx_uint_t i = 1; i < cf->args->nelts; ++i) {
            const std::string_view value = to_view(args[i]);
            if (!is_valid_group_name(value)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid %s \"%V\"",
                                   i == 1 ? "group name" : "stream name", &args[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            if (i == 1) {
                group.name = std::string(value);
            } else {
                group.streams.emplace_back(value);
            }
        }
        if (!mcf->state->consumer_groups.add(std::move(group))) {
            return const_cast<char*>("names a group configured already");
        }
        return NGX_CONF_OK;
    } catch (const std::exception& e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "mailhook: %s", e.what());
        return static_cast<char*>(NGX_CONF_ERROR);
    }
}

}  // namespace mailhook::nginx
