// SPDX-License-Identifier: BSD-2-Clause
// Metrics as a plain snapshot, rendered for Prometheus (text exposition
// format 0.0.4) or as JSON. The counters themselves live in nginx shared
// memory (src/nginx); this is only their presentation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailhook {

// Upper bounds (seconds) of the Redis round-trip histogram buckets.
inline constexpr double kRedisLatencyBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025,  0.05,  0.1,    0.25,  0.5,
                                                  1.0,    2.5};
inline constexpr std::size_t kRedisLatencyBucketCount =
    sizeof(kRedisLatencyBuckets) / sizeof(kRedisLatencyBuckets[0]);

struct LabeledCount {
    std::vector<std::pair<std::string, std::string>> labels;
    std::uint64_t value = 0;
};

struct MetricsSnapshot {
    std::vector<LabeledCount> requests;          // vendor, status
    std::vector<LabeledCount> events_stored;     // vendor
    std::vector<LabeledCount> events_duplicate;  // vendor
    std::vector<LabeledCount> events_spooled;    // vendor
    std::vector<LabeledCount> rejections;        // vendor, reason
    // Cumulative counts per bucket of kRedisLatencyBuckets, then +Inf.
    std::vector<std::uint64_t> redis_latency_buckets;
    std::uint64_t redis_latency_count = 0;
    double redis_latency_sum_seconds = 0;
    std::vector<LabeledCount> redis_connected;   // worker, pid (gauge 0/1)
    std::vector<LabeledCount> redis_reconnects;  // worker, pid
    std::uint64_t spool_bytes = 0;
    std::uint64_t spool_journals = 0;
    std::uint64_t spool_records_spooled = 0;
    std::uint64_t spool_records_replayed = 0;
    std::uint64_t spool_append_failures = 0;
    std::uint64_t redis_unreplicated = 0;
    std::uint64_t redis_redirects = 0;
    std::uint64_t spool_records_quarantined = 0;
    std::uint64_t tracking_opens = 0;
    std::uint64_t tracking_clicks = 0;
    std::vector<LabeledCount> tracking_invalid_tokens;  // kind
};

std::string render_prometheus(const MetricsSnapshot& snapshot);
std::string render_metrics_json(const MetricsSnapshot& snapshot);

}  // namespace mailhook
