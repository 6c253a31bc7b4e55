// SPDX-License-Identifier: BSD-2-Clause
// One hiredis async connection per worker, driven by nginx's event loop.
#pragma once

#include "ngx_http_mailhook.hpp"

extern "C" {
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
}

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../core/redis_error.hpp"
#include "../core/resp.hpp"

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

// A Lua script the link loads after every connect and calls by its SHA-1.
struct RedisScript {
    std::string_view source;  // static storage
    std::string sha1;
};

// How one call ended. `reply` is valid during the callback only.
struct RedisOutcome {
    const redisReply* reply = nullptr;  // null when no reply came
    RedisFailure failure = RedisFailure::none;
    std::string_view error;             // what went wrong, for logs
};

// Called exactly once per accepted call, from the event loop (never from
// inside call() or eval()).
using RedisCallback = void (*)(void* data, const RedisOutcome& outcome) noexcept;

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
    // Calls may be queued while connecting; they are sent once the socket is
    // up, or fail (transient) if the connect fails.
    bool accepts_calls() const { return ac_ != nullptr; }

    // Scripts to load after each connect (before any call is sent), so that
    // EVALSHA finds them. Static storage or the link's owner's.
    void add_script(const RedisScript* script) { scripts_.push_back(script); }

    // `command` is a complete RESP command. False when it cannot be queued;
    // `callback` is then never called.
    bool call(std::string_view command, RedisCallback callback, void* data);
    // EVALSHA of a script given to add_script(); when Redis answers NOSCRIPT
    // (SCRIPT FLUSH, a failover to a replica) the source is sent once with
    // EVAL. The link keeps `args` until the call has ended.
    bool eval(const RedisScript& script, std::shared_ptr<const RespArgs> args,
              RedisCallback callback, void* data);

    std::uint64_t reconnects() const { return reconnects_; }

    // A request gave up waiting for a reply. After several timeouts in a
    // row with no reply in between, Redis is taken as hung (SIGSTOP, a dead
    // network path): the connection is dropped, which ends every queued
    // call (transient) instead of letting them pile up, and a new one is
    // made.
    void note_timeout();

    // Called when the connection becomes ready or is lost.
    using StateHook = void (*)(void* data, bool ready, std::uint64_t reconnects);
    void set_state_hook(StateHook hook, void* data) {
        state_hook_ = hook;
        state_hook_data_ = data;
    }

  private:
    struct Call;

    bool send(std::string_view command, Call* call);
    bool resend_with_source(std::unique_ptr<Call>& call) noexcept;
    void load_scripts();
    void connect();
    void attach();
    void schedule_reconnect();
    void lost();
    void drop(const char* why);

    static void on_connect(const redisAsyncContext* ac, int status);
    static void on_disconnect(const redisAsyncContext* ac, int status);
    static void on_setup_reply(redisAsyncContext* ac, void* reply, void* privdata);
    static void on_call_reply(redisAsyncContext* ac, void* reply, void* privdata) noexcept;
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
    std::vector<const RedisScript*> scripts_;
    StateHook state_hook_ = nullptr;
    void* state_hook_data_ = nullptr;
    void report_state();
    // Timers need a connection-shaped `data` (debug logs read its fd).
    ngx_connection_t timer_owner_;
    ngx_event_t reconnect_timer_;
    ngx_event_t connect_timer_;
};

}  // namespace mailhook::nginx
