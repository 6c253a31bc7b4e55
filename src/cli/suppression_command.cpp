// SPDX-License-Identifier: BSD-2-Clause
// mailhook suppression get|list|remove SCOPE [ADDRESS]: the suppression
// hash of a tenant (or of a connection without tenant), with the reason and
// the event behind each entry (docs/events.md "Redis data model").
#include <algorithm>
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "core/encoding.hpp"
#include "core/json.hpp"
#include "core/timestamp.hpp"
#include "event_line.hpp"

namespace mailhook::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: mailhook suppression get SCOPE ADDRESS [--history N]\n"
    "       mailhook suppression list SCOPE\n"
    "       mailhook suppression remove SCOPE ADDRESS\n";

constexpr std::string_view kHelp =
    "\n"
    "SCOPE is the connection's tenant, or the connection id when it has none.\n"
    "get: the entry (reason, vendor, event id, time), the changes that led to it\n"
    "     and the stored event behind it, found in the suppression stream among\n"
    "     its newest N entries (--history, default 100000).\n"
    "remove: deletes the entry and records the removal in the suppression stream\n"
    "     (action removed, source cli), as the module records its own changes.\n\n";

std::string help_text() {
    return std::string(kUsage) + std::string(kHelp) + kRedisHelp + kKeysHelp;
}

std::string recipient_key(std::string_view address) {
    return to_lower_ascii(trim_ascii(address));
}

struct Entry {
    std::string reason;
    std::string vendor;
    std::string event_id;
    std::string at;
};

Entry parse_entry(std::string_view value) {
    Entry entry;
    const JsonPtr json = parse_json(value);
    const auto text = [&](const char* name) {
        return std::string(json ? json_string_at(json.get(), name).value_or("") : "");
    };
    entry.reason = text("reason");
    entry.vendor = text("vendor");
    entry.event_id = text("event_id");
    entry.at = text("at");
    if (entry.reason.empty()) entry.reason = "? (" + std::string(value) + ")";
    return entry;
}

struct Change {
    std::string stream_id;
    std::vector<std::pair<std::string, std::string>> fields;

    std::string field(std::string_view name) const {
        for (const auto& [key, value] : fields) {
            if (key == name) return value;
        }
        return {};
    }
};

// The suppression stream's entries for this recipient, newest first, among
// the newest `limit` entries.
std::vector<Change> history(RedisClient& redis, const StoreCommand& command,
                            const std::string& scope_key, const std::string& recipient,
                            std::int64_t limit) {
    std::vector<Change> changes;
    std::string end = "+";
    std::int64_t seen = 0;
    while (seen < limit) {
        const Reply page = redis.run({"XREVRANGE", command.keys.suppression_stream, end, "-",
                                      "COUNT", "1000"});
        if (page.elements.empty()) break;
        for (const Reply& item : page.elements) {
            if (item.elements.size() != 2) continue;
            Change change{item.elements[0].text, hash_pairs(item.elements[1])};
            if (change.field("scope") == scope_key && change.field("recipient") == recipient) {
                changes.push_back(std::move(change));
            }
        }
        seen += static_cast<std::int64_t>(page.elements.size());
        end = "(" + page.elements.back().elements[0].text;
    }
    return changes;
}

// The stored event with this id, near the time its suppression change was
// written (the same script wrote both, so within the same second).
std::string find_event(RedisClient& redis, const StoreCommand& command,
                       const std::string& change_id, const std::string& id) {
    const auto ms = parse_integer(change_id.substr(0, change_id.find('-')));
    if (!ms) return {};
    const std::string from = std::to_string(*ms - 2000);
    const std::string to = std::to_string(*ms + 2000);
    const Reply entries = redis.run({"XRANGE", command.keys.stream, from, to, "COUNT", "10000"});
    for (const Reply& item : entries.elements) {
        if (item.elements.size() != 2) continue;
        for (const auto& [name, value] : hash_pairs(item.elements[1])) {
            if (name == "event" && event_id(value) == id) return value;
        }
    }
    return {};
}

