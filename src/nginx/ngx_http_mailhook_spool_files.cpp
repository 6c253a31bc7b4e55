// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_spool_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "../core/spool_journal.hpp"

namespace mailhook::nginx {

bool read_whole(int fd, std::string& out) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return false;
    }
    out.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = pread(fd, &out[done], out.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

bool write_all(int fd, const std::vector<iovec>& parts) {
    std::vector<iovec> rest = parts;
    size_t first = 0;
    while (first < rest.size()) {
        const int count = static_cast<int>(std::min<size_t>(rest.size() - first, IOV_MAX));
        ssize_t n = writev(fd, &rest[first], count);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        while (n > 0 && first < rest.size()) {
            const auto len = static_cast<ssize_t>(rest[first].iov_len);
            if (n >= len) {
                n -= len;
                ++first;
            } else {
                rest[first].iov_base = static_cast<char*>(rest[first].iov_base) + n;
                rest[first].iov_len -= static_cast<size_t>(n);
                n = 0;
            }
        }
    }
    return true;
}

void sync_directory(const std::string& dir) {
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void) fsync(fd);
        close(fd);
    }
}

bool write_new_file(const std::string& dir, const std::string& name, std::string_view bytes) {
    const std::string path = dir + "/" + name;
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    const bool ok =
        write_all(fd, {{const_cast<char*>(bytes.data()), bytes.size()}}) && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        unlink(path.c_str());
        return false;
    }
    sync_directory(dir);
    return true;
}

std::uint64_t read_progress(const std::string& path) {
    const std::string progress = path + std::string(kProgressSuffix);
    const int fd = open(progress.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    std::string bytes;
    const bool ok = read_whole(fd, bytes);
    close(fd);
    const auto offset = ok ? decode_replay_progress(bytes) : std::nullopt;
    return offset.value_or(0);
}

bool write_progress(const std::string& path, std::uint64_t offset) {
    const std::string progress = path + std::string(kProgressSuffix);
    const int fd = open(progress.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    const std::string bytes = encode_replay_progress(offset);
    bool ok = false;
    for (;;) {
        const ssize_t n = pwrite(fd, bytes.data(), bytes.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        ok = n == static_cast<ssize_t>(bytes.size()) && fdatasync(fd) == 0;
        break;
    }
    close(fd);
    return ok;
}

void remove_progress(const std::string& path) {
    (void) unlink((path + std::string(kProgressSuffix)).c_str());
}

void remove_orphan_progress(const std::string& dir) {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) {
        return;
    }
    std::vector<std::string> orphans;
    while (const dirent* entry = readdir(d)) {
        const std::string_view name = entry->d_name;
        if (name.size() <= kProgressSuffix.size() ||
            name.substr(name.size() - kProgressSuffix.size()) != kProgressSuffix) {
            continue;
        }
        const std::string journal(name.substr(0, name.size() - kProgressSuffix.size()));
        struct stat st;
        if (is_journal_name(journal) && stat((dir + "/" + journal).c_str(), &st) != 0) {
            orphans.emplace_back(name);
        }
    }
    closedir(d);
    for (const std::string& name : orphans) {
        (void) unlink((dir + "/" + name).c_str());
    }
}

}  // namespace mailhook::nginx
