// SPDX-License-Identifier: BSD-2-Clause
// The on-disk records of the spool. A journal is a sequence of records:
// script calls Redis could not take (the script's SHA-1 and its arguments),
// and the sources of the scripts they name, so that a journal can be
// replayed by any module version (EVAL with the source it carries). Each
// record is length-prefixed and checksummed, header included: a torn write
// at the end of a journal is recognised and everything before it is kept,
// and a damaged record is found and skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "resp.hpp"

namespace mailhook {

std::uint32_t crc32(std::string_view bytes);

enum class SpoolRecordKind : std::uint8_t { call = 1, script = 2 };

// "MHS2" | kind u8 | attempts u8 | 0 u16 | count u32 | length u32 |
// crc32 u32 (of the 12 header bytes after the magic, then the payload) |
// payload. call: payload = script SHA-1 (40 hex digits) | `count` RESP bulk
// strings; script: payload = SHA-1 | Lua source, count 0. `attempts`: how
// many replays of this call Redis refused already.
std::string encode_spool_record(std::string_view script_sha1, const RespArgs& args,
                                std::uint8_t attempts = 0);
std::string encode_spool_script(std::string_view script_sha1, std::string_view source);

struct SpoolRecordView {
    enum class Status { ok, incomplete, corrupt };
    Status status = Status::incomplete;
    std::size_t size = 0;  // bytes the record occupies (header included)
    SpoolRecordKind kind = SpoolRecordKind::call;
    std::uint8_t attempts = 0;
    std::uint32_t arg_count = 0;
    std::string_view script_sha1;
    std::string_view args;  // call: the arguments; script: the source
};

// Decodes the record at the start of `bytes` (this format, or the first one:
// "MHS1" | count | length | crc32(payload) | payload, calls only).
// `incomplete`: the journal ends inside the record (a write cut short);
// `corrupt`: not a valid record (bad magic, checksum, SHA-1, or arguments
// that are not exactly `count` RESP bulk strings).
SpoolRecordView decode_spool_record(std::string_view bytes);

// The offset of the first complete, valid record after the start of
// `bytes` (where decoding failed), or npos: what to skip over damage.
std::size_t next_spool_record(std::string_view bytes);

// True when `args` is exactly `count` RESP bulk strings ("$<n>\r\n<n bytes>\r\n").
bool is_resp_bulk_sequence(std::string_view args, std::uint32_t count);

}  // namespace mailhook
