// SPDX-License-Identifier: BSD-2-Clause
#include "resp.hpp"

#include <charconv>

namespace mailhook {
namespace {

// "$<size>\r\n", the header of a bulk string, in one append.
void append_bulk_header(std::string& out, std::size_t size) {
    char head[24] = {'$'};
    char* end = std::to_chars(head + 1, head + sizeof(head) - 2, size).ptr;
    *end++ = '\r';
    *end++ = '\n';
    out.append(head, static_cast<std::size_t>(end - head));
}

void append_bulk(std::string& out, std::string_view arg) {
    append_bulk_header(out, arg.size());
    out.append(arg).append("\r\n", 2);
}

}  // namespace

void RespArgs::add(std::string_view arg) {
    append_bulk(buffer_, arg);
    ++count_;
}

void RespArgs::add(std::int64_t number) {
    char digits[24];
    const char* end = std::to_chars(digits, digits + sizeof(digits), number).ptr;
    add(std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

void RespArgs::add_joined(std::initializer_list<std::string_view> parts) {
    std::size_t size = 0;
    for (const std::string_view part : parts) size += part.size();
    append_bulk_header(buffer_, size);
    for (const std::string_view part : parts) buffer_.append(part);
    buffer_.append("\r\n", 2);
    ++count_;
}

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
