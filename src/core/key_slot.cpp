// SPDX-License-Identifier: BSD-2-Clause
#include "key_slot.hpp"

#include <array>

namespace mailhook {
namespace {

constexpr std::array<std::uint16_t, 256> make_crc16_table() {
    std::array<std::uint16_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i << 8;
        for (int k = 0; k < 8; ++k) {
            c = (c & 0x8000u) ? (c << 1) ^ 0x1021u : c << 1;
        }
        table[i] = static_cast<std::uint16_t>(c & 0xffffu);
    }
    return table;
}

constexpr std::array<std::uint16_t, 256> kCrc16Table = make_crc16_table();

}  // namespace

std::uint16_t crc16_xmodem(std::string_view bytes) {
    std::uint16_t crc = 0;
    for (const char byte : bytes) {
        const auto index = ((crc >> 8) ^ static_cast<unsigned char>(byte)) & 0xffu;
        crc = static_cast<std::uint16_t>((crc << 8) ^ kCrc16Table[index]);
    }
    return crc;
}

std::string_view hash_tag(std::string_view key) {
    const std::size_t open = key.find('{');
    if (open == std::string_view::npos) {
        return key;
    }
    const std::size_t close = key.find('}', open + 1);
    if (close == std::string_view::npos || close == open + 1) {
        return key;
    }
    return key.substr(open + 1, close - open - 1);
}

std::uint32_t key_slot(std::string_view key) {
    return crc16_xmodem(hash_tag(key)) % kClusterSlots;
}

}  // namespace mailhook
