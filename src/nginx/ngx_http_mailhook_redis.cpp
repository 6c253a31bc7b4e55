// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_redis.hpp"

#include <cstdlib>
#include <cstring>

namespace mailhook::nginx {
namespace {

constexpr ngx_msec_t kMinBackoff = 50;
constexpr ngx_msec_t kMaxBackoff = 2000;

RedisLink* link_of(const redisAsyncContext* ac) {
    return static_cast<RedisLink*>(ac->data);
}

ngx_connection_t* connection_of(void* privdata) {
    return static_cast<ngx_connection_t*>(privdata);
}

bool is_noscript(const redisReply* reply) {
    return reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
           std::strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

}  // namespace

// hiredis privdata of one call; what EVAL needs after NOSCRIPT.
struct RedisLink::Call {
    RedisLink* link;
    RedisCallback callback;
    void* data;
    const RedisScript* script;  // null: a plain command
    std::shared_ptr<const RespArgs> args;
    bool sent_source;
};

bool parse_redis_address(std::string_view address, RedisSettings& settings) {
    if (address.substr(0, 5) == "unix:") {
        settings.unix_path = std::string(address.substr(5));
        return !settings.unix_path.empty();
    }
    const std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
        settings.host = std::string(address);
        return !settings.host.empty();
    }
    settings.host = std::string(address.substr(0, colon));
    const std::string port(address.substr(colon + 1));
    char* end = nullptr;
    const long value = std::strtol(port.c_str(), &end, 10);
    if (settings.host.empty() || end == port.c_str() || *end != '\0' ||
        value < 1 || value > 65535) {
        return false;
    }
    settings.port = static_cast<int>(value);
    return true;
}

RedisLink::RedisLink(RedisSettings settings, ngx_log_t* log)
    : settings_(std::move(settings)) {
    log_ = *log;
    log_.action = const_cast<char*>("talking to redis");
    ngx_memzero(&timer_owner_, sizeof(timer_owner_));
    timer_owner_.fd = (ngx_socket_t) -1;
    ngx_memzero(&reconnect_timer_, sizeof(reconnect_timer_));
    ngx_memzero(&connect_timer_, sizeof(connect_timer_));
    for (ngx_event_t* timer : {&reconnect_timer_, &connect_timer_}) {
        timer->data = &timer_owner_;
        timer->log = &log_;
        timer->cancelable = 1;
    }
    timer_owner_.data = this;
    reconnect_timer_.handler = on_reconnect_timer;
    connect_timer_.handler = on_connect_timeout;
}

RedisLink::~RedisLink() { shutdown(); }

void RedisLink::start() { connect(); }

void RedisLink::shutdown() {
    stopping_ = true;
    for (ngx_event_t* timer : {&reconnect_timer_, &connect_timer_}) {
        if (timer->timer_set) {
            ngx_del_timer(timer);
        }
    }
    if (ac_ != nullptr) {
        redisAsyncContext* ac = ac_;
        ac_ = nullptr;
        ac->onDisconnect = nullptr;
        redisAsyncFree(ac);
    }
    state_ = State::down;
}

void RedisLink::connect() {
    if (stopping_ || ac_ != nullptr) {
        return;
    }
    redisAsyncContext* ac =
        settings_.unix_path.empty()
            ? redisAsyncConnect(settings_.host.c_str(), settings_.port)
            : redisAsyncConnectUnix(settings_.unix_path.c_str());
    if (ac == nullptr || ac->err) {
        ngx_log_error(NGX_LOG_ERR, &log_, 0, "mailhook: redis connect failed: %s",
                      ac ? ac->errstr : "out of memory");
        if (ac != nullptr) {
            redisAsyncFree(ac);
        }
        schedule_reconnect();
        return;
    }
    ac_ = ac;
    ac->data = this;
    attach();
    if (connection_ == nullptr) {
        redisAsyncFree(ac);  // cleanup hook is not set yet: nothing to undo
        ac_ = nullptr;
        schedule_reconnect();
        return;
    }
    // hiredis 0.14 arms the write event in SetConnectCallback: hooks first.
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    state_ = State::connecting;
    ngx_add_timer(&connect_timer_, settings_.connect_timeout);

    if (!settings_.password.empty()) {
        const char* argv[] = {"AUTH", settings_.password.c_str()};
        const size_t lengths[] = {4, settings_.password.size()};
        redisAsyncCommandArgv(ac, on_setup_reply, const_cast<char*>("AUTH"), 2,
                              argv, lengths);
    }
    if (settings_.db != 0) {
        const std::string db = std::to_string(settings_.db);
        const char* argv[] = {"SELECT", db.c_str()};
        const size_t lengths[] = {6, db.size()};
        redisAsyncCommandArgv(ac, on_setup_reply, const_cast<char*>("SELECT"), 2,
                              argv, lengths);
    }
    load_scripts();
}

// Queued first, so no EVALSHA behind them meets NOSCRIPT.
void RedisLink::load_scripts() {
    for (const RedisScript* script : scripts_) {
        const char* argv[] = {"SCRIPT", "LOAD", script->source.data()};
        const size_t lengths[] = {6, 4, script->source.size()};
        redisAsyncCommandArgv(ac_, on_setup_reply, const_cast<char*>("SCRIPT LOAD"), 3,
                              argv, lengths);
    }
}

void RedisLink::attach() {
    ngx_connection_t* c = ngx_get_connection(ac_->c.fd, &log_);
    if (c == nullptr) {
        return;
    }
    c->data = this;
    c->read->handler = on_read;
    c->write->handler = on_write;
    c->read->log = &log_;
    c->write->log = &log_;
    connection_ = c;
    ac_->ev.data = c;
    ac_->ev.addRead = add_read;
    ac_->ev.delRead = del_read;
    ac_->ev.addWrite = add_write;
    ac_->ev.delWrite = del_write;
    ac_->ev.cleanup = cleanup;
}

void RedisLink::schedule_reconnect() {
    const bool was_ready = state_ == State::ready;
    state_ = State::down;
    if (was_ready) {
        report_state();
    }
    if (stopping_ || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }
    backoff_ = backoff_ == 0 ? kMinBackoff : std::min(backoff_ * 2, kMaxBackoff);
    if (!reconnect_timer_.timer_set) {
        ngx_add_timer(&reconnect_timer_, backoff_);
    }
}

bool RedisLink::call(std::string_view command, RedisCallback callback, void* data) {
    return send(command, new Call{this, callback, data, nullptr, nullptr, false});
}

bool RedisLink::eval(const RedisScript& script, std::shared_ptr<const RespArgs> args,
                     RedisCallback callback, void* data) {
    auto* call = new Call{this, callback, data, &script, std::move(args), false};
    return send(resp_command({"EVALSHA", script.sha1}, *call->args), call);
}

// Takes `call`; false (and `call` deleted) when it cannot be queued.
bool RedisLink::send(std::string_view command, Call* call) {
    if (ac_ == nullptr ||
        redisAsyncFormattedCommand(ac_, on_call_reply, call, command.data(),
                                   command.size()) != REDIS_OK) {
        delete call;
        return false;
    }
    return true;
}

void RedisLink::on_call_reply(redisAsyncContext*, void* reply, void* privdata) noexcept {
    std::unique_ptr<Call> call(static_cast<Call*>(privdata));
    const auto* r = static_cast<const redisReply*>(reply);
    RedisOutcome outcome;
    outcome.reply = r;
    if (r == nullptr) {
        outcome.failure = RedisFailure::transient;
        outcome.error = "redis connection lost";
    } else if (call->script != nullptr && !call->sent_source && is_noscript(r)) {
        // Script cache empty (SCRIPT FLUSH, a failover): send the source once.
        call->link->unanswered_timeouts_ = 0;
        if (call->link->resend_with_source(call)) {
            return;
        }
        outcome.reply = nullptr;
        outcome.failure = RedisFailure::transient;
        outcome.error = "redis connection lost";
    } else {
        call->link->unanswered_timeouts_ = 0;
        if (r->type == REDIS_REPLY_ERROR) {
            outcome.error = std::string_view(r->str, r->len);
            outcome.failure = classify_redis_error(outcome.error);
        }
    }
    call->callback(call->data, outcome);
}

// True when `call` was taken (queued again as EVAL).
bool RedisLink::resend_with_source(std::unique_ptr<Call>& call) noexcept {
    try {
        call->sent_source = true;
        const std::string command =
            resp_command({"EVAL", call->script->source}, *call->args);
        Call* again = new Call(*call);
        if (!send(command, again)) {
            return false;
        }
        call.reset();
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

void RedisLink::lost() {
    ac_ = nullptr;  // hiredis frees the context after this callback
    if (connect_timer_.timer_set) {
        ngx_del_timer(&connect_timer_);
    }
    schedule_reconnect();
}

void RedisLink::on_connect(const redisAsyncContext* ac, int status) {
    RedisLink* link = link_of(ac);
    if (link == nullptr || link->ac_ != ac) {
        return;
    }
    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, &link->log_, 0,
                      "mailhook: redis connect failed: %s", ac->errstr);
        link->lost();
        return;
    }
    if (link->connect_timer_.timer_set) {
        ngx_del_timer(&link->connect_timer_);
    }
    if (link->reconnects_ > 0 || link->backoff_ > 0) {
        ngx_log_error(NGX_LOG_NOTICE, &link->log_, 0,
                      "mailhook: redis connection established");
    }
    link->state_ = State::ready;
    link->backoff_ = 0;
    link->report_state();
}

void RedisLink::report_state() {
    if (state_hook_ != nullptr && !stopping_) {
        state_hook_(state_hook_data_, state_ == State::ready, reconnects_);
    }
}

void RedisLink::on_disconnect(const redisAsyncContext* ac, int status) {
    RedisLink* link = link_of(ac);
    if (link == nullptr || link->ac_ != ac) {
        return;
    }
    ngx_log_error(NGX_LOG_ERR, &link->log_, 0, "mailhook: redis connection lost: %s",
                  status == REDIS_OK ? "closed" : ac->errstr);
    link->lost();
}

void RedisLink::on_setup_reply(redisAsyncContext* ac, void* reply, void* privdata) {
    auto* r = static_cast<redisReply*>(reply);
    if (r != nullptr && r->type == REDIS_REPLY_ERROR) {
        RedisLink* link = link_of(ac);
        const char* what = static_cast<const char*>(privdata);
        ngx_log_error(NGX_LOG_ERR, &link->log_, 0, "mailhook: redis %s failed: %*s", what,
                      (int) r->len, r->str);
        // Calls would fail on an unauthenticated or wrong database; without
        // a loaded script, EVALSHA still works through EVAL.
        if (std::strcmp(what, "SCRIPT LOAD") != 0) {
            redisAsyncDisconnect(ac);
        }
    }
}

void RedisLink::on_read(ngx_event_t* ev) {
    auto* c = static_cast<ngx_connection_t*>(ev->data);
    auto* link = static_cast<RedisLink*>(c->data);
    if (link->ac_ != nullptr) {
        redisAsyncHandleRead(link->ac_);
    }
}

void RedisLink::on_write(ngx_event_t* ev) {
    auto* c = static_cast<ngx_connection_t*>(ev->data);
    auto* link = static_cast<RedisLink*>(c->data);
    if (link->ac_ != nullptr) {
        redisAsyncHandleWrite(link->ac_);
    }
}

void RedisLink::on_reconnect_timer(ngx_event_t* ev) {
    auto* link = static_cast<RedisLink*>(static_cast<ngx_connection_t*>(ev->data)->data);
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }
    ++link->reconnects_;
    link->connect();
}

