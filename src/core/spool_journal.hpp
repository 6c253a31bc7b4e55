// SPDX-License-Identifier: BSD-2-Clause
// Names and side files of spool journals. A journal is
// "spool-<ms>-<pid>-<seq>.log" (tracking journals end in "-t.log"), so names
// sort by creation time. Beside it, "<journal>.ack" holds the replay
// progress: the offset up to which every record is done with. A record
// taken out of a journal goes to "failed/" as a journal of its own, which
// replays if moved back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailhook {

inline constexpr std::string_view kProgressSuffix = ".ack";
inline constexpr std::string_view kQuarantineDir = "failed";

std::string journal_name(std::uint64_t created_ms, long pid, std::uint64_t sequence,
                         bool tracking);
bool is_journal_name(std::string_view name);
bool is_tracking_journal(std::string_view name);
// The name, in failed/, of the record at `offset` of journal `name`.
std::string quarantine_name(std::string_view name, std::uint64_t offset);

// "MHA1" | offset u64 | crc32 u32 (of the offset bytes).
std::string encode_replay_progress(std::uint64_t offset);
std::optional<std::uint64_t> decode_replay_progress(std::string_view bytes);

}  // namespace mailhook
