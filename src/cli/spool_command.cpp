// SPDX-License-Identifier: BSD-2-Clause
// mailhook spool status|list|retry: the module's disk spool (mailhook_spool)
// read with the module's own record and journal code (spool_record.hpp,
// spool_journal.hpp). status and list only read; retry moves quarantined
// records from failed/ back into the spool, where the module's replay timer
// picks them up once Redis answers.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli.hpp"
#include "commands.hpp"
#include "core/spool_journal.hpp"
#include "core/spool_record.hpp"
#include "core/timestamp.hpp"

namespace mailhook::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: mailhook spool status --dir PATH\n"
    "       mailhook spool list --dir PATH\n"
    "       mailhook spool retry --dir PATH [NAME...]\n";

constexpr std::string_view kHelp =
    "\n"
    "PATH is mailhook_spool's path (or MAILHOOK_SPOOL_DIR).\n"
    "status: journals and bytes waiting for Redis, records not replayed yet,\n"
    "        records quarantined in failed/.\n"
    "list:   every journal (lane, bytes, records, replayed) and every quarantined\n"
    "        record with the error that put it there.\n"
    "retry:  moves quarantined records (NAME: a file in failed/; none: all) back\n"
    "        into the spool; the module replays them once Redis answers. Fix\n"
    "        what Redis refused first (the error in `list`), or they return.\n"
    "status and list only read; the newest journal of a worker may still be\n"
    "being written.\n\n";

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The journal files of a directory, oldest first (their names sort by
// creation time).
std::vector<std::string> journals_in(const std::string& dir) {
    std::vector<std::string> names;
    DIR* handle = opendir(dir.c_str());
    if (handle == nullptr) return names;
    while (const dirent* entry = readdir(handle)) {
        if (is_journal_name(entry->d_name)) names.emplace_back(entry->d_name);
    }
    closedir(handle);
    std::sort(names.begin(), names.end());
    return names;
}

// What one journal holds, decoded as the replay decodes it.
struct JournalSummary {
    std::string name;
    std::uint64_t bytes = 0;
    std::size_t records = 0;  // script calls
    std::size_t done = 0;     // before the saved replay progress
    std::size_t damaged = 0;  // corrupt stretches
    bool torn = false;        // ends inside a record (being written, or cut short)

    std::size_t waiting() const { return records - done; }
    std::string_view lane() const { return is_tracking_journal(name) ? "tracking" : "webhooks"; }
};

JournalSummary summarize(const std::string& dir, const std::string& name) {
    JournalSummary summary{name};
    const std::string data = read_bytes(dir + "/" + name);
    summary.bytes = data.size();
    const auto progress = decode_replay_progress(read_bytes(dir + "/" + name +
                                                            std::string(kProgressSuffix)));
    const std::size_t replayed_up_to = progress ? static_cast<std::size_t>(*progress) : 0;
    std::size_t at = 0;
    while (at < data.size()) {
        const SpoolRecordView record = decode_spool_record(std::string_view(data).substr(at));
        if (record.status == SpoolRecordView::Status::incomplete) {
            summary.torn = true;
            break;
        }
        if (record.status == SpoolRecordView::Status::corrupt) {
            ++summary.damaged;
            const std::size_t next = next_spool_record(std::string_view(data).substr(at));
            if (next == std::string_view::npos) break;
            at += next;
            continue;
        }
        if (record.kind == SpoolRecordKind::call) {
            ++summary.records;
            if (at < replayed_up_to) ++summary.done;
        }
        at += record.size;
    }
    return summary;
}

std::vector<JournalSummary> summarize_all(const std::string& dir) {
    std::vector<JournalSummary> out;
    for (const std::string& name : journals_in(dir)) out.push_back(summarize(dir, name));
    return out;
}

// "spool-<ms>-...": the journal's creation time.
std::string created(const std::string& name) {
    const auto ms = parse_integer(name.substr(6, 13));
    return ms ? when(format_rfc3339_millis(*ms), now_millis()) : "?";
}

std::string first_line(const std::string& path) {
    std::string text = read_bytes(path);
    text = text.substr(0, text.find('\n'));
    return text.empty() ? "(no error note)" : text;
}

std::string spool_dir(const Args& args) {
    std::string dir;
    if (auto value = args.value("--dir")) {
        dir = *value;
    } else if (const char* env = std::getenv("MAILHOOK_SPOOL_DIR")) {
        dir = env;
    }
    if (dir.empty()) throw UsageError("give the spool's path: --dir PATH (mailhook_spool's path)");
    struct stat st;
    if (stat(dir.c_str(), &st) != 0) {
        throw Failure("no spool directory " + dir + ": " + std::strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) throw Failure(dir + " is not a directory");
    return dir;
}

std::string quarantine_dir(const std::string& dir) { return dir + "/" + std::string(kQuarantineDir); }

int status(const std::string& dir) {
    const std::vector<JournalSummary> journals = summarize_all(dir);
    const std::vector<JournalSummary> failed = summarize_all(quarantine_dir(dir));
    std::uint64_t bytes = 0;
    std::size_t waiting = 0;
    std::size_t tracking = 0;
    for (const JournalSummary& journal : journals) {
        bytes += journal.bytes;
        waiting += journal.waiting();
        if (journal.lane() == "tracking") tracking += journal.waiting();
    }
    std::uint64_t failed_bytes = 0;
    for (const JournalSummary& journal : failed) failed_bytes += journal.bytes;
    print_field("spool", dir);
    print_field("journals", std::to_string(journals.size()) + ", " + std::to_string(bytes) +
                                " bytes");
    print_field("to replay", std::to_string(waiting) + " record(s) (" +
                                 std::to_string(waiting - tracking) + " webhooks, " +
                                 std::to_string(tracking) + " tracking)");
    print_field("oldest", journals.empty() ? "-" : created(journals.front().name));
    print_field("quarantined", std::to_string(failed.size()) + " record(s), " +
                                   std::to_string(failed_bytes) + " bytes in " +
                                   quarantine_dir(dir) +
                                   (failed.empty() ? "" : " (mailhook spool list; retry)"));
    return 0;
}

int list(const std::string& dir) {
    std::cout << "JOURNAL\tLANE\tBYTES\tRECORDS\tREPLAYED\tNOTE\n";
    for (const JournalSummary& journal : summarize_all(dir)) {
        std::string note;
        if (journal.damaged > 0) note = std::to_string(journal.damaged) + " damaged stretch(es)";
        if (journal.torn) note += std::string(note.empty() ? "" : ", ") + "ends mid-record";
        std::cout << journal.name << "\t" << journal.lane() << "\t" << journal.bytes << "\t"
                  << journal.records << "\t" << journal.done << "\t" << (note.empty() ? "-" : note)
                  << "\n";
    }
    const std::string failed = quarantine_dir(dir);
    std::cout << "QUARANTINED\tLANE\tBYTES\tERROR\n";
    for (const JournalSummary& journal : summarize_all(failed)) {
        std::cout << journal.name << "\t" << journal.lane() << "\t" << journal.bytes << "\t"
                  << first_line(failed + "/" + journal.name + ".error") << "\n";
    }
    return 0;
}

// Moves failed/NAME to the spool without replacing a file there.
void move_back(const std::string& dir, const std::string& name) {
    const std::string from = quarantine_dir(dir) + "/" + name;
    const std::string to = dir + "/" + name;
    if (link(from.c_str(), to.c_str()) != 0) {
        throw Failure("cannot move " + from + " back: " + std::strerror(errno));
    }
    if (unlink(from.c_str()) != 0) {
        throw Failure("moved " + name + " back but cannot remove " + from + ": " +
                      std::strerror(errno));
    }
    unlink((from + ".error").c_str());
}

int retry(const std::string& dir, const std::vector<std::string>& given) {
    std::vector<std::string> names = journals_in(quarantine_dir(dir));
    if (!given.empty()) {
        for (const std::string& name : given) {
            if (std::find(names.begin(), names.end(), name) == names.end()) {
                throw Failure("no quarantined record " + name + " in " + quarantine_dir(dir));
            }
        }
        names = given;
    }
    if (names.empty()) {
        std::cout << "nothing quarantined in " << quarantine_dir(dir) << "\n";
        return 0;
    }
    for (const std::string& name : names) {
        move_back(dir, name);
        std::cout << "moved back " << name << "\n";
    }
    std::cout << names.size() << " record(s) back in " << dir
              << ": the module replays them once Redis answers\n";
    return 0;
}

}  // namespace

int spool_command(const Words& words) {
    const auto [name, rest] = split_subcommand(words, kUsage);
    const std::string help = std::string(kUsage) + std::string(kHelp);
    if (name == "--help") {
        std::cout << help;
        return 0;
    }
    const auto args = parse_command(rest, {{"--dir"}}, help);
    if (!args) return 0;
    if (name != "status" && name != "list" && name != "retry") {
        throw UsageError("unknown spool command \"" + name + "\"");
    }
    if (name != "retry") args->expect_positional(0, 0, "no arguments");
    const std::string dir = spool_dir(*args);
    if (name == "status") return status(dir);
    if (name == "list") return list(dir);
    return retry(dir, args->positional());
}

}  // namespace mailhook::cli
