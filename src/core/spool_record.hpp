// SPDX-License-Identifier: BSD-2-Clause
// The on-disk record of a store that Redis could not take: the store
// script's arguments, length-prefixed and checksummed so a torn write at the
// end of a journal is recognised and everything before it is kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "resp.hpp"

namespace mailhook {

std::uint32_t crc32(std::string_view bytes);

// "MHS1" | u32 argument count | u32 length | u32 crc32(payload) | payload,
// where payload = the script's SHA-1 (40 hex digits) | its arguments.
std::string encode_spool_record(std::string_view script_sha1, const RespArgs& args);

struct SpoolRecordView {
    enum class Status { ok, incomplete, corrupt };
    Status status = Status::incomplete;
    std::size_t size = 0;  // bytes the record occupies (header included)
    std::uint32_t arg_count = 0;
    std::string_view script_sha1;
    std::string_view args;
};

// Decodes the record at the start of `bytes`. `incomplete`: the journal ends
// inside the record (a write cut short); `corrupt`: not a record at all.
SpoolRecordView decode_spool_record(std::string_view bytes);

}  // namespace mailhook
