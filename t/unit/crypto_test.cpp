// SPDX-License-Identifier: BSD-2-Clause
// crypto.hpp: HMAC against the RFC vectors, digests, public-key checks
// against the vendors' official vectors and keys made in the test.
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "test_support.hpp"

namespace mailhook {
namespace {

using test::EcKey;
using test::load_vector;
using test::unhex;
using test::vector_string;

struct HmacCase {
    const char* name;
    std::string key;
    std::string data;
    const char* expected_hex;  // a prefix when the RFC truncates the output
};

std::string repeat(char byte, std::size_t count) { return std::string(count, byte); }

std::string counting_key() {  // 0x01 0x02 ... 0x19
    std::string key;
    for (int i = 1; i <= 25; ++i) key.push_back(static_cast<char>(i));
    return key;
}

void expect_cases(DigestAlgorithm algorithm, const std::vector<HmacCase>& cases) {
    for (const HmacCase& c : cases) {
        const std::string mac = hex_encode(hmac(algorithm, c.key, c.data));
        const std::string_view expected = c.expected_hex;
        EXPECT_EQ(mac.substr(0, expected.size()), expected) << c.name;
    }
}

// RFC 4231 section 4, test cases 1-7 (case 5 truncated to 128 bits).
TEST(Hmac, Sha256MatchesRfc4231) {
    expect_cases(
        DigestAlgorithm::sha256,
        {
            {"case 1", repeat('\x0b', 20), "Hi There",
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
            {"case 2", "Jefe", "what do ya want for nothing?",
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
            {"case 3", repeat('\xaa', 20), repeat('\xdd', 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
            {"case 4", counting_key(), repeat('\xcd', 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
            {"case 5", repeat('\x0c', 20), "Test With Truncation",
             "a3b6167473100ee06e0c796c2955552b"},
            {"case 6", repeat('\xaa', 131),
             "Test Using Larger Than Block-Size Key - Hash Key First",
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
            {"case 7", repeat('\xaa', 131),
             "This is a test using a larger than block-size key and a larger than "
             "block-size data. The key needs to be hashed before being used by the "
             "HMAC algorithm.",
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
        });
}

// RFC 2202 section 3, test cases 1-7.
TEST(Hmac, Sha1MatchesRfc2202) {
    expect_cases(
        DigestAlgorithm::sha1,
        {
            {"case 1", repeat('\x0b', 20), "Hi There",
             "b617318655057264e28bc0b6fb378c8ef146be00"},
            {"case 2", "Jefe", "what do ya want for nothing?",
             "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
            {"case 3", repeat('\xaa', 20), repeat('\xdd', 50),
             "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
            {"case 4", counting_key(), repeat('\xcd', 50),
             "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
            {"case 5", repeat('\x0c', 20), "Test With Truncation",
             "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
            {"case 6", repeat('\xaa', 80),
             "Test Using Larger Than Block-Size Key - Hash Key First",
             "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
            {"case 7", repeat('\xaa', 80),
             "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
             "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
        });
}

TEST(Hmac, OutputLengths) {
    EXPECT_EQ(hmac(DigestAlgorithm::sha256, "k", "d").size(), 32u);
    EXPECT_EQ(hmac(DigestAlgorithm::sha1, "k", "d").size(), 20u);
}

TEST(Hmac, PartsAreConcatenatedWithoutSeparator) {
    const std::string whole = hmac(DigestAlgorithm::sha256, "Jefe",
                                   "what do ya want for nothing?");
    EXPECT_EQ(hmac(DigestAlgorithm::sha256, "Jefe", {"what do ya ", "", "want for nothing?"}),
              whole);
    EXPECT_NE(hmac(DigestAlgorithm::sha256, "Jefe", {"what do ya ", ".", "want for nothing?"}),
              whole);
}

TEST(Hmac, EmptyKeyAndEmptyMessage) {
    EXPECT_EQ(hex_encode(hmac(DigestAlgorithm::sha256, "", "")),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    EXPECT_EQ(hex_encode(hmac(DigestAlgorithm::sha1, "", "")),
              "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

TEST(Hmac, KeyBytesAreUsedAsGiven) {
    // A NUL byte inside the key counts (keys come from base64 decoding).
    EXPECT_NE(hmac(DigestAlgorithm::sha256, std::string("a\0b", 3), "x"),
              hmac(DigestAlgorithm::sha256, "a", "x"));
}

TEST(Digest, Sha256AndSha1OfAbc) {
    EXPECT_EQ(hex_encode(sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex_encode(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(hex_encode(sha256("")),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// ---- PublicKey ------------------------------------------------------------

std::string pem_wrap(std::string_view base64_der) {
    std::string pem = "-----BEGIN PUBLIC KEY-----\n";
    for (std::size_t i = 0; i < base64_der.size(); i += 64) {
        pem.append(base64_der.substr(i, 64)).push_back('\n');
    }
    pem += "-----END PUBLIC KEY-----\n";
    return pem;
}

struct SendGridVector {
    explicit SendGridVector(const char* name) : json(load_vector(name)) {}
    JsonPtr json;
    std::string key() const { return vector_string(json.get(), "key"); }
    std::string timestamp() const { return vector_string(json.get(), "timestamp"); }
    std::string payload() const { return vector_string(json.get(), "payload"); }
    std::string signature() const {
        return *base64_decode(vector_string(json.get(), "signature"));
    }
};

TEST(PublicKey, FromDerVerifiesSendGridVector) {
    const SendGridVector v("sendgrid_official_1.json");
    const auto key = PublicKey::from_der(*base64_decode(v.key()));
    ASSERT_TRUE(key);
    EXPECT_TRUE(key->verify(DigestAlgorithm::sha256, {v.timestamp(), v.payload()},
                            v.signature()));
    // Where the parts are cut does not matter, only the bytes.
    const std::string all = v.timestamp() + v.payload();
    EXPECT_TRUE(key->verify(DigestAlgorithm::sha256,
                            {std::string_view(all).substr(0, 3),
                             std::string_view(all).substr(3)},
                            v.signature()));
    // Wrong digest, wrong bytes.
    EXPECT_FALSE(key->verify(DigestAlgorithm::sha1, {v.timestamp(), v.payload()},
                             v.signature()));
    EXPECT_FALSE(key->verify(DigestAlgorithm::sha256, {v.timestamp(), v.payload(), "\r\n"},
                             v.signature()));
}

TEST(PublicKey, SendGridInvalidVectorsFail) {
    for (const char* name :
         {"sendgrid_official_1_bad_key.json", "sendgrid_official_1_bad_payload.json",
          "sendgrid_official_1_bad_signature.json",
          "sendgrid_official_1_bad_timestamp.json"}) {
        const SendGridVector v(name);
        const auto key = PublicKey::from_der(*base64_decode(v.key()));
        ASSERT_TRUE(key) << name;
        EXPECT_FALSE(key->verify(DigestAlgorithm::sha256, {v.timestamp(), v.payload()},
                                 v.signature()))
            << name;
    }
}

TEST(PublicKey, FromPemAcceptsTheSameKey) {
    const SendGridVector v("sendgrid_official_1.json");
    const auto key = PublicKey::from_pem(pem_wrap(v.key()));
    ASSERT_TRUE(key);
    EXPECT_TRUE(key->verify(DigestAlgorithm::sha256, {v.timestamp(), v.payload()},
                            v.signature()));
}

TEST(PublicKey, RejectsWhatIsNotAKey) {
    EXPECT_FALSE(PublicKey::from_der(""));
    EXPECT_FALSE(PublicKey::from_der("not a key at all"));
    const std::string der = *base64_decode(SendGridVector("sendgrid_official_1.json").key());
    EXPECT_FALSE(PublicKey::from_der(std::string_view(der).substr(0, der.size() - 1)));
    EXPECT_FALSE(PublicKey::from_pem(""));
    EXPECT_FALSE(
        PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
    // A certificate is not a bare public key, and the other way round.
    const std::string cert =
        test::read_file("t/vectors/aws_sns_signing_cert_7ff5318490ec183fbaddaa2a969abfda.pem");
    EXPECT_FALSE(PublicKey::from_pem(cert));
    EXPECT_FALSE(PublicKey::from_certificate_pem(pem_wrap(base64_encode(der))));
    EXPECT_FALSE(PublicKey::from_certificate_pem("garbage"));
}

TEST(PublicKey, CertificateVerifiesAwsSnsVectors) {
    const std::string cert =
        test::read_file("t/vectors/aws_sns_signing_cert_7ff5318490ec183fbaddaa2a969abfda.pem");
    const auto key = PublicKey::from_certificate_pem(cert);
    ASSERT_TRUE(key);
    // Vector 1 is SignatureVersion 1 (RSA-SHA1), vector 2 is version 2 (RSA-SHA256).
    const struct {
        const char* file;
        DigestAlgorithm digest;
        DigestAlgorithm other;
    } cases[] = {
        {"aws_sns_official_1.json", DigestAlgorithm::sha1, DigestAlgorithm::sha256},
        {"aws_sns_official_2.json", DigestAlgorithm::sha256, DigestAlgorithm::sha1},
    };
    for (const auto& c : cases) {
        const JsonPtr v = load_vector(c.file);
        const std::string to_sign = vector_string(v.get(), "string_to_sign");
        const std::string signature = *base64_decode(vector_string(v.get(), "signature"));
        ASSERT_FALSE(to_sign.empty()) << c.file;
        EXPECT_TRUE(key->verify(c.digest, {to_sign}, signature)) << c.file;
        EXPECT_FALSE(key->verify(c.other, {to_sign}, signature)) << c.file;
        EXPECT_FALSE(key->verify(c.digest, {to_sign.substr(1)}, signature)) << c.file;
        std::string flipped = signature;
        flipped[10] = static_cast<char>(flipped[10] ^ 1);
        EXPECT_FALSE(key->verify(c.digest, {to_sign}, flipped)) << c.file;
    }
    // The vector's embedded "key" is the same certificate.
    const JsonPtr v1 = load_vector("aws_sns_official_1.json");
    EXPECT_TRUE(PublicKey::from_certificate_pem(vector_string(v1.get(), "key")));
}

TEST(PublicKey, GeneratedEcKeyRoundTrip) {
    const EcKey signer;
    const EcKey stranger;
    const std::string signature = signer.sign({"1700000000", "[]\r\n"});
    for (const auto& key : {PublicKey::from_der(signer.public_der()),
                            PublicKey::from_pem(signer.public_pem())}) {
        ASSERT_TRUE(key);
        EXPECT_TRUE(key->verify(DigestAlgorithm::sha256, {"1700000000", "[]\r\n"}, signature));
        EXPECT_FALSE(key->verify(DigestAlgorithm::sha256, {"1700000000", "[]"}, signature));
    }
    const auto other = PublicKey::from_der(stranger.public_der());
    ASSERT_TRUE(other);
    EXPECT_FALSE(other->verify(DigestAlgorithm::sha256, {"1700000000", "[]\r\n"}, signature));
}

// SendGrid signs with P-256 only: a key on another curve, or an RSA key,
// is refused when the connection is loaded (and by `mailhook connection`).
TEST(PublicKey, KnowsItsKind) {
    const auto p256 = PublicKey::from_der(EcKey().public_der());
    ASSERT_TRUE(p256);
    EXPECT_TRUE(p256->is_p256());
    EXPECT_FALSE(p256->is_rsa());

    const auto rsa = PublicKey::from_certificate_pem(
        test::read_file("t/vectors/aws_sns_signing_cert_7ff5318490ec183fbaddaa2a969abfda.pem"));
    ASSERT_TRUE(rsa);
    EXPECT_TRUE(rsa->is_rsa());
    EXPECT_FALSE(rsa->is_p256());

    EVP_PKEY* p384 = EVP_EC_gen("P-384");
    ASSERT_NE(p384, nullptr);
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(p384, &der);
    ASSERT_GT(length, 0);
    const auto key = PublicKey::from_der(
        std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length)));
    OPENSSL_free(der);
    EVP_PKEY_free(p384);
    ASSERT_TRUE(key);
    EXPECT_FALSE(key->is_p256());
    EXPECT_FALSE(key->is_rsa());
}

// What `mailhook sign` signs with verifies with the public half.
std::string private_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1) {
        return {};
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::string public_der(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(key, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
    OPENSSL_free(der);
    return out;
}

TEST(PrivateKey, SignsWhatThePublicKeyVerifies) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(
        EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
    ASSERT_TRUE(ec);
    const auto ec_private = PrivateKey::from_pem(private_pem(ec.get()));
    ASSERT_TRUE(ec_private);
    EXPECT_TRUE(ec_private->is_p256());
    EXPECT_FALSE(ec_private->is_rsa());
    const std::string signature = ec_private->sign(DigestAlgorithm::sha256, "1700000000[]");
    const auto ec_public = PublicKey::from_der(public_der(ec.get()));
    ASSERT_TRUE(ec_public);
    EXPECT_TRUE(ec_public->verify(DigestAlgorithm::sha256, {"1700000000", "[]"}, signature));
    EXPECT_FALSE(ec_public->verify(DigestAlgorithm::sha256, {"1700000001", "[]"}, signature));

    const auto rsa_private = PrivateKey::from_pem(private_pem(
        std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>(
            EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)), EVP_PKEY_free)
            .get()));
    ASSERT_TRUE(rsa_private);
    EXPECT_TRUE(rsa_private->is_rsa());
    EXPECT_FALSE(rsa_private->is_p256());
    EXPECT_FALSE(rsa_private->sign(DigestAlgorithm::sha1, "x").empty());

    EXPECT_FALSE(PrivateKey::from_pem(EcKey().public_pem()));
    EXPECT_FALSE(PrivateKey::from_pem("not a key"));
    EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(PublicKey, GarbageSignaturesAreFalseNotErrors) {
    const EcKey signer;
    const auto key = PublicKey::from_der(signer.public_der());
    ASSERT_TRUE(key);
    EXPECT_FALSE(key->verify(DigestAlgorithm::sha256, {"x"}, ""));
    EXPECT_FALSE(key->verify(DigestAlgorithm::sha256, {"x"}, "not DER"));
    EXPECT_FALSE(key->verify(DigestAlgorithm::sha256, {"x"}, std::string(72, '\0')));
}

TEST(PublicKey, CopiesShareOneKey) {
    const EcKey signer;
    std::optional<PublicKey> copy;
    {
        const auto key = PublicKey::from_der(signer.public_der());
        ASSERT_TRUE(key);
        copy = *key;
    }
    EXPECT_TRUE(copy->verify(DigestAlgorithm::sha256, {"m"}, signer.sign({"m"})));
}

// Failed checks must not leave errors in OpenSSL's per-thread queue: nginx's
// TLS code in the same worker would log them as "[alert] ignoring stale
// global SSL error".
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
