// SPDX-License-Identifier: BSD-2-Clause
// Untrusted bytes made fit for one log line: nginx writes what it is given,
// so a CR, LF or ESC from a URI or a request body would start a forged line
// or drive the reader's terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailhook {

inline constexpr std::size_t kLogSafeDefaultMax = 256;

// `bytes` with every control byte (< 0x20, 0x7f), every C1 control
// (U+0080..U+009F), every byte of invalid UTF-8 and the backslash itself
// written as \xNN; valid UTF-8 text stays as it is. At most `max_bytes`
// bytes of output; a cut is marked with "...".
std::string log_safe(std::string_view bytes, std::size_t max_bytes = kLogSafeDefaultMax);

}  // namespace mailhook
