// SPDX-License-Identifier: BSD-2-Clause
// File work of the spool: whole reads, gathered writes, durable small
// files (replay progress, quarantined records).
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailhook::nginx {

bool read_whole(int fd, std::string& out);
bool write_all(int fd, const std::vector<iovec>& parts);
void sync_directory(const std::string& dir);

// A new file (never an existing one) with `bytes`, fsync'd, its name too.
bool write_new_file(const std::string& dir, const std::string& name, std::string_view bytes);

// Replay progress of the journal at `path`: 0 when none was saved (or it
// is unreadable: replaying from the start is safe, the scripts dedup).
std::uint64_t read_progress(const std::string& path);
bool write_progress(const std::string& path, std::uint64_t offset);
void remove_progress(const std::string& path);
// Progress files whose journal is gone (a crash between the two unlinks).
void remove_orphan_progress(const std::string& dir);

}  // namespace mailhook::nginx