void RedisLink::on_connect_timeout(ngx_event_t* ev) {
    auto* link = static_cast<RedisLink*>(static_cast<ngx_connection_t*>(ev->data)->data);
    if (link->ac_ == nullptr || link->state_ != State::connecting) {
        return;
    }
    link->drop("connect timed out");
}

void RedisLink::note_timeout() {
    constexpr unsigned kTimeoutsBeforeDrop = 3;
    if (ac_ != nullptr && ++unanswered_timeouts_ >= kTimeoutsBeforeDrop) {
        drop("did not answer in time, several times in a row: reconnecting");
    }
}

// Called from our own events, never inside a hiredis callback, so the
// context is freed at once.
void RedisLink::drop(const char* why) {
    ngx_log_error(NGX_LOG_ERR, &log_, 0, "mailhook: redis %s", why);
    unanswered_timeouts_ = 0;
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    if (connect_timer_.timer_set) {
        ngx_del_timer(&connect_timer_);
    }
    ac->onDisconnect = nullptr;
    redisAsyncFree(ac);  // pending commands are answered with NULL
    schedule_reconnect();
}

// Level-triggered: hiredis reads at most 16 KB per call, and a level event
// fires again while bytes remain, where an edge event would not.
void RedisLink::add_read(void* privdata) {
    ngx_connection_t* c = connection_of(privdata);
    if (!c->read->active) {
        ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}

void RedisLink::del_read(void* privdata) {
    ngx_connection_t* c = connection_of(privdata);
    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}

void RedisLink::add_write(void* privdata) {
    ngx_connection_t* c = connection_of(privdata);
    if (!c->write->active) {
        ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}

void RedisLink::del_write(void* privdata) {
    ngx_connection_t* c = connection_of(privdata);
    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}

// hiredis closes the socket itself (redisFree): release the nginx
// connection without closing the fd, or the number could be closed twice.
void RedisLink::cleanup(void* privdata) {
    ngx_connection_t* c = connection_of(privdata);
    auto* link = static_cast<RedisLink*>(c->data);
    del_read(c);
    del_write(c);
    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }
    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }
    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
    if (link->connection_ == c) {
        link->connection_ = nullptr;
    }
}

}  // namespace mailhook::nginx
