// SPDX-License-Identifier: BSD-2-Clause
// mailhook health [ID]: the health hash the module keeps per connection
// (docs/events.md "Connection health"): the last accepted and the last
// rejected request and the counters, for "no events coming in?" and
// "rejected (401)?" without log access.
#include <iostream>
#include <map>

#include "cli.hpp"
#include "commands.hpp"

namespace mailhook::cli {
namespace {

constexpr std::string_view kHelp =
    "usage: mailhook health [ID]\n"
    "\n"
    "ID: the health of connection ID: the last accepted request (and the type of\n"
    "its last event), the last rejected one (status and reason), and counts of\n"
    "requests accepted and rejected, events stored and duplicates.\n"
    "Without ID: one line per connection with a health hash.\n"
    "Rejections are written at most once a second per connection and nginx\n"
    "worker: the count lags by the rejections of the last second.\n"
    "Exit 1 when ID has no health hash: no request for it reached the module.\n\n";

using Fields = std::map<std::string, std::string>;

Fields read_hash(RedisClient& redis, const std::string& key) {
    Fields fields;
    for (auto& [name, value] : hash_pairs(redis.run({"HGETALL", key}))) fields[name] = value;
    return fields;
}

std::string field(const Fields& fields, const std::string& name, const std::string& none = "-") {
    const auto it = fields.find(name);
    return it == fields.end() || it->second.empty() ? none : it->second;
}

// The connection id of a health key: after the prefix's "health:" and a
// hash tag ("{TAG}:") when the module uses them.
std::string connection_of(const KeyNames& keys, const std::string& key) {
    std::string id = key.substr(keys.health("").size());
    if (!id.empty() && id.front() == '{') {
        const std::size_t end = id.find("}:");
        if (end != std::string::npos) id.erase(0, end + 2);
    }
    return id;
}

// The standalone key, else the key with a hash tag.
std::string find_health_key(RedisClient& redis, const KeyNames& keys, const std::string& id) {
    const std::string plain = keys.health(id);
    if (redis.run({"EXISTS", plain}).integer == 1) return plain;
    const std::vector<std::string> tagged =
        scan_keys(redis, glob_escape(keys.health("")) + "{*}:" + glob_escape(id));
    return tagged.empty() ? std::string() : tagged.front();
}

int show(const StoreCommand& command, const std::string& id) {
    RedisClient redis(command.redis);
    const std::string key = find_health_key(redis, command.keys, id);
    if (key.empty()) {
        throw Failure("no health recorded for " + id + " (" + command.keys.health(id) +
                      "): no request for it has reached the module; is the vendor's URL "
                      ".../webhooks/v2/VENDOR/" + id + "?");
    }
    const Fields health = read_hash(redis, key);
    const Fields connection = read_hash(redis, command.keys.connection(id));
    const std::int64_t now = now_millis();
    std::string name = id;
    if (connection.count("vendor")) name += " (" + connection.at("vendor") + ")";
    print_field("connection", name);
    print_field("last accepted",
                health.count("last_accepted_at")
                    ? when(health.at("last_accepted_at"), now) + ", last event " +
                          field(health, "last_event_type")
                    : "never");
    print_field("last rejected", health.count("last_rejected_at")
                                     ? when(health.at("last_rejected_at"), now) + ": " +
                                           field(health, "last_rejection")
                                     : "never");
    print_field("requests", "accepted " + field(health, "accepted", "0") + ", rejected " +
                                field(health, "rejected", "0"));
    print_field("events", "stored " + field(health, "stored", "0") + ", duplicates " +
                              field(health, "duplicates", "0"));
    print_field("key", key);
    return 0;
}

int list(const StoreCommand& command) {
    RedisClient redis(command.redis);
    std::cout << "CONNECTION\tLAST ACCEPTED\tLAST EVENT\tLAST REJECTED\tLAST REJECTION"
                 "\tACCEPTED\tREJECTED\tSTORED\tDUPLICATES\n";
    for (const std::string& key : scan_keys(redis, glob_escape(command.keys.health("")) + "*")) {
        const Fields health = read_hash(redis, key);
        std::cout << connection_of(command.keys, key) << "\t"
                  << field(health, "last_accepted_at") << "\t"
                  << field(health, "last_event_type") << "\t"
                  << field(health, "last_rejected_at") << "\t"
                  << field(health, "last_rejection") << "\t"
                  << field(health, "accepted", "0") << "\t" << field(health, "rejected", "0")
                  << "\t" << field(health, "stored", "0") << "\t"
                  << field(health, "duplicates", "0") << "\n";
    }
    return 0;
}

}  // namespace

int health_command(const Words& words) {
    const auto command = parse_store_command(words, {}, std::string(kHelp) + kRedisHelp +
                                                            kKeysHelp);
    if (!command) return 0;
    command->args.expect_positional(0, 1, "at most one connection ID");
    if (command->args.positional().empty()) return list(*command);
    return show(*command, command->args.positional()[0]);
}

}  // namespace mailhook::cli
