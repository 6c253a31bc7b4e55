// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_redis_link.hpp"

#include "../core/cluster_topology.hpp"
#include "../core/store_script.hpp"  // ScriptCallLimits

#include <algorithm>
#include <cstring>

namespace mailhook::nginx {
namespace {

constexpr ngx_msec_t kMinBackoff = 50;
constexpr ngx_msec_t kMaxBackoff = 2000;
// Commands not yet written, beyond which calls are refused (they go to the
// spool or get a 503 at once instead of waiting behind a stuck socket).
constexpr std::size_t kMaxUnsent = 64 * 1024 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr unsigned kTimeoutsBeforeDrop = 3;
constexpr std::size_t kKeptOutputCapacity = 256 * 1024;
// A batch's call keeps under the argument cap of managed Redis services.
constexpr std::size_t kMaxBatchArguments = ScriptCallLimits{}.max_arguments - 3;

bool is_noscript(const redisReply* reply) {
    return reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
           std::strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

// The reply of the i-th call a batch carries: its element of the batch's
// answer, or (an error for the whole batch) the answer itself.
const redisReply* part_reply(const redisReply* reply, std::size_t i, std::size_t parts) {
    return reply->type == REDIS_REPLY_ARRAY && reply->elements == parts ? reply->element[i]
                                                                          : reply;
}

bool is_readonly(const redisReply* reply) {
    return reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
           std::strncmp(reply->str, "READONLY", 8) == 0;
}

// A pub/sub message: ["message", channel, payload].
bool is_message(const redisReply* reply) {
    return reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
           reply->element[0]->type == REDIS_REPLY_STRING &&
           std::string_view(reply->element[0]->str, reply->element[0]->len) == "message";
}

RedisLink* link_of_timer(ngx_event_t* ev) {
    return static_cast<RedisLink*>(static_cast<ngx_connection_t*>(ev->data)->data);
}

const char* action_of(RedisLink::State state) {
    switch (state) {
        case RedisLink::State::resolving: return "resolving the redis host";
        case RedisLink::State::connecting: return "connecting to redis";
        case RedisLink::State::handshaking: return "TLS handshaking with redis";
        case RedisLink::State::setting_up: return "setting up the redis connection";
        case RedisLink::State::ready:
        case RedisLink::State::down: break;
    }
    return "talking to redis";
}

}  // namespace

bool is_ip_address(const std::string& host) {
    auto* text = reinterpret_cast<u_char*>(const_cast<char*>(host.data()));
    if (ngx_inet_addr(text, host.size()) != INADDR_NONE) {
        return true;
    }
#if (NGX_HAVE_INET6)
    u_char v6[16];
    return ngx_inet6_addr(text, host.size(), v6) == NGX_OK;
#else
    return false;
#endif
}

RedisLink::RedisLink(const RedisLinkSettings& settings, RedisNode node,
                     MetricsRecorder* metrics, ngx_log_t* log)
    : settings_(settings), metrics_(metrics), node_(std::move(node)),
      name_(node_.endpoint.describe()) {
    log_ = *log;
    log_.action = const_cast<char*>("talking to redis");
    peer_name_.data = reinterpret_cast<u_char*>(name_.data());
    peer_name_.len = name_.size();
    ngx_memzero(&sockaddr_, sizeof(sockaddr_));
    ngx_memzero(&timer_owner_, sizeof(timer_owner_));
    timer_owner_.fd = (ngx_socket_t) -1;
    timer_owner_.data = this;
    for (ngx_event_t* timer : {&reconnect_timer_, &connect_timer_}) {
        ngx_memzero(timer, sizeof(*timer));
        timer->data = &timer_owner_;
        timer->log = &log_;
        timer->cancelable = 1;
    }
    reconnect_timer_.handler = on_reconnect_timer;
    connect_timer_.handler = on_connect_timeout;
}

RedisLink::~RedisLink() { shutdown(); }

void RedisLink::start() { connect(); }

void RedisLink::shutdown() {
    if (stopping_) {
        return;
    }
    stopping_ = true;
    for (ngx_event_t* timer : {&reconnect_timer_, &connect_timer_}) {
        if (timer->timer_set) {
            ngx_del_timer(timer);
        }
    }
    if (resolving_ != nullptr) {
        ngx_resolve_name_done(resolving_);
        resolving_ = nullptr;
    }
    close_connection();
    set_state(State::down);
    end_calls("the worker is exiting");
#if (NGX_SSL)
    if (session_ != nullptr) {
        ngx_ssl_free_session(session_);
        session_ = nullptr;
    }
#endif
}

// --- bringing the connection up --------------------------------------------------

void RedisLink::connect() {
    if (stopping_ || state_ != State::down) {
        return;
    }
    reader_ = std::make_unique<RedisReplyReader>();
    ngx_add_timer(&connect_timer_, settings_.connect_timeout);
    if (node_.addresses.empty()) {
        resolve();
        return;
    }
    const ngx_addr_t& address = node_.addresses[next_address_ % node_.addresses.size()];
    connect_to(address.sockaddr, address.socklen);
}

// A host name and a `resolver`: asked at every connect, so a failover that
// moves the name is followed.
void RedisLink::resolve() {
    set_state(State::resolving);
    ngx_resolver_ctx_t* ctx = ngx_resolve_start(settings_.resolver, nullptr);
    if (ctx == nullptr || ctx == NGX_NO_RESOLVER) {
        fail("cannot start resolving the host name");
        return;
    }
    ctx->name.data = reinterpret_cast<u_char*>(node_.endpoint.host.data());
    ctx->name.len = node_.endpoint.host.size();
    ctx->handler = on_resolved;
    ctx->data = this;
    ctx->timeout = settings_.resolver_timeout;
    resolving_ = ctx;
    if (ngx_resolve_name(ctx) != NGX_OK) {
        resolving_ = nullptr;  // freed by the resolver
        fail("cannot resolve the host name");
    }
}

// May run inside ngx_resolve_name() (a cached answer).
void RedisLink::on_resolved(ngx_resolver_ctx_t* ctx) noexcept {
    auto* link = static_cast<RedisLink*>(ctx->data);
    link->resolving_ = nullptr;
    if (ctx->state != NGX_OK || ctx->naddrs == 0) {
        ngx_log_error(NGX_LOG_ERR, &link->log_, 0, "mailhook: redis %s could not be resolved "
                      "(%i: %s)", link->name_.c_str(), ctx->state,
                      ngx_resolver_strerror(ctx->state));
        ngx_resolve_name_done(ctx);
        link->fail("the host name did not resolve");
        return;
    }
    const ngx_resolver_addr_t& address = ctx->addrs[link->next_address_ % ctx->naddrs];
    const socklen_t length = std::min<socklen_t>(address.socklen, sizeof(link->sockaddr_));
    ngx_memcpy(&link->sockaddr_, address.sockaddr, length);
    ngx_inet_set_port(&link->sockaddr_.sockaddr, link->node_.endpoint.port);
    ngx_resolve_name_done(ctx);
    link->connect_to(&link->sockaddr_.sockaddr, length);
}

void RedisLink::connect_to(const sockaddr* address, socklen_t length) {
    set_state(State::connecting);
    ngx_peer_connection_t peer;
    ngx_memzero(&peer, sizeof(peer));
    peer.sockaddr = const_cast<sockaddr*>(address);
    peer.socklen = length;
    peer.name = &peer_name_;
    peer.get = ngx_event_get_peer;
    peer.log = &log_;
    peer.log_error = NGX_ERROR_ERR;
    const ngx_int_t rc = ngx_event_connect_peer(&peer);
    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED ||
        peer.connection == nullptr) {
        fail("connect() failed");  // nginx logged why
        return;
    }
    ngx_connection_t* c = peer.connection;
    connection_ = c;
    c->data = this;
    c->read->handler = on_read;
    c->write->handler = on_write;
    if (rc == NGX_OK) {
        connected();
    }
    // NGX_AGAIN: the write event tells when the connect has finished.
}

void RedisLink::connected() {
    ngx_connection_t* c = connection_;
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, reinterpret_cast<void*>(&err), &len) == -1) {
        err = ngx_socket_errno;
    }
    if (err != 0) {
        ngx_log_error(NGX_LOG_ERR, &log_, err, "mailhook: redis %s: connect() failed",
                      name_.c_str());
        fail("connect() failed");
        return;
    }
