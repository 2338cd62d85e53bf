#include "turn/nonce.hpp"

#include <charconv>
#include <cstdio>

#include "turn/crypto.hpp"

namespace strowger::turn {
namespace {

constexpr std::size_t kExpiryDigits = 8;
constexpr std::size_t kMacBytes = 8;

} // namespace

NonceIssuer::NonceIssuer(std::array<std::uint8_t, 32> key, std::int64_t lifetime_s)
    : key_(key), lifetime_s_(lifetime_s) {}

std::string NonceIssuer::mac(std::string_view text) const {
    auto full = hmac_sha256(key_, text);
    return hex(std::span(full).first(kMacBytes));
}

std::string NonceIssuer::issue(std::int64_t now) const {
    char expiry[kExpiryDigits + 1];
    std::snprintf(expiry, sizeof expiry, "%08x", static_cast<std::uint32_t>(now + lifetime_s_));
    std::string text = std::string(kCookie) + expiry;
    return text + mac(text);
}

NonceCheck NonceIssuer::check(std::string_view nonce, std::int64_t now) const {
    if (nonce.size() != kCookie.size() + kExpiryDigits + 2 * kMacBytes || !has_cookie(nonce)) {
        return NonceCheck::Invalid;
    }
    auto text = nonce.substr(0, kCookie.size() + kExpiryDigits);
    if (mac(text) != nonce.substr(text.size())) {
        return NonceCheck::Invalid;
    }
    std::uint32_t expiry = 0;
    auto digits = text.substr(kCookie.size());
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), expiry, 16);
    if (ec != std::errc{} || end != digits.data() + digits.size()) {
        return NonceCheck::Invalid;
    }
    // Compared modulo 2^32, so the format keeps working after 2106.
    auto left = static_cast<std::int32_t>(expiry - static_cast<std::uint32_t>(now));
    return left > 0 ? NonceCheck::Valid : NonceCheck::Stale;
}

} // namespace strowger::turn
