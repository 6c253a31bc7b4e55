// SPDX-License-Identifier: BSD-2-Clause
#include "redis_reply.hpp"

#include <new>

namespace mailhook {

RedisReplyReader::RedisReplyReader() : reader_(redisReaderCreate()) {
    if (!reader_) {
        throw std::bad_alloc();
    }
    defaults_ = reader_->fn;
    functions_ = *defaults_;
    functions_.createArray = create_array;
    reader_->fn = &functions_;
    reader_->privdata = this;
}

void* RedisReplyReader::create_array(const redisReadTask* task, int elements) {
    auto* self = static_cast<RedisReplyReader*>(task->privdata);
    if (elements > kMaxElements) {
        self->error_ = "an array of " + std::to_string(elements) + " elements";
        return nullptr;  // the reader stops with an error
    }
    return self->defaults_->createArray(task, elements);
}

bool RedisReplyReader::feed(std::string_view bytes) {
    if (failed()) {
        return false;
    }
    if (buffered() + bytes.size() > kMaxBuffered) {
        error_ = "a reply larger than " + std::to_string(kMaxBuffered) + " bytes";
        return false;
    }
    if (redisReaderFeed(reader_.get(), bytes.data(), bytes.size()) != REDIS_OK) {
        error_ = reader_->errstr[0] != '\0' ? reader_->errstr : "out of memory";
        return false;
    }
    return true;
}

RedisReplyPtr RedisReplyReader::next() {
    if (failed()) {
        return nullptr;
    }
    void* reply = nullptr;
    if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) {
        if (error_.empty()) {
            error_ = reader_->errstr[0] != '\0' ? reader_->errstr : "protocol error";
        }
        return nullptr;
    }
    return RedisReplyPtr(static_cast<redisReply*>(reply));
}

std::size_t RedisReplyReader::buffered() const {
    return reader_->buf != nullptr ? reader_->len - reader_->pos : 0;
}

}  // namespace mailhook
