// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_redis_sentinel.hpp"

#include <algorithm>

#include "ngx_http_mailhook_redis.hpp"

namespace mailhook::nginx {
namespace {

// How often the watcher looks whether the primary's link is down (then it
// asks a Sentinel) and whether the subscribed link is.
constexpr ngx_msec_t kTick = 200;
// Ticks the subscribed link may stay down before it moves to the next
// Sentinel.
constexpr unsigned kEventsDownTicks = 5;
constexpr unsigned kMaxRetryTicks = 10;

}  // namespace

SentinelWatcher::SentinelWatcher(const RedisSettings& settings, RedisLink& primary,
                                 MetricsRecorder* metrics, ngx_log_t* log)
    : settings_(settings), primary_(primary), sentinels_(settings.nodes) {
    log_ = *log;
    log_.action = const_cast<char*>("asking redis sentinel");
    ask_command_ =
        resp_command({"SENTINEL", "get-master-addr-by-name", settings.target.sentinel});
    for (const RedisNode& node : sentinels_) {
        queries_.push_back(
            std::make_unique<RedisLink>(settings.sentinel_link, node, metrics, log));
    }
    events_ = std::make_unique<RedisLink>(settings.sentinel_link, sentinels_.front(), metrics,
                                          log);
    events_->set_push_hook(on_message, this);
    events_->set_state_hook(on_events_state, this);
    ngx_memzero(&timer_owner_, sizeof(timer_owner_));
    timer_owner_.fd = (ngx_socket_t) -1;
    timer_owner_.data = this;
    ngx_memzero(&tick_, sizeof(tick_));
    tick_.data = &timer_owner_;
    tick_.log = &log_;
    tick_.cancelable = 1;
    tick_.handler = on_tick;
}

SentinelWatcher::~SentinelWatcher() { shutdown(); }

void SentinelWatcher::start() {
    pool_ = ngx_create_pool(1024, &log_);
    if (pool_ == nullptr) {
        throw std::bad_alloc();
    }
    for (auto& query : queries_) {
        query->start();
    }
    events_->start();
    ask();
    ngx_add_timer(&tick_, kTick);
}

void SentinelWatcher::shutdown() {
    if (stopping_) {
        return;
    }
    stopping_ = true;
    if (tick_.timer_set) {
        ngx_del_timer(&tick_);
    }
    primary_.shutdown();  // its socket address lives in pool_
    events_->shutdown();
    for (auto& query : queries_) {
        query->shutdown();
    }
    if (pool_ != nullptr) {
        ngx_destroy_pool(pool_);
        pool_ = nullptr;
    }
}

void SentinelWatcher::on_tick(ngx_event_t* ev) noexcept {
    auto* watcher = static_cast<SentinelWatcher*>(static_cast<ngx_connection_t*>(ev->data)->data);
    if (watcher->stopping_ || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }
    try {
        watcher->tick();
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, &watcher->log_, 0, "mailhook: redis sentinel: %s", e.what());
    }
    ngx_add_timer(&watcher->tick_, kTick);
}

// The primary's link never reconnects by itself (primary_only): each new
// connection goes where a Sentinel says the primary is now.
void SentinelWatcher::tick() {
    if (primary_.state() == RedisLink::State::ready) {
        retry_wait_ = 0;
    } else {
        ++retry_ticks_;
    }
    if (primary_.state() == RedisLink::State::down) {
        ask();
    }
    if (events_->state() == RedisLink::State::ready) {
        events_down_ticks_ = 0;
    } else if (++events_down_ticks_ >= kEventsDownTicks && sentinels_.size() > 1) {
        events_down_ticks_ = 0;
        events_sentinel_ = (events_sentinel_ + 1) % sentinels_.size();
        events_->move_to(sentinels_[events_sentinel_]);
    }
}

// One question at a time, to the Sentinels in turn: one that is down or
// does not know the name is passed over for the next.
void SentinelWatcher::ask() {
    if (asking_ || stopping_) {
        return;
    }
    for (std::size_t tried = 0; tried < queries_.size(); ++tried) {
        RedisLink& query = *queries_[next_query_ % queries_.size()];
        if (query.call(settings_.target.sentinel, ask_command_, on_answer, this)) {
            asking_ = true;
            return;
        }
        ++next_query_;
    }
    complain("no Sentinel is reachable");
}

void SentinelWatcher::on_answer(void* data, const RedisOutcome& outcome) noexcept {
    auto* watcher = static_cast<SentinelWatcher*>(data);
    watcher->asking_ = false;
    if (watcher->stopping_) {
        return;
    }
    try {
        const auto endpoint = outcome.failure == RedisFailure::none
                                  ? sentinel_primary(*outcome.reply)
                                  : std::nullopt;
        if (!endpoint) {
            const std::string sentinel =
                watcher->queries_[watcher->next_query_ % watcher->queries_.size()]->name();
            ++watcher->next_query_;
            watcher->complain("sentinel " + sentinel + " does not know the primary (" +
                              (outcome.failure == RedisFailure::none
                                   ? std::string("no address")
                                   : std::string(outcome.error)) +
                              ")");
            return;
        }
        watcher->found(*endpoint);
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, &watcher->log_, 0, "mailhook: redis sentinel: %s", e.what());
    }
}

