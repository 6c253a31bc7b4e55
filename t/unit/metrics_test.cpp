// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include "core/metrics.hpp"

namespace mailhook {
namespace {

MetricsSnapshot sample() {
    MetricsSnapshot s;
    s.requests.push_back({{{"vendor", "sendgrid"}, {"status", "200"}}, 7});
    s.rejections.push_back({{{"vendor", "mail\"gun"}, {"reason", "signature"}}, 2});
    s.redis_latency_buckets.assign(kRedisLatencyBucketCount + 1, 0);
    s.redis_latency_buckets[1] = 3;
    for (std::size_t i = 2; i < s.redis_latency_buckets.size(); ++i) {
        s.redis_latency_buckets[i] = 4;
    }
    s.redis_latency_count = 4;
    s.redis_latency_sum_seconds = 0.25;
    s.spool_bytes = 1024;
    return s;
}

TEST(Prometheus, RendersFamiliesSamplesAndEscapes) {
    const std::string text = render_prometheus(sample());
    EXPECT_NE(text.find("# TYPE mailhook_requests_total counter\n"
                        "mailhook_requests_total{vendor=\"sendgrid\",status=\"200\"} 7\n"),
              std::string::npos);
    EXPECT_NE(text.find("mailhook_rejections_total{vendor=\"mail\\\"gun\",reason=\"signature\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("mailhook_redis_request_duration_seconds_bucket{le=\"0.001\"} 3\n"),
              std::string::npos);
    EXPECT_NE(text.find("mailhook_redis_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"),
              std::string::npos);
    EXPECT_NE(text.find("mailhook_redis_request_duration_seconds_sum 0.25\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE mailhook_spool_bytes gauge\nmailhook_spool_bytes 1024\n"),
              std::string::npos);
}

TEST(MetricsJson, IsOneObject) {
    const std::string json = render_metrics_json(sample());
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json.substr(json.size() - 2), "}\n");
    EXPECT_NE(json.find("\"requests\":[{\"vendor\":\"sendgrid\",\"status\":\"200\",\"value\":7}]"),
              std::string::npos);
    EXPECT_NE(json.find("{\"le\":\"+Inf\",\"count\":4}"), std::string::npos);
}

}  // namespace
}  // namespace mailhook
