// SPDX-License-Identifier: BSD-2-Clause
// OpenSSL behind RAII: HMAC, digests, and public-key signature checks.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace mailhook {

enum class DigestAlgorithm { sha1, sha256 };

std::string hmac(DigestAlgorithm algorithm, std::string_view key,
                 std::string_view data);
std::string hmac(DigestAlgorithm algorithm, std::string_view key,
                 std::initializer_list<std::string_view> parts);
std::string sha256(std::string_view data);
std::string sha1(std::string_view data);
// Unisender Go's webhook `auth` is an MD5 digest; nothing else uses MD5.
std::string md5(std::string_view data);

// An immutable public key, shared between the connections that use it.
class PublicKey {
  public:
    // DER SubjectPublicKeyInfo (SendGrid's verification key, base64-decoded).
    static std::optional<PublicKey> from_der(std::string_view der);
    // "-----BEGIN PUBLIC KEY-----" PEM.
    static std::optional<PublicKey> from_pem(std::string_view pem);
    // The subject key of a PEM X.509 certificate (AWS SNS signing certs).
    static std::optional<PublicKey> from_certificate_pem(std::string_view pem);
    // An RSA key from its big-endian modulus and public exponent (the "n"
    // and "e" of a JWK, base64url-decoded).
    static std::optional<PublicKey> from_rsa_components(std::string_view modulus,
                                                        std::string_view exponent);

    // Signature over the concatenation of parts; DER for ECDSA, PKCS#1 v1.5
    // for RSA.
    bool verify(DigestAlgorithm algorithm,
                std::initializer_list<std::string_view> parts,
                std::string_view signature) const;

    // Vendors that sign with one algorithm refuse other keys at load time
    // rather than failing every request.
    bool is_rsa() const;
    // An ECDSA key on P-256 (prime256v1), the curve SendGrid signs with.
    bool is_p256() const;

  private:
    explicit PublicKey(EVP_PKEY* key);
    std::shared_ptr<EVP_PKEY> key_;
};

// A private key, for signing as a vendor signs: test requests of the
// `mailhook sign` command (the module itself only verifies).
class PrivateKey {
  public:
    // "-----BEGIN PRIVATE KEY-----" (or EC / RSA PRIVATE KEY) PEM.
    static std::optional<PrivateKey> from_pem(std::string_view pem);

    // DER for ECDSA, PKCS#1 v1.5 for RSA; empty when signing fails.
    std::string sign(DigestAlgorithm algorithm, std::string_view data) const;
    bool is_rsa() const;
    bool is_p256() const;

  private:
    explicit PrivateKey(EVP_PKEY* key);
    std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace mailhook