#if (NGX_SSL)
    if (settings_.ssl != nullptr) {
        start_tls();
        return;
    }
#endif
    set_up();
}

#if (NGX_SSL)
void RedisLink::start_tls() {
    set_state(State::handshaking);
    ngx_connection_t* c = connection_;
    c->pool = ngx_create_pool(512, &log_);
    if (c->pool == nullptr ||
        ngx_ssl_create_connection(settings_.ssl, c, NGX_SSL_BUFFER | NGX_SSL_CLIENT) != NGX_OK) {
        fail("TLS set-up failed");
        return;
    }
    const std::string& name = settings_.ssl_name.empty() ? node_.endpoint.host
                                                         : settings_.ssl_name;
    // RFC 6066: no IP addresses in SNI.
    if (!name.empty() && !is_ip_address(name) &&
        SSL_set_tlsext_host_name(c->ssl->connection, name.c_str()) == 0) {
        fail("TLS set-up failed (server name)");
        return;
    }
    if (session_ != nullptr && ngx_ssl_set_session(c, session_) != NGX_OK) {
        fail("TLS set-up failed (session)");
        return;
    }
    c->ssl->save_session = on_session;
    const ngx_int_t rc = ngx_ssl_handshake(c);
    if (rc == NGX_AGAIN) {
        c->ssl->handler = on_handshake;
        return;
    }
    on_handshake(c);
}

