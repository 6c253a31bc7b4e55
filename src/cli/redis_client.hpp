// SPDX-License-Identifier: BSD-2-Clause
// A small synchronous Redis client for the command: one socket (TCP or
// unix), TLS through OpenSSL, AUTH and SELECT as the module does them,
// commands encoded by the core's RESP writer and replies read with
// hiredis' RESP reader (hiredis 0.14 itself has no TLS).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "redis_options.hpp"

namespace mailhook::cli {

struct Reply {
    enum class Kind { nil, string, status, error, integer, array };
    Kind kind = Kind::nil;
    std::string text;  // string, status and error replies
    std::int64_t integer = 0;
    std::vector<Reply> elements;

    bool is_nil() const { return kind == Kind::nil; }
    bool is_error() const { return kind == Kind::error; }
    bool is_array() const { return kind == Kind::array; }
};

class RedisClient {
  public:
    // Connects, handshakes TLS, authenticates and selects the database;
    // throws Failure saying which step failed.
    explicit RedisClient(const RedisOptions& options);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // The reply, error replies included; throws Failure when the connection
    // fails or no reply comes within the timeout.
    Reply call(const std::vector<std::string>& args);
    Reply call(std::initializer_list<std::string_view> args);
    // The same, and an error reply throws Failure too.
    Reply run(const std::vector<std::string>& args);
    Reply run(std::initializer_list<std::string_view> args);

    // Commands sent in one write, their replies read in order (MULTI/EXEC).
    std::vector<Reply> pipeline(const std::vector<std::vector<std::string>>& commands);

    // How long a reply may take (XREAD BLOCK needs more than the default).
    void set_timeout_ms(int timeout_ms);

  private:
    class Connection;
    void send(const std::string& encoded);
    Reply receive();

    std::unique_ptr<Connection> connection_;
};

// "(nil)", the text, the number or a bracketed list: for messages.
std::string describe(const Reply& reply);

}  // namespace mailhook::cli
