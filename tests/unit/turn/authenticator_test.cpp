// Where TURN finds a user's long-term key: the account store, or the TURN REST API's ephemeral
// credentials (coturn's use-auth-secret), checked against vectors computed with OpenSSL:
//   printf '%s' '1700000000:bob' | openssl dgst -sha1 -hmac SECRET -binary | base64

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "stun/integrity.hpp"
#include "turn/authenticator.hpp"
#include "turn/crypto.hpp"
#include "turn_fakes.hpp"

namespace strowger::turn {
namespace {

using test::FakeCredentialStore;
using test::keys_for;

constexpr std::string_view kRealm = "strowger";
constexpr std::string_view kSecret = "SECRET";
constexpr std::string_view kBobUser = "1700000000:bob";
constexpr std::string_view kBobPassword = "lIQjdQ/2UyZsEWYoATB3FmTTPgs=";
// printf '%s' 'bob:1700000000' | openssl dgst -sha1 -hmac SECRET -binary | base64
constexpr std::string_view kBobUserFirst = "bob:1700000000";
constexpr std::string_view kBobUserFirstPassword = "twH/HirPENt7dnb7u3yZoZf24zU=";

void expect_keys(const Credential& c, std::string_view user, std::string_view password) {
    auto expected = keys_for(user, kRealm, password);
    EXPECT_EQ(c.keys.md5, expected.md5);
    EXPECT_EQ(c.keys.sha256, expected.sha256);
}

class AuthenticatorTest : public ::testing::Test {
protected:
    AuthenticatorTest() {
        users.add("alice", std::string(kRealm), "wonderland");
        users.add("sip:alice", std::string(kRealm), "colon");
        users.add("-5:bob", std::string(kRealm), "negative");
    }
    FakeCredentialStore users;
};

class RestCredentials : public AuthenticatorTest {};

TEST_F(RestCredentials, PasswordIsCoturnCompatible) {
    EXPECT_EQ(Authenticator::rest_password(kSecret, kBobUser), kBobPassword);
    EXPECT_EQ(Authenticator::rest_password(kSecret, kBobUserFirst), kBobUserFirstPassword);
    EXPECT_NE(Authenticator::rest_password("other", kBobUser), kBobPassword);
}

TEST_F(RestCredentials, AcceptedBeforeExpiry) {
    Authenticator auth(&users, std::string(kSecret));
    auto c = auth.find(kBobUser, kRealm, 1'699'999'999);
    ASSERT_TRUE(c);
    expect_keys(*c, kBobUser, kBobPassword);
    EXPECT_EQ(c->quota_owner, "bob");
    EXPECT_EQ(users.lookups, 0); // a REST username names no account
}

TEST_F(RestCredentials, RejectedFromItsExpiry) {
    Authenticator auth(&users, std::string(kSecret));
    EXPECT_FALSE(auth.find(kBobUser, kRealm, 1'700'000'000));
    EXPECT_FALSE(auth.find(kBobUser, kRealm, 1'800'000'000));
}

TEST_F(RestCredentials, UserFirstForm) {
    Authenticator auth(&users, std::string(kSecret));
    auto c = auth.find(kBobUserFirst, kRealm, 1'600'000'000);
    ASSERT_TRUE(c);
    expect_keys(*c, kBobUserFirst, kBobUserFirstPassword);
    EXPECT_EQ(c->quota_owner, "bob");
    EXPECT_FALSE(auth.find(kBobUserFirst, kRealm, 1'700'000'001));
}

TEST_F(RestCredentials, UserPartMayHoldColons) {
    Authenticator auth(nullptr, std::string(kSecret));
    auto c = auth.find("1700000000:bob:laptop", kRealm, 1'600'000'000);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->quota_owner, "bob:laptop");
}

TEST_F(RestCredentials, DisabledWithoutASecret) {
    Authenticator auth(&users, "");
    EXPECT_FALSE(auth.find(kBobUser, kRealm, 1'600'000'000));
    EXPECT_TRUE(auth.find("alice", kRealm, 1'600'000'000)); // accounts still work
}

TEST_F(RestCredentials, KeysDependOnTheRealm) {
    Authenticator auth(nullptr, std::string(kSecret));
    auto a = auth.find(kBobUser, "strowger", 0);
    auto b = auth.find(kBobUser, "elsewhere", 0);
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->keys.md5, b->keys.md5);
}

TEST_F(AuthenticatorTest, AccountsComeFromTheStore) {
    Authenticator auth(&users, std::string(kSecret));
    auto c = auth.find("alice", kRealm, 0);
    ASSERT_TRUE(c);
    expect_keys(*c, "alice", "wonderland");
    EXPECT_EQ(c->quota_owner, "alice");
    EXPECT_FALSE(auth.find("mallory", kRealm, 0));
    EXPECT_FALSE(auth.find("alice", "elsewhere", 0));
    EXPECT_FALSE(auth.find("", kRealm, 0));
}

TEST_F(AuthenticatorTest, ColonUsernamesThatAreNotRestGoToTheStore) {
    Authenticator auth(&users, std::string(kSecret));
    auto c = auth.find("sip:alice", kRealm, 0);
    ASSERT_TRUE(c);
    expect_keys(*c, "sip:alice", "colon");
    auto n = auth.find("-5:bob", kRealm, 0); // a negative "time" is no time
    ASSERT_TRUE(n);
    EXPECT_EQ(n->quota_owner, "-5:bob");
}

TEST_F(AuthenticatorTest, NoStoreMeansRestOnly) {
    Authenticator auth(nullptr, std::string(kSecret));
    EXPECT_FALSE(auth.find("alice", kRealm, 0));
    EXPECT_TRUE(auth.find(kBobUser, kRealm, 0));
}

// The primitives underneath (RFC 2202 / RFC 4231 test case 2, RFC 4648 §10).
TEST(TurnCrypto, HmacVectors) {
    auto sha1 = hmac_sha1(stun::as_bytes("Jefe"), "what do ya want for nothing?");
    EXPECT_EQ(hex(sha1), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    auto sha256 = hmac_sha256(stun::as_bytes("Jefe"), "what do ya want for nothing?");
    EXPECT_EQ(hex(sha256), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(TurnCrypto, Base64) {
    EXPECT_EQ(base64(stun::as_bytes("")), "");
    EXPECT_EQ(base64(stun::as_bytes("f")), "Zg==");
    EXPECT_EQ(base64(stun::as_bytes("fo")), "Zm8=");
    EXPECT_EQ(base64(stun::as_bytes("foo")), "Zm9v");
    EXPECT_EQ(base64(stun::as_bytes("foobar")), "Zm9vYmFy");
}

TEST(TurnCrypto, RandomBytes) {
    std::array<std::uint8_t, 32> a{};
    std::array<std::uint8_t, 32> b{};
    random_bytes(a);
    random_bytes(b);
    EXPECT_NE(a, b);
}

} // namespace
} // namespace strowger::turn
