// SPDX-License-Identifier: BSD-2-Clause
// Counters in a shared memory zone, summed over all workers and kept across
// reloads; served by `mailhook_status;` as Prometheus text or JSON.
#pragma once

#include <cstdint>
#include <string_view>

#include "ngx_http_mailhook.hpp"

namespace mailhook::nginx {

constexpr std::size_t kMetricVendors = 40;  // registry size + "unknown"
constexpr std::size_t kMetricStatuses = 10;
constexpr std::size_t kMetricReasons = 14;
constexpr std::size_t kMetricWorkers = 64;
constexpr std::size_t kMetricLatencyBuckets = 13;  // 12 bounds + +Inf

struct SharedMetrics {
    ngx_atomic_t requests[kMetricVendors][kMetricStatuses];
    ngx_atomic_t rejections[kMetricVendors][kMetricReasons];
    ngx_atomic_t events_stored[kMetricVendors];
    ngx_atomic_t events_duplicate[kMetricVendors];
    ngx_atomic_t events_spooled[kMetricVendors];
    ngx_atomic_t latency_buckets[kMetricLatencyBuckets];
    ngx_atomic_t latency_count;
    ngx_atomic_t latency_sum_usec;
    struct Worker {
        ngx_atomic_t pid;
        ngx_atomic_t connected;
        ngx_atomic_t reconnects;
    } workers[kMetricWorkers];
    ngx_atomic_t spool_bytes;
    ngx_atomic_t spool_journals;
    ngx_atomic_t spool_requests;
    ngx_atomic_t spool_replayed;
    ngx_atomic_t spool_failures;
    ngx_atomic_t redis_unreplicated;
    ngx_atomic_t redis_redirects;
    ngx_atomic_t spool_quarantined;
    ngx_atomic_t tracking_opens;
    ngx_atomic_t tracking_clicks;
    ngx_atomic_t tracking_invalid_open;
    ngx_atomic_t tracking_invalid_click;
};

// Adds the zone; called at configuration time when the module is used.
ngx_shm_zone_t* add_metrics_zone(ngx_conf_t* cf);

// A worker's handle on the zone. Every method is a no-op without a zone.
class MetricsRecorder {
  public:
    explicit MetricsRecorder(SharedMetrics* shared) : shared_(shared) {}

    void request(std::string_view vendor, ngx_uint_t status);
    void rejection(std::string_view vendor, std::string_view reason);
    void events(std::string_view vendor, std::uint64_t stored, std::uint64_t duplicates);
    void spooled(std::string_view vendor, std::uint64_t events);
    void redis_latency(std::uint64_t usec);
    void redis_state(bool connected, std::uint64_t reconnects);
    void spool_disk(std::uint64_t bytes, std::uint64_t journals);
    void spool_appended(std::uint64_t requests);
    void spool_replayed(std::uint64_t requests);
    void spool_failed(std::uint64_t requests);
    void redis_unreplicated(std::uint64_t calls);
    void redis_redirect();
    void spool_quarantined(std::uint64_t records);
    void tracking_open(bool valid);
    void tracking_click(bool valid);

  private:
    SharedMetrics* shared_;
};

// The `mailhook_status` content handler.
ngx_int_t status_handler(ngx_http_request_t* r) noexcept;

// Monotonic microseconds, for latencies finer than nginx's cached clock.
std::uint64_t monotonic_usec();

}  // namespace mailhook::nginx
