// SPDX-License-Identifier: BSD-2-Clause
// Failed checks must not leave errors in OpenSSL's per-thread queue: nginx's
// TLS code in the same worker would log them as "[alert] ignoring stale
// global SSL error".
#include <gtest/gtest.h>
#include <openssl/err.h>

#include "core/crypto.hpp"
#include "test_support.hpp"

namespace mailhook {
namespace {

TEST(CryptoErrors, FailedChecksLeaveTheQueueEmpty) {
    ERR_clear_error();
    const std::string pem =
        test::read_file("t/vectors/aws_sns_signing_cert_7ff5318490ec183fbaddaa2a969abfda.pem");
    const auto key = PublicKey::from_certificate_pem(pem);
    ASSERT_TRUE(key);
    EXPECT_FALSE(key->verify(DigestAlgorithm::sha256, {"data"}, std::string(256, 'x')));
    EXPECT_EQ(ERR_peek_error(), 0u);
    EXPECT_FALSE(key->verify(DigestAlgorithm::sha1, {"data"}, "short"));
    EXPECT_EQ(ERR_peek_error(), 0u);
    EXPECT_FALSE(PublicKey::from_certificate_pem("not a certificate"));
    EXPECT_EQ(ERR_peek_error(), 0u);
    EXPECT_FALSE(PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
    EXPECT_EQ(ERR_peek_error(), 0u);
    EXPECT_FALSE(PublicKey::from_der("\x30\x03\x02\x01"));
    EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace
}  // namespace mailhook
