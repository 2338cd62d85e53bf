#include "stun/integrity.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "core/byte_reader.hpp"

namespace strowger::stun {
namespace {

// The header as it must appear in the HMAC/CRC input: its length field counts the message up to
// and including the attribute being computed (`attr_size` bytes at `attr_offset`).
std::array<std::uint8_t, kHeaderSize> adjusted_header(std::span<const std::uint8_t> message,
                                                      std::size_t attr_offset,
                                                      std::size_t attr_size) {
    std::array<std::uint8_t, kHeaderSize> header{};
    std::copy_n(message.begin(), kHeaderSize, header.begin());
    core::store_u16be(header.data() + 2,
                      static_cast<std::uint16_t>(attr_offset + attr_size - kHeaderSize));
    return header;
}

// EVP_MAC_fetch is expensive, so the algorithm is fetched once per process.
EVP_MAC* hmac_algorithm() {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) {
        throw std::runtime_error("OpenSSL: HMAC is not available");
    }
    return mac;
}

template <std::size_t N>
std::array<std::uint8_t, N> hmac(const char* digest, std::span<const std::uint8_t> message,
                                 std::size_t attr_offset, std::size_t value_size,
                                 std::span<const std::uint8_t> key) {
    std::array<std::uint8_t, N> out{};
    auto header = adjusted_header(message, attr_offset, 4 + value_size);
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(hmac_algorithm()),
                                                                  &EVP_MAC_CTX_free);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
        OSSL_PARAM_construct_end()};
    std::size_t out_len = 0;
    if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), header.data(), header.size()) != 1 ||
        EVP_MAC_update(ctx.get(), message.data() + kHeaderSize, attr_offset - kHeaderSize) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) != 1 || out_len != N) {
        out.fill(0); // an all-zero MAC never verifies against a real one
    }
    return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> digest(const EVP_MD* md, std::string_view username,
                                   std::string_view realm, std::string_view password) {
    std::array<std::uint8_t, N> out{};
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    unsigned len = 0;
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), username.data(), username.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), ":", 1) != 1 ||
        EVP_DigestUpdate(ctx.get(), realm.data(), realm.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), ":", 1) != 1 ||
        EVP_DigestUpdate(ctx.get(), password.data(), password.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != N) {
        throw std::runtime_error("OpenSSL: digest failed");
    }
    return out;
}

bool verify_attribute(const Attribute* a, std::span<const std::uint8_t> expected) {
    return a != nullptr && a->value.size() == expected.size() &&
           std::equal(expected.begin(), expected.end(), a->value.begin());
}

} // namespace

Sha1Digest compute_integrity_sha1(std::span<const std::uint8_t> message, std::size_t attr_offset,
                                  std::span<const std::uint8_t> key) {
    return hmac<20>("SHA1", message, attr_offset, 20, key);
}

Sha256Digest compute_integrity_sha256(std::span<const std::uint8_t> message,
                                      std::size_t attr_offset, std::span<const std::uint8_t> key,
                                      std::size_t value_size) {
    return hmac<32>("SHA256", message, attr_offset, value_size, key);
}

std::uint32_t compute_fingerprint(std::span<const std::uint8_t> message, std::size_t attr_offset) {
    auto header = adjusted_header(message, attr_offset, 8);
    uLong crc = crc32(0L, header.data(), static_cast<uInt>(header.size()));
    crc = crc32(crc, message.data() + kHeaderSize, static_cast<uInt>(attr_offset - kHeaderSize));
    return static_cast<std::uint32_t>(crc) ^ kFingerprintXor;
}

bool verify_message_integrity(const Message& msg, std::span<const std::uint8_t> key) {
    const auto* mi = msg.message_integrity();
    return mi != nullptr && verify_attribute(mi, compute_integrity_sha1(msg.raw(), mi->offset, key));
}

bool verify_message_integrity_sha256(const Message& msg, std::span<const std::uint8_t> key) {
    const auto* mi = msg.find(attr::kMessageIntegritySha256);
    // §14.6: the value may be truncated to no fewer than 16 bytes, in multiples of 4.
    if (mi == nullptr || mi->value.size() < 16 || mi->value.size() > 32 ||
        mi->value.size() % 4 != 0) {
        return false;
    }
    auto full = compute_integrity_sha256(msg.raw(), mi->offset, key, mi->value.size());
    return std::equal(mi->value.begin(), mi->value.end(), full.begin());
}

bool verify_fingerprint(const Message& msg) {
    const auto* fp = msg.fingerprint();
    if (fp == nullptr || fp->value.size() != 4) {
        return false;
    }
    return core::load_u32be(fp->value.data()) == compute_fingerprint(msg.raw(), fp->offset);
}

Md5Digest long_term_key_md5(std::string_view username, std::string_view realm,
                            std::string_view password) {
    return digest<16>(EVP_md5(), username, realm, password);
}

Sha256Digest long_term_key_sha256(std::string_view username, std::string_view realm,
                                  std::string_view password) {
    return digest<32>(EVP_sha256(), username, realm, password);
}

} // namespace strowger::stun
