// SPDX-License-Identifier: BSD-2-Clause
// Redis protocol (RESP) commands built directly into one buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailhook {

// Bulk-string arguments appended to one buffer; the array header is added
// when the command is assembled, so the tail can be reused (EVALSHA, then
// EVAL after NOSCRIPT) without being rebuilt.
class RespArgs {
  public:
    RespArgs() = default;
    // Arguments already encoded (read back from the spool).
    RespArgs(std::size_t count, std::string_view encoded)
        : buffer_(encoded), count_(count) {}
    RespArgs(std::size_t count, std::string&& encoded)
        : buffer_(std::move(encoded)), count_(count) {}

    void add(std::string_view arg);
    void add(std::int64_t number);
    // One argument made of these parts, in order (no joined copy first).
    void add_joined(std::initializer_list<std::string_view> parts);
    // The arguments of `other`, after these.
    void append(const RespArgs& other);
    std::size_t count() const { return count_; }
    std::string_view encoded() const { return buffer_; }
    void reserve(std::size_t bytes) { buffer_.reserve(bytes); }
    bool empty() const { return count_ == 0; }

  private:
    std::string buffer_;
    std::size_t count_ = 0;
};

std::string resp_command(std::initializer_list<std::string_view> head,
                         const RespArgs& tail = RespArgs());
// The same command appended to `out`.
void append_resp_command(std::string& out, std::initializer_list<std::string_view> head,
                         const RespArgs& tail);

// The bulk string `encoded` starts with (RespArgs::encoded()), which
// `encoded` then no longer holds; nothing when it starts with none.
std::optional<std::string_view> take_bulk_string(std::string_view& encoded);
// The next `n` bulk strings of `encoded` (RespArgs::encoded()) as they are
// encoded ("$3\r\nkey\r\n"), to be copied into another command; `encoded`
// keeps what follows. False when there are fewer.
bool take_encoded_bulks(std::string_view& encoded, std::string_view* out, std::size_t n);

// The first `max` bulk strings of RespArgs::encoded() (fewer when the
// arguments end or are not bulk strings), for logs.
std::vector<std::string_view> resp_bulk_strings(std::string_view encoded, std::size_t max);

}  // namespace mailhook