// Logged once until a primary is found again (the watcher asks every tick).
void SentinelWatcher::complain(const std::string& why) {
    if (complained_) {
        return;
    }
    complained_ = true;
    ngx_log_error(NGX_LOG_ERR, &log_, 0, "mailhook: redis sentinel: %s for \"%s\"; asking "
                  "again every %M ms", why.c_str(), settings_.target.sentinel.c_str(), kTick);
}

// A connection that is being made to this node already is left alone; a
// primary elsewhere (a failover) moves the link at once. The same primary,
// lost, is tried again after a backoff of 1, 2, 4, 8, then 10 ticks (the
// Sentinels are still asked every tick).
void SentinelWatcher::found(const RedisEndpoint& endpoint) {
    complained_ = false;
    const bool same = endpoint.describe() == primary_.endpoint().describe();
    if (same && (primary_.state() != RedisLink::State::down || retry_ticks_ < retry_wait_)) {
        return;
    }
    retry_ticks_ = 0;
    retry_wait_ = same ? std::min(std::max(retry_wait_ * 2, 1u), kMaxRetryTicks) : 0;
    if (!same) {
        // The same primary keeps its addresses: pool_ grows per new primary only.
        RedisNode node;
        if (!node_for(endpoint, node)) {
            return;
        }
        primary_node_ = std::move(node);
        ngx_log_error(NGX_LOG_NOTICE, &log_, 0, "mailhook: redis sentinel: the primary \"%s\" "
                      "is %s", settings_.target.sentinel.c_str(), endpoint.describe().c_str());
    }
    primary_.move_to(primary_node_);
}

// An IP address is connected to as given; a host name through the
// resolver (never a blocking lookup in a worker).
bool SentinelWatcher::node_for(const RedisEndpoint& endpoint, RedisNode& node) {
    node.endpoint = endpoint;
    if (!is_ip_address(endpoint.host)) {
        if (settings_.link.resolver == nullptr) {
            complain("the primary is named by host name (" + endpoint.host +
                     "), which needs a \"resolver\" in http{}");
            return false;
        }
        return true;
    }
    ngx_addr_t address;
    auto* text = reinterpret_cast<u_char*>(const_cast<char*>(endpoint.host.data()));
    if (ngx_parse_addr(pool_, &address, text, endpoint.host.size()) != NGX_OK) {
        complain("cannot use the address " + endpoint.host);
        return false;
    }
    ngx_inet_set_port(address.sockaddr, endpoint.port);
    node.addresses.push_back(address);
    return true;
}

// --- +switch-master ---------------------------------------------------------------

// A (re)subscribed link may have missed a switch: the primary is checked
// once more too.
void SentinelWatcher::on_events_state(void* data, bool ready, std::uint64_t) {
    auto* watcher = static_cast<SentinelWatcher*>(data);
    if (ready && !watcher->stopping_) {
        watcher->subscribe();
    }
}

void SentinelWatcher::subscribe() {
    static const std::string command = resp_command({"SUBSCRIBE", "+switch-master"});
    if (!events_->call("+switch-master", command, on_subscribed, this)) {
        return;  // the link is going down; it subscribes again once up
    }
    if (primary_.state() == RedisLink::State::ready) {
        ask();  // found() leaves a live link to the same node alone
    }
}

void SentinelWatcher::on_subscribed(void* data, const RedisOutcome& outcome) noexcept {
    auto* watcher = static_cast<SentinelWatcher*>(data);
    if (outcome.failure != RedisFailure::none && !watcher->stopping_ &&
        outcome.reply != nullptr) {
        ngx_log_error(NGX_LOG_ERR, &watcher->log_, 0, "mailhook: redis sentinel %s refused "
                      "SUBSCRIBE: %*s", watcher->events_->name().c_str(), outcome.error.size(),
                      outcome.error.data());
    }
}

void SentinelWatcher::on_message(void* data, const redisReply* message) noexcept {
    auto* watcher = static_cast<SentinelWatcher*>(data);
    try {
        const auto endpoint =
            switched_primary(reply_text(*message->element[2]), watcher->settings_.target.sentinel);
        if (endpoint && !watcher->stopping_) {
            ngx_log_error(NGX_LOG_NOTICE, &watcher->log_, 0, "mailhook: redis sentinel: "
                          "+switch-master %*s", message->element[2]->len,
                          message->element[2]->str);
            watcher->found(*endpoint);
        }
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, &watcher->log_, 0, "mailhook: redis sentinel: %s", e.what());
    }
}

}  // namespace mailhook::nginx
