// SPDX-License-Identifier: BSD-2-Clause
// One connection to one Redis node, owned by nginx: ngx_event_connect_peer
// (TCP or unix socket), nginx's resolver, nginx's TLS, nginx timers. Calls
// are pipelined: their commands go out in one write per event-loop
// iteration, and replies (parsed by hiredis' reader) are matched to them in
// order.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "../core/redis_address.hpp"
#include "../core/redis_error.hpp"
#include "../core/redis_reply.hpp"
#include "../core/resp.hpp"
#include "ngx_http_mailhook.hpp"
#include "ngx_http_mailhook_metrics.hpp"

namespace mailhook::nginx {

// A Lua script the link loads after every connect and calls by its SHA-1.
struct RedisScript {
    std::string_view name;    // for logs: "store", "tracking"
    std::string_view source;  // static storage
    std::string sha1;
    // Its batch script (also loaded), when there is one: the small calls of
    // this script that one event-loop iteration collects go to Redis as one
    // call of that script, answered call by call.
    const RedisScript* batch = nullptr;
    // A batch script's: its numkeys, KEYS and ARGV for such calls.
    // Nothing when they are not all calls it can carry.
    std::optional<RespArgs> (*batch_args)(const std::vector<const RespArgs*>& calls) = nullptr;
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

// How every link of the worker talks to Redis (from the configuration).
struct RedisLinkSettings {
    std::string user;      // ACL user; empty: AUTH with the password only
    std::string password;  // empty: no AUTH
    std::int64_t db = 0;
    bool cluster = false;  // MOVED/ASK are redirects (followed), not refusals
    ngx_msec_t connect_timeout = 1000;  // resolve + connect + TLS + AUTH/SELECT
#if (NGX_SSL)
    ngx_ssl_t* ssl = nullptr;  // TLS when set
#endif
    std::string ssl_name;      // verified name and SNI; empty: the node's host
    bool ssl_verify = true;
    ngx_resolver_t* resolver = nullptr;  // null: the node's addresses
    ngx_msec_t resolver_timeout = 30000;
    // mailhook_redis_wait: after each flushed batch of script calls, WAIT
    // for this many replicas (0: off); calls of a batch fewer replicas
    // confirmed in time end as transient failures (they go to the spool).
    std::int64_t wait_replicas = 0;
    ngx_msec_t wait_timeout = 100;
    // A primary found through Sentinel: set-up checks ROLE says master, and
    // READONLY (a primary demoted since) drops the connection, so the
    // primary is looked up again.
    bool primary_only = false;
};

// One node: its address as configured, and the socket addresses it had at
// configuration time (a unix socket, an IP address, or a host name looked
// up then because no `resolver` is configured). Empty: ask the resolver at
// every connect.
struct RedisNode {
    RedisEndpoint endpoint;
    std::vector<ngx_addr_t> addresses;
};

// An IPv4 or IPv6 address (no name to resolve, no SNI).
bool is_ip_address(const std::string& host);

class RedisLink {
  public:
    enum class State { down, resolving, connecting, handshaking, setting_up, ready };

    RedisLink(const RedisLinkSettings& settings, RedisNode node, MetricsRecorder* metrics,
              ngx_log_t* log);
    ~RedisLink();
    RedisLink(const RedisLink&) = delete;
    RedisLink& operator=(const RedisLink&) = delete;

    // Scripts to load after each connect, before any call is sent.
    void add_script(const RedisScript* script) { scripts_.push_back(script); }

    void start();
    // Stop for good (worker exit): every pending call ends (transient).
    void shutdown();

    State state() const { return state_; }
    // Calls are queued while the connection is being set up and sent once
    // it is ready; they end (transient) if the set-up fails.
    bool accepts_calls() const { return state_ != State::down && !stopping_; }

    // `command` is a complete RESP command about `key` (named in logs).
    // False when it cannot be queued; `callback` is then never called.
    bool call(std::string_view key, std::string_view command, RedisCallback callback,
              void* data);
    // EVALSHA of a script given to add_script(); when Redis answers NOSCRIPT
    // (SCRIPT FLUSH, a failover to a replica) the source is sent once with
    // EVAL. The link keeps `args` until the call has ended. A small call of a
    // script with a batch script joins the iteration's batch for
    // `batch_slot` (a script's keys share one slot: with a cluster, the slot
    // of its keys); nothing: it goes alone (a call that must follow the
    // command queued just before it: ASKING).
    bool eval(const RedisScript& script, std::shared_ptr<const RespArgs> args,
              RedisCallback callback, void* data,
              std::optional<std::uint32_t> batch_slot = 0);

    // A request gave up waiting for a reply. After several timeouts in a
    // row with no reply in between, Redis is taken as hung (SIGSTOP, a dead
    // network path): the connection is dropped, which ends every pending
    // call (transient) instead of letting them pile up, and a new one is
    // made.
    void note_timeout();

    // Another node from now on (Sentinel named a new primary): the current
    // connection, if any, is dropped (its calls end, transient) and the new
    // node is connected to at once.
    void move_to(RedisNode node);
    const RedisEndpoint& endpoint() const { return node_.endpoint; }

    // A subscribed link (SUBSCRIBE): messages ("message", channel, payload)
    // go to this hook instead of being taken as replies.
    using PushHook = void (*)(void* data, const redisReply* message) noexcept;
    void set_push_hook(PushHook hook, void* data) {
        push_hook_ = hook;
        push_hook_data_ = data;
    }

    std::uint64_t reconnects() const { return reconnects_; }
    // Calls were sent (or queued) and not all of them have been answered.
    bool awaiting_replies() const {
        return !sent_.empty() || !waiting_.empty() || !batches_.empty();
    }
    const std::string& name() const { return name_; }

