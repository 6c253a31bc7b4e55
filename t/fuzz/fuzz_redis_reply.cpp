// SPDX-License-Identifier: BSD-2-Clause
// Fuzz target: the reply side of the Redis link (RedisReplyReader over
// hiredis' reader). The input is what a Redis connection delivered. Fed in
// one piece, one byte at a time, and in chunks whose size the first byte
// picks, it must give the same replies and the same verdict (nested arrays,
// huge bulk lengths and garbage included), never crash, and never hold more
// than kMaxBuffered bytes.
#include <string>
#include <vector>

#include "core/redis_reply.hpp"
#include "fuzz_support.hpp"

namespace mailhook::fuzz {
namespace {

void describe(const redisReply& reply, std::string& out) {
    out += std::to_string(reply.type) + ":";
    switch (reply.type) {
        case REDIS_REPLY_INTEGER:
            out += std::to_string(reply.integer);
            break;
        case REDIS_REPLY_ARRAY:
            out += std::to_string(reply.elements) + "[";
            for (std::size_t i = 0; i < reply.elements; ++i) {
                FUZZ_CHECK(reply.element[i] != nullptr);
                describe(*reply.element[i], out);
            }
            out += "]";
            break;
        case REDIS_REPLY_NIL:
            break;
        default:
            out += std::to_string(reply.len) + "'" + std::string(reply_text(reply)) + "'";
    }
    out += ";";
}

struct Result {
    std::string replies;
    bool failed = false;
};

// Feeds `input` in pieces of `chunk` bytes, taking replies after each.
Result read_all(std::string_view input, std::size_t chunk) {
    RedisReplyReader reader;
    Result result;
    for (std::size_t at = 0; at < input.size() && !result.failed; at += chunk) {
        if (!reader.feed(input.substr(at, chunk))) {
            result.failed = true;
            break;
        }
        FUZZ_CHECK(reader.buffered() <= RedisReplyReader::kMaxBuffered);
        while (RedisReplyPtr reply = reader.next()) {
            describe(*reply, result.replies);
        }
        result.failed = reader.failed();
    }
    return result;
}

}  // namespace
}  // namespace mailhook::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mailhook::fuzz;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const Result whole = read_all(input, input.size() + 1);
    const Result bytes = read_all(input, 1);
    const Result chunks = read_all(input, size > 0 ? 1 + data[0] % 64 : 1);
    // An error ends the stream, so the replies before it must agree; a
    // split feed may only see the error at a later reply boundary.
    FUZZ_CHECK(whole.failed == bytes.failed && whole.failed == chunks.failed);
    if (!whole.failed) {
        FUZZ_CHECK(whole.replies == bytes.replies);
        FUZZ_CHECK(whole.replies == chunks.replies);
    }
    return 0;
}