void RedisLink::on_handshake(ngx_connection_t* c) noexcept {
    auto* link = static_cast<RedisLink*>(c->data);
    try {
        if (!c->ssl->handshaked) {
            link->fail("TLS handshake failed");
            return;
        }
        if (!link->verify_peer()) {
            return;
        }
        c->read->handler = on_read;
        c->write->handler = on_write;
        link->set_up();
    } catch (const std::exception& e) {
        link->fail(e.what());
    }
}

// The certificate chains to a trusted CA and names the host (or
// mailhook_redis_ssl_name); else no byte is sent.
bool RedisLink::verify_peer() {
    if (!settings_.ssl_verify) {
        return true;
    }
    ngx_connection_t* c = connection_;
    const long rc = SSL_get_verify_result(c->ssl->connection);
    if (rc != X509_V_OK) {
        ngx_log_error(NGX_LOG_ERR, &log_, 0,
                      "mailhook: redis %s: TLS certificate verify error: (%l:%s)",
                      name_.c_str(), rc, X509_verify_cert_error_string(rc));
        fail("TLS certificate not trusted");
        return false;
    }
    std::string name = settings_.ssl_name.empty() ? node_.endpoint.host : settings_.ssl_name;
    ngx_str_t expected = {name.size(), reinterpret_cast<u_char*>(name.data())};
    if (!certificate_names(c, name)) {
        ngx_log_error(NGX_LOG_ERR, &log_, 0,
                      "mailhook: redis %s: TLS certificate does not match \"%V\"",
                      name_.c_str(), &expected);
        fail("TLS certificate for another name");
        return false;
    }
    return true;
}

// An IP address is matched against the certificate's IP addresses
// (X509_check_ip_asc), a name as nginx matches upstream names.
bool RedisLink::certificate_names(ngx_connection_t* c, const std::string& name) {
    ngx_str_t text = {name.size(), reinterpret_cast<u_char*>(const_cast<char*>(name.data()))};
    if (!is_ip_address(name)) {
        return ngx_ssl_check_host(c, &text) == NGX_OK;
    }
    X509* certificate = SSL_get_peer_certificate(c->ssl->connection);
    if (certificate == nullptr) {
        return false;
    }
    const bool match = X509_check_ip_asc(certificate, name.c_str(), 0) == 1;
    X509_free(certificate);
    return match;
}

// nginx hands over each new session (TLS 1.3 sends them after the
// handshake): the latest is tried on the next connect to this node.
void RedisLink::on_session(ngx_connection_t* c) noexcept {
    auto* link = static_cast<RedisLink*>(c->data);
    ngx_ssl_session_t* session = ngx_ssl_get_session(c);
    if (session == nullptr) {
        return;
    }
    if (link->session_ != nullptr) {
        ngx_ssl_free_session(link->session_);
    }
    link->session_ = session;
}
#else
void RedisLink::start_tls() { fail("TLS is not available in this nginx"); }
#endif

// AUTH, SELECT and the scripts go first; calls queued meanwhile follow once
// all of them have answered.
void RedisLink::set_up() {
    set_state(State::setting_up);
    setup_pending_ = 0;
    if (!settings_.password.empty()) {
        queue_setup(settings_.user.empty()
                        ? resp_command({"AUTH", settings_.password})
                        : resp_command({"AUTH", settings_.user, settings_.password}),
                    on_setup_reply);
    }
    if (settings_.db != 0) {
        queue_setup(resp_command({"SELECT", std::to_string(settings_.db)}), on_setup_reply);
    }
    if (settings_.primary_only) {
        queue_setup(resp_command({"ROLE"}), on_role);  // the scripts once it says master
    } else {
        load_scripts();
    }
    if (setup_pending_ == 0) {
        became_ready();
    }
}

void RedisLink::queue_setup(std::string command, RedisCallback callback) {
    ++setup_pending_;
    Call call{callback, this};
    call.setup = true;
    queue(std::move(command), std::move(call));
}

