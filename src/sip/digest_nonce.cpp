#include "sip/digest_nonce.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <cstdio>

#include "sip/digest.hpp"

namespace strowger::sip {

std::string DigestNonces::mac(std::string_view text) const {
    std::array<std::uint8_t, 32> out{};
    std::size_t length = 0;
    EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_.data(), key_.size(),
              reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data(),
              out.size(), &length);
    return to_hex(out.data(), 16);
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
