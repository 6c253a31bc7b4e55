// SPDX-License-Identifier: BSD-2-Clause
// mailhook tail [--type T]...: follows the event stream (XREAD BLOCK), one
// line per event.
#include <iostream>
#include <set>

#include "cli.hpp"
#include "commands.hpp"
#include "core/event.hpp"
#include "core/json.hpp"
#include "event_line.hpp"

namespace mailhook::cli {
namespace {

constexpr std::string_view kHelp =
    "usage: mailhook tail [--type TYPE]... [--vendor NAME] [--connection ID]\n"
    "                     [--from STREAM-ID] [--count N] [--json]\n"
    "\n"
    "Follows the event stream (--stream, default mailhook:events), one line per\n"
    "event: received_at type vendor/connection recipient [bounce class] [SMTP\n"
    "status] [response]. --type repeats (bounced, complained, ...), --from 0\n"
    "starts at the oldest entry instead of the newest, --count exits after N\n"
    "events, --json prints each event's JSON instead. Reads only: consumer\n"
    "groups are left alone.\n\n";

constexpr int kBlockMs = 5000;

std::set<std::string> event_types(const Args& args) {
    std::set<std::string> known;
    for (int i = 0; i <= static_cast<int>(EventType::unknown); ++i) {
        known.insert(std::string(to_string(static_cast<EventType>(i))));
    }
    std::set<std::string> wanted;
    for (const std::string& type : args.values("--type")) {
        if (!known.count(type)) {
            std::string names;
            for (const std::string& name : known) names += " " + name;
            throw UsageError("unknown event type \"" + type + "\" (types:" + names + ")");
        }
        wanted.insert(type);
    }
    return wanted;
}

struct Filter {
    std::set<std::string> types;
    std::optional<std::string> vendor;
    std::optional<std::string> connection;

    bool admits(const std::vector<std::pair<std::string, std::string>>& fields,
                const std::string& event_json) const {
        std::string type;
        std::string vendor_name;
        for (const auto& [name, value] : fields) {
            if (name == "type") type = value;
            if (name == "vendor") vendor_name = value;
        }
        if (!types.empty() && !types.count(type)) return false;
        if (vendor && *vendor != vendor_name) return false;
        if (!connection) return true;
        const JsonPtr event = parse_json(event_json);
        return event && json_string_at(event.get(), "connection") == *connection;
    }
};

}  // namespace

int tail_command(const Words& words) {
    const auto command = parse_store_command(
        words, {{"--type"}, {"--vendor"}, {"--connection"}, {"--from"}, {"--count"},
                {"--json", false}},
        std::string(kHelp) + kRedisHelp + kKeysHelp);
    if (!command) return 0;
    command->args.expect_positional(0, 0, "");
    const Filter filter{event_types(command->args), command->args.value("--vendor"),
                        command->args.value("--connection")};
    const std::int64_t count = command->args.number("--count").value_or(0);
    const bool json = command->args.has("--json");
    std::string last = command->args.value("--from").value_or("$");
    RedisClient redis(command->redis);
    redis.set_timeout_ms(command->redis.timeout_ms + kBlockMs);
    std::int64_t shown = 0;
    for (;;) {
        const Reply reply = redis.run({"XREAD", "COUNT", "100", "BLOCK", std::to_string(kBlockMs),
                                       "STREAMS", command->keys.stream, last});
        if (reply.is_nil() || reply.elements.empty()) continue;
        for (const Reply& entry : reply.elements.front().elements.back().elements) {
            if (entry.elements.size() != 2) continue;
            last = entry.elements[0].text;
            const auto fields = hash_pairs(entry.elements[1]);
            std::string event;
            for (const auto& [name, value] : fields) {
                if (name == "event") event = value;
            }
            if (!filter.admits(fields, event)) continue;
            std::cout << (json ? event : event_line(event)) << std::endl;
            if (count > 0 && ++shown >= count) return 0;
        }
    }
}

}  // namespace mailhook::cli
