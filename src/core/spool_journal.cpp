// SPDX-License-Identifier: BSD-2-Clause
#include "spool_journal.hpp"

#include <cstdio>

#include "spool_record.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kPrefix = "spool-";
constexpr std::string_view kSuffix = ".log";
constexpr std::string_view kTrackingSuffix = "-t.log";
constexpr std::string_view kProgressMagic = "MHA1";

bool ends_with(std::string_view text, std::string_view tail) {
    return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

}  // namespace

std::string journal_name(std::uint64_t created_ms, long pid, std::uint64_t sequence,
                         bool tracking) {
    char name[96];
    std::snprintf(name, sizeof(name), "spool-%013llu-%010ld-%06llu%s",
                  static_cast<unsigned long long>(created_ms), pid,
                  static_cast<unsigned long long>(sequence), tracking ? "-t.log" : ".log");
    return name;
}

bool is_journal_name(std::string_view name) {
    return name.size() > kPrefix.size() + kSuffix.size() &&
           name.substr(0, kPrefix.size()) == kPrefix && ends_with(name, kSuffix) &&
           name.find('/') == std::string_view::npos;
}

bool is_tracking_journal(std::string_view name) {
    return is_journal_name(name) && ends_with(name, kTrackingSuffix);
}

std::string quarantine_name(std::string_view name, std::uint64_t offset) {
    const bool tracking = is_tracking_journal(name);
    std::string_view stem = name;
    stem.remove_suffix(tracking ? kTrackingSuffix.size() : kSuffix.size());
    return std::string(stem) + "-q" + std::to_string(offset) +
           std::string(tracking ? kTrackingSuffix : kSuffix);
}

std::string encode_replay_progress(std::uint64_t offset) {
    std::string bytes(kProgressMagic);
    std::string number;
    for (int shift = 0; shift < 64; shift += 8) {
        number.push_back(static_cast<char>((offset >> shift) & 0xff));
    }
    bytes.append(number);
    const std::uint32_t crc = crc32(number);
    for (int shift = 0; shift < 32; shift += 8) {
        bytes.push_back(static_cast<char>((crc >> shift) & 0xff));
    }
    return bytes;
}

std::optional<std::uint64_t> decode_replay_progress(std::string_view bytes) {
    if (bytes.size() != 16 || bytes.substr(0, 4) != kProgressMagic) {
        return std::nullopt;
    }
    const std::string_view number = bytes.substr(4, 8);
    std::uint64_t offset = 0;
    for (int i = 7; i >= 0; --i) {
        offset = (offset << 8) | static_cast<unsigned char>(number[i]);
    }
    std::uint32_t crc = 0;
    for (int i = 3; i >= 0; --i) {
        crc = (crc << 8) | static_cast<unsigned char>(bytes[12 + i]);
    }
    if (crc != crc32(number)) {
        return std::nullopt;
    }
    return offset;
}

}  // namespace mailhook