void RedisLink::load_scripts() {
    for (const RedisScript* script : scripts_) {
        queue_setup(resp_command({"SCRIPT", "LOAD", script->source}), on_script_loaded);
    }
}

// AUTH or SELECT: on an unauthenticated connection or a wrong database no
// call would work.
void RedisLink::on_setup_reply(void* data, const RedisOutcome& outcome) noexcept {
    auto* link = static_cast<RedisLink*>(data);
    try {
        if (outcome.failure != RedisFailure::none) {
            ngx_log_error(NGX_LOG_ERR, &link->log_, 0, "mailhook: redis %s: AUTH or SELECT "
                          "failed: %*s", link->name_.c_str(), outcome.error.size(),
                          outcome.error.data());
            link->fail("refused the connection set-up");
            return;
        }
        link->setup_done();
    } catch (const std::exception& e) {
        link->fail(e.what());
    }
}

// Without a loaded script EVALSHA still works, through EVAL.
void RedisLink::on_script_loaded(void* data, const RedisOutcome& outcome) noexcept {
    auto* link = static_cast<RedisLink*>(data);
    try {
        if (outcome.failure != RedisFailure::none) {
            ngx_log_error(NGX_LOG_WARN, &link->log_, 0, "mailhook: redis %s: SCRIPT LOAD "
                          "failed: %*s", link->name_.c_str(), outcome.error.size(),
                          outcome.error.data());
        }
        link->setup_done();
    } catch (const std::exception& e) {
        link->fail(e.what());
    }
}

// Sentinel named this node the primary; a replica (the answer was stale, or
// the node was demoted since) is never written to.
void RedisLink::on_role(void* data, const RedisOutcome& outcome) noexcept {
    auto* link = static_cast<RedisLink*>(data);
    try {
        const redisReply* reply = outcome.reply;
        const bool master = outcome.failure == RedisFailure::none &&
                            reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
                            reply->element[0]->type == REDIS_REPLY_STRING &&
                            std::string_view(reply->element[0]->str,
                                             reply->element[0]->len) == "master";
        if (!master) {
            link->fail("is not the primary (ROLE)");
            return;
        }
        link->load_scripts();
        link->setup_done();
    } catch (const std::exception& e) {
        link->fail(e.what());
    }
}

void RedisLink::setup_done() {
    if (--setup_pending_ == 0) {
        became_ready();
    }
}

void RedisLink::became_ready() {
    if (connect_timer_.timer_set) {
        ngx_del_timer(&connect_timer_);
    }
    if (reconnects_ > 0 || backoff_ > 0) {
        ngx_log_error(NGX_LOG_NOTICE, &log_, 0, "mailhook: redis %s: connection established",
                      name_.c_str());
    }
    backoff_ = 0;
    unanswered_timeouts_ = 0;
    out_.append(waiting_out_);
    waiting_out_.clear();
    for (Call& call : waiting_) {
        unwaited_ += call.replicated ? 1 : 0;
        sent_.push_back(std::move(call));
    }
    waiting_.clear();
    set_state(State::ready);
    post_flush();
}

// --- traffic ----------------------------------------------------------------------

bool RedisLink::call(std::string_view key, std::string_view command, RedisCallback callback,
                     void* data) {
    Call call{callback, data};
    // "*<n>\r\n" then the command name.
    const std::size_t head = command.find("\r\n");
    const auto name = resp_bulk_strings(
        head == std::string_view::npos ? std::string_view() : command.substr(head + 2), 1);
    call.label = std::string(name.empty() ? std::string_view("?") : name[0]) + " " +
                 std::string(key);
    return queue(std::string(command), std::move(call));
}

bool RedisLink::eval(const RedisScript& script, std::shared_ptr<const RespArgs> args,
                     RedisCallback callback, void* data,
                     std::optional<std::uint32_t> batch_slot) {
    if (batch_slot && script.batch != nullptr && state_ == State::ready && !stopping_ &&
        args->count() <= ScriptCallLimits{}.max_batched_arguments) {
        return collect(script, std::move(args), callback, data, *batch_slot);
    }
    std::string command = resp_command({"EVALSHA", script.sha1}, *args);
    Call call{callback, data, &script, std::move(args)};
    call.replicated = settings_.wait_replicas > 0;
    return queue(std::move(command), std::move(call));
}

bool RedisLink::queue(std::string command, Call call) {
    if (!accepts_calls() ||
        out_.size() - written_ + waiting_out_.size() + batched_bytes_ + command.size() >
            kMaxUnsent) {
        return false;
    }
    if (state_ == State::ready || call.setup) {
        append(command, std::move(call));
    } else {
        waiting_out_.append(command);
        waiting_.push_back(std::move(call));
    }
    return true;
}

