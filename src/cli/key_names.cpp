// SPDX-License-Identifier: BSD-2-Clause
#include "key_names.hpp"

#include <cstdlib>

namespace mailhook::cli {
namespace {

void set_from(const Args& args, std::string_view flag, const char* variable,
              std::string& target) {
    if (auto value = args.value(flag)) {
        target = *value;
    } else if (const char* env = std::getenv(variable)) {
        target = env;
    }
}

}  // namespace

std::vector<Flag> key_flags() {
    return {{"--key-prefix"}, {"--stream"}, {"--suppression-stream"}};
}

KeyNames key_names(const Args& args) {
    KeyNames names;
    set_from(args, "--key-prefix", "MAILHOOK_KEY_PREFIX", names.prefix);
    set_from(args, "--stream", "MAILHOOK_STREAM", names.stream);
    set_from(args, "--suppression-stream", "MAILHOOK_SUPPRESSION_STREAM",
             names.suppression_stream);
    return names;
}

const char* const kKeysHelp =
    "Keys (the module's mailhook_key_prefix, mailhook_stream, mailhook_suppression_stream):\n"
    "  --key-prefix PREFIX        MAILHOOK_KEY_PREFIX          (default mailhook:)\n"
    "  --stream KEY               MAILHOOK_STREAM              (default mailhook:events)\n"
    "  --suppression-stream KEY   MAILHOOK_SUPPRESSION_STREAM\n"
    "                             (default mailhook:suppression-events)\n";

}  // namespace mailhook::cli
