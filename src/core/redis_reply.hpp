// SPDX-License-Identifier: BSD-2-Clause
// Redis replies as they come off a connection: hiredis' RESP reader, owned.
#pragma once

#include <hiredis/hiredis.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace mailhook {

struct RedisReplyFree {
    void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyFree>;

class RedisReplyReader {
  public:
    // At most this many bytes wait for the end of one reply (a bulk string
    // that claims to be huge is refused instead of buffered forever).
    static constexpr std::size_t kMaxBuffered = 16 * 1024 * 1024;
    // An array header may announce at most this many elements (hiredis
    // allocates them before the elements arrive).
    static constexpr int kMaxElements = 1 << 20;

    RedisReplyReader();  // throws std::bad_alloc
    RedisReplyReader(const RedisReplyReader&) = delete;
    RedisReplyReader& operator=(const RedisReplyReader&) = delete;

    // False once the stream is not RESP (or too much waits for one reply):
    // the connection cannot be used any more; error() says why.
    bool feed(std::string_view bytes);
    // The next complete reply, or null when more bytes are needed (or after
    // an error).
    RedisReplyPtr next();

    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    // Bytes received and not yet part of a returned reply.
    std::size_t buffered() const;

  private:
    struct ReaderFree {
        void operator()(redisReader* reader) const { redisReaderFree(reader); }
    };
    static void* create_array(const redisReadTask* task, int elements);

    std::unique_ptr<redisReader, ReaderFree> reader_;
    const redisReplyObjectFunctions* defaults_;  // hiredis' own reply objects
    redisReplyObjectFunctions functions_;        // the same, with create_array
    std::string error_;
};

// The text of an error or status reply.
inline std::string_view reply_text(const redisReply& reply) {
    return reply.str != nullptr ? std::string_view(reply.str, reply.len) : std::string_view();
}

}  // namespace mailhook