// The call joins the batch of its script (and slot); a full batch is
// queued now and a new one begun.
bool RedisLink::collect(const RedisScript& script, std::shared_ptr<const RespArgs> args,
                        RedisCallback callback, void* data, std::uint32_t slot) {
    const std::size_t bytes = args->encoded().size();
    if (out_.size() - written_ + batched_bytes_ + bytes > kMaxUnsent) {
        return false;
    }
    const std::size_t arguments = 2 + args->count();  // its two counts, and its own
    auto batch = std::find_if(batches_.begin(), batches_.end(), [&](const Batch& b) {
        return b.slot == slot && b.script == &script;
    });
    if (batch != batches_.end() && batch->arguments + arguments > kMaxBatchArguments) {
        seal(*batch);
        batches_.erase(batch);
        batch = batches_.end();
    }
    if (batch == batches_.end()) {
        batch = batches_.insert(batches_.end(), Batch{slot, &script});
        batch->arguments = 2;  // numkeys, the number of calls
    }
    Call call{callback, data, &script, std::move(args)};
    call.replicated = settings_.wait_replicas > 0;
    batch->parts.push_back(std::move(call));
    batch->arguments += arguments;
    batch->bytes += bytes;
    batched_bytes_ += bytes;
    post_flush();
    return true;
}

void RedisLink::seal_batches() {
    for (Batch& batch : batches_) {
        seal(batch);
    }
    batches_.clear();
}

// A batch of one is that call as it came; of several, one call of the batch
// script carrying them. Calls the batch script cannot carry (a spooled
// record whose arguments are not a store call's) go as they came, and Redis
// answers each.
void RedisLink::seal(Batch& batch) {
    batched_bytes_ -= batch.bytes;
    const RedisScript* script = batch.script->batch;
    std::shared_ptr<const RespArgs> args;
    if (batch.parts.size() > 1) {
        std::vector<const RespArgs*> calls;
        calls.reserve(batch.parts.size());
        for (const Call& part : batch.parts) {
            calls.push_back(part.args.get());
        }
        if (std::optional<RespArgs> built = script->batch_args(calls)) {
            args = std::make_shared<const RespArgs>(std::move(*built));
        }
    }
    if (!args) {
        for (Call& part : batch.parts) {
            append_resp_command(out_, {"EVALSHA", part.script->sha1}, *part.args);
            enqueue({}, std::move(part));
        }
        return;
    }
    Call call{nullptr, nullptr, script, std::move(args)};
    call.replicated = settings_.wait_replicas > 0;
    call.parts = std::move(batch.parts);
    append_resp_command(out_, {"EVALSHA", script->sha1}, *call.args);
    enqueue({}, std::move(call));
}

void RedisLink::append(std::string_view command, Call call) {
    enqueue(command, std::move(call));
    post_flush();
}

// `command` (already in out_ when empty) and its call.
void RedisLink::enqueue(std::string_view command, Call call) {
    out_.append(command);
    unwaited_ += call.replicated ? 1 : 0;
    sent_.push_back(std::move(call));
}

// Everything queued in this event-loop iteration goes out in one write.
void RedisLink::post_flush() {
    ngx_connection_t* c = connection_;
    if (c != nullptr && c->write->ready && !c->write->posted) {
        ngx_post_event(c->write, &ngx_posted_events);
    }
}

void RedisLink::on_read(ngx_event_t* ev) noexcept {
    auto* c = static_cast<ngx_connection_t*>(ev->data);
    auto* link = static_cast<RedisLink*>(c->data);
    try {
        if (link->state_ == State::connecting) {
            link->connected();
        } else if (link->state_ == State::setting_up || link->state_ == State::ready) {
            link->read_replies();
        }
    } catch (const std::exception& e) {
        link->fail(e.what());
    }
}

void RedisLink::on_write(ngx_event_t* ev) noexcept {
    auto* c = static_cast<ngx_connection_t*>(ev->data);
    auto* link = static_cast<RedisLink*>(c->data);
    try {
        if (link->state_ == State::connecting) {
            link->connected();
        } else if (link->state_ == State::setting_up || link->state_ == State::ready) {
            link->flush();
        }
    } catch (const std::exception& e) {
        link->fail(e.what());
    }
}