    // Called when the link becomes ready or stops being ready.
    using StateHook = void (*)(void* data, bool ready, std::uint64_t reconnects);
    void set_state_hook(StateHook hook, void* data) {
        state_hook_ = hook;
        state_hook_data_ = data;
    }

  private:
    struct Call {
        RedisCallback callback;
        void* data;
        const RedisScript* script = nullptr;  // null: a plain command
        std::shared_ptr<const RespArgs> args = nullptr;
        bool sent_source = false;
        bool setup = false;  // AUTH, SELECT, SCRIPT LOAD: sent before anything else
        std::string label = {};  // a plain command and its key, for logs
        bool replicated = false;  // a write WAIT must confirm (mailhook_redis_wait)
        bool wait = false;        // the WAIT itself
        std::vector<Call> parts = {};  // a batch script's call: the calls it carries
    };

    // Calls of one script (and with a cluster one slot: a script's keys
    // must share one) collected in this iteration, sent at its end as one.
    struct Batch {
        std::uint32_t slot = 0;
        const RedisScript* script = nullptr;
        std::vector<Call> parts = {};
        std::size_t arguments = 0;  // of the batch script's call
        std::size_t bytes = 0;
    };

    // Bringing the connection up, in this order.
    void connect();
    void resolve();
    static void on_resolved(ngx_resolver_ctx_t* ctx) noexcept;
    void connect_to(const sockaddr* address, socklen_t length);
    void connected();
    void start_tls();
    static void on_handshake(ngx_connection_t* c) noexcept;
    static void on_session(ngx_connection_t* c) noexcept;
    bool verify_peer();
    static bool certificate_names(ngx_connection_t* c, const std::string& name);
    void set_up();
    void queue_setup(std::string command, RedisCallback callback);
    void load_scripts();
    static void on_setup_reply(void* data, const RedisOutcome& outcome) noexcept;
    static void on_script_loaded(void* data, const RedisOutcome& outcome) noexcept;
    static void on_role(void* data, const RedisOutcome& outcome) noexcept;
    void setup_done();
    void became_ready();

    // Traffic.
    bool queue(std::string command, Call call);
    bool collect(const RedisScript& script, std::shared_ptr<const RespArgs> args,
                 RedisCallback callback, void* data, std::uint32_t slot);
    void seal_batches();
    void seal(Batch& batch);
    void append(std::string_view command, Call call);
    void enqueue(std::string_view command, Call call);
    void wait_for_replicas();
    void replicas_confirmed(const redisReply* reply);
    void post_flush();
    static void on_read(ngx_event_t* ev) noexcept;
    static void on_write(ngx_event_t* ev) noexcept;
    void read_replies();
    void flush();
    void deliver(Call call, RedisReplyPtr reply);
    bool complete(Call& call, const redisReply* reply);
    bool answer(Call& call, const redisReply* reply);
    static void notify(Call& call, const RedisOutcome& outcome);
    const char* tls_hint() const;
    void log_refusal(const Call& call, std::string_view error);

    // Losing it.
    void fail(std::string_view why);
    void close_connection();
    void end_calls(std::string_view why);
    void schedule_reconnect();
    void set_state(State state);
    static void on_reconnect_timer(ngx_event_t* ev) noexcept;
    static void on_connect_timeout(ngx_event_t* ev) noexcept;

    const RedisLinkSettings& settings_;
    MetricsRecorder* metrics_;
    RedisNode node_;
    std::string name_;  // the endpoint, for logs
    ngx_str_t peer_name_;
    ngx_log_t log_;
    std::vector<const RedisScript*> scripts_;

    State state_ = State::down;
    bool stopping_ = false;
    ngx_connection_t* connection_ = nullptr;
    std::uint64_t generation_ = 0;  // bumped by every close
    ngx_resolver_ctx_t* resolving_ = nullptr;
    ngx_sockaddr_t sockaddr_;
    socklen_t socklen_ = 0;
    std::size_t next_address_ = 0;  // rotates over the addresses on failures
#if (NGX_SSL)
    ngx_ssl_session_t* session_ = nullptr;  // reused on the next connect
#endif
    std::unique_ptr<RedisReplyReader> reader_;

    std::string out_;               // commands not yet written
    std::size_t written_ = 0;       // ... the first bytes of which are
    std::deque<Call> sent_;         // calls in out_ or sent, in order
    std::vector<Batch> batches_;    // calls to go out at the end of this iteration
    std::size_t batched_bytes_ = 0;
    std::size_t unwaited_ = 0;      // replicated calls in out_ since the last WAIT
    // Replies of replicated calls, delivered once their WAIT has answered.
    std::deque<std::pair<Call, RedisReplyPtr>> held_;
    bool replicas_short_ = false;   // the last WAIT fell short (logged once)
    std::string waiting_out_;       // commands queued before the link is ready
    std::deque<Call> waiting_;
    std::size_t setup_pending_ = 0;
    std::unordered_set<std::string> refusals_logged_;  // causes of permanent failures

    ngx_msec_t backoff_ = 0;
    std::uint64_t reconnects_ = 0;
    unsigned unanswered_timeouts_ = 0;
    StateHook state_hook_ = nullptr;
    void* state_hook_data_ = nullptr;
    PushHook push_hook_ = nullptr;
    void* push_hook_data_ = nullptr;
    // Timers need a connection-shaped `data` (debug logs read its fd).
    ngx_connection_t timer_owner_;
    ngx_event_t reconnect_timer_;
    ngx_event_t connect_timer_;
};

}  // namespace mailhook::nginx
