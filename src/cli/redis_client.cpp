// SPDX-License-Identifier: BSD-2-Clause
#include "redis_client.hpp"

#include <hiredis/hiredis.h>

#include "cli.hpp"
#include "core/resp.hpp"
#include "core/sentinel_reply.hpp"
#include "transport.hpp"

namespace mailhook::cli {
namespace {

struct ReaderFree {
    void operator()(redisReader* reader) const { redisReaderFree(reader); }
};
struct ReplyFree {
    void operator()(redisReply* reply) const { freeReplyObject(reply); }
};

Reply convert(const redisReply& raw) {
    Reply reply;
    switch (raw.type) {
        case REDIS_REPLY_STRING:
            reply.kind = Reply::Kind::string;
            break;
        case REDIS_REPLY_STATUS:
            reply.kind = Reply::Kind::status;
            break;
        case REDIS_REPLY_ERROR:
            reply.kind = Reply::Kind::error;
            break;
        case REDIS_REPLY_INTEGER:
            reply.kind = Reply::Kind::integer;
            reply.integer = raw.integer;
            return reply;
        case REDIS_REPLY_ARRAY:
            reply.kind = Reply::Kind::array;
            reply.elements.reserve(raw.elements);
            for (std::size_t i = 0; i < raw.elements; ++i) {
                reply.elements.push_back(convert(*raw.element[i]));
            }
            return reply;
        default:
            return reply;
    }
    reply.text.assign(raw.str, raw.len);
    return reply;
}

std::string encode(const std::vector<std::string>& args) {
    RespArgs tail;
    for (const std::string& arg : args) tail.add(arg);
    return resp_command({}, tail);
}

TlsSettings tls_settings(const RedisOptions& options) {
    TlsSettings tls;
    tls.enabled = options.tls;
    tls.trusted_certificate = options.trusted_certificate;
    tls.verify = options.verify;
    tls.server_name = options.server_name;
    tls.certificate = options.certificate;
    tls.certificate_key = options.certificate_key;
    return tls;
}

}  // namespace

// The socket and the RESP reader of its replies.
class RedisClient::Connection {
  public:
    Connection(const RedisOptions& options, const std::string& address)
        : transport_(parse_endpoint(address, "6379"), tls_settings(options),
                     options.timeout_ms, "redis"),
          reader_(redisReaderCreate()) {
        if (!reader_) throw std::bad_alloc();
    }

    void write_all(std::string_view bytes) { transport_.write_all(bytes); }

    Reply read_reply() {
        for (;;) {
            void* raw = nullptr;
            if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
                throw Failure("redis: the server's reply is not RESP");
            }
            if (raw != nullptr) {
                std::unique_ptr<redisReply, ReplyFree> owned(static_cast<redisReply*>(raw));
                return convert(*owned);
            }
            char buffer[16384];
            const std::size_t got = transport_.read_some(buffer, sizeof buffer);
            if (got == 0) throw Failure("redis: the server closed the connection");
            redisReaderFeed(reader_.get(), buffer, got);
        }
    }

    void set_timeout_ms(int timeout_ms) { transport_.set_timeout_ms(timeout_ms); }

  private:
    Transport transport_;
    std::unique_ptr<redisReader, ReaderFree> reader_;
};

namespace {

// "host:port" as a Sentinel names it ([host]:port for IPv6); empty when
// the reply names none.
std::string address_of(const Reply& reply) {
    if (!reply.is_array() || reply.elements.size() != 2) return {};
    const auto primary = sentinel_endpoint(reply.elements[0].text, reply.elements[1].text);
    return primary ? primary->describe() : std::string();
}

// The primary's address as the first Sentinel that knows it says, asked
// in turn as the module does; throws Failure naming each one's failure.
std::string ask_sentinels(const RedisOptions& options) {
    RedisOptions sentinel = options;
    sentinel.sentinels.clear();
    sentinel.user = options.sentinel_user;
    sentinel.password = options.sentinel_password;
    sentinel.db = 0;
    std::string failures;
    for (const std::string& address : options.sentinels) {
        sentinel.address = address;
        std::string failure;
        try {
            RedisClient client(sentinel);
            const Reply reply =
                client.call({"SENTINEL", "get-master-addr-by-name", options.sentinel_master});
            if (std::string primary = address_of(reply); !primary.empty()) return primary;
            failure = reply.is_error() ? reply.text : "does not know it";
        } catch (const Failure& e) {
            failure = e.what();
        }
        failures += (failures.empty() ? "" : "; ") + address + ": " + failure;
    }
    throw Failure("redis: no Sentinel named the primary \"" + options.sentinel_master +
                  "\" (" + failures + ")");
}

}  // namespace

RedisClient::RedisClient(const RedisOptions& options) {
    const bool via_sentinels = !options.sentinels.empty();
    const std::string address = via_sentinels ? ask_sentinels(options) : options.address;
    connection_ = std::make_unique<Connection>(options, address);
    if (!options.password.empty()) {
        std::vector<std::string> auth{"AUTH"};
        if (!options.user.empty()) auth.push_back(options.user);
        auth.push_back(options.password);
        const Reply reply = call(auth);
        if (reply.is_error()) throw Failure("redis: AUTH refused: " + reply.text);
    }
    if (via_sentinels) {
        // Named by a Sentinel that has not seen a failover yet, or demoted since.
        const Reply role = call({"ROLE"});
        if (role.is_error()) {
            throw Failure("redis: ROLE refused on " + address + " (with sentinel= the user "
                          "needs +role): " + role.text);
        }
        if (!role.is_array() || role.elements.empty() || role.elements[0].text != "master") {
            throw Failure("redis: " + address + ", the primary the Sentinels named, is not a "
                          "primary now (a failover under way?): try again");
        }
    }
    if (options.db != 0) {
        const Reply reply = call({"SELECT", std::to_string(options.db)});
        if (reply.is_error()) throw Failure("redis: SELECT refused: " + reply.text);
    }
}

RedisClient::~RedisClient() = default;

void RedisClient::send(const std::string& encoded) { connection_->write_all(encoded); }

Reply RedisClient::receive() { return connection_->read_reply(); }

Reply RedisClient::call(const std::vector<std::string>& args) {
    send(encode(args));
    return receive();
}

Reply RedisClient::call(std::initializer_list<std::string_view> args) {
    return call(std::vector<std::string>(args.begin(), args.end()));
}

Reply RedisClient::run(const std::vector<std::string>& args) {
    Reply reply = call(args);
    if (reply.is_error()) {
        throw Failure("redis: " + args.front() + " failed: " + reply.text);
    }
    return reply;
}

Reply RedisClient::run(std::initializer_list<std::string_view> args) {
    return run(std::vector<std::string>(args.begin(), args.end()));
}

std::vector<Reply> RedisClient::pipeline(const std::vector<std::vector<std::string>>& commands) {
    std::string encoded;
    for (const auto& command : commands) encoded += encode(command);
    send(encoded);
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) replies.push_back(receive());
    return replies;
}

void RedisClient::set_timeout_ms(int timeout_ms) { connection_->set_timeout_ms(timeout_ms); }

std::string describe(const Reply& reply) {
    switch (reply.kind) {
        case Reply::Kind::nil:
            return "(nil)";
        case Reply::Kind::integer:
            return std::to_string(reply.integer);
        case Reply::Kind::array: {
            std::string out = "[";
            for (const Reply& element : reply.elements) {
                if (out.size() > 1) out += ", ";
                out += describe(element);
            }
            return out + "]";
        }
        default:
            return reply.text;
    }
}

}  // namespace mailhook::cli