// Reads until the socket is drained (nginx's events are edge-triggered).
void RedisLink::read_replies() {
    ngx_connection_t* c = connection_;
    const std::uint64_t generation = generation_;
    u_char buffer[kReadChunk];
    for (;;) {
        const ssize_t n = c->recv(c, buffer, sizeof(buffer));
        if (n == NGX_AGAIN) {
            break;
        }
        if (n == 0 || n == NGX_ERROR) {
            fail(std::string(n == 0 ? "closed the connection" : "read failed") + tls_hint());
            return;
        }
        if (!reader_->feed({reinterpret_cast<const char*>(buffer), static_cast<size_t>(n)})) {
            fail("protocol error: " + reader_->error() + tls_hint());
            return;
        }
        while (RedisReplyPtr reply = reader_->next()) {
            if (push_hook_ != nullptr && is_message(reply.get())) {
                push_hook_(push_hook_data_, reply.get());
                continue;
            }
            if (sent_.empty()) {
                fail("a reply nobody asked for");
                return;
            }
            Call call = std::move(sent_.front());
            sent_.pop_front();
            deliver(std::move(call), std::move(reply));
            if (generation != generation_) {
                return;  // closed meanwhile
            }
        }
        if (reader_->failed()) {
            fail("protocol error: " + reader_->error() + tls_hint());
            return;
        }
    }
    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        fail("cannot wait for replies");
    }
}

// Plaintext to a TLS port fails before the first reply.
const char* RedisLink::tls_hint() const {
    const bool plaintext = connection_ == nullptr || connection_->ssl == nullptr;
    return state_ == State::setting_up && plaintext
               ? " during set-up (a TLS port? then add \"tls\")"
               : "";
}

void RedisLink::deliver(Call call, RedisReplyPtr owned) {
    unanswered_timeouts_ = 0;
    const redisReply* reply = owned.get();
    if (call.wait) {
        replicas_confirmed(reply);
        return;
    }
    if (call.script != nullptr && !call.sent_source && is_noscript(reply)) {
        // Script cache empty (SCRIPT FLUSH, a failover): send the source once.
        call.sent_source = true;
        const std::string command = resp_command({"EVAL", call.script->source}, *call.args);
        append(command, std::move(call));
        return;
    }
    if (call.replicated && reply->type != REDIS_REPLY_ERROR) {
        held_.emplace_back(std::move(call), std::move(owned));  // until its WAIT answers
        return;
    }
    if (complete(call, reply) && settings_.primary_only) {
        fail("answered READONLY: the primary has moved");
    }
}

// Answers the call, or each call of a batch with its own reply. True when
// one was READONLY.
bool RedisLink::complete(Call& call, const redisReply* reply) {
    if (call.parts.empty()) {
        return answer(call, reply);
    }
    bool readonly = false;
    for (std::size_t i = 0; i < call.parts.size(); ++i) {
        readonly = answer(call.parts[i], part_reply(reply, i, call.parts.size())) || readonly;
    }
    return readonly;
}

bool RedisLink::answer(Call& call, const redisReply* reply) {
    RedisOutcome outcome;
    outcome.reply = reply;
    if (reply->type == REDIS_REPLY_ERROR) {
        outcome.error = reply_text(*reply);
        outcome.failure = classify_redis_error(outcome.error);
        if (outcome.failure == RedisFailure::permanent && !call.setup &&
            !(settings_.cluster && is_cluster_redirect(outcome.error))) {
            log_refusal(call, outcome.error);
        }
    }
    call.callback(call.data, outcome);
    return is_readonly(reply);
}

// The outcome for the call, or for every call of a batch (each with its
// own part of the reply, if any).
void RedisLink::notify(Call& call, const RedisOutcome& outcome) {
    if (call.parts.empty()) {
        call.callback(call.data, outcome);
        return;
    }
    RedisOutcome each = outcome;
    for (std::size_t i = 0; i < call.parts.size(); ++i) {
        if (outcome.reply != nullptr) {
            each.reply = part_reply(outcome.reply, i, call.parts.size());
        }
        call.parts[i].callback(call.parts[i].data, each);
    }
}

// A call Redis refuses for good (WRONGTYPE, NOPERM, a script error) fails
// the same way for every request like it: the cause is logged once, with
// the command and its keys.
void RedisLink::log_refusal(const Call& call, std::string_view error) {
    constexpr std::size_t kMaxCauses = 256;
    constexpr std::size_t kKeysShown = 8;
    // The cause: the command, its first key and the error (which names a
    // key of the wrong type, say); the line also shows the other keys.
    std::string what = call.label;
    std::string cause = call.label;
    if (call.script != nullptr) {
        const auto head = resp_bulk_strings(call.args->encoded(), 1);
        std::size_t count = 0;
        for (const char c : head.empty() ? std::string_view() : head[0]) {
            count = count * 10 + static_cast<std::size_t>(c - '0');
        }
        const auto args =
            resp_bulk_strings(call.args->encoded(), 1 + std::min(count, kKeysShown));
        what = std::string(call.sent_source ? "EVAL " : "EVALSHA ") +
               std::string(call.script->name) + " script";
        cause = what + " " + std::string(args.size() > 1 ? args[1] : std::string_view());
        for (std::size_t i = 1; i < args.size(); ++i) {
            what.append(i == 1 ? ", keys " : " ").append(args[i]);
        }
    }
    cause.append(" ").append(error);
    if (refusals_logged_.count(cause) > 0) {
        return;
    }
    if (refusals_logged_.size() >= kMaxCauses) {
        refusals_logged_.clear();
    }
    ngx_log_error(NGX_LOG_ERR, &log_, 0, "mailhook: redis %s refused %s: %*s (logged once "
                  "per cause)", name_.c_str(), what.c_str(), error.size(), error.data());
    refusals_logged_.insert(std::move(cause));
}

