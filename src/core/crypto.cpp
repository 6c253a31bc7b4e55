#include "crypto.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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

const EVP_MD* message_digest(DigestAlgorithm algorithm) {
    return algorithm == DigestAlgorithm::sha1 ? EVP_sha1() : EVP_sha256();
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
struct MacFree {
    void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};
struct MacCtxFree {
    void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

using BioPtr = std::unique_ptr<BIO, BioFree>;

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

std::string hmac(DigestAlgorithm algorithm, std::string_view key,
                 std::initializer_list<std::string_view> parts) {
    const ClearErrorsOnExit clear_errors;
    std::unique_ptr<EVP_MAC, MacFree> mac(
        EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) {
        return {};
    }
    std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac.get()));
    char digest_name[8];
    const std::string_view name =
        algorithm == DigestAlgorithm::sha1 ? "SHA1" : "SHA256";
    name.copy(digest_name, name.size());
    digest_name[name.size()] = '\0';
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
        OSSL_PARAM_construct_end()};
    // An empty key is legal HMAC; OpenSSL wants a non-null pointer for it.
    static const unsigned char empty_key[1] = {0};
    const auto* key_bytes = key.empty()
                                ? empty_key
                                : reinterpret_cast<const unsigned char*>(key.data());
    if (!ctx || EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1) {
        return {};
    }
    for (const std::string_view part : parts) {
        if (EVP_MAC_update(ctx.get(),
                           reinterpret_cast<const unsigned char*>(part.data()),
                           part.size()) != 1) {
            return {};
        }
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    if (EVP_MAC_final(ctx.get(), out, &length, sizeof(out)) != 1) {
        return {};
    }
    return std::string(reinterpret_cast<char*>(out), length);
}

std::string sha256(std::string_view data) {
    return digest(EVP_sha256(), data);
}

std::string sha1(std::string_view data) { return digest(EVP_sha1(), data); }

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

}  // namespace mailhook
