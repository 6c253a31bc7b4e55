// SPDX-License-Identifier: BSD-2-Clause
// The `mailhook` command: what every subcommand shares.
#pragma once

#include <stdexcept>
#include <string>

namespace mailhook::cli {

// Exit codes: 0 done, 1 refused or failed (a message says why), 2 the
// command line itself is wrong.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The command line is wrong: the message and the command's usage are shown.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The command was understood but cannot be done (Redis unreachable, a key
// that does not parse, a connection that does not exist, ...).
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace mailhook::cli
