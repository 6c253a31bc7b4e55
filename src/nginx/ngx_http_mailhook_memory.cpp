// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_memory.hpp"

#include <malloc.h>

extern "C" {
#include <ngx_event.h>
}

namespace mailhook::nginx {
namespace {

// A 100-event batch holds its body, its events and its store command (a few
// hundred kB) until Redis answers; 64 of them in flight grow the heap by
// tens of MB. glibc keeps what they freed for reuse and returns only a free
// top of the heap, so without a trim the worker keeps its peak RSS for good.
constexpr ngx_msec_t kTrimInterval = 1000;
constexpr size_t kTrimThreshold = 1024 * 1024;  // free bytes worth a trim

void trim(ngx_event_t* ev) noexcept {
    // Cheap to ask (the arena's totals); the trim itself walks the heap, so
    // it runs only when enough is free: about once a second under a batch
    // load, never for a worker whose requests are small.
    const struct mallinfo2 info = mallinfo2();
    if (info.fordblks >= kTrimThreshold) {
        malloc_trim(0);
    }
    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(ev, kTrimInterval);
    }
}

}  // namespace

ngx_int_t start_memory_trim(ngx_cycle_t* cycle) noexcept {
    auto* ev = static_cast<ngx_event_t*>(ngx_pcalloc(cycle->pool, sizeof(ngx_event_t)));
    // nginx's event debug log reads the fd of ev->data as a connection: a
    // timer of its own has a dummy one (as nginx's cache manager does).
    auto* dummy =
        static_cast<ngx_connection_t*>(ngx_pcalloc(cycle->pool, sizeof(ngx_connection_t)));
    if (ev == nullptr || dummy == nullptr) {
        return NGX_ERROR;
    }
    dummy->fd = static_cast<ngx_socket_t>(-1);
    ev->data = dummy;
    ev->handler = trim;
    ev->log = cycle->log;
    ev->cancelable = 1;  // never holds up a worker's graceful exit
    ngx_add_timer(ev, kTrimInterval);
    return NGX_OK;
}

}  // namespace mailhook::nginx
