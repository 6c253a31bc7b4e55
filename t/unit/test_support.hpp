// SPDX-License-Identifier: BSD-2-Clause
// Shared helpers for the unit tests (vendor tests add vendor_test.hpp).
#pragma once

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/delivery.hpp"
#include "core/encoding.hpp"
#include "core/json.hpp"

namespace mailhook::test {

// Headers for a Delivery, looked up case-insensitively like nginx does.
// Like nginx's list a name may be sent twice (add); set replaces it.
class MapHeaders final : public HeaderLookup {
  public:
    MapHeaders() = default;
    MapHeaders(std::initializer_list<std::pair<const std::string, std::string>> init) {
        for (const auto& [name, value] : init) set(name, value);
    }

    void set(const std::string& name, const std::string& value) {
        erase(name);
        add(name, value);
    }
    void add(const std::string& name, const std::string& value) {
        headers_.emplace_back(name, value);
    }
    void erase(const std::string& name) {
        headers_.erase(std::remove_if(headers_.begin(), headers_.end(),
                                      [&](const auto& header) {
                                          return iequals_ascii(header.first, name);
                                      }),
                       headers_.end());
    }

    std::optional<std::string_view> find(std::string_view name) const override {
        for (const auto& [key, value] : headers_) {
            if (iequals_ascii(key, name)) return std::string_view(value);
        }
        return std::nullopt;
    }
    std::size_t count(std::string_view name) const override {
        std::size_t n = 0;
        for (const auto& header : headers_) n += iequals_ascii(header.first, name);
        return n;
    }

  private:
    std::vector<std::pair<std::string, std::string>> headers_;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Test vectors from the vendors' SDK tests, copied into t/vectors/.
inline JsonPtr load_vector(const std::string& name) {
    JsonPtr vector = parse_json(read_file("t/vectors/" + name));
    if (!vector) throw std::runtime_error("t/vectors/" + name + " is not JSON");
    return vector;
}

inline std::string vector_string(const json_t* vector, const char* key) {
    const auto value = json_string_at(vector, key);
    return value ? std::string(*value) : std::string();
}

// The vector's "headers" object as request headers.
inline MapHeaders vector_headers(const json_t* vector) {
    MapHeaders headers;
    const char* key;
    json_t* value;
    json_object_foreach(json_object_get(vector, "headers"), key, value) {
        if (json_is_string(value)) headers.set(key, json_string_value(value));
    }
    return headers;
}

// Epoch milliseconds from epoch seconds.
constexpr EpochMillis at_seconds(std::int64_t seconds) { return seconds * 1000; }

inline std::string unhex(std::string_view text) {
    auto bytes = hex_decode(text);
    if (!bytes) throw std::runtime_error("bad hex in test");
    return *bytes;
}

// A key pair made for the test: its public half as vendors publish it.
class TestKey {
  public:
    std::string public_der() const {
        unsigned char* der = nullptr;
        const int length = i2d_PUBKEY(key_.get(), &der);
        if (length <= 0) throw std::runtime_error("i2d_PUBKEY failed");
        std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
        OPENSSL_free(der);
        return out;
    }
    std::string public_der_base64() const { return base64_encode(public_der()); }

    std::string public_pem() const {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
        if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
            throw std::runtime_error("PEM_write_bio_PUBKEY failed");
        }
        char* data = nullptr;
        const long length = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(length));
    }

  protected:
    explicit TestKey(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {
        if (!key_) throw std::runtime_error("key generation failed");
    }

    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
};

// A P-256 key pair, signing like SendGrid does (SHA-256, DER signature).
class EcKey : public TestKey {
  public:
    EcKey() : TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")) {}

    // base64(DER SubjectPublicKeyInfo): SendGrid's "verification key".
    std::string verification_key() const { return public_der_base64(); }

    // DER ECDSA signature over the concatenated parts.
    std::string sign(std::initializer_list<std::string_view> parts) const {
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    EVP_MD_CTX_free);
        if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                                       key_.get()) != 1) {
            throw std::runtime_error("EVP_DigestSignInit failed");
        }
        for (const std::string_view part : parts) {
            EVP_DigestSignUpdate(ctx.get(), part.data(), part.size());
        }
        std::size_t length = 0;
        EVP_DigestSignFinal(ctx.get(), nullptr, &length);
        std::string signature(length, '\0');
        if (EVP_DigestSignFinal(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()),
                                &length) != 1) {
            throw std::runtime_error("EVP_DigestSignFinal failed");
        }
        signature.resize(length);
        return signature;
    }
};

// An RSA key pair, signing with PKCS#1 v1.5 as Postal and Amazon SNS do.
class RsaKey : public TestKey {
  public:
    RsaKey() : TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})) {}

    // The raw signature of `data` with `digest` (EVP_sha1(), EVP_sha256()).
    std::string sign(std::string_view data, const EVP_MD* digest) const {
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    EVP_MD_CTX_free);
        const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
        std::size_t length = 0;
        if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest, nullptr, key_.get()) != 1 ||
            EVP_DigestSign(ctx.get(), nullptr, &length, bytes, data.size()) != 1) {
            throw std::runtime_error("EVP_DigestSign failed");
        }
        std::string signature(length, '\0');
        if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()),
                           &length, bytes, data.size()) != 1) {
            throw std::runtime_error("EVP_DigestSign failed");
        }
        signature.resize(length);
        return signature;
    }

    // One member of a JWK Set (Postal's /.well-known/jwks.json).
    std::string public_jwk() const {
        return R"({"kty":"RSA","e":")" + component(OSSL_PKEY_PARAM_RSA_E) +
               R"(","n":")" + component(OSSL_PKEY_PARAM_RSA_N) +
               R"(","use":"sig","alg":"RS256","kid":"k1"})";
    }

  private:
    std::string component(const char* name) const {
        BIGNUM* raw = nullptr;
        if (EVP_PKEY_get_bn_param(key_.get(), name, &raw) != 1) {
            throw std::runtime_error("EVP_PKEY_get_bn_param failed");
        }
        std::unique_ptr<BIGNUM, decltype(&BN_free)> number(raw, BN_free);
        std::string bytes(static_cast<std::size_t>(BN_num_bytes(number.get())), '\0');
        BN_bn2bin(number.get(), reinterpret_cast<unsigned char*>(bytes.data()));
        return base64_encode(bytes, Base64Alphabet::url, false);
    }
};

inline void expect_json_equal(const std::string& actual, const std::string& expected,
                              const char* what) {
    const JsonPtr a = parse_json(actual);
    const JsonPtr b = parse_json(expected);
    ASSERT_NE(a, nullptr) << what << " is not JSON: " << actual;
    ASSERT_NE(b, nullptr) << "expected " << what << " is not JSON: " << expected;
    EXPECT_TRUE(json_equal(a.get(), b.get()))
        << what << ": " << actual << "\n   expected: " << expected;
}

}  // namespace mailhook::test
