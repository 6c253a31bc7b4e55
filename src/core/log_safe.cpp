// SPDX-License-Identifier: BSD-2-Clause
#include "log_safe.hpp"

#include <algorithm>

#include "encoding.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kCut = "...";

bool is_c1_control(std::string_view sequence) {
    return sequence.size() == 2 && static_cast<unsigned char>(sequence[0]) == 0xc2 &&
           static_cast<unsigned char>(sequence[1]) <= 0x9f;
}

void append_escaped(std::string& out, unsigned char byte) {
    constexpr char kHex[] = "0123456789ABCDEF";
    out.append("\\x");
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0x0f]);
}

}  // namespace

std::string log_safe(std::string_view bytes, std::size_t max_bytes) {
    std::string out;
    out.reserve(std::min(bytes.size(), max_bytes) + kCut.size());
    const std::size_t budget = max_bytes > kCut.size() ? max_bytes - kCut.size() : 0;
    std::size_t cut_at = 0;  // the longest output, at a character boundary, that fits the budget
    std::size_t at = 0;
    while (at < bytes.size() && out.size() <= max_bytes) {
        if (out.size() <= budget) cut_at = out.size();
        const unsigned char byte = static_cast<unsigned char>(bytes[at]);
        if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
            out.push_back(static_cast<char>(byte));
            ++at;
            continue;
        }
        const std::size_t length = byte >= 0x80 ? utf8_sequence_length(bytes, at) : 0;
        if (length > 0 && !is_c1_control(bytes.substr(at, length))) {
            out.append(bytes.substr(at, length));
            at += length;
            continue;
        }
        const std::size_t escaped = std::max<std::size_t>(length, 1);
        for (std::size_t i = 0; i < escaped; ++i) {
            append_escaped(out, static_cast<unsigned char>(bytes[at + i]));
        }
        at += escaped;
    }
    if (out.size() > max_bytes) {
        out.resize(cut_at);
        out.append(kCut);
    }
    return out;
}

}  // namespace mailhook