// One WAIT after the writes of a batch: Redis answers it once that many
// replicas have every write of this connection so far, or at the timeout.
void RedisLink::wait_for_replicas() {
    unwaited_ = 0;
    Call call{nullptr, this};
    call.wait = true;
    out_.append(resp_command({"WAIT", std::to_string(settings_.wait_replicas),
                              std::to_string(settings_.wait_timeout)}));
    sent_.push_back(std::move(call));
}

void RedisLink::replicas_confirmed(const redisReply* reply) {
    std::deque<std::pair<Call, RedisReplyPtr>> held;
    held.swap(held_);
    const long long confirmed = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
    const bool enough = confirmed >= settings_.wait_replicas;
    std::string why;
    if (reply->type == REDIS_REPLY_ERROR) {
        Call wait{nullptr, nullptr};
        wait.label = "WAIT";
        log_refusal(wait, reply_text(*reply));
        why = "redis refused WAIT";
    } else if (!enough) {
        why = "only " + std::to_string(confirmed) + " of " +
              std::to_string(settings_.wait_replicas) + " replicas confirmed the writes within " +
              std::to_string(settings_.wait_timeout) + "ms";
    }
    if (enough == replicas_short_) {
        replicas_short_ = !enough;
        if (enough) {
            ngx_log_error(NGX_LOG_NOTICE, &log_, 0, "mailhook: redis %s: replicas confirm "
                          "writes again", name_.c_str());
        } else {
            ngx_log_error(NGX_LOG_WARN, &log_, 0, "mailhook: redis %s: %s; such writes go to "
                          "the spool (or answer 503) until replicas confirm again",
                          name_.c_str(), why.c_str());
        }
    }
    if (!enough && metrics_ != nullptr) {
        std::size_t calls = 0;  // a batch counts the calls it carries
        for (const auto& one : held) {
            calls += std::max<std::size_t>(one.first.parts.size(), 1);
        }
        metrics_->redis_unreplicated(calls);
    }
    const std::uint64_t generation = generation_;
    for (auto& [call, held_reply] : held) {
        if (generation == generation_ && enough) {
            complete(call, held_reply.get());
            continue;
        }
        RedisOutcome outcome;
        outcome.failure = RedisFailure::transient;
        if (generation == generation_) {
            outcome.reply = held_reply.get();
            outcome.error = why;
        } else {
            outcome.error = "redis connection lost";  // the link failed meanwhile
        }
        notify(call, outcome);
    }
}

void RedisLink::flush() {
    ngx_connection_t* c = connection_;
    seal_batches();
    if (unwaited_ > 0) {
        wait_for_replicas();
    }
    while (written_ < out_.size()) {
        const ssize_t n = c->send(c, reinterpret_cast<u_char*>(out_.data()) + written_,
                                  out_.size() - written_);
        if (n == NGX_AGAIN) {
            break;
        }
        if (n <= 0) {
            fail("write failed");
            return;
        }
        written_ += static_cast<std::size_t>(n);
    }
    if (written_ == out_.size()) {
        // A burst (batches of big requests) grows the buffer; keeping that
        // capacity would hold the worker's memory above its start for good.
        if (out_.capacity() > kKeptOutputCapacity) {
            std::string().swap(out_);
        } else {
            out_.clear();
        }
        written_ = 0;
    } else if (written_ >= 1024 * 1024) {
        out_.erase(0, written_);  // TLS accepts the moved buffer (config)
        written_ = 0;
    }
    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        fail("cannot wait for the socket");
    }
}

// --- losing it -------------------------------------------------------------------

void RedisLink::note_timeout() {
    if (state_ == State::ready && ++unanswered_timeouts_ >= kTimeoutsBeforeDrop) {
        fail("did not answer in time, several times in a row: reconnecting");
    }
}

