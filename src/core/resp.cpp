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
    append_resp_command(out, head, tail);
    return out;
}

void append_resp_command(std::string& out, std::initializer_list<std::string_view> head,
                         const RespArgs& tail) {
    std::size_t size = 16 + tail.encoded().size();
    for (const std::string_view arg : head) size += arg.size() + 16;
    out.reserve(out.size() + size);
    out.push_back('*');
    out.append(std::to_string(head.size() + tail.count()));
    out.append("\r\n");
    for (const std::string_view arg : head) append_bulk(out, arg);
    out.append(tail.encoded());
}

std::optional<std::string_view> take_bulk_string(std::string_view& encoded) {
    if (encoded.empty() || encoded[0] != '$') return std::nullopt;
    // The length's digits (at most 10) up to CRLF, read in one pass.
    std::size_t length = 0;
    std::size_t i = 1;
    while (i < encoded.size() && i <= 10 && encoded[i] >= '0' && encoded[i] <= '9') {
        length = length * 10 + static_cast<std::size_t>(encoded[i] - '0');
        ++i;
    }
    if (i == 1 || encoded.size() < i + 2 || encoded[i] != '\r' || encoded[i + 1] != '\n') {
        return std::nullopt;
    }
    const std::size_t start = i + 2;
    if (encoded.size() - start < length + 2) return std::nullopt;
    const std::string_view bulk = encoded.substr(start, length);
    encoded.remove_prefix(start + length + 2);
    return bulk;
}

bool take_encoded_bulks(std::string_view& encoded, std::string_view* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const std::string_view rest = encoded;
        if (!take_bulk_string(encoded)) return false;
        out[i] = rest.substr(0, rest.size() - encoded.size());
    }
    return true;
}

std::vector<std::string_view> resp_bulk_strings(std::string_view encoded, std::size_t max) {
    std::vector<std::string_view> out;
    while (out.size() < max) {
        const auto bulk = take_bulk_string(encoded);
        if (!bulk) break;
        out.push_back(*bulk);
    }
    return out;
}

}  // namespace mailhook
