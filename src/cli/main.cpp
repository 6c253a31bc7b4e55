// SPDX-License-Identifier: BSD-2-Clause
// mailhook: operate the module from a shell or a CRM's scripts (docs/cli.md).
#include <iostream>
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "key_names.hpp"
#include "redis_options.hpp"

namespace {

using mailhook::cli::Words;

struct Subcommand {
    std::string_view name;
    std::string_view summary;
    int (*run)(const Words&);
};

constexpr Subcommand kSubcommands[] = {
    {"connection", "add|set|show|list|disable|enable|rotate: the connection registry",
     mailhook::cli::connection_command},
    {"health", "[ID]: what a connection's requests got, accepted and rejected",
     mailhook::cli::health_command},
    {"suppression", "get|list|remove SCOPE [ADDRESS]: suppressed recipients",
     mailhook::cli::suppression_command},
    {"spool", "status|list|retry --dir PATH: the disk spool and its quarantine",
     mailhook::cli::spool_command},
    {"tail", "[--type T]: follow the event stream, one line per event",
     mailhook::cli::tail_command},
    {"sign", "VENDOR ID: a test request signed as the vendor signs, as curl or sent",
     mailhook::cli::sign_command},
    {"token", "sign|verify: tracking tokens (also: mailhook-token)",
     mailhook::cli::token_command},
};

void print_help() {
    std::cout << "usage: mailhook COMMAND [ARGS] [OPTIONS]\n\ncommands:\n";
    for (const Subcommand& command : kSubcommands) {
        std::string name(command.name);
        name.resize(13, ' ');
        std::cout << "  " << name << command.summary << "\n";
    }
    std::cout << "\n'mailhook COMMAND --help' tells more. Exit status: 0 done, 1 refused or\n"
                 "failed (the message says why; nothing was written), 2 a wrong command line.\n\n"
              << mailhook::cli::kRedisHelp << mailhook::cli::kKeysHelp;
}

std::string base_name(const char* path) {
    const std::string text(path == nullptr ? "" : path);
    return text.substr(text.rfind('/') + 1);
}

}  // namespace

int main(int argc, char** argv) {
    Words words(argv + 1, argv + argc);
    // mailhook-token, the tool's former name, is `mailhook token`.
    if (base_name(argv[0]) == "mailhook-token") words.insert(words.begin(), "token");
    if (words.empty() || words.front() == "--help" || words.front() == "-h" ||
        words.front() == "help") {
        print_help();
        return words.empty() ? mailhook::cli::kExitUsage : 0;
    }
    const std::string name = words.front();
    const Words rest(words.begin() + 1, words.end());
    try {
        for (const Subcommand& command : kSubcommands) {
            if (command.name == name) return command.run(rest);
        }
        throw mailhook::cli::UsageError("unknown command \"" + name + "\"");
    } catch (const mailhook::cli::UsageError& e) {
        std::cerr << "mailhook " << name << ": " << e.what() << "\n"
                  << "(mailhook " << name << " --help tells more)\n";
        return mailhook::cli::kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "mailhook " << name << ": " << e.what() << "\n";
        return mailhook::cli::kExitFailure;
    }
}
