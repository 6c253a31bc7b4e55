// SPDX-License-Identifier: BSD-2-Clause
// One hiredis async connection per worker, driven by nginx's event loop.
#pragma once

#include "ngx_http_mailhook.hpp"

extern "C" {
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
}

#include <string>
#include <string_view>

namespace mailhook::nginx {

struct RedisSettings {
    std::string host;
    int port = 6379;
    std::string unix_path;  // used instead of host:port when set
    std::string password;
    ngx_int_t db = 0;
    ngx_msec_t connect_timeout = 1000;
};

// Parses "host:port", "host", "unix:/path".
bool parse_redis_address(std::string_view address, RedisSettings& settings);

class RedisLink {
  public:
    enum class State { down, connecting, ready };

    RedisLink(RedisSettings settings, ngx_log_t* log);
    ~RedisLink();
    RedisLink(const RedisLink&) = delete;
    RedisLink& operator=(const RedisLink&) = delete;

    void start();
    // Stop for good (worker exit): pending callbacks get a NULL reply.
    void shutdown();

    State state() const { return state_; }
    // Commands may be queued while connecting; hiredis sends them once the
    // socket is up, or answers them with NULL if the connect fails.
    bool accepts_commands() const { return ac_ != nullptr; }
    // `command` is a complete RESP command. False when it cannot be queued;
    // `callback` is then never called.
    bool send(std::string_view command, redisCallbackFn* callback, void* privdata);

    std::uint64_t reconnects() const { return reconnects_; }

    // A reply arrived / a request gave up waiting for one. After several
    // timeouts in a row with no reply in between, Redis is taken as hung
    // (SIGSTOP, a dead network path): the connection is dropped, which
    // answers every queued command with NULL instead of letting them pile
    // up, and a new one is made.
    void note_reply() { unanswered_timeouts_ = 0; }
    void note_timeout();

    // Called when the connection becomes ready or is lost.
    using StateHook = void (*)(void* data, bool ready, std::uint64_t reconnects);
    void set_state_hook(StateHook hook, void* data) {
        state_hook_ = hook;
        state_hook_data_ = data;
    }

  private:
    void connect();
    void attach();
    void schedule_reconnect();
    void lost();
    void drop(const char* why);

    static void on_connect(const redisAsyncContext* ac, int status);
    static void on_disconnect(const redisAsyncContext* ac, int status);
    static void on_setup_reply(redisAsyncContext* ac, void* reply, void* privdata);
    static void on_read(ngx_event_t* ev);
    static void on_write(ngx_event_t* ev);
    static void on_reconnect_timer(ngx_event_t* ev);
    static void on_connect_timeout(ngx_event_t* ev);
    static void add_read(void* privdata);
    static void del_read(void* privdata);
    static void add_write(void* privdata);
    static void del_write(void* privdata);
    static void cleanup(void* privdata);

    RedisSettings settings_;
    ngx_log_t log_;
    redisAsyncContext* ac_ = nullptr;
    ngx_connection_t* connection_ = nullptr;
    State state_ = State::down;
    bool stopping_ = false;
    ngx_msec_t backoff_ = 0;
    std::uint64_t reconnects_ = 0;
    unsigned unanswered_timeouts_ = 0;
    StateHook state_hook_ = nullptr;
    void* state_hook_data_ = nullptr;
    void report_state();
    // Timers need a connection-shaped `data` (debug logs read its fd).
    ngx_connection_t timer_owner_;
    ngx_event_t reconnect_timer_;
    ngx_event_t connect_timer_;
};

}  // namespace mailhook::nginx
