// SPDX-License-Identifier: BSD-2-Clause
// mailhook connection add|set|show|list|disable|enable|rotate: the
// connection registry (mailhook:connection:{id} hashes). Every write is
// checked with the module's parsers first, and made in one MULTI/EXEC on a
// WATCHed key, so a refused edit writes nothing and two editors do not
// overwrite each other.
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "connection_fields.hpp"
#include "core/vendor.hpp"

namespace mailhook::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: mailhook connection add ID --vendor NAME [--secret VALUE | --secret-file PATH]\n"
    "                               [--tenant NAME] [--option NAME=VALUE]... [--disabled]\n"
    "       mailhook connection set ID [--vendor NAME] [--secret VALUE | --secret-file PATH]\n"
    "                               [--tenant NAME] [--option NAME=VALUE]... [--unset NAME]...\n"
    "       mailhook connection show ID [--reveal]\n"
    "       mailhook connection list\n"
    "       mailhook connection disable ID\n"
    "       mailhook connection enable ID\n"
    "       mailhook connection rotate ID (--secret VALUE | --secret-file PATH)\n"
    "       mailhook connection rotate ID --finish | --cancel\n";

constexpr std::string_view kHelp =
    "\n"
    "The connection registry: the Redis hash <prefix>connection:ID (docs/design.md 3.2).\n"
    "Every secret is checked with the module's own parsers before anything is\n"
    "written (a SendGrid key that is not a P-256 public key, a Postal key that is\n"
    "not RSA, a Resend secret that is not whsec_ base64, HMAC options that do not\n"
    "parse, ...): a refused edit exits 1, says why and writes nothing.\n"
    "\n"
    "  --secret -              reads the secret from stdin (keeps it out of ps)\n"
    "  --option NAME=VALUE     a vendor option (signature_header, auth, topic_arn, ...)\n"
    "  --unset NAME            removes an option (or the tenant)\n"
    "  rotate ID --secret NEW  stores NEW as secret_next: the module accepts both\n"
    "  rotate ID --finish      makes secret_next the secret (once the vendor signs with it)\n"
    "  rotate ID --cancel      drops secret_next\n"
    "  show --reveal           prints the secrets instead of their length\n"
    "\n"
    "Workers see a change after mailhook_connection_cache (10s by default).\n\n";

std::string help_text() {
    return std::string(kUsage) + std::string(kHelp) + kRedisHelp + kKeysHelp;
}

const char* state_name(const FieldCheck& check) {
    switch (check.state) {
        case FieldCheck::State::usable:
            return "usable";
        case FieldCheck::State::disabled:
            return "disabled";
        default:
            return "unusable";
    }
}

std::string connection_id(const StoreCommand& command) {
    command.args.expect_positional(1, 1, "connection ID");
    return command.args.positional().front();
}

ConnectionFields read_fields(RedisClient& redis, const std::string& key) {
    ConnectionFields fields;
    for (auto& [name, value] : hash_pairs(redis.run({"HGETALL", key}))) {
        fields[name] = value;
    }
    return fields;
}

// An edit: the new fields from the current ones (nullopt for a key that
// does not exist yet); throws Failure to refuse.
using Edit = ConnectionFields (*)(const StoreCommand&, std::optional<ConnectionFields>);

// Switching a connection off needs no usable secret (a broken connection is
// what one switches off); every other edit does.
bool only_switches_off(const ConnectionFields& before, const ConnectionFields& after) {
    ConnectionFields a = before;
    ConnectionFields b = after;
    for (auto* fields : {&a, &b}) {
        fields->erase("enabled");
        fields->erase("disabled");
    }
    return a == b && is_disabled(after);
}

struct Outcome {
    ConnectionFields before;
    ConnectionFields after;
    bool existed = false;
};

// Reads, edits, checks and writes the hash in one MULTI/EXEC on the WATCHed
// key; retried when someone else wrote it in between.
Outcome write_connection(RedisClient& redis, const StoreCommand& command,
                         const std::string& id, Edit edit) {
    const std::string key = command.keys.connection(id);
    for (int attempt = 0; attempt < 5; ++attempt) {
        redis.run({"WATCH", key});
        Outcome outcome;
        outcome.before = read_fields(redis, key);
        outcome.existed = !outcome.before.empty();
        outcome.after = edit(command, outcome.existed ? std::optional(outcome.before)
                                                      : std::nullopt);
        const FieldCheck check = check_fields(id, outcome.after);
        if (!check.usable_when_enabled() && !only_switches_off(outcome.before, outcome.after)) {
            redis.run({"UNWATCH"});
            throw Failure("refused, nothing written: connection " + id + ": " + check.reason);
        }
        std::vector<std::vector<std::string>> commands;
        std::vector<std::string> removed{"HDEL", key};
        for (const auto& [name, value] : outcome.before) {
            if (!outcome.after.count(name)) removed.push_back(name);
        }
        if (removed.size() > 2) commands.push_back(removed);
        std::vector<std::string> changed{"HSET", key};
        for (const auto& [name, value] : outcome.after) {
            const auto old = outcome.before.find(name);
            if (old == outcome.before.end() || old->second != value) {
                changed.push_back(name);
                changed.push_back(value);
            }
        }
        if (changed.size() > 2) commands.push_back(changed);
        if (commit(redis, commands)) return outcome;
    }
    throw Failure("connection " + id + " keeps changing under us; try again");
}

