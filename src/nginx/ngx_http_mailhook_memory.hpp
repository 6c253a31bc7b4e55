// SPDX-License-Identifier: BSD-2-Clause
// Gives the memory a burst of large requests used back to the system once
// the burst is over, so a worker's RSS returns to where it started.
#pragma once

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
}

namespace mailhook::nginx {

// Starts the worker's trim timer (allocated from the cycle's pool).
ngx_int_t start_memory_trim(ngx_cycle_t* cycle) noexcept;

}  // namespace mailhook::nginx
