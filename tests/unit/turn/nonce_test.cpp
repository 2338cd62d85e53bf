// Stateless nonces (RFC 8489 §9.2): the cookie that offers password algorithms, an expiry the
// nonce carries itself, and a MAC that only this server's key produces.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

#include "turn/nonce.hpp"

namespace strowger::turn {
namespace {

const std::array<std::uint8_t, 32> kKey = {1, 2, 3, 4, 5, 6, 7, 8};
const std::array<std::uint8_t, 32> kOtherKey = {8, 7, 6, 5, 4, 3, 2, 1};
constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kLifetime = 3600;

bool is_lower_hex(const std::string& s) {
    return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(NonceIssuer, Format) {
    NonceIssuer issuer(kKey, kLifetime);
    auto nonce = issuer.issue(kNow);
    EXPECT_EQ(nonce.size(), 13U + 8U + 16U);
    EXPECT_TRUE(nonce.starts_with("obMatJos2"));
    EXPECT_TRUE(nonce.starts_with(NonceIssuer::kCookie));
    EXPECT_TRUE(NonceIssuer::has_cookie(nonce));
    EXPECT_FALSE(NonceIssuer::has_cookie("obMatJos2"));
    // The expiry, in hex, right after the cookie.
    EXPECT_EQ(nonce.substr(13, 8), "6553ff10"); // 1700000000 + 3600 = 0x6553FF10
    EXPECT_TRUE(is_lower_hex(nonce.substr(13)));
    // Deterministic for a key and a time; different for another key or time.
    EXPECT_EQ(issuer.issue(kNow), nonce);
    EXPECT_NE(NonceIssuer(kOtherKey, kLifetime).issue(kNow), nonce);
    EXPECT_NE(issuer.issue(kNow + 1), nonce);
}

TEST(NonceIssuer, ValidUntilItsLifetimeThenStale) {
    NonceIssuer issuer(kKey, kLifetime);
    auto nonce = issuer.issue(kNow);
    EXPECT_EQ(issuer.check(nonce, kNow), NonceCheck::Valid);
    EXPECT_EQ(issuer.check(nonce, kNow + kLifetime - 1), NonceCheck::Valid);
    EXPECT_EQ(issuer.check(nonce, kNow + kLifetime), NonceCheck::Stale);
    EXPECT_EQ(issuer.check(nonce, kNow + 10 * kLifetime), NonceCheck::Stale);
}

TEST(NonceIssuer, AnyIssuerWithTheSameKeyAccepts) {
    NonceIssuer a(kKey, kLifetime);
    NonceIssuer b(kKey, 60); // another shard; the lifetime is inside the nonce
    EXPECT_EQ(b.check(a.issue(kNow), kNow + 1000), NonceCheck::Valid);
}

TEST(NonceIssuer, ForgeriesAreInvalid) {
    NonceIssuer issuer(kKey, kLifetime);
    auto nonce = issuer.issue(kNow);

    EXPECT_EQ(NonceIssuer(kOtherKey, kLifetime).check(nonce, kNow), NonceCheck::Invalid);

    auto extended = nonce; // a later expiry, same MAC
    extended[13] = 'f';
    EXPECT_EQ(issuer.check(extended, kNow), NonceCheck::Invalid);

    auto bad_mac = nonce;
    bad_mac.back() = bad_mac.back() == '0' ? '1' : '0';
    EXPECT_EQ(issuer.check(bad_mac, kNow), NonceCheck::Invalid);

    auto bad_cookie = nonce;
    bad_cookie[0] = 'O';
    EXPECT_EQ(issuer.check(bad_cookie, kNow), NonceCheck::Invalid);

    EXPECT_EQ(issuer.check("", kNow), NonceCheck::Invalid);
    EXPECT_EQ(issuer.check(nonce.substr(0, nonce.size() - 1), kNow), NonceCheck::Invalid);
    EXPECT_EQ(issuer.check(nonce + "0", kNow), NonceCheck::Invalid);
    EXPECT_EQ(issuer.check(std::string(nonce.size(), 'a'), kNow), NonceCheck::Invalid);
}

TEST(NonceIssuer, StaleIsOnlyForOurOwnNonces) {
    // An expired nonce of another key is Invalid, not Stale: nothing proves it was ours.
    NonceIssuer other(kOtherKey, kLifetime);
    NonceIssuer issuer(kKey, kLifetime);
    EXPECT_EQ(issuer.check(other.issue(kNow), kNow + 2 * kLifetime), NonceCheck::Invalid);
}

TEST(NonceIssuer, WorksAcrossThe32BitWrap) {
    NonceIssuer issuer(kKey, 100);
    const std::int64_t near_wrap = 0xFFFFFFF0LL; // expiry wraps to 0x54
    auto nonce = issuer.issue(near_wrap);
    EXPECT_EQ(nonce.substr(13, 8), "00000054");
    EXPECT_EQ(issuer.check(nonce, near_wrap), NonceCheck::Valid);
    EXPECT_EQ(issuer.check(nonce, near_wrap + 99), NonceCheck::Valid);
    EXPECT_EQ(issuer.check(nonce, near_wrap + 100), NonceCheck::Stale);
    EXPECT_EQ(issuer.check(nonce, near_wrap + 1000), NonceCheck::Stale);
}

} // namespace
} // namespace strowger::turn
