// SPDX-License-Identifier: BSD-2-Clause
// What a Delivery gives the vendors: headers (a repeated one counts as
// absent) and the body as a form.
#include <gtest/gtest.h>

#include <string>

#include "vendor_test.hpp"

namespace mailhook::test {
namespace {

constexpr std::string_view kInboxroadEvent =
    R"({"kind":"delivered","recipient":"a@example.com"})";

std::string inboxroad_signature(std::string_view body) {
    return base64_encode(hmac(DigestAlgorithm::sha256, "s1", body));
}

// A header sent twice is ambiguous: it counts as absent (401 for a
// signature), even when both copies are valid, and the answer says why.
TEST(RepeatedHeaders, TwoValidSignaturesAreRefused) {
    const Connection connection = prepared_connection("inboxroad", {{"secret", "s1"}});
    MapHeaders once;
    once.add("X-Signature", inboxroad_signature(kInboxroadEvent));
    EXPECT_TRUE(run_request(connection, kInboxroadEvent, once).verdict.ok());

    MapHeaders twice = once;
    twice.add("x-signature", inboxroad_signature(kInboxroadEvent));
    const Outcome outcome = run_request(connection, kInboxroadEvent, twice);
    EXPECT_EQ(outcome.verdict.rejection, Rejection::unauthenticated);
    EXPECT_NE(outcome.verdict.reason.find("X-Signature sent more than once"),
              std::string::npos)
        << outcome.verdict.reason;
    EXPECT_EQ(outcome.size(), 0u);
}

TEST(RepeatedHeaders, AppliesToEveryHeaderVendorsRead) {
    // SMTP2GO: Authorization twice, one of them right.
    const Connection smtp2go = prepared_connection("smtp2go", {{"secret", "token-1"}});
    MapHeaders auth;
    auth.add("Authorization", "Bearer token-1");
    auth.add("Authorization", "Bearer wrong");
    EXPECT_EQ(run_request(smtp2go, R"({"event":"delivered"})", auth).verdict.rejection,
              Rejection::bad_credentials);

    // Resend: webhook-id twice, the signature over the first.
    const std::string key = "resend-test-signing-key!";
    const Connection resend =
        prepared_connection("resend", {{"secret", "whsec_" + base64_encode(key)}});
    const std::string body = R"({"type":"email.sent","data":{"to":["a@example.com"]}})";
    MapHeaders ok = svix_headers(key, "msg_1", "1700000000", body, "webhook-");
    EXPECT_TRUE(run_request(resend, body, ok).verdict.ok());
    ok.add("Webhook-Id", "msg_2");
    EXPECT_EQ(run_request(resend, body, ok).verdict.rejection, Rejection::unauthenticated);
}

}  // namespace
}  // namespace mailhook::test