void apply_options(const StoreCommand& command, ConnectionFields& fields) {
    for (const std::string& option : command.args.values("--option")) {
        const std::size_t equals = option.find('=');
        if (equals == std::string::npos || equals == 0) {
            throw UsageError("--option takes NAME=VALUE, got \"" + option + "\"");
        }
        const std::string name = option.substr(0, equals);
        if (is_reserved_field(name)) {
            throw UsageError("\"" + name + "\" has its own flag (--" + name + ")");
        }
        fields[name] = option.substr(equals + 1);
    }
    for (const std::string& name : command.args.values("--unset")) {
        if (name == "vendor" || name == "secret") throw UsageError("cannot unset " + name);
        fields.erase(name);
    }
}

ConnectionFields add_edit(const StoreCommand& command, std::optional<ConnectionFields> current) {
    if (current) throw Failure("connection exists already (change it with: mailhook connection set)");
    ConnectionFields fields;
    const auto vendor = command.args.value("--vendor");
    if (!vendor) throw UsageError("add needs --vendor");
    fields["vendor"] = *vendor;
    if (auto secret = read_secret(command.args, "--secret", "--secret-file")) {
        fields["secret"] = *secret;
    }
    if (auto tenant = command.args.value("--tenant")) fields["tenant"] = *tenant;
    if (command.args.has("--disabled")) fields["enabled"] = "0";
    apply_options(command, fields);
    return fields;
}

ConnectionFields set_edit(const StoreCommand& command, std::optional<ConnectionFields> current) {
    if (!current) throw Failure("no such connection (create it with: mailhook connection add)");
    ConnectionFields fields = *current;
    if (auto vendor = command.args.value("--vendor")) fields["vendor"] = *vendor;
    if (auto secret = read_secret(command.args, "--secret", "--secret-file")) {
        fields["secret"] = *secret;
    }
    if (auto tenant = command.args.value("--tenant")) fields["tenant"] = *tenant;
    apply_options(command, fields);
    return fields;
}

// `enabled` says it; a `disabled` field (the other spelling) would contradict.
ConnectionFields switched(std::optional<ConnectionFields> current, const char* enabled) {
    if (!current) throw Failure("no such connection");
    current->erase("disabled");
    (*current)["enabled"] = enabled;
    return *current;
}

ConnectionFields disable_edit(const StoreCommand&, std::optional<ConnectionFields> current) {
    return switched(std::move(current), "0");
}

ConnectionFields enable_edit(const StoreCommand&, std::optional<ConnectionFields> current) {
    return switched(std::move(current), "1");
}

ConnectionFields rotate_edit(const StoreCommand& command, std::optional<ConnectionFields> current) {
    if (!current) throw Failure("no such connection");
    ConnectionFields fields = *current;
    const bool rotating = fields.count("secret_next") != 0;
    if (command.args.has("--finish")) {
        if (!rotating) throw Failure("no rotation in progress (no secret_next)");
        fields["secret"] = fields["secret_next"];
        fields.erase("secret_next");
    } else if (command.args.has("--cancel")) {
        if (!rotating) throw Failure("no rotation in progress (no secret_next)");
        fields.erase("secret_next");
    } else {
        const auto secret = read_secret(command.args, "--secret", "--secret-file");
        if (!secret) throw UsageError("rotate needs --secret, --secret-file, --finish or --cancel");
        if (rotating) {
            throw Failure("a rotation is in progress already: finish or cancel it first");
        }
        fields["secret_next"] = *secret;
    }
    return fields;
}

