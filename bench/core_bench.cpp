// SPDX-License-Identifier: BSD-2-Clause
// The request path's C++ part without nginx or Redis: verify + parse +
// normalize + build the store command, for the bench scenarios. Run under
// `valgrind --tool=callgrind` (make bench-core) for instruction counts that
// do not depend on what else the machine is doing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "core/intake.hpp"
#include "core/resp.hpp"
#include "core/store_script.hpp"
#include "t/unit/test_support.hpp"

using namespace mailhook;

namespace {

std::string inboxroad_body(int n) {
    char buffer[512];
    std::snprintf(buffer, sizeof(buffer),
                  "{\"kind\":\"delivered\",\"sender\":\"news@example.com\",\"recipient\":"
                  "\"user%d@example.net\",\"message_id\":\"<%d.bench@example.com>\","
                  "\"timestamp\":\"2025-09-04T10:00:00Z\",\"campaign\":{\"id\":"
                  "\"9d76d4b4-660f-422b-9437-282c31506f7f\",\"name\":\"September\"},"
                  "\"id\":\"a%d\"}",
                  n, n, n);
    return buffer;
}

std::string sendgrid_batch(int n) {
    std::string body = "[";
    for (int i = 0; i < 100; ++i) {
        char buffer[512];
        const int id = n * 100 + i;
        std::snprintf(buffer, sizeof(buffer),
                      "%s{\"email\":\"user%d@example.net\",\"timestamp\":%d,\"event\":"
                      "\"delivered\",\"smtp-id\":\"<%d@ismtpd>\",\"sg_event_id\":\"b%d\","
                      "\"sg_message_id\":\"m%d.filter0001\",\"response\":\"250 OK\","
                      "\"category\":[\"bench\"]}",
                      i ? "," : "", id, 1700000000 + id, id, id, id);
        body += buffer;
    }
    return body + "]\r\n";
}

struct Scenario {
    const Vendor* vendor;
    Connection connection;
};

Scenario prepared(const char* vendor_name, FieldList fields) {
    std::string error;
    fields.emplace_back("vendor", vendor_name);
    auto connection = connection_from_fields("bench", fields, error);
    const Vendor* vendor = find_vendor(vendor_name);
    vendor->prepare(*connection);
    return {vendor, std::move(*connection)};
}

// One request: returns the command size so the work cannot be optimized away.
std::size_t handle(const Scenario& s, std::string_view body, const HeaderLookup& headers) {
    Delivery delivery(body, headers, 1757000000000);
    EventOrigin origin;
    origin.vendor = s.vendor->name();
    origin.connection = s.connection.id;
    origin.received_at = 1757000000123;
    Intake intake = take_in(*s.vendor, delivery, s.connection, origin);
    if (!intake.verdict.ok()) {
        std::fprintf(stderr, "rejected: %s\n", intake.verdict.reason.c_str());
        std::exit(1);
    }
    const StoreTarget target{origin.vendor, origin.connection, "bench"};
    const RespArgs args = store_script_args(intake, target, StoreKeys{}, StorePolicy{});
    return resp_command({"EVALSHA", "0123456789012345678901234567890123456789"}, args).size();
}

}  // namespace

int main(int argc, char** argv) {
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
    const std::string_view only = argc > 2 ? argv[2] : "";
    const Scenario inboxroad = prepared("inboxroad", {{"secret", "ir-secret"}});
    std::size_t sink = 0;

    std::vector<std::pair<std::string, test::MapHeaders>> a_requests;
    for (int i = 0; i < 64; ++i) {
        std::string body = inboxroad_body(i);
        test::MapHeaders headers;
        headers.set("X-Signature",
                    base64_encode(hmac(DigestAlgorithm::sha256, "ir-secret", body)));
        a_requests.emplace_back(std::move(body), std::move(headers));
    }
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < (only == "b" ? 0 : iterations); ++i) {
        const auto& [body, headers] = a_requests[i % a_requests.size()];
        sink += handle(inboxroad, body, headers);
    }
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    std::printf("A inboxroad 1 event: %.2f us per request\n",
                elapsed.count() * 1e6 / iterations);

    // SendGrid's ECDSA check dominates B; measure the HMAC-free part with a
    // basic-auth SendGrid connection next to the full signed path.
    const Scenario sendgrid = prepared("sendgrid", {{"secret", "u:p"}, {"auth", "basic"}});
    test::MapHeaders basic;
    basic.set("Authorization", "Basic " + base64_encode("u:p"));
    const std::string batch = sendgrid_batch(1);
    const int batches = only == "a" ? 0 : iterations / 100;
    start = std::chrono::steady_clock::now();
    for (int i = 0; i < batches; ++i) sink += handle(sendgrid, batch, basic);
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    std::printf("B sendgrid 100 events (normalize + command, no ECDSA): %.2f us per event\n",
                elapsed.count() * 1e6 / (batches * 100.0));
    return sink == 0;
}
