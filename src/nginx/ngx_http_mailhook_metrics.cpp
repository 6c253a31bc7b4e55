// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_http_mailhook_metrics.hpp"

#include <time.h>

#include <array>
#include <string>

#include "../core/metrics.hpp"
#include "../core/vendor.hpp"
#include "ngx_http_mailhook_state.hpp"

namespace mailhook::nginx {
namespace {

constexpr std::array<ngx_uint_t, kMetricStatuses - 1> kStatuses = {
    200, 400, 401, 404, 405, 413, 500, 503, 499};
constexpr std::array<std::string_view, kMetricReasons - 1> kReasons = {
    "format", "unsupported", "signature", "auth", "timestamp", "replay",
    "size", "connection_config", "unknown_connection", "method", "internal",
    "key_unavailable", "lookup_budget"};

// Requests for a vendor name the registry does not know (scans, typos)
// count in the last slot, which is rendered as vendor="unknown".
std::size_t vendor_slot(std::string_view vendor) {
    const std::size_t index = vendor_index(vendor);
    return index < vendor_count() && index < kMetricVendors - 1 ? index : kMetricVendors - 1;
}

std::string_view vendor_label(std::size_t slot) {
    const std::vector<std::string_view> names = vendor_names();
    return slot < names.size() ? names[slot] : std::string_view("unknown");
}

std::size_t status_slot(ngx_uint_t status) {
    for (std::size_t i = 0; i < kStatuses.size(); ++i) {
        if (kStatuses[i] == status) return i;
    }
    return kMetricStatuses - 1;
}

std::size_t reason_slot(std::string_view reason) {
    for (std::size_t i = 0; i < kReasons.size(); ++i) {
        if (kReasons[i] == reason) return i;
    }
    return kMetricReasons - 1;
}

void add(ngx_atomic_t& counter, std::uint64_t value) {
    (void) ngx_atomic_fetch_add(&counter, static_cast<ngx_atomic_int_t>(value));
}

std::uint64_t read(const ngx_atomic_t& counter) {
    return static_cast<std::uint64_t>(counter);
}

ngx_int_t init_zone(ngx_shm_zone_t* zone, void* data) {
    if (data != nullptr) {
        zone->data = data;  // reload: the counters go on
        return NGX_OK;
    }
    auto* pool = reinterpret_cast<ngx_slab_pool_t*>(zone->shm.addr);
    if (zone->shm.exists) {
        zone->data = pool->data;
        return NGX_OK;
    }
    void* metrics = ngx_slab_calloc(pool, sizeof(SharedMetrics));
    if (metrics == nullptr) {
        return NGX_ERROR;
    }
    pool->data = metrics;
    zone->data = metrics;
    return NGX_OK;
}

// The counters of every vendor that saw traffic, with their labels.
MetricsSnapshot snapshot(const SharedMetrics& m) {
    MetricsSnapshot s;
    const std::size_t vendors = std::min(vendor_count() + 1, kMetricVendors);
    for (std::size_t v = 0; v < vendors; ++v) {
        const std::size_t slot = v < vendor_count() ? v : kMetricVendors - 1;
        const std::string vendor(vendor_label(slot));
        for (std::size_t st = 0; st < kMetricStatuses; ++st) {
            if (const auto n = read(m.requests[slot][st])) {
                const std::string status =
                    st < kStatuses.size() ? std::to_string(kStatuses[st]) : "other";
                s.requests.push_back({{{"vendor", vendor}, {"status", status}}, n});
            }
        }
        for (std::size_t re = 0; re < kMetricReasons; ++re) {
            if (const auto n = read(m.rejections[slot][re])) {
                const std::string reason(re < kReasons.size() ? kReasons[re] : "other");
                s.rejections.push_back({{{"vendor", vendor}, {"reason", reason}}, n});
            }
        }
        if (const auto n = read(m.events_stored[slot])) {
            s.events_stored.push_back({{{"vendor", vendor}}, n});
        }
        if (const auto n = read(m.events_duplicate[slot])) {
            s.events_duplicate.push_back({{{"vendor", vendor}}, n});
        }
        if (const auto n = read(m.events_spooled[slot])) {
            s.events_spooled.push_back({{{"vendor", vendor}}, n});
        }
    }
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kMetricLatencyBuckets; ++b) {
        cumulative += read(m.latency_buckets[b]);
        s.redis_latency_buckets.push_back(cumulative);
    }
    s.redis_latency_count = read(m.latency_count);
    s.redis_latency_sum_seconds = static_cast<double>(read(m.latency_sum_usec)) / 1e6;
    for (std::size_t w = 0; w < kMetricWorkers; ++w) {
        if (const auto pid = read(m.workers[w].pid)) {
            const std::vector<std::pair<std::string, std::string>> labels = {
                {"worker", std::to_string(w)}, {"pid", std::to_string(pid)}};
            s.redis_connected.push_back({labels, read(m.workers[w].connected)});
            s.redis_reconnects.push_back({labels, read(m.workers[w].reconnects)});
        }
    }
    s.spool_bytes = read(m.spool_bytes);
    s.spool_journals = read(m.spool_journals);
    s.spool_records_spooled = read(m.spool_requests);
    s.spool_records_replayed = read(m.spool_replayed);
    s.spool_append_failures = read(m.spool_failures);
    s.redis_unreplicated = read(m.redis_unreplicated);
    s.redis_redirects = read(m.redis_redirects);
    s.spool_records_quarantined = read(m.spool_quarantined);
    s.tracking_opens = read(m.tracking_opens);
    s.tracking_clicks = read(m.tracking_clicks);
    if (const auto n = read(m.tracking_invalid_open)) {
        s.tracking_invalid_tokens.push_back({{{"kind", "open"}}, n});
    }
    if (const auto n = read(m.tracking_invalid_click)) {
        s.tracking_invalid_tokens.push_back({{{"kind", "click"}}, n});
    }
    return s;
}

bool wants_json(ngx_http_request_t* r) {
    ngx_str_t format;
    return ngx_http_arg(r, reinterpret_cast<u_char*>(const_cast<char*>("format")), 6,
                        &format) == NGX_OK &&
           to_view(format) == "json";
}

}  // namespace

