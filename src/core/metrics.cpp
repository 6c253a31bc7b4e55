// SPDX-License-Identifier: BSD-2-Clause
#include "metrics.hpp"

#include <cstdio>

#include "json.hpp"

namespace mailhook {
namespace {

std::string number_text(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.6g", value);
    return buffer;
}

// Label values: backslash, quote and newline escaped.
void append_label_value(std::string& out, std::string_view value) {
    for (const char c : value) {
        if (c == '\\') out.append("\\\\");
        else if (c == '"') out.append("\\\"");
        else if (c == '\n') out.append("\\n");
        else out.push_back(c);
    }
}

class PrometheusWriter {
  public:
    void header(std::string_view name, std::string_view type, std::string_view help) {
        out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
        out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    }
    void sample(std::string_view name,
                const std::vector<std::pair<std::string, std::string>>& labels,
                std::string_view value) {
        out_.append(name);
        if (!labels.empty()) {
            out_.push_back('{');
            for (std::size_t i = 0; i < labels.size(); ++i) {
                if (i > 0) out_.push_back(',');
                out_.append(labels[i].first).append("=\"");
                append_label_value(out_, labels[i].second);
                out_.push_back('"');
            }
            out_.push_back('}');
        }
        out_.append(" ").append(value).append("\n");
    }
    void family(std::string_view name, std::string_view type, std::string_view help,
                const std::vector<LabeledCount>& samples) {
        header(name, type, help);
        for (const LabeledCount& s : samples) {
            sample(name, s.labels, std::to_string(s.value));
        }
    }
    void single(std::string_view name, std::string_view type, std::string_view help,
                std::uint64_t value) {
        header(name, type, help);
        sample(name, {}, std::to_string(value));
    }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

void append_json_family(std::string& out, std::string_view name,
                        const std::vector<LabeledCount>& samples) {
    append_json_string(out, name);
    out.append(":[");
    for (std::size_t i = 0; i < samples.size(); ++i) {
        if (i > 0) out.push_back(',');
        out.push_back('{');
        for (const auto& [key, value] : samples[i].labels) {
            append_json_string(out, key);
            out.push_back(':');
            append_json_string(out, value);
            out.push_back(',');
        }
        out.append("\"value\":").append(std::to_string(samples[i].value)).push_back('}');
    }
    out.append("],");
}

void append_json_number(std::string& out, std::string_view name, std::uint64_t value) {
    append_json_string(out, name);
    out.append(":").append(std::to_string(value)).push_back(',');
}

}  // namespace

std::string render_prometheus(const MetricsSnapshot& s) {
    PrometheusWriter w;
    w.family("mailhook_requests_total", "counter",
             "Webhook requests answered, by vendor and HTTP status.", s.requests);
    w.family("mailhook_events_stored_total", "counter",
             "Normalized events added to the stream.", s.events_stored);
    w.family("mailhook_events_duplicate_total", "counter",
             "Events already stored (vendor retries), not added again.", s.events_duplicate);
    w.family("mailhook_events_spooled_total", "counter",
             "Events written to the local spool because Redis could not take them.",
             s.events_spooled);
    w.family("mailhook_rejections_total", "counter",
             "Requests refused, by vendor and reason.", s.rejections);

    const std::string_view latency = "mailhook_redis_request_duration_seconds";
    w.header(latency, "histogram", "Time a request waited for Redis (look-up and store).");
    for (std::size_t i = 0; i < s.redis_latency_buckets.size(); ++i) {
        const std::string le = i < kRedisLatencyBucketCount
                                   ? number_text(kRedisLatencyBuckets[i])
                                   : std::string("+Inf");
        w.sample(std::string(latency) + "_bucket", {{"le", le}},
                 std::to_string(s.redis_latency_buckets[i]));
    }
    w.sample(std::string(latency) + "_sum", {}, number_text(s.redis_latency_sum_seconds));
    w.sample(std::string(latency) + "_count", {}, std::to_string(s.redis_latency_count));

    w.family("mailhook_redis_connected", "gauge",
             "1 when the worker's Redis connection is ready.", s.redis_connected);
    w.family("mailhook_redis_reconnects_total", "counter",
             "Reconnection attempts to Redis, per worker.", s.redis_reconnects);
    w.single("mailhook_spool_bytes", "gauge", "Bytes in spool journals on disk.",
             s.spool_bytes);
    w.single("mailhook_spool_journals", "gauge", "Spool journals on disk.", s.spool_journals);
    w.single("mailhook_spool_requests_total", "counter",
             "Requests written to the spool.", s.spool_records_spooled);
    w.single("mailhook_spool_replayed_requests_total", "counter",
             "Spooled requests replayed into Redis.", s.spool_records_replayed);
    w.single("mailhook_spool_append_failures_total", "counter",
             "Requests the spool could not take (full, I/O error): answered 503.",
             s.spool_append_failures);
    w.single("mailhook_redis_unreplicated_total", "counter",
             "Stores fewer replicas than mailhook_redis_wait confirmed in time: spooled, "
             "or answered 503.", s.redis_unreplicated);
    w.single("mailhook_redis_redirects_total", "counter",
             "Calls a Redis Cluster node redirected (MOVED or ASK) to another node.",
             s.redis_redirects);
    w.single("mailhook_spool_quarantined_total", "counter",
             "Spooled records Redis kept refusing, moved to the spool's failed/ directory.",
             s.spool_records_quarantined);
    w.single("mailhook_tracking_opens_total", "counter", "Tracking pixel opens stored.",
             s.tracking_opens);
    w.single("mailhook_tracking_clicks_total", "counter", "Tracked clicks stored.",
             s.tracking_clicks);
    w.family("mailhook_tracking_invalid_tokens_total", "counter",
             "Tracking requests with an invalid token, by kind.", s.tracking_invalid_tokens);
    return w.take();
}

std::string render_metrics_json(const MetricsSnapshot& s) {
    std::string out = "{";
    append_json_family(out, "requests", s.requests);
    append_json_family(out, "events_stored", s.events_stored);
    append_json_family(out, "events_duplicate", s.events_duplicate);
    append_json_family(out, "events_spooled", s.events_spooled);
    append_json_family(out, "rejections", s.rejections);
    out.append("\"redis_request_duration_seconds\":{\"buckets\":[");
    for (std::size_t i = 0; i < s.redis_latency_buckets.size(); ++i) {
        if (i > 0) out.push_back(',');
        out.append("{\"le\":");
        out.append(i < kRedisLatencyBucketCount ? number_text(kRedisLatencyBuckets[i])
                                                : std::string("\"+Inf\""));
        out.append(",\"count\":").append(std::to_string(s.redis_latency_buckets[i]));
        out.push_back('}');
    }
    out.append("],\"sum\":").append(number_text(s.redis_latency_sum_seconds));
    out.append(",\"count\":").append(std::to_string(s.redis_latency_count)).append("},");
    append_json_family(out, "redis_connected", s.redis_connected);
    append_json_family(out, "redis_reconnects", s.redis_reconnects);
    append_json_number(out, "spool_bytes", s.spool_bytes);
    append_json_number(out, "spool_journals", s.spool_journals);
    append_json_number(out, "spool_requests", s.spool_records_spooled);
    append_json_number(out, "spool_replayed_requests", s.spool_records_replayed);
    append_json_number(out, "spool_append_failures", s.spool_append_failures);
    append_json_number(out, "redis_unreplicated", s.redis_unreplicated);
    append_json_number(out, "redis_redirects", s.redis_redirects);
    append_json_number(out, "spool_quarantined", s.spool_records_quarantined);
    append_json_number(out, "tracking_opens", s.tracking_opens);
    append_json_number(out, "tracking_clicks", s.tracking_clicks);
    append_json_family(out, "tracking_invalid_tokens", s.tracking_invalid_tokens);
    out.back() = '}';
    out.push_back('\n');
    return out;
}

}  // namespace mailhook