void print_connection(const std::string& id, const std::string& key,
                      const ConnectionFields& fields, bool reveal) {
    const FieldCheck check = check_fields(id, fields);
    print_field("connection", id);
    print_field("key", key);
    const auto vendor = fields.find("vendor");
    print_field("vendor", vendor == fields.end() ? "-" : vendor->second);
    const auto tenant = fields.find("tenant");
    print_field("tenant", tenant == fields.end() ? "- (suppression scope: the connection)"
                                                 : tenant->second);
    print_field("state", check.state == FieldCheck::State::unusable
                             ? "unusable: " + check.reason
                             : std::string(state_name(check)));
    for (const char* name : {"secret", "secret_next"}) {
        const auto secret = fields.find(name);
        if (secret == fields.end()) continue;
        print_field(name, reveal ? secret->second : secret_summary(secret->second));
    }
    if (fields.count("secret_next")) {
        print_field("rotation", "in progress: both secrets verify "
                                "(finish: mailhook connection rotate " + id + " --finish)");
    }
    for (const auto& [name, value] : fields) {
        if (!is_reserved_field(name)) print_field("option " + name, value);
    }
    if (vendor != fields.end()) {
        print_field("endpoint", "POST /webhooks/v2/" + vendor->second + "/" + id);
    }
}

int show(const StoreCommand& command) {
    const std::string id = connection_id(command);
    RedisClient redis(command.redis);
    const std::string key = command.keys.connection(id);
    const ConnectionFields fields = read_fields(redis, key);
    if (fields.empty()) throw Failure("no connection " + id + " (no key " + key + ")");
    print_connection(id, key, fields, command.args.has("--reveal"));
    return 0;
}

int list(const StoreCommand& command) {
    command.args.expect_positional(0, 0, "");
    RedisClient redis(command.redis);
    const std::string prefix = command.keys.connection("");
    const std::vector<std::string> keys = scan_keys(redis, glob_escape(prefix) + "*");
    std::vector<std::vector<std::string>> reads;
    for (const std::string& key : keys) reads.push_back({"HGETALL", key});
    const std::vector<Reply> replies = redis.pipeline(reads);
    std::cout << "ID\tVENDOR\tTENANT\tSTATE\n";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const std::string id = keys[i].substr(prefix.size());
        ConnectionFields fields;
        for (auto& [name, value] : hash_pairs(replies[i])) fields[name] = value;
        const FieldCheck check = check_fields(id, fields);
        std::string state = state_name(check);
        if (check.state == FieldCheck::State::unusable) state += ": " + check.reason;
        if (fields.count("secret_next")) state += ", rotating";
        std::cout << id << "\t" << (fields.count("vendor") ? fields["vendor"] : "-") << "\t"
                  << (fields.count("tenant") ? fields["tenant"] : "-") << "\t" << state << "\n";
    }
    return 0;
}

int edit(const std::string& action, const StoreCommand& command, Edit how) {
    const std::string id = connection_id(command);
    RedisClient redis(command.redis);
    const Outcome outcome = write_connection(redis, command, id, how);
    const FieldCheck check = check_fields(id, outcome.after);
    std::cout << "connection " << id << " " << action << " ("
              << outcome.after.at("vendor") << ", " << state_name(check) << ")";
    if (outcome.after.count("secret_next")) std::cout << "; secret and secret_next both verify";
    std::cout << "\nworkers see it within mailhook_connection_cache (10s by default)\n";
    return 0;
}

const Flag kSecretFlag{"--secret"};
const Flag kSecretFileFlag{"--secret-file"};

struct Action {
    std::string_view name;
    std::vector<Flag> flags;
    int (*run)(const StoreCommand&);
};

const Action kActions[] = {
    {"add",
     {{"--vendor"}, kSecretFlag, kSecretFileFlag, {"--tenant"}, {"--option"},
      {"--disabled", false}},
     [](const StoreCommand& c) { return edit("added", c, add_edit); }},
    {"set",
     {{"--vendor"}, kSecretFlag, kSecretFileFlag, {"--tenant"}, {"--option"}, {"--unset"}},
     [](const StoreCommand& c) { return edit("updated", c, set_edit); }},
    {"show", {{"--reveal", false}}, show},
    {"list", {}, list},
    {"disable", {}, [](const StoreCommand& c) { return edit("disabled", c, disable_edit); }},
    {"enable", {}, [](const StoreCommand& c) { return edit("enabled", c, enable_edit); }},
    {"rotate",
     {kSecretFlag, kSecretFileFlag, {"--finish", false}, {"--cancel", false}},
     [](const StoreCommand& c) {
         const char* done = c.args.has("--finish")   ? "rotated: secret_next is the secret now"
                            : c.args.has("--cancel") ? "rotation cancelled"
                                                     : "rotation started";
         return edit(done, c, rotate_edit);
     }},
};

}  // namespace

int connection_command(const Words& words) {
    const auto [name, rest] = split_subcommand(words, kUsage);
    if (name == "--help") {
        std::cout << help_text();
        return 0;
    }
    for (const Action& action : kActions) {
        if (action.name != name) continue;
        const auto command = parse_store_command(rest, action.flags, help_text());
        return command ? action.run(*command) : 0;
    }
    throw UsageError("unknown connection command \"" + name + "\"");
}

}  // namespace mailhook::cli
