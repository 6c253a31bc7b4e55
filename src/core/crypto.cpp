// SPDX-License-Identifier: BSD-2-Clause
#include "crypto.hpp"

#include <algorithm>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace mailhook {
namespace {

// OpenSSL records why a check failed (a wrong signature, a PEM without the
// expected block) in a per-thread error queue. nginx's TLS code, in the same
// worker thread, reads that queue after its own calls and logs leftovers as
// "[alert] ignoring stale global SSL error": leave it empty.
struct ClearErrorsOnExit {
    ClearErrorsOnExit() = default;
    ClearErrorsOnExit(const ClearErrorsOnExit&) = delete;
    ClearErrorsOnExit& operator=(const ClearErrorsOnExit&) = delete;
    ~ClearErrorsOnExit() { ERR_clear_error(); }
};

// Fetched once and never freed: immutable for the life of the process, and
// an explicit fetch saves OpenSSL 3's per-call lookup by name.
const EVP_MD* message_digest(DigestAlgorithm algorithm) {
    static const EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return algorithm == DigestAlgorithm::sha1 ? sha1 : sha256;
}

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
    void operator()(X509* cert) const { X509_free(cert); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

struct BnFree {
    void operator()(BIGNUM* number) const { BN_free(number); }
};
struct ParamBldFree {
    void operator()(OSSL_PARAM_BLD* builder) const { OSSL_PARAM_BLD_free(builder); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

using BioPtr = std::unique_ptr<BIO, BioFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

BnPtr big_endian_number(std::string_view bytes) {
    return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                           static_cast<int>(bytes.size()), nullptr));
}

bool is_rsa_key(const EVP_PKEY* key) { return EVP_PKEY_is_a(key, "RSA") == 1; }

bool is_p256_key(const EVP_PKEY* key) {
    char group[64];
    std::size_t length = 0;
    return EVP_PKEY_is_a(key, "EC") == 1 &&
           EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          &length) == 1 &&
           std::string_view(group, length) == SN_X9_62_prime256v1;
}

BioPtr memory_bio(std::string_view data) {
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string digest(const EVP_MD* md, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), out, &length, md, nullptr) != 1) {
        return {};
    }
    return std::string(reinterpret_cast<char*>(out), length);
}

}  // namespace

std::string hmac(DigestAlgorithm algorithm, std::string_view key,
                 std::string_view data) {
    return hmac(algorithm, key, {data});
}

// HMAC (RFC 2104) on digests fetched once per process: OpenSSL 3's MAC
// provider resolves the digest by name on every initialisation, which costs
// more than hashing a webhook body.
std::string hmac(DigestAlgorithm algorithm, std::string_view key,
                 std::initializer_list<std::string_view> parts) {
    const ClearErrorsOnExit clear_errors;
    const EVP_MD* md = message_digest(algorithm);
    const auto block_size = static_cast<std::size_t>(EVP_MD_get_block_size(md));
    unsigned char block[128] = {};
    if (md == nullptr || block_size > sizeof(block)) {
        return {};
    }
    if (key.size() > block_size) {
        const std::string hashed = digest(md, key);
        std::copy(hashed.begin(), hashed.end(), block);
    } else {
        std::copy(key.begin(), key.end(), block);
    }
    unsigned char pad[128];
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    unsigned char inner[EVP_MAX_MD_SIZE];
    unsigned int inner_length = 0;
    for (std::size_t i = 0; i < block_size; ++i) pad[i] = block[i] ^ 0x36;
    bool ok = ctx && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1 &&
              EVP_DigestUpdate(ctx.get(), pad, block_size) == 1;
    for (const std::string_view part : parts) {
        ok = ok && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx.get(), inner, &inner_length) == 1;
    for (std::size_t i = 0; i < block_size; ++i) pad[i] = block[i] ^ 0x5c;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    ok = ok && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), pad, block_size) == 1 &&
         EVP_DigestUpdate(ctx.get(), inner, inner_length) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), out, &length) == 1;
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
    if (!ok) {
        return {};
    }
    return std::string(reinterpret_cast<char*>(out), length);
}