// The connection cannot be used: every call on it ends (transient), and a
// new one is made after a backoff. Never closes inside nginx's own frames
// for this connection that touch it afterwards: callers return at once.
void RedisLink::fail(std::string_view why) {
    if (state_ == State::down) {
        return;
    }
    ngx_log_error(NGX_LOG_ERR, &log_, 0, "mailhook: redis %*s (%s, %s)", why.size(), why.data(),
                  name_.c_str(), action_of(state_));
    if (resolving_ != nullptr) {
        ngx_resolve_name_done(resolving_);
        resolving_ = nullptr;
    }
    if (connect_timer_.timer_set) {
        ngx_del_timer(&connect_timer_);
    }
#if (NGX_SSL)
    if (state_ == State::handshaking && session_ != nullptr) {
        ngx_ssl_free_session(session_);  // never offered again after a failure
        session_ = nullptr;
    }
#endif
    ++next_address_;
    close_connection();
    set_state(State::down);
    end_calls("redis connection lost");
    schedule_reconnect();
}

void RedisLink::move_to(RedisNode node) {
    if (stopping_) {
        return;
    }
    fail("moving to " + node.endpoint.describe());
    if (!node_.endpoint.host.empty() || node_.endpoint.is_unix()) {
        ++reconnects_;
    }
#if (NGX_SSL)
    if (session_ != nullptr && node.endpoint.describe() != name_) {
        ngx_ssl_free_session(session_);  // another server
        session_ = nullptr;
    }
#endif
    node_ = std::move(node);
    name_ = node_.endpoint.describe();
    peer_name_.data = reinterpret_cast<u_char*>(name_.data());
    peer_name_.len = name_.size();
    next_address_ = 0;
    backoff_ = 0;
    if (reconnect_timer_.timer_set) {
        ngx_del_timer(&reconnect_timer_);
    }
    connect();
}

void RedisLink::close_connection() {
    ngx_connection_t* c = connection_;
    if (c == nullptr) {
        return;
    }
    connection_ = nullptr;
    ++generation_;
#if (NGX_SSL)
    if (c->ssl != nullptr) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif
    ngx_pool_t* pool = c->pool;
    ngx_close_connection(c);
    if (pool != nullptr) {
        ngx_destroy_pool(pool);
    }
    out_.clear();
    written_ = 0;
}

// Ends every call that waited (a callback may queue new calls: the link is
// down by now, so they are refused, not lost).
void RedisLink::end_calls(std::string_view why) {
    std::deque<Call> calls;
    for (auto& held : held_) {
        calls.push_back(std::move(held.first));
    }
    held_.clear();
    std::move(sent_.begin(), sent_.end(), std::back_inserter(calls));
    sent_.clear();
    for (Batch& batch : batches_) {
        std::move(batch.parts.begin(), batch.parts.end(), std::back_inserter(calls));
    }
    batches_.clear();
    batched_bytes_ = 0;
    unwaited_ = 0;
    std::move(waiting_.begin(), waiting_.end(), std::back_inserter(calls));
    waiting_.clear();
    waiting_out_.clear();
    RedisOutcome outcome;
    outcome.failure = RedisFailure::transient;
    outcome.error = why;
    for (Call& call : calls) {
        if (!call.setup && !call.wait) {
            notify(call, outcome);
        }
    }
}

// A primary found through Sentinel is reconnected to by the watcher, which
// asks where the primary is first (move_to()).
void RedisLink::schedule_reconnect() {
    if (stopping_ || settings_.primary_only || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }
    backoff_ = backoff_ == 0 ? kMinBackoff : std::min(backoff_ * 2, kMaxBackoff);
    if (!reconnect_timer_.timer_set) {
        ngx_add_timer(&reconnect_timer_, backoff_);
    }
}

void RedisLink::set_state(State state) {
    const bool was_ready = state_ == State::ready;
    state_ = state;
    log_.action = const_cast<char*>(action_of(state));
    if (was_ready != (state == State::ready) && state_hook_ != nullptr && !stopping_) {
        state_hook_(state_hook_data_, state == State::ready, reconnects_);
    }
}

void RedisLink::on_reconnect_timer(ngx_event_t* ev) noexcept {
    RedisLink* link = link_of_timer(ev);
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }
    try {
        ++link->reconnects_;
        link->connect();
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, &link->log_, 0, "mailhook: redis: %s", e.what());
        link->schedule_reconnect();
    }
}

void RedisLink::on_connect_timeout(ngx_event_t* ev) noexcept {
    RedisLink* link = link_of_timer(ev);
    link->fail("connect timed out");
}

}  // namespace mailhook::nginx