int get(const StoreCommand& command) {
    command.args.expect_positional(2, 2, "SCOPE and ADDRESS");
    const std::string& scope = command.args.positional()[0];
    const std::string recipient = recipient_key(command.args.positional()[1]);
    const std::string key = command.keys.suppression(scope);
    const std::int64_t limit = command.args.number("--history").value_or(100000);
    RedisClient redis(command.redis);
    const Reply value = redis.run({"HGET", key, recipient});
    if (value.is_nil()) {
        std::cout << recipient << " is not suppressed in " << scope << " (" << key << ")\n";
        return 0;
    }
    const Entry entry = parse_entry(value.text);
    print_field("recipient", recipient);
    print_field("scope", scope + " (" + key + ")");
    print_field("reason", entry.reason);
    print_field("since", when(entry.at, now_millis()) + ", by " + entry.vendor);
    print_field("event id", entry.event_id);
    const std::vector<Change> changes = history(redis, command, key, recipient, limit);
    std::string event;
    for (const Change& change : changes) {
        if (event.empty() && change.field("event_id") == entry.event_id) {
            event = find_event(redis, command, change.stream_id, entry.event_id);
        }
    }
    print_field("event", event.empty() ? "not found (trimmed from " + command.keys.stream +
                                             ", or older than the --history searched)"
                                       : event_line(event));
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
        std::string line = it->field("action") + " " + it->field("reason");
        if (!it->field("previous").empty()) line += " (was " + it->field("previous") + ")";
        line += " at " + it->field("at");
        const std::string source = it->field("source");
        line += source.empty() ? " by " + it->field("vendor") + "/" + it->field("connection")
                               : " by " + source;
        print_field("change", line);
    }
    return 0;
}

int list(const StoreCommand& command) {
    command.args.expect_positional(1, 1, "SCOPE");
    const std::string key = command.keys.suppression(command.args.positional()[0]);
    RedisClient redis(command.redis);
    std::vector<std::pair<std::string, Entry>> entries;
    std::string cursor = "0";
    do {
        const Reply page = redis.run({"HSCAN", key, cursor, "COUNT", "1000"});
        if (page.elements.size() != 2) throw Failure("redis: unexpected HSCAN reply");
        cursor = page.elements[0].text;
        for (auto& [recipient, value] : hash_pairs(page.elements[1])) {
            entries.emplace_back(recipient, parse_entry(value));
        }
    } while (cursor != "0");
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::cout << "RECIPIENT\tREASON\tAT\tVENDOR\tEVENT ID\n";
    for (const auto& [recipient, entry] : entries) {
        std::cout << recipient << "\t" << entry.reason << "\t" << entry.at << "\t"
                  << entry.vendor << "\t" << entry.event_id << "\n";
    }
    return 0;
}

int remove(const StoreCommand& command) {
    command.args.expect_positional(2, 2, "SCOPE and ADDRESS");
    const std::string& scope = command.args.positional()[0];
    const std::string recipient = recipient_key(command.args.positional()[1]);
    const std::string key = command.keys.suppression(scope);
    RedisClient redis(command.redis);
    for (int attempt = 0; attempt < 5; ++attempt) {
        redis.run({"WATCH", key});
        const Reply value = redis.run({"HGET", key, recipient});
        if (value.is_nil()) {
            redis.run({"UNWATCH"});
            throw Failure(recipient + " is not suppressed in " + scope + ": nothing removed");
        }
        const Entry entry = parse_entry(value.text);
        const bool done = commit(
            redis,
            {{"HDEL", key, recipient},
             {"XADD", command.keys.suppression_stream, "*", "action", "removed", "recipient",
              recipient, "reason", entry.reason, "previous", entry.reason, "scope", key,
              "vendor", "", "connection", "", "event_id", "", "at",
              format_rfc3339_seconds(now_millis()), "source", "cli"}});
        if (!done) continue;
        std::cout << "removed " << recipient << " from " << scope << " (was " << entry.reason
                  << ")\n";
        return 0;
    }
    throw Failure("the suppression list keeps changing under us; try again");
}

}  // namespace

int suppression_command(const Words& words) {
    const auto [name, rest] = split_subcommand(words, kUsage);
    if (name == "--help") {
        std::cout << help_text();
        return 0;
    }
    const auto command = parse_store_command(rest, {{"--history"}}, help_text());
    if (!command) return 0;
    if (name == "get") return get(*command);
    if (name == "list") return list(*command);
    if (name == "remove") return remove(*command);
    throw UsageError("unknown suppression command \"" + name + "\"");
}

}  // namespace mailhook::cli