ngx_shm_zone_t* add_metrics_zone(ngx_conf_t* cf) {
    ngx_str_t name = ngx_string("mailhook_metrics");
    ngx_shm_zone_t* zone = ngx_shared_memory_add(cf, &name, 64 * ngx_pagesize,
                                                 &ngx_http_mailhook_module);
    if (zone == nullptr) {
        return nullptr;
    }
    zone->init = init_zone;
    return zone;
}

std::uint64_t monotonic_usec() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000 +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

void MetricsRecorder::request(std::string_view vendor, ngx_uint_t status) {
    if (shared_) add(shared_->requests[vendor_slot(vendor)][status_slot(status)], 1);
}

void MetricsRecorder::rejection(std::string_view vendor, std::string_view reason) {
    if (shared_) add(shared_->rejections[vendor_slot(vendor)][reason_slot(reason)], 1);
}

void MetricsRecorder::events(std::string_view vendor, std::uint64_t stored,
                             std::uint64_t duplicates) {
    if (!shared_) return;
    add(shared_->events_stored[vendor_slot(vendor)], stored);
    add(shared_->events_duplicate[vendor_slot(vendor)], duplicates);
}

void MetricsRecorder::spooled(std::string_view vendor, std::uint64_t events) {
    if (shared_) add(shared_->events_spooled[vendor_slot(vendor)], events);
}

void MetricsRecorder::redis_latency(std::uint64_t usec) {
    if (!shared_) return;
    std::size_t bucket = 0;
    while (bucket < kRedisLatencyBucketCount &&
           static_cast<double>(usec) > kRedisLatencyBuckets[bucket] * 1e6) {
        ++bucket;
    }
    add(shared_->latency_buckets[bucket], 1);
    add(shared_->latency_count, 1);
    add(shared_->latency_sum_usec, usec);
}

// A slot per worker number; after a reload the new worker takes the slot
// over and the exiting one's late updates are ignored (pid mismatch).
void MetricsRecorder::redis_state(bool connected, std::uint64_t reconnects) {
    if (!shared_ || ngx_worker >= kMetricWorkers) return;
    SharedMetrics::Worker& slot = shared_->workers[ngx_worker];
    if (read(slot.pid) != static_cast<std::uint64_t>(ngx_pid)) {
        if (ngx_exiting) return;
        slot.pid = static_cast<ngx_atomic_uint_t>(ngx_pid);
    }
    slot.connected = connected ? 1 : 0;
    slot.reconnects = static_cast<ngx_atomic_uint_t>(reconnects);
}

void MetricsRecorder::spool_disk(std::uint64_t bytes, std::uint64_t journals) {
    if (!shared_) return;
    shared_->spool_bytes = static_cast<ngx_atomic_uint_t>(bytes);
    shared_->spool_journals = static_cast<ngx_atomic_uint_t>(journals);
}

void MetricsRecorder::spool_appended(std::uint64_t requests) {
    if (shared_) add(shared_->spool_requests, requests);
}

void MetricsRecorder::spool_replayed(std::uint64_t requests) {
    if (shared_) add(shared_->spool_replayed, requests);
}

void MetricsRecorder::spool_failed(std::uint64_t requests) {
    if (shared_) add(shared_->spool_failures, requests);
}

void MetricsRecorder::redis_unreplicated(std::uint64_t calls) {
    if (shared_) add(shared_->redis_unreplicated, calls);
}

void MetricsRecorder::redis_redirect() {
    if (shared_) add(shared_->redis_redirects, 1);
}

void MetricsRecorder::spool_quarantined(std::uint64_t records) {
    if (shared_) add(shared_->spool_quarantined, records);
}

void MetricsRecorder::tracking_open(bool valid) {
    if (shared_) add(valid ? shared_->tracking_opens : shared_->tracking_invalid_open, 1);
}

void MetricsRecorder::tracking_click(bool valid) {
    if (shared_) add(valid ? shared_->tracking_clicks : shared_->tracking_invalid_click, 1);
}

ngx_int_t status_handler(ngx_http_request_t* r) noexcept {
    try {
        if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
            return NGX_HTTP_NOT_ALLOWED;
        }
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        const MainConf* mcf = main_conf(r);
        if (mcf->metrics_zone == nullptr || mcf->metrics_zone->data == nullptr) {
            return NGX_HTTP_SERVICE_UNAVAILABLE;
        }
        const MetricsSnapshot s =
            snapshot(*static_cast<const SharedMetrics*>(mcf->metrics_zone->data));
        const bool json = wants_json(r);
        return send_body(r, NGX_HTTP_OK,
                         json ? "application/json" : "text/plain; version=0.0.4",
                         json ? render_metrics_json(s) : render_prometheus(s));
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "mailhook: %s", e.what());
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

}  // namespace mailhook::nginx
