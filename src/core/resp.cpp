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

std::vector<std::string_view> resp_bulk_strings(std::string_view encoded, std::size_t max) {
    std::vector<std::string_view> out;
    while (out.size() < max && !encoded.empty() && encoded[0] == '$') {
        const std::size_t end = encoded.find("\r\n");
        if (end == std::string_view::npos || end == 1 || end > 11) {
            break;
        }
        std::size_t length = 0;
        for (const char c : encoded.substr(1, end - 1)) {
            if (c < '0' || c > '9') return out;
            length = length * 10 + static_cast<std::size_t>(c - '0');
        }
        const std::size_t start = end + 2;
        if (encoded.size() < start + length + 2) {
            break;
        }
        out.push_back(encoded.substr(start, length));
        encoded.remove_prefix(start + length + 2);
    }
    return out;
}

}  // namespace mailhook