std::string sha256(std::string_view data) {
    return digest(message_digest(DigestAlgorithm::sha256), data);
}

std::string sha1(std::string_view data) {
    return digest(message_digest(DigestAlgorithm::sha1), data);
}

std::string md5(std::string_view data) { return digest(EVP_md5(), data); }

PublicKey::PublicKey(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {}

std::optional<PublicKey> PublicKey::from_der(std::string_view der) {
    const ClearErrorsOnExit clear_errors;
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    EVP_PKEY* key = d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size()));
    if (key == nullptr) {
        return std::nullopt;
    }
    return PublicKey(key);
}

std::optional<PublicKey> PublicKey::from_pem(std::string_view pem) {
    const ClearErrorsOnExit clear_errors;
    BioPtr bio = memory_bio(pem);
    EVP_PKEY* key =
        bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (key == nullptr) {
        return std::nullopt;
    }
    return PublicKey(key);
}

std::optional<PublicKey> PublicKey::from_certificate_pem(std::string_view pem) {
    const ClearErrorsOnExit clear_errors;
    BioPtr bio = memory_bio(pem);
    std::unique_ptr<X509, X509Free> cert(
        bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    EVP_PKEY* key = cert ? X509_get_pubkey(cert.get()) : nullptr;
    if (key == nullptr) {
        return std::nullopt;
    }
    return PublicKey(key);
}

std::optional<PublicKey> PublicKey::from_rsa_components(std::string_view modulus,
                                                       std::string_view exponent) {
    const ClearErrorsOnExit clear_errors;
    if (modulus.empty() || exponent.empty()) {
        return std::nullopt;
    }
    const BnPtr n = big_endian_number(modulus);
    const BnPtr e = big_endian_number(exponent);
    std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> builder(OSSL_PARAM_BLD_new());
    if (!n || !e || !builder ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        return std::nullopt;
    }
    std::unique_ptr<OSSL_PARAM, ParamFree> params(
        OSSL_PARAM_BLD_to_param(builder.get()));
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return std::nullopt;
    }
    return PublicKey(key);
}

bool PublicKey::is_rsa() const { return is_rsa_key(key_.get()); }

bool PublicKey::is_p256() const { return is_p256_key(key_.get()); }

bool PublicKey::verify(DigestAlgorithm algorithm,
                       std::initializer_list<std::string_view> parts,
                       std::string_view signature) const {
    const ClearErrorsOnExit clear_errors;
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr,
                                     message_digest(algorithm), nullptr,
                                     key_.get()) != 1) {
        return false;
    }
    for (const std::string_view part : parts) {
        if (EVP_DigestVerifyUpdate(ctx.get(), part.data(), part.size()) != 1) {
            return false;
        }
    }
    return EVP_DigestVerifyFinal(
               ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
               signature.size()) == 1;
}

PrivateKey::PrivateKey(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {}

std::optional<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
    const ClearErrorsOnExit clear_errors;
    BioPtr bio = memory_bio(pem);
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (key == nullptr) return std::nullopt;
    return PrivateKey(key);
}

std::string PrivateKey::sign(DigestAlgorithm algorithm, std::string_view data) const {
    const ClearErrorsOnExit clear_errors;
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t length = 0;
    if (!ctx ||
        EVP_DigestSignInit(ctx.get(), nullptr, message_digest(algorithm), nullptr,
                           key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, bytes, data.size()) != 1) {
        return {};
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       bytes, data.size()) != 1) {
        return {};
    }
    signature.resize(length);
    return signature;
}

bool PrivateKey::is_rsa() const { return is_rsa_key(key_.get()); }

bool PrivateKey::is_p256() const { return is_p256_key(key_.get()); }

}  // namespace mailhook
