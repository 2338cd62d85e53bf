// Digest authentication: the RFC 2617 / RFC 7616 vectors and the SIP vectors of
// shared/corpus/digest.txt (with the RFC 7616 §3.9.2 erratum: the printed SHA-512-256 values
// are truncated SHA-512, the corrected ones are tested), the credentials parser, the stateless
// nonces, the nonce-count ledger with its lockout, and the authenticator's decisions.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sip/auth_ledger.hpp"
#include "sip/authenticator.hpp"
#include "sip/digest.hpp"
#include "sip/digest_nonce.hpp"
#include "sip/message.hpp"

namespace strowger::sip {
namespace {

std::string ha1_of(DigestHash hash, std::string_view user, std::string_view realm,
                   std::string_view password) {
    return digest_hash(hash, std::string(user) + ":" + std::string(realm) + ":" +
                                 std::string(password));
}

// ---- vectors ------------------------------------------------------------------------------

TEST(DigestVectors, Rfc2617Section35) {
    auto ha1 = ha1_of(DigestHash::Md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
    EXPECT_EQ(ha1, "939e7578ed9e3c518a452acee763bce9");
    DigestInput in{.ha1 = ha1,
                   .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                   .nc = "00000001",
                   .cnonce = "0a4f113b",
                   .qop = "auth",
                   .method = "GET",
                   .uri = "/dir/index.html"};
    EXPECT_EQ(digest_response(in), "6629fae49393a05397450978507c4ef1");
    // V2: the same without qop (RFC 2069 compatibility).
    in.nc = "";
    in.cnonce = "";
    in.qop = "";
    EXPECT_EQ(digest_response(in), "670fd8c2df070c60b045671b8b24ff02");
}

TEST(DigestVectors, Rfc7616Section391Md5AndSha256) {
    for (auto [hash, ha1_expected, response] :
         {std::tuple{DigestHash::Md5, "3d78807defe7de2157e2b0b6573a855f",
                     "8ca523f5e9506fed4657c9700eebdbec"},
          std::tuple{DigestHash::Sha256,
                     "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232",
                     "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"}}) {
        auto ha1 = ha1_of(hash, "Mufasa", "http-auth@example.org", "Circle of Life");
        EXPECT_EQ(ha1, ha1_expected);
        EXPECT_EQ(digest_response({.algorithm = {hash, false},
                                   .ha1 = ha1,
                                   .nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                                   .nc = "00000001",
                                   .cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                                   .qop = "auth",
                                   .method = "GET",
                                   .uri = "/dir/index.html"}),
                  response);
    }
}

TEST(DigestVectors, Rfc7616Section392Sha512_256Corrected) {
    const std::string user = "J\xc3\xa4s\xc3\xb8n Doe";
    EXPECT_EQ(digest_hash(DigestHash::Sha512_256, user + ":api@example.org"),
              "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
    auto ha1 = ha1_of(DigestHash::Sha512_256, user, "api@example.org", "Secret, or not?");
    EXPECT_EQ(ha1, "2d3d9f12c9f3d30011259dc5fecee005ae24de40e3e1f61806d03e65f1e6024f");
    auto response = digest_response({.algorithm = {DigestHash::Sha512_256, false},
                                     .ha1 = ha1,
                                     .nonce = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
                                     .nc = "00000001",
                                     .cnonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
                                     .qop = "auth",
                                     .method = "GET",
                                     .uri = "/doe.json"});
    EXPECT_EQ(response, "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
    // The value printed in the RFC is truncated SHA-512, not SHA-512/256.
    EXPECT_NE(response, "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd");
}

struct SipVector {
    const char* id;
    DigestAlgorithm algorithm;
    const char* method;
    const char* uri;
    const char* qop;
    const char* body;
    const char* ha1;
    const char* response;
};

TEST(DigestVectors, SipVectorsOfTheCorpus) {
    const SipVector vectors[] = {
        {"S1", {DigestHash::Md5, false}, "REGISTER", "sip:example.com", "auth", "",
         "b1726872c344b6dc8365b774f8fd6412", "dc7c267208489e0180d0517391c30810"},
        {"S2", {DigestHash::Sha256, false}, "REGISTER", "sip:example.com", "auth", "",
         "ed8925b20f9a77b8f8f8d5f8e4467fe32b866f7208ab9e4b20595e9821a0fdee",
         "cee54d872bbbd1036e474ffce11e0d6f3cd8d44ad1f3d06d8eb11e085074565e"},
        {"S3", {DigestHash::Sha512_256, false}, "REGISTER", "sip:example.com", "auth", "",
         "9e413627514b03d0753229d450617d94a9b2a2a635222e49bad90404c29e97ad",
         "31cfbe822b580e52c6885d4b148491df934cbe41b13cb793138c0b755b34f479"},
        {"S4", {DigestHash::Md5, false}, "REGISTER", "sip:example.com", "", "",
         "b1726872c344b6dc8365b774f8fd6412", "d04250f485414c5f4122364d0032ecaa"},
        {"S5", {DigestHash::Md5, true}, "REGISTER", "sip:example.com", "auth", "",
         "b1726872c344b6dc8365b774f8fd6412", "446209e606337a08627f14720cb0f343"},
        {"S6", {DigestHash::Md5, false}, "INVITE", "sip:bob@example.com", "auth-int", "v=0\r\n",
         "b1726872c344b6dc8365b774f8fd6412", "82345cb415ee22e3ceaea469cce00c53"},
        {"S7", {DigestHash::Md5, false}, "INVITE", "sip:bob@example.com", "auth-int", "",
         "b1726872c344b6dc8365b774f8fd6412", "e550688e987cbd73c18485236579f072"},
        {"S8", {DigestHash::Sha256, false}, "INVITE", "sip:bob@example.com;transport=ws", "auth",
         "", "ed8925b20f9a77b8f8f8d5f8e4467fe32b866f7208ab9e4b20595e9821a0fdee",
         "dd74597cd0669f5ca985b6ceb3d31afc1ea2c7c1b8d382f6cb0172a5dfa47193"},
    };
    for (const auto& v : vectors) {
        SCOPED_TRACE(v.id);
        EXPECT_EQ(ha1_of(v.algorithm.hash, "alice", "example.com", "secret"), v.ha1);
        const bool qop = *v.qop != '\0';
        EXPECT_EQ(digest_response({.algorithm = v.algorithm,
                                   .ha1 = v.ha1,
                                   .nonce = "5f1c0a1b2c3d4e5f60718293a4b5c6d7",
                                   .nc = qop ? "00000001" : "",
                                   .cnonce = qop || v.algorithm.session ? "0a4f113b" : "",
                                   .qop = v.qop,
                                   .method = v.method,
                                   .uri = v.uri,
                                   .body = v.body}),
                  v.response);
    }
}

// ---- parsing ------------------------------------------------------------------------------

TEST(DigestParse, ReadsQuotedAndTokenValuesWithLws) {
    auto p = parse_digest_credentials(
        "Digest username=\"al\\\"ice\",realm=\"example.com\" ,\r\n nonce=\"abc\", "
        "uri=\"sip:example.com\", response=\"dc7c267208489e0180d0517391c30810\", "
        "algorithm=md5, cnonce=\"0a4f113b\", qop=auth, nc=00000001, opaque=\"x\", foo=bar");
    ASSERT_TRUE(p.credentials) << describe(p.error);
    const auto& c = *p.credentials;
    EXPECT_EQ(c.username, "al\"ice");
    EXPECT_EQ(c.realm, "example.com");
    EXPECT_EQ(c.nonce, "abc");
    EXPECT_EQ(c.uri, "sip:example.com");
    EXPECT_EQ(c.qop, "auth");
    EXPECT_EQ(c.nc, "00000001");
    EXPECT_EQ(c.opaque, "x");
    EXPECT_EQ(c.algorithm, (DigestAlgorithm{DigestHash::Md5, false}));
}

TEST(DigestParse, RefusesWhatCannotBeChecked) {
    const std::string base = "username=\"a\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", ";
    const std::string md5 = "response=\"dc7c267208489e0180d0517391c30810\"";
    auto error = [](const std::string& v) { return parse_digest_credentials(v).error; };
    EXPECT_EQ(error("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), DigestParseError::NotDigest);
    EXPECT_EQ(error("Digest"), DigestParseError::Syntax);
    EXPECT_EQ(error("Digest " + base + md5 + ","), DigestParseError::Syntax);
    EXPECT_EQ(error("Digest username=\"a"), DigestParseError::Syntax);
    EXPECT_EQ(error("Digest " + base + "username=\"b\", " + md5), DigestParseError::Duplicate);
    EXPECT_EQ(error("Digest realm=\"r\", nonce=\"n\", uri=\"u\", " + md5),
              DigestParseError::MissingParameter);
    EXPECT_EQ(error("Digest " + base + md5 + ", algorithm=SHA-1"), DigestParseError::BadAlgorithm);
    EXPECT_EQ(error("Digest " + base + md5 + ", qop=auth"), DigestParseError::BadQop);
    EXPECT_EQ(error("Digest " + base + md5 + ", qop=auth, nc=1, cnonce=\"c\""),
              DigestParseError::BadQop);
    EXPECT_EQ(error("Digest " + base + md5 + ", qop=bogus, nc=00000001, cnonce=\"c\""),
              DigestParseError::BadQop);
    EXPECT_EQ(error("Digest " + base + md5 + ", algorithm=SHA-256"), DigestParseError::BadResponse);
    EXPECT_EQ(error("Digest " + base + "response=\"zz\""), DigestParseError::BadResponse);
    EXPECT_EQ(error("Digest " + base + md5), DigestParseError::None);
}

TEST(DigestChallenge, IsWhatClientsRead) {
    EXPECT_EQ(digest_challenge("example.test", "N", {DigestHash::Md5, false}, false),
              "Digest realm=\"example.test\", nonce=\"N\", algorithm=MD5, qop=\"auth\"");
    EXPECT_EQ(digest_challenge("a\"b", "N", {DigestHash::Sha256, false}, true),
              "Digest realm=\"a\\\"b\", nonce=\"N\", algorithm=SHA-256, qop=\"auth\", stale=true");
}

// ---- nonces and the ledger ----------------------------------------------------------------

constexpr std::int64_t kNow = 1'800'000'000;
constexpr DigestNonces::Key kKey = {1, 2, 3, 4, 5, 6, 7, 8};

TEST(DigestNonces, ValidThenStaleAndNeverForgeable) {
    DigestNonces nonces(kKey, 300);
    auto n = nonces.issue(kNow, 42);
    EXPECT_EQ(n.size(), DigestNonces::kLength);
    EXPECT_NE(n, nonces.issue(kNow, 43));
    auto c = nonces.check(n, kNow + 300);
    EXPECT_EQ(c.state, DigestNonces::State::Valid);
    EXPECT_EQ(c.issued, kNow);
    EXPECT_EQ(nonces.check(n, kNow + 301).state, DigestNonces::State::Stale);
    auto forged = n;
    forged[3] = forged[3] == '0' ? '1' : '0'; // another issue time, same MAC
    EXPECT_EQ(nonces.check(forged, kNow).state, DigestNonces::State::Invalid);
    DigestNonces other({9}, 300);
    EXPECT_EQ(other.check(n, kNow).state, DigestNonces::State::Invalid);
    EXPECT_EQ(nonces.check("short", kNow).state, DigestNonces::State::Invalid);
}

TEST(AuthLedger, NonceCountMustRise) {
    AuthLedger ledger(300);
    EXPECT_EQ(ledger.use_nonce("n1", 1, kNow, kNow), AuthLedger::Count::Fresh);
    EXPECT_EQ(ledger.use_nonce("n1", 1, kNow, kNow), AuthLedger::Count::Replayed);
    EXPECT_EQ(ledger.use_nonce("n1", 3, kNow, kNow), AuthLedger::Count::Fresh);
    EXPECT_EQ(ledger.use_nonce("n1", 2, kNow, kNow), AuthLedger::Count::Replayed);
    EXPECT_EQ(ledger.use_nonce("n2", 1, kNow, kNow), AuthLedger::Count::Fresh);
    // Without qop a nonce is good once.
    EXPECT_EQ(ledger.use_nonce("n3", 0, kNow, kNow), AuthLedger::Count::Fresh);
    EXPECT_EQ(ledger.use_nonce("n3", 0, kNow, kNow), AuthLedger::Count::Replayed);
}

TEST(AuthLedger, ForgettingUnderPressureNeverAdmitsAReplay) {
    AuthLedger ledger(300, {.max_nonces = 2});
    EXPECT_EQ(ledger.use_nonce("a", 1, kNow, kNow), AuthLedger::Count::Fresh);
    EXPECT_EQ(ledger.use_nonce("b", 1, kNow + 1, kNow + 1), AuthLedger::Count::Fresh);
    EXPECT_EQ(ledger.use_nonce("c", 1, kNow + 2, kNow + 2), AuthLedger::Count::Fresh);
    // "a" was dropped to keep the bound: its replay is not taken as new.
    EXPECT_EQ(ledger.use_nonce("a", 1, kNow, kNow + 2), AuthLedger::Count::Forgotten);
    EXPECT_EQ(ledger.use_nonce("c", 1, kNow + 2, kNow + 2), AuthLedger::Count::Replayed);
}

TEST(AuthLedger, TenFailuresAMinuteLockOutForFiveMinutes) {
    AuthLedger ledger(300);
    const auto bad = core::IpEndpoint::v4({192, 0, 2, 9}, 5060);
    const auto other_port = core::IpEndpoint::v4({192, 0, 2, 9}, 5070);
    const auto good = core::IpEndpoint::v4({192, 0, 2, 10}, 5060);
    for (int i = 0; i < 9; ++i) {
        EXPECT_FALSE(ledger.record_failure(i % 2 ? bad : other_port, kNow + i));
    }
    EXPECT_FALSE(ledger.locked_out(bad, kNow + 9));
    EXPECT_TRUE(ledger.record_failure(bad, kNow + 9));
    EXPECT_TRUE(ledger.locked_out(other_port, kNow + 10)); // by address, whatever the port
    EXPECT_FALSE(ledger.locked_out(good, kNow + 10));
    EXPECT_EQ(ledger.locked_count(kNow + 10), 1U);
    EXPECT_TRUE(ledger.locked_out(bad, kNow + 9 + 299));
    EXPECT_FALSE(ledger.locked_out(bad, kNow + 9 + 300));
    // Failures spread wider than the window never lock out.
    for (int i = 0; i < 30; ++i) {
        EXPECT_FALSE(ledger.record_failure(good, kNow + i * 7));
    }
}

// ---- the authenticator ----------------------------------------------------------------------

class FakeAccounts final : public AccountKeys {
public:
    std::optional<DigestKeys> find(std::string_view user, std::string_view realm) override {
        auto it = passwords.find(std::string(user));
        if (it == passwords.end()) {
            return std::nullopt;
        }
        return DigestKeys{ha1_of(DigestHash::Md5, user, realm, it->second),
                          ha1_of(DigestHash::Sha256, user, realm, it->second)};
    }
    bool any() override { return !passwords.empty(); }
    std::map<std::string, std::string> passwords{{"alice", "alicepw"}, {"bob", "bobpw"}};
};

class DigestAuthenticatorTest : public ::testing::Test {
protected:
    DigestAuthenticatorTest()
        : ledger(300), auth(0, {.mode = AuthMode::Auto, .realm = "example.test"}, &accounts,
                            ledger, kKey) {}

    // A REGISTER (or INVITE) with the given credential header lines.
    static Message request(std::string_view method, std::string_view extra) {
        std::string text = std::string(method) + " sip:example.test SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
                           "From: <sip:alice@example.test>;tag=1\r\n"
                           "To: <sip:alice@example.test>\r\n"
                           "Call-ID: c1\r\nCSeq: 1 " + std::string(method) + "\r\n" +
                           std::string(extra) + "Content-Length: 0\r\n\r\n";
        auto parsed = parse_message(text, Framing::Datagram);
        EXPECT_TRUE(parsed.message);
        return std::move(*parsed.message);
    }

    // The nonce of the first challenge in `headers`.
    static std::string nonce_of(const std::string& headers) {
        auto at = headers.find("nonce=\"") + 7;
        return headers.substr(at, headers.find('"', at) - at);
    }

    static std::string credentials(std::string_view header, std::string_view user,
                                   std::string_view password, std::string_view nonce,
                                   std::string_view nc, std::string_view method,
                                   DigestHash hash = DigestHash::Md5) {
        auto ha1 = ha1_of(hash, user, "example.test", password);
        auto response = digest_response({.algorithm = {hash, false},
                                         .ha1 = ha1,
                                         .nonce = nonce,
                                         .nc = nc,
                                         .cnonce = "c0ffee",
                                         .qop = "auth",
                                         .method = method,
                                         .uri = "sip:example.test"});
        return std::string(header) + ": Digest username=\"" + std::string(user) +
               "\", realm=\"example.test\", nonce=\"" + std::string(nonce) +
               "\", uri=\"sip:example.test\", response=\"" + response + "\", algorithm=" +
               (hash == DigestHash::Md5 ? "MD5" : "SHA-256") + ", cnonce=\"c0ffee\", qop=auth, nc=" +
               std::string(nc) + "\r\n";
    }

    Authenticator::Decision register_with(const std::string& extra, std::int64_t now = kNow,
                                          std::string_view as = "alice") {
        return auth.check(request("REGISTER", extra), Authenticator::Kind::Register, as, phone,
                          now);
    }

    FakeAccounts accounts;
    AuthLedger ledger;
    Authenticator auth;
    core::IpEndpoint phone = core::IpEndpoint::v4({192, 0, 2, 1}, 5060);
};

// SHA-256 first (RFC 8760: the preferred first), MD5 last (the browser libraries keep only
// the last challenge), both with the same nonce.
TEST_F(DigestAuthenticatorTest, ChallengesSha256FirstThenMd5) {
    auto d = register_with("");
    EXPECT_EQ(d.status, 401);
    EXPECT_EQ(d.reason, "Unauthorized");
    auto nonce = nonce_of(d.headers);
    EXPECT_EQ(d.headers, "WWW-Authenticate: Digest realm=\"example.test\", nonce=\"" + nonce +
                             "\", algorithm=SHA-256, qop=\"auth\"\r\n"
                             "WWW-Authenticate: Digest realm=\"example.test\", nonce=\"" + nonce +
                             "\", algorithm=MD5, qop=\"auth\"\r\n");
    auto p = auth.check(request("INVITE", ""), Authenticator::Kind::Request, "alice", phone, kNow);
    EXPECT_EQ(p.status, 407);
    EXPECT_EQ(p.headers.find("Proxy-Authenticate: Digest "), 0U);
}

TEST_F(DigestAuthenticatorTest, RightPasswordPassesWithEitherAlgorithm) {
    for (auto hash : {DigestHash::Md5, DigestHash::Sha256}) {
        auto nonce = nonce_of(register_with("").headers);
        auto d = register_with(
            credentials("Authorization", "alice", "alicepw", nonce, "00000001", "REGISTER", hash));
        EXPECT_EQ(d.status, 0) << d.reason;
        EXPECT_EQ(d.user, "alice");
    }
    EXPECT_EQ(auth.stats().successes, 2U);
}

TEST_F(DigestAuthenticatorTest, WrongPasswordUnknownUserAndReplayAreChallengedAgain) {
    auto nonce = nonce_of(register_with("").headers);
    EXPECT_EQ(register_with(credentials("Authorization", "alice", "wrong", nonce, "00000001",
                                        "REGISTER")).status, 401);
    EXPECT_EQ(register_with(credentials("Authorization", "mallory", "x", nonce, "00000001",
                                        "REGISTER"), kNow, "mallory").status, 401);
    auto good = credentials("Authorization", "alice", "alicepw", nonce, "00000001", "REGISTER");
    EXPECT_EQ(register_with(good).status, 0);
    auto replay = register_with(good);
    EXPECT_EQ(replay.status, 401);
    EXPECT_EQ(register_with(credentials("Authorization", "alice", "alicepw", nonce, "00000002",
                                        "REGISTER")).status, 0);
    EXPECT_EQ(auth.stats().failures, 3U);
    EXPECT_EQ(auth.stats().replays, 1U);
}

TEST_F(DigestAuthenticatorTest, StaleNonceWithTheRightPasswordGetsStaleTrue) {
    auto nonce = nonce_of(register_with("").headers);
    auto d = register_with(
        credentials("Authorization", "alice", "alicepw", nonce, "00000001", "REGISTER"), kNow + 301);
    EXPECT_EQ(d.status, 401);
    EXPECT_NE(d.headers.find("stale=true"), std::string::npos);
    EXPECT_EQ(auth.stats().failures, 0U);
    // A stale nonce with a wrong password is a failure, and not stale.
    auto w = register_with(
        credentials("Authorization", "alice", "nope", nonce, "00000001", "REGISTER"), kNow + 301);
    EXPECT_EQ(w.headers.find("stale=true"), std::string::npos);
    EXPECT_EQ(auth.stats().failures, 1U);
}

TEST_F(DigestAuthenticatorTest, AnotherUsersIdentityIsForbidden) {
    auto nonce = nonce_of(register_with("").headers);
    auto d = register_with(credentials("Authorization", "bob", "bobpw", nonce, "00000001",
                                       "REGISTER"), kNow, "alice");
    EXPECT_EQ(d.status, 403);
    EXPECT_NE(d.reason.find("authenticated as bob"), std::string::npos);
}

TEST_F(DigestAuthenticatorTest, MalformedCredentialsGet400AndOtherRealmsAreIgnored) {
    auto d = register_with("Authorization: Digest username=\"alice\", realm=\"example.test\"\r\n");
    EXPECT_EQ(d.status, 400);
    EXPECT_NE(d.reason.find("without username, realm, nonce, uri or response"), std::string::npos);
    // Credentials for another realm (a proxy further on) are not ours: a plain challenge.
    auto other = credentials("Authorization", "alice", "alicepw", "n", "00000001", "REGISTER");
    other.replace(other.find("example.test"), 12, "elsewhere.example");
    EXPECT_EQ(register_with(other).status, 401);
    EXPECT_EQ(auth.stats().failures, 0U);
}

TEST_F(DigestAuthenticatorTest, RepeatedFailuresLockTheAddressOut) {
    auto nonce = nonce_of(register_with("").headers);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(register_with(credentials("Authorization", "alice", "guess" + std::to_string(i),
                                            nonce, "00000001", "REGISTER")).status, 401);
    }
    EXPECT_EQ(auth.stats().lockouts, 1U);
    // Now even the right password is refused from there, for five minutes.
    auto good = credentials("Authorization", "alice", "alicepw", nonce, "00000001", "REGISTER");
    EXPECT_EQ(register_with(good, kNow + 60).status, 403);
    EXPECT_EQ(auth.stats().locked_refusals, 1U);
    auto fresh = nonce_of(register_with("", kNow + 301).headers);
    EXPECT_EQ(register_with(credentials("Authorization", "alice", "alicepw", fresh, "00000001",
                                        "REGISTER"), kNow + 301).status, 0);
}

TEST_F(DigestAuthenticatorTest, AutoModeFollowsTheUserStore) {
    EXPECT_TRUE(auth.enabled(kNow));
    accounts.passwords.clear();
    EXPECT_TRUE(auth.enabled(kNow)); // asked once a second
    EXPECT_FALSE(auth.enabled(kNow + 1));
    Authenticator off(0, {.mode = AuthMode::Off}, &accounts, ledger, kKey);
    Authenticator required(0, {.mode = AuthMode::Required}, &accounts, ledger, kKey);
    EXPECT_FALSE(off.enabled(kNow));
    EXPECT_TRUE(required.enabled(kNow));
}

} // namespace
} // namespace strowger::sip
