// SPDX-License-Identifier: BSD-2-Clause
// Redis Cluster's key → slot function (CRC16/XMODEM of the key or of its
// hash tag, modulo 16384), as the Redis Cluster specification defines it.
#pragma once

#include <cstdint>
#include <string_view>

namespace mailhook {

constexpr std::uint32_t kClusterSlots = 16384;

std::uint16_t crc16_xmodem(std::string_view bytes);

// The part of a key that is hashed: what lies between the first '{' and the
// first '}' after it, when that is not empty; else the whole key.
std::string_view hash_tag(std::string_view key);

std::uint32_t key_slot(std::string_view key);

}  // namespace mailhook
