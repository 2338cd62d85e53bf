#pragma once
// Stateless nonces for the long-term credential mechanism (RFC 8489 §9.2). A nonce carries its
// own expiry and a MAC over it, so any shard can check any nonce without shared state, and a
// restart simply makes old nonces stale (the client retries after 438).
//
//   "obMatJos2" "gAAA"   nonce cookie, security feature "password algorithms" (§9.2, §18.1)
//   8 hex digits          expiry, Unix seconds
//   16 hex digits         HMAC-SHA256(server key, cookie + expiry), truncated

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace strowger::turn {

enum class NonceCheck : std::uint8_t { Valid, Stale, Invalid };

class NonceIssuer {
public:
    static constexpr std::string_view kCookie = "obMatJos2gAAA";

    // `key` is random per server process; `lifetime_s` how long a nonce stays usable.
    NonceIssuer(std::array<std::uint8_t, 32> key, std::int64_t lifetime_s);

    [[nodiscard]] std::string issue(std::int64_t now) const;
    [[nodiscard]] NonceCheck check(std::string_view nonce, std::int64_t now) const;
    // The nonce offers the password-algorithms feature (ours always do).
    static bool has_cookie(std::string_view nonce) { return nonce.starts_with(kCookie); }

private:
    [[nodiscard]] std::string mac(std::string_view text) const;

    std::array<std::uint8_t, 32> key_;
    std::int64_t lifetime_s_;
};

} // namespace strowger::turn
