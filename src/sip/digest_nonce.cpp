#include "sip/digest_nonce.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <charconv>
#include <cstdio>

#include "core/text.hpp"
#include "sip/digest.hpp"

namespace strowger::sip {

DigestNonces::DigestNonces(const Key& key, std::int64_t lifetime_s)
    : key_(key), lifetime_s_(lifetime_s) {
    EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    keyed_ = hmac != nullptr ? EVP_MAC_CTX_new(hmac) : nullptr;
    EVP_MAC_free(hmac); // the context keeps its own reference
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (keyed_ != nullptr && EVP_MAC_init(keyed_, key_.data(), key_.size(), params) != 1) {
        EVP_MAC_CTX_free(keyed_);
        keyed_ = nullptr;
    }
}

DigestNonces::~DigestNonces() { EVP_MAC_CTX_free(keyed_); }

std::string DigestNonces::mac(std::string_view text) const {
    std::array<std::uint8_t, 32> out{};
    std::size_t length = 0;
    EVP_MAC_CTX* ctx = keyed_ != nullptr ? EVP_MAC_CTX_dup(keyed_) : nullptr;
    if (ctx == nullptr ||
        EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1 ||
        EVP_MAC_final(ctx, out.data(), &length, out.size()) != 1) {
        // Without a MAC no nonce can be told from a forgery: an empty one matches no nonce
        // (and makes issued ones too short), so every nonce is then refused.
        EVP_MAC_CTX_free(ctx);
        return {};
    }
    EVP_MAC_CTX_free(ctx);
    return core::to_hex(std::span(out).first(16));
}

std::string DigestNonces::issue(std::int64_t now, std::uint64_t unique) const {
    char head[8 + 16 + 1];
    std::snprintf(head, sizeof head, "%08x%016llx", static_cast<std::uint32_t>(now),
                  static_cast<unsigned long long>(unique));
    std::string nonce(head, 24);
    nonce += mac(nonce);
    return nonce;
}

DigestNonces::Check DigestNonces::check(std::string_view nonce, std::int64_t now) const {
    if (nonce.size() != kLength) {
        return {};
    }
    auto head = nonce.substr(0, 24);
    if (!digest_equal(mac(head), nonce.substr(24))) {
        return {};
    }
    std::uint32_t issued = 0;
    auto [end, ec] = std::from_chars(head.data(), head.data() + 8, issued, 16);
    if (ec != std::errc{} || end != head.data() + 8) {
        return {};
    }
    auto age = static_cast<std::int32_t>(static_cast<std::uint32_t>(now) - issued);
    if (age < -1) {
        return {}; // from the future: not a nonce we issued on this clock
    }
    return {age > lifetime_s_ ? State::Stale : State::Valid, now - age};
}

} // namespace strowger::sip
