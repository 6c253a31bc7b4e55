// SPDX-License-Identifier: BSD-2-Clause
#include "resp.hpp"

namespace mailhook {
namespace {

void append_bulk(std::string& out, std::string_view arg) {
    out.push_back('$');
    out.append(std::to_string(arg.size()));
    out.append("\r\n");
    out.append(arg);
    out.append("\r\n");
}

}  // namespace

void RespArgs::add(std::string_view arg) {
    append_bulk(buffer_, arg);
    ++count_;
}

void RespArgs::add(std::int64_t number) { add(std::to_string(number)); }

void RespArgs::append(const RespArgs& other) {
    buffer_.append(other.buffer_);
    count_ += other.count_;
}

std::string resp_command(std::initializer_list<std::string_view> head,
                         const RespArgs& tail) {
    std::string out;
    std::size_t size = 16 + tail.encoded().size();
    for (const std::string_view arg : head) size += arg.size() + 16;
    out.reserve(size);
    out.push_back('*');
    out.append(std::to_string(head.size() + tail.count()));
    out.append("\r\n");
    for (const std::string_view arg : head) append_bulk(out, arg);
    out.append(tail.encoded());
    return out;
}

}  // namespace mailhook
