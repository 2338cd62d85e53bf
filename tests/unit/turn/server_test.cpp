// The TURN server (RFC 8656) as its clients and peers see it, in simulated time: a test client
// builds requests with MessageWriter and reads the answers with parse_message, a fake TurnIo
// records what would go out on the wire, and the clock only moves when a test moves it.

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/simulated_timers.hpp"
#include "stun/integrity.hpp"
#include "stun/message.hpp"
#include "stun/message_writer.hpp"
#include "turn/authenticator.hpp"
#include "turn/constants.hpp"
#include "turn/nonce.hpp"
#include "turn/peer_policy.hpp"
#include "turn/quota.hpp"
#include "turn/server.hpp"
#include "turn_fakes.hpp"

namespace strowger::turn {
namespace {

using namespace std::chrono_literals;
using test::endpoint;
using test::FakeCredentialStore;
using test::FakeTurnIo;

using Tid = std::array<std::uint8_t, 12>;
namespace sattr = stun::attr;

constexpr std::string_view kRealm = "strowger";
constexpr std::int64_t kUnixStart = 1'699'990'000;
constexpr std::int64_t kNonceLifetime = 3600;
// The PASSWORD-ALGORITHMS the server offers: SHA-256, then MD5, no parameters.
const std::vector<std::uint8_t> kOffered = {0, 2, 0, 0, 0, 1, 0, 0};

// ---------------------------------------------------------------------------------------------
// Building requests

std::vector<std::uint8_t> be16(std::uint16_t v) {
    std::vector<std::uint8_t> out(2);
    core::store_u16be(out.data(), v);
    return out;
}

std::vector<std::uint8_t> be32(std::uint32_t v) {
    std::vector<std::uint8_t> out(4);
    core::store_u32be(out.data(), v);
    return out;
}

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

std::string string_of(std::span<const std::uint8_t> b) { return {b.begin(), b.end()}; }

struct Attr {
    std::uint16_t type = 0;
    std::vector<std::uint8_t> value;
    std::optional<core::IpEndpoint> xor_address; // encoded against the header when set
};

Attr raw(std::uint16_t type, std::vector<std::uint8_t> value) { return {type, std::move(value), {}}; }
Attr transport(std::uint8_t protocol = kProtocolUdp) {
    return raw(attr::kRequestedTransport, {protocol, 0, 0, 0});
}
Attr lifetime(std::uint32_t seconds) { return raw(attr::kLifetime, be32(seconds)); }
Attr family(std::uint8_t f) { return raw(attr::kRequestedAddressFamily, {f, 0, 0, 0}); }
Attr additional_family(std::uint8_t f) { return raw(attr::kAdditionalAddressFamily, {f, 0, 0, 0}); }
Attr even_port(bool reserve) {
    return raw(attr::kEvenPort, {static_cast<std::uint8_t>(reserve ? 0x80 : 0x00)});
}
Attr reservation_token(std::uint64_t token) {
    std::vector<std::uint8_t> v(8);
    core::store_u32be(v.data(), static_cast<std::uint32_t>(token >> 32));
    core::store_u32be(v.data() + 4, static_cast<std::uint32_t>(token));
    return raw(attr::kReservationToken, std::move(v));
}
Attr peer_attr(const core::IpEndpoint& peer) { return {attr::kXorPeerAddress, {}, peer}; }
Attr channel_number(std::uint16_t n) {
    auto v = be16(n);
    v.push_back(0);
    v.push_back(0);
    return raw(attr::kChannelNumber, std::move(v));
}
Attr data_attr(std::string_view payload) { return raw(attr::kData, bytes_of(payload)); }

// How a request is signed (RFC 8489 §9.2).
enum class Integrity : std::uint8_t {
    None,
    Md5,              // MESSAGE-INTEGRITY, MD5 key, no PASSWORD-ALGORITHM
    Md5Chosen,        // MESSAGE-INTEGRITY, PASSWORD-ALGORITHMS + PASSWORD-ALGORITHM MD5
    Sha256,           // MESSAGE-INTEGRITY-SHA256, PASSWORD-ALGORITHMS + PASSWORD-ALGORITHM SHA-256
    Sha256WithMd5Key, // MESSAGE-INTEGRITY-SHA256 keyed with the MD5 key (no algorithm chosen)
};

struct Client {
    ClientFlow flow;
    std::string username = "alice";
    std::string password = "wonderland";
    std::string realm = std::string(kRealm);
    std::string nonce;
    Integrity integrity = Integrity::Md5;
    bool send_nonce = true;
    std::vector<Attr> after_integrity; // appended after MESSAGE-INTEGRITY: not covered by it

    [[nodiscard]] stun::Md5Digest md5_key() const {
        return stun::long_term_key_md5(username, realm, password);
    }
    [[nodiscard]] stun::Sha256Digest sha256_key() const {
        return stun::long_term_key_sha256(username, realm, password);
    }
};

std::vector<std::uint8_t> encode(const Client& c, std::uint16_t method, stun::MessageClass cls,
                                 const std::vector<Attr>& attrs, const Tid& tid,
                                 Integrity integrity) {
    std::vector<std::uint8_t> buf(70000);
    stun::MessageWriter w(buf);
    std::array<std::uint8_t, 16> header{};
    core::store_u32be(header.data(), stun::kMagicCookie);
    std::copy(tid.begin(), tid.end(), header.begin() + 4);
    w.begin(stun::message_type(method, cls), header);
    for (const auto& a : attrs) {
        if (a.xor_address) {
            w.add_xor_address(a.type, *a.xor_address);
        } else {
            w.add(a.type, a.value);
        }
    }
    if (integrity != Integrity::None) {
        w.add_string(sattr::kUsername, c.username);
        w.add_string(sattr::kRealm, c.realm);
        if (c.send_nonce) {
            w.add_string(sattr::kNonce, c.nonce);
        }
        if (integrity == Integrity::Sha256 || integrity == Integrity::Md5Chosen) {
            w.add(sattr::kPasswordAlgorithms, kOffered);
            w.add(sattr::kPasswordAlgorithm,
                  std::vector<std::uint8_t>{0, integrity == Integrity::Sha256 ? std::uint8_t{2}
                                                                              : std::uint8_t{1},
                                            0, 0});
        }
        switch (integrity) {
        case Integrity::Sha256:
            w.add_message_integrity_sha256(c.sha256_key());
            break;
        case Integrity::Sha256WithMd5Key:
            w.add_message_integrity_sha256(c.md5_key());
            break;
        default:
            w.add_message_integrity(c.md5_key());
            break;
        }
        for (const auto& a : c.after_integrity) {
            if (a.xor_address) {
                w.add_xor_address(a.type, *a.xor_address);
            } else {
                w.add(a.type, a.value);
            }
        }
    }
    w.add_fingerprint();
    EXPECT_TRUE(w.ok());
    buf.resize(w.size());
    return buf;
}

std::vector<std::uint8_t> channel_data(std::uint16_t number, std::string_view payload,
                                       bool pad = false) {
    std::size_t size = 4 + payload.size();
    if (pad) {
        size = (size + 3) & ~std::size_t{3};
    }
    std::vector<std::uint8_t> out(size, 0);
    core::store_u16be(out.data(), number);
    core::store_u16be(out.data() + 2, static_cast<std::uint16_t>(payload.size()));
    std::copy(payload.begin(), payload.end(), out.begin() + 4);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Reading responses

int error_code(const stun::Message& m) {
    const auto* a = m.find(sattr::kErrorCode);
    if (a == nullptr || a->value.size() < 4) {
        return 0;
    }
    return (a->value[2] & 0x07) * 100 + a->value[3];
}

std::optional<std::uint32_t> u32_of(const stun::Message& m, std::uint16_t type) {
    const auto* a = m.find(type);
    if (a == nullptr || a->value.size() != 4) {
        return std::nullopt;
    }
    return core::load_u32be(a->value.data());
}

std::optional<core::IpEndpoint> xor_of(const stun::Message& m, std::uint16_t type) {
    const auto* a = m.find(type);
    if (a == nullptr) {
        return std::nullopt;
    }
    return stun::decode_xor_address(a->value, m.cookie_and_transaction_id());
}

std::string text_of(const stun::Message& m, std::uint16_t type) {
    const auto* a = m.find(type);
    return a == nullptr ? std::string() : string_of(a->value);
}

bool is_success(const stun::Message& m) {
    return m.message_class() == stun::MessageClass::SuccessResponse;
}

// A challenge (401, 438): REALM, a fresh NONCE, the algorithms offer, and no integrity.
void expect_challenge(const stun::Message& m, int code) {
    EXPECT_EQ(m.message_class(), stun::MessageClass::ErrorResponse);
    EXPECT_EQ(error_code(m), code);
    EXPECT_EQ(text_of(m, sattr::kRealm), kRealm);
    EXPECT_TRUE(text_of(m, sattr::kNonce).starts_with("obMatJos2"));
    const auto* algorithms = m.find(sattr::kPasswordAlgorithms);
    ASSERT_NE(algorithms, nullptr);
    EXPECT_EQ(std::vector<std::uint8_t>(algorithms->value.begin(), algorithms->value.end()),
              kOffered);
    EXPECT_EQ(m.find(sattr::kMessageIntegrity), nullptr);
    EXPECT_EQ(m.find(sattr::kMessageIntegritySha256), nullptr);
}

// ---------------------------------------------------------------------------------------------
// The fixture: a server on a simulated clock with a fake network, two accounts and a REST secret

const core::IpEndpoint kPeer = endpoint("198.51.100.7", 4000);
const core::IpEndpoint kPeer2 = endpoint("198.51.100.8", 5000);
const core::IpEndpoint kPeer6 = endpoint("2001:db8::7", 4000);
const core::IpEndpoint kOwnAddress = endpoint("203.0.113.10", 0); // also where relays bind

class TurnServerTest : public ::testing::Test {
protected:
    TurnServerTest() {
        users.add("alice", std::string(kRealm), "wonderland");
        users.add("carol", std::string(kRealm), "carols-secret");
    }

    // Created on first use, so that a test can change the configuration, quota or policy first.
    TurnServer& server() {
        if (!server_) {
            server_ = std::make_unique<TurnServer>(
                config, TurnDependencies{io, timers, *authenticator, *nonces, *quota, *policy,
                                         [this] { return unix_time; }});
        }
        return *server_;
    }

    Client client(std::string_view ip = "192.0.2.10", std::uint16_t port = 40000,
                  ClientTransport t = ClientTransport::Udp, std::uint64_t connection = 0) {
        Client c;
        c.flow.transport = t;
        c.flow.connection = connection;
        c.flow.remote = endpoint(ip, port);
        c.nonce = nonces->issue(unix_time);
        return c;
    }

    void destroy_server() { server_.reset(); }

    Tid next_tid() {
        Tid t{};
        t[0] = 0xAB;
        core::store_u32be(t.data() + 8, ++tid_counter_);
        return t;
    }

    // Sends a request; expects exactly one response to the client's flow and returns it.
    stun::Message request(const Client& c, std::uint16_t method, const std::vector<Attr>& attrs = {},
                          std::optional<Tid> tid = std::nullopt) {
        auto t = tid.value_or(next_tid());
        auto bytes = encode(c, method, stun::MessageClass::Request, attrs, t, c.integrity);
        auto before = io.to_client.size();
        server().on_client_message(bytes, c.flow);
        EXPECT_EQ(io.to_client.size(), before + 1) << "expected exactly one response";
        if (io.to_client.size() != before + 1) {
            return {};
        }
        const auto& sent = io.to_client.back();
        EXPECT_EQ(sent.flow, c.flow);
        auto m = stun::parse_message(sent.bytes);
        EXPECT_TRUE(m) << "response is not STUN";
        if (!m) {
            return {};
        }
        EXPECT_EQ(m->method(), method);
        EXPECT_TRUE(std::equal(t.begin(), t.end(), m->transaction_id().begin()));
        EXPECT_NE(m->fingerprint(), nullptr);
        EXPECT_TRUE(stun::verify_fingerprint(*m));
        return *m;
    }

    stun::Message allocate(const Client& c, std::vector<Attr> extra = {},
                           std::optional<Tid> tid = std::nullopt) {
        extra.insert(extra.begin(), transport());
        return request(c, method::kAllocate, extra, tid);
    }

    // An Allocate that must succeed; returns the relayed address.
    core::IpEndpoint allocate_ok(const Client& c, std::vector<Attr> extra = {}) {
        auto m = allocate(c, std::move(extra));
        EXPECT_TRUE(is_success(m)) << "Allocate failed with " << error_code(m) << " "
                                   << text_of(m, sattr::kErrorCode);
        return xor_of(m, attr::kXorRelayedAddress).value_or(core::IpEndpoint{});
    }

    stun::Message refresh(const Client& c, std::optional<std::uint32_t> seconds) {
        std::vector<Attr> attrs;
        if (seconds) {
            attrs.push_back(lifetime(*seconds));
        }
        return request(c, method::kRefresh, attrs);
    }

    stun::Message create_permission(const Client& c, const std::vector<core::IpEndpoint>& peers) {
        std::vector<Attr> attrs;
        for (const auto& p : peers) {
            attrs.push_back(peer_attr(p));
        }
        return request(c, method::kCreatePermission, attrs);
    }

    stun::Message channel_bind(const Client& c, std::uint16_t number, const core::IpEndpoint& peer) {
        return request(c, method::kChannelBind, {channel_number(number), peer_attr(peer)});
    }

    void send_indication(const Client& c, const core::IpEndpoint& peer, std::string_view payload,
                         bool dont_fragment = false) {
        std::vector<Attr> attrs = {peer_attr(peer), data_attr(payload)};
        if (dont_fragment) {
            attrs.push_back(raw(attr::kDontFragment, {}));
        }
        auto bytes = encode(c, method::kSend, stun::MessageClass::Indication, attrs, next_tid(),
                            Integrity::None);
        server().on_client_message(bytes, c.flow);
    }

    void send_raw(const Client& c, std::span<const std::uint8_t> bytes) {
        server().on_client_message(bytes, c.flow);
    }

    void peer_sends(std::uint32_t relay, const core::IpEndpoint& from, std::string_view payload) {
        server().on_peer_data(relay, from, stun::as_bytes(payload));
    }

    // The relay id behind a relayed address the fake network handed out.
    std::uint32_t relay_of(const core::IpEndpoint& relayed) const {
        for (const auto& r : io.opened) {
            if (r.local.port == relayed.port) {
                return r.relay;
            }
        }
        ADD_FAILURE() << "no relay at " << relayed.to_string();
        return 0;
    }

    // The last message sent to a client, parsed (views io.to_client, which only grows).
    stun::Message last_to_client() const {
        EXPECT_FALSE(io.to_client.empty());
        if (io.to_client.empty()) {
            return {};
        }
        auto m = stun::parse_message(io.to_client.back().bytes);
        EXPECT_TRUE(m);
        return m.value_or(stun::Message{});
    }

    std::string last_to_peer() const {
        EXPECT_FALSE(io.to_peer.empty());
        return io.to_peer.empty() ? std::string() : string_of(io.to_peer.back().data);
    }

    // A client with a UDP allocation and a permission for kPeer; returns its relay id.
    std::uint32_t allocate_with_permission(const Client& c,
                                           const core::IpEndpoint& peer = kPeer) {
        auto relayed = allocate_ok(c);
        EXPECT_TRUE(is_success(create_permission(c, {peer})));
        return relay_of(relayed);
    }

    core::SimulatedTimers timers;
    std::int64_t unix_time = kUnixStart;
    FakeCredentialStore users;
    FakeTurnIo io;
    TurnConfig config;
    std::unique_ptr<NonceIssuer> nonces = std::make_unique<NonceIssuer>(
        std::array<std::uint8_t, 32>{1, 8, 15, 22, 29, 36, 43, 50}, kNonceLifetime);
    std::unique_ptr<Authenticator> authenticator = std::make_unique<Authenticator>(&users, "SECRET");
    std::unique_ptr<AllocationQuota> quota = std::make_unique<AllocationQuota>(0U, 0U);
    std::unique_ptr<PeerPolicy> policy = std::make_unique<PeerPolicy>(
        std::vector<core::Cidr>{}, std::vector<core::IpEndpoint>{kOwnAddress});

private:
    std::uint32_t tid_counter_ = 0;
    std::unique_ptr<TurnServer> server_; // last: destroyed first
};

// Suites named by topic, all on the same fixture.
class TurnAuth : public TurnServerTest {};
class TurnAllocate : public TurnServerTest {};
class TurnRefresh : public TurnServerTest {};
class TurnPermission : public TurnServerTest {};
class TurnChannel : public TurnServerTest {};
class TurnPeerPolicy : public TurnServerTest {};
class TurnServerMisc : public TurnServerTest {};
class RestCredentialsServer : public TurnServerTest {};

// =============================================================================================
// Authentication (RFC 8489 §9.2)

TEST_F(TurnAuth, AllocateWithoutCredentialsIsChallenged) {
    auto c = client();
    c.integrity = Integrity::None;
    auto m = allocate(c);
    expect_challenge(m, 401);
    EXPECT_TRUE(text_of(m, sattr::kNonce).starts_with("obMatJos2gAAA"));
    EXPECT_EQ(server().stats().challenges, 1U);
    EXPECT_EQ(server().allocation_count(), 0U);
    EXPECT_TRUE(io.requests.empty());

    // The client takes up the challenge with the nonce it was given.
    c.integrity = Integrity::Md5;
    c.nonce = text_of(m, sattr::kNonce);
    EXPECT_TRUE(is_success(allocate(c)));
    EXPECT_EQ(server().allocation_count(), 1U);
}

TEST_F(TurnAuth, WrongPasswordIs401) {
    auto c = client();
    c.password = "not-wonderland";
    expect_challenge(allocate(c), 401);
    EXPECT_EQ(server().stats().auth_failures, 1U);
    EXPECT_EQ(server().allocation_count(), 0U);
    EXPECT_EQ(quota->total(), 0U);
}

TEST_F(TurnAuth, UnknownUserIs401) {
    auto c = client();
    c.username = "mallory";
    expect_challenge(allocate(c), 401);
    EXPECT_EQ(server().stats().auth_failures, 1U);
    EXPECT_EQ(server().allocation_count(), 0U);
}

TEST_F(TurnAuth, OtherRealmIs401) {
    auto c = client();
    c.realm = "elsewhere";
    expect_challenge(allocate(c), 401);
    EXPECT_EQ(server().allocation_count(), 0U);
}

TEST_F(TurnAuth, MissingNonceIs400) {
    auto c = client();
    c.send_nonce = false;
    auto m = allocate(c);
    EXPECT_EQ(error_code(m), 400);
    EXPECT_EQ(m.find(sattr::kMessageIntegrity), nullptr);
    EXPECT_EQ(server().allocation_count(), 0U);
}

TEST_F(TurnAuth, StaleNonceIs438WithAFreshNonce) {
    auto c = client(); // nonce issued now
    unix_time += kNonceLifetime;
    auto m = allocate(c);
    expect_challenge(m, 438);
    EXPECT_EQ(server().stats().stale_nonces, 1U);
    auto fresh = text_of(m, sattr::kNonce);
    EXPECT_NE(fresh, c.nonce);
    EXPECT_EQ(nonces->check(fresh, unix_time), NonceCheck::Valid);

    c.nonce = fresh;
    EXPECT_TRUE(is_success(allocate(c)));
}

TEST_F(TurnAuth, NonceStillValidJustBeforeItsExpiry) {
    auto c = client();
    unix_time += kNonceLifetime - 1;
    EXPECT_TRUE(is_success(allocate(c)));
}

TEST_F(TurnAuth, ForgedNonceIs438) {
    auto c = client();
    c.nonce = "obMatJos2gAAAffffffff0123456789abcdef"; // right shape, wrong MAC
    expect_challenge(allocate(c), 438);

    c.nonce = NonceIssuer(std::array<std::uint8_t, 32>{9, 9, 9}, kNonceLifetime).issue(unix_time);
    expect_challenge(allocate(c), 438); // another server's key

    c.nonce = "x";
    expect_challenge(allocate(c), 438);
    EXPECT_EQ(server().allocation_count(), 0U);
}

TEST_F(TurnAuth, SuccessIsSignedWithTheUsersKey) {
    auto c = client();
    auto m = allocate(c);
    ASSERT_TRUE(is_success(m));
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));
    EXPECT_EQ(m.find(sattr::kMessageIntegritySha256), nullptr);
    auto other = client();
    other.password = "x";
    EXPECT_FALSE(stun::verify_message_integrity(m, other.md5_key()));
}

TEST_F(TurnAuth, Sha256PasswordAlgorithmIsAnsweredWithMiSha256) {
    auto c = client();
    c.integrity = Integrity::Sha256;
    auto m = allocate(c);
    ASSERT_TRUE(is_success(m)) << error_code(m);
    ASSERT_NE(m.find(sattr::kMessageIntegritySha256), nullptr);
    EXPECT_EQ(m.find(sattr::kMessageIntegrity), nullptr);
    EXPECT_TRUE(stun::verify_message_integrity_sha256(m, c.sha256_key()));
    EXPECT_FALSE(stun::verify_message_integrity_sha256(m, c.md5_key()));

    // Later requests on the allocation are signed the same way.
    auto r = refresh(c, 600);
    ASSERT_TRUE(is_success(r));
    EXPECT_TRUE(stun::verify_message_integrity_sha256(r, c.sha256_key()));
}

TEST_F(TurnAuth, Sha256SignedWithTheWrongKeyIs401) {
    auto c = client();
    c.integrity = Integrity::Sha256;
    c.password = "nope";
    expect_challenge(allocate(c), 401);
}

TEST_F(TurnAuth, MiSha256WithoutAlgorithmUsesTheMd5Key) {
    auto c = client();
    c.integrity = Integrity::Sha256WithMd5Key;
    auto m = allocate(c);
    ASSERT_TRUE(is_success(m));
    EXPECT_TRUE(stun::verify_message_integrity_sha256(m, c.md5_key()));
}

TEST_F(TurnAuth, ExplicitMd5AlgorithmIsAccepted) {
    auto c = client();
    c.integrity = Integrity::Md5Chosen;
    auto m = allocate(c);
    ASSERT_TRUE(is_success(m));
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));
}

TEST_F(TurnAuth, PasswordAlgorithmWithoutTheOfferIs400) {
    auto c = client();
    // PASSWORD-ALGORITHM alone, not echoing PASSWORD-ALGORITHMS (§9.2.4: both or neither).
    auto m = allocate(c, {raw(sattr::kPasswordAlgorithm, {0, 2, 0, 0})});
    EXPECT_EQ(error_code(m), 400);
    // An altered offer (MD5 only: a downgrade) is refused too.
    m = allocate(c, {raw(sattr::kPasswordAlgorithms, {0, 1, 0, 0}),
                     raw(sattr::kPasswordAlgorithm, {0, 1, 0, 0})});
    EXPECT_EQ(error_code(m), 400);
    EXPECT_EQ(server().allocation_count(), 0U);
}

TEST_F(TurnAuth, UnsupportedPasswordAlgorithmIs400) {
    auto c = client();
    auto m = allocate(c, {raw(sattr::kPasswordAlgorithms, kOffered),
                          raw(sattr::kPasswordAlgorithm, {0, 9, 0, 0})});
    EXPECT_EQ(error_code(m), 400);
}

// RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY are not covered by it and are ignored,
// so nobody on the path can add to a signed request.
TEST_F(TurnAuth, AttributesAfterIntegrityAreIgnored) {
    auto c = client();
    c.after_integrity = {transport(), lifetime(3600)};
    auto m = request(c, method::kAllocate, {});
    EXPECT_EQ(error_code(m), 400); // REQUESTED-TRANSPORT only after MI: missing

    c.after_integrity = {lifetime(3600), raw(0x7777, {1, 2, 3, 4})};
    m = allocate(c);
    ASSERT_TRUE(is_success(m)) << error_code(m);
    EXPECT_EQ(u32_of(m, attr::kLifetime), 600U);

    c.after_integrity = {peer_attr(kPeer2)};
    ASSERT_TRUE(is_success(create_permission(c, {kPeer})));
    send_indication(c, kPeer2, "smuggled");
    EXPECT_TRUE(io.to_peer.empty());
    send_indication(c, kPeer, "signed");
    EXPECT_EQ(io.to_peer.size(), 1U);

    c.after_integrity = {lifetime(0)};
    EXPECT_EQ(u32_of(refresh(c, std::nullopt), attr::kLifetime), 600U);
    EXPECT_EQ(server().allocation_count(), 1U);

    c.after_integrity = {channel_number(0x4000), peer_attr(kPeer)};
    EXPECT_EQ(error_code(request(c, method::kChannelBind, {})), 400);
}

TEST_F(TurnAuth, AttributesAfterIntegrityAreIgnoredWithSha256) {
    auto c = client();
    c.integrity = Integrity::Sha256;
    c.after_integrity = {lifetime(3600)};
    auto m = allocate(c);
    ASSERT_TRUE(is_success(m)) << error_code(m);
    EXPECT_EQ(u32_of(m, attr::kLifetime), 600U);
    EXPECT_TRUE(stun::verify_message_integrity_sha256(m, c.sha256_key()));
}

TEST_F(TurnAuth, EveryMethodIsAuthenticated) {
    auto c = client();
    allocate_ok(c);
    auto anonymous = c;
    anonymous.integrity = Integrity::None;
    expect_challenge(request(anonymous, method::kRefresh, {lifetime(0)}), 401);
    expect_challenge(request(anonymous, method::kCreatePermission, {peer_attr(kPeer)}), 401);
    expect_challenge(
        request(anonymous, method::kChannelBind, {channel_number(0x4000), peer_attr(kPeer)}), 401);
    EXPECT_EQ(server().allocation_count(), 1U);
}

// =============================================================================================
// Allocate (RFC 8656 §7)

TEST_F(TurnAllocate, SuccessCarriesRelayedLifetimeAndMappedAddress) {
    auto c = client();
    auto m = allocate(c);
    ASSERT_TRUE(is_success(m)) << error_code(m);
    EXPECT_EQ(xor_of(m, attr::kXorRelayedAddress), endpoint("203.0.113.10", 49152));
    EXPECT_EQ(u32_of(m, attr::kLifetime), 600U);
    EXPECT_EQ(xor_of(m, sattr::kXorMappedAddress), c.flow.remote);
    EXPECT_EQ(m.find(attr::kReservationToken), nullptr);
    EXPECT_EQ(m.find(attr::kAddressErrorCode), nullptr);
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));

    EXPECT_EQ(server().allocation_count(), 1U);
    EXPECT_EQ(server().stats().allocations_created, 1U);
    ASSERT_EQ(io.requests.size(), 1U);
    EXPECT_FALSE(io.requests[0].ipv6);
    EXPECT_FALSE(io.requests[0].even_port);
    EXPECT_EQ(quota->total(), 1U);
}

TEST_F(TurnAllocate, RequestedLifetimeIsHonouredUpToTheMaximum) {
    auto a = client("192.0.2.10");
    EXPECT_EQ(u32_of(allocate(a, {lifetime(3600)}), attr::kLifetime), 3600U);
    auto b = client("192.0.2.11");
    EXPECT_EQ(u32_of(allocate(b, {lifetime(7200)}), attr::kLifetime), 3600U);
    auto c = client("192.0.2.12");
    EXPECT_EQ(u32_of(allocate(c, {lifetime(60)}), attr::kLifetime), 600U);
    auto d = client("192.0.2.13");
    EXPECT_EQ(u32_of(allocate(d, {lifetime(1200)}), attr::kLifetime), 1200U);
}

TEST_F(TurnAllocate, MaxLifetimeIsConfigurable) {
    config.max_lifetime = 900s;
    auto c = client();
    EXPECT_EQ(u32_of(allocate(c, {lifetime(3600)}), attr::kLifetime), 900U);
}

TEST_F(TurnAllocate, RetransmissionGetsTheSameSuccessWithoutASecondRelay) {
    auto c = client();
    auto tid = next_tid();
    auto first = allocate(c, {}, tid);
    ASSERT_TRUE(is_success(first));
    timers.skip_for(2s);
    auto again = allocate(c, {}, tid);
    ASSERT_TRUE(is_success(again));
    EXPECT_EQ(xor_of(again, attr::kXorRelayedAddress), xor_of(first, attr::kXorRelayedAddress));
    EXPECT_EQ(xor_of(again, sattr::kXorMappedAddress), c.flow.remote);
    EXPECT_EQ(u32_of(again, attr::kLifetime), 598U); // what is left of it
    EXPECT_TRUE(stun::verify_message_integrity(again, c.md5_key()));
    EXPECT_EQ(io.opened.size(), 1U);
    EXPECT_EQ(server().allocation_count(), 1U);
    EXPECT_EQ(quota->total(), 1U);
}

TEST_F(TurnAllocate, AnotherAllocateOnTheSameFiveTupleIs437) {
    auto c = client();
    auto tid = next_tid();
    ASSERT_TRUE(is_success(allocate(c, {}, tid)));
    auto m = allocate(c);
    EXPECT_EQ(error_code(m), 437);
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));
    EXPECT_EQ(io.opened.size(), 1U);

    // The same transaction id from another user is not a retransmission either.
    auto other = client(); // same flow
    other.username = "carol";
    other.password = "carols-secret";
    EXPECT_EQ(error_code(allocate(other, {}, tid)), 437);
    EXPECT_EQ(io.opened.size(), 1U);
}

TEST_F(TurnAllocate, FiveTuplesAreIndependent) {
    auto a = client("192.0.2.10", 40000);
    auto b = client("192.0.2.10", 40001);
    auto c = client("192.0.2.10", 40000);
    c.flow.listener = 1; // same client address, another listening address of ours
    auto ra = allocate_ok(a);
    auto rb = allocate_ok(b);
    auto rc = allocate_ok(c);
    EXPECT_NE(ra, rb);
    EXPECT_NE(rb, rc);
    EXPECT_EQ(server().allocation_count(), 3U);
}

TEST_F(TurnAllocate, MissingRequestedTransportIs400) {
    auto c = client();
    auto m = request(c, method::kAllocate, {});
    EXPECT_EQ(error_code(m), 400);
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));
    m = request(c, method::kAllocate, {raw(attr::kRequestedTransport, {17})}); // too short
    EXPECT_EQ(error_code(m), 400);
    EXPECT_TRUE(io.requests.empty());
}

TEST_F(TurnAllocate, TcpTransportIs442) {
    auto c = client();
    auto m = request(c, method::kAllocate, {transport(6)});
    EXPECT_EQ(error_code(m), 442);
    EXPECT_TRUE(io.requests.empty());
    EXPECT_EQ(quota->total(), 0U);
}

TEST_F(TurnAllocate, ReservationTokenWithEvenPortIs400) {
    auto c = client();
    EXPECT_EQ(error_code(allocate(c, {even_port(false), reservation_token(1)})), 400);
    EXPECT_EQ(error_code(allocate(c, {family(kFamilyIpv4), reservation_token(1)})), 400);
    EXPECT_TRUE(io.requests.empty());
}

TEST_F(TurnAllocate, RequestedAndAdditionalFamilyTogetherIs400) {
    auto c = client();
    EXPECT_EQ(error_code(allocate(c, {family(kFamilyIpv4), additional_family(kFamilyIpv6)})),
              400);
    EXPECT_EQ(error_code(allocate(c, {additional_family(kFamilyIpv4)})), 400);
}

TEST_F(TurnAllocate, Ipv6OnAnIpv4OnlyServerIs440) {
    auto c = client();
    auto m = allocate(c, {family(kFamilyIpv6)});
    EXPECT_EQ(error_code(m), 440);
    ASSERT_EQ(io.requests.size(), 1U);
    EXPECT_TRUE(io.requests[0].ipv6);
    EXPECT_EQ(quota->total(), 0U); // given back
    EXPECT_EQ(server().allocation_count(), 0U);

    EXPECT_EQ(error_code(allocate(c, {family(3)})), 440); // no such family
}

TEST_F(TurnAllocate, Ipv6Allocation) {
    io.relay_v6 = endpoint("2001:db8::10", 0);
    auto c = client();
    auto m = allocate(c, {family(kFamilyIpv6)});
    ASSERT_TRUE(is_success(m));
    EXPECT_EQ(xor_of(m, attr::kXorRelayedAddress), endpoint("2001:db8::10", 49152));
}

TEST_F(TurnAllocate, AdditionalAddressFamilyGivesIpv4WithAddressErrorCode) {
    io.relay_v6 = endpoint("2001:db8::10", 0); // even then: dual allocations are not made
    auto c = client();
    auto m = allocate(c, {additional_family(kFamilyIpv6)});
    ASSERT_TRUE(is_success(m)) << error_code(m);
    EXPECT_EQ(xor_of(m, attr::kXorRelayedAddress), endpoint("203.0.113.10", 49152));
    const auto* aec = m.find(attr::kAddressErrorCode);
    ASSERT_NE(aec, nullptr);
    ASSERT_GE(aec->value.size(), 4U);
    EXPECT_EQ(aec->value[0], kFamilyIpv6);
    EXPECT_EQ((aec->value[2] & 0x07) * 100 + aec->value[3], 440);
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));
}

TEST_F(TurnAllocate, EvenPortWithReserveReturnsAToken) {
    auto c = client();
    auto m = allocate(c, {even_port(true)});
    ASSERT_TRUE(is_success(m));
    ASSERT_EQ(io.requests.size(), 1U);
    EXPECT_TRUE(io.requests[0].even_port);
    EXPECT_TRUE(io.requests[0].reserve_next);
    const auto* token = m.find(attr::kReservationToken);
    ASSERT_NE(token, nullptr);
    ASSERT_EQ(token->value.size(), 8U);
    std::uint64_t value = (std::uint64_t{core::load_u32be(token->value.data())} << 32) |
                          core::load_u32be(token->value.data() + 4);
    ASSERT_EQ(io.tokens.size(), 1U);
    EXPECT_EQ(value, io.tokens[0]);

    // Another client takes the reserved port with the token.
    auto other = client("192.0.2.99");
    EXPECT_TRUE(is_success(allocate(other, {reservation_token(value)})));
    ASSERT_EQ(io.requests.size(), 2U);
    EXPECT_EQ(io.requests[1].token, value);
    EXPECT_FALSE(io.requests[1].even_port);

    // A used or unknown token: 508.
    auto third = client("192.0.2.98");
    EXPECT_EQ(error_code(allocate(third, {reservation_token(value)})), 508);
    EXPECT_EQ(quota->total(), 2U);
}

TEST_F(TurnAllocate, EvenPortWithoutReserve) {
    auto c = client();
    auto m = allocate(c, {even_port(false)});
    ASSERT_TRUE(is_success(m));
    EXPECT_TRUE(io.requests[0].even_port);
    EXPECT_FALSE(io.requests[0].reserve_next);
    EXPECT_EQ(m.find(attr::kReservationToken), nullptr);
    EXPECT_EQ(error_code(allocate(client("192.0.2.77"), {raw(attr::kEvenPort, {})})), 400);
}

TEST_F(TurnAllocate, PerUserQuotaIs486AndCapacityIs508) {
    quota = std::make_unique<AllocationQuota>(1U, 2U);
    auto a1 = client("192.0.2.1");
    auto a2 = client("192.0.2.2"); // alice again, from elsewhere
    allocate_ok(a1);
    auto m = allocate(a2);
    EXPECT_EQ(error_code(m), 486);
    EXPECT_TRUE(stun::verify_message_integrity(m, a2.md5_key()));

    auto carol = client("192.0.2.3");
    carol.username = "carol";
    carol.password = "carols-secret";
    allocate_ok(carol);
    EXPECT_EQ(quota->total(), 2U);

    // Server full: 508 even for a user under quota.
    users.add("dave", std::string(kRealm), "pw");
    auto dave = client("192.0.2.4");
    dave.username = "dave";
    dave.password = "pw";
    EXPECT_EQ(error_code(allocate(dave)), 508);
    EXPECT_EQ(io.opened.size(), 2U);

    // Quota comes back when an allocation ends.
    EXPECT_TRUE(is_success(refresh(a1, 0)));
    EXPECT_EQ(quota->total(), 1U);
    allocate_ok(a2);
    EXPECT_EQ(quota->total(), 2U);
}

TEST_F(TurnAllocate, OutOfPortsIs508) {
    io.ports_left = 0;
    auto c = client();
    auto m = allocate(c);
    EXPECT_EQ(error_code(m), 508);
    EXPECT_EQ(quota->total(), 0U);
    EXPECT_EQ(server().allocation_count(), 0U);

    io.ports_left = 1;
    allocate_ok(c); // nothing left behind by the failure
}

TEST_F(TurnAllocate, ExternalAddressIsAdvertised) {
    config.external_address = endpoint("198.51.100.1", 0);
    auto c = client();
    auto m = allocate(c);
    ASSERT_TRUE(is_success(m));
    EXPECT_EQ(xor_of(m, attr::kXorRelayedAddress), endpoint("198.51.100.1", 49152));
}

TEST_F(TurnAllocate, SoftwareIsSent) {
    config.software = "Strowger test";
    auto c = client();
    auto m = allocate(c);
    ASSERT_TRUE(is_success(m));
    EXPECT_EQ(text_of(m, sattr::kSoftware), "Strowger test");
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));
    c.integrity = Integrity::None;
    EXPECT_EQ(text_of(allocate(c), sattr::kSoftware), "Strowger test");
}

TEST_F(TurnAllocate, OverTcp) {
    auto c = client("192.0.2.10", 40000, ClientTransport::Tcp, 7);
    auto m = allocate(c);
    ASSERT_TRUE(is_success(m));
    EXPECT_EQ(io.to_client.back().flow.connection, 7U);
}

// =============================================================================================
// Refresh and lifetime (RFC 8656 §7.3, §8)

TEST_F(TurnRefresh, LifetimeZeroDeletes) {
    auto c = client();
    auto relay = relay_of(allocate_ok(c));
    auto m = refresh(c, 0);
    ASSERT_TRUE(is_success(m));
    EXPECT_EQ(u32_of(m, attr::kLifetime), 0U);
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));
    EXPECT_EQ(server().allocation_count(), 0U);
    EXPECT_EQ(io.closed, std::vector<std::uint32_t>{relay});
    EXPECT_EQ(quota->total(), 0U);
    EXPECT_EQ(server().stats().allocations_deleted, 1U);

    EXPECT_EQ(error_code(refresh(c, 600)), 437);
    // Nothing fires later for it.
    timers.skip_for(3600s);
    EXPECT_EQ(io.closed.size(), 1U);
    EXPECT_EQ(server().stats().allocations_expired, 0U);
}

TEST_F(TurnRefresh, WithoutAllocationIs437) {
    auto c = client();
    EXPECT_EQ(error_code(refresh(c, 600)), 437);
}

TEST_F(TurnRefresh, ExpiresAtItsLifetime) {
    auto c = client();
    auto relay = relay_of(allocate_ok(c));
    timers.skip_for(599s);
    EXPECT_EQ(server().allocation_count(), 1U);
    timers.skip_for(2s);
    EXPECT_EQ(server().allocation_count(), 0U);
    EXPECT_EQ(io.closed, std::vector<std::uint32_t>{relay});
    EXPECT_EQ(quota->total(), 0U);
    EXPECT_EQ(server().stats().allocations_expired, 1U);
    EXPECT_EQ(error_code(refresh(c, 600)), 437);
}

TEST_F(TurnRefresh, RefreshExtends) {
    auto c = client();
    auto relay = relay_of(allocate_ok(c));
    timers.skip_for(500s);
    auto m = refresh(c, std::nullopt); // no LIFETIME: the default
    ASSERT_TRUE(is_success(m));
    EXPECT_EQ(u32_of(m, attr::kLifetime), 600U);
    timers.skip_for(599s); // 1099 s since the Allocate
    EXPECT_EQ(server().allocation_count(), 1U);
    EXPECT_TRUE(io.closed.empty());
    timers.skip_for(2s);
    EXPECT_EQ(server().allocation_count(), 0U);
    EXPECT_EQ(io.closed, std::vector<std::uint32_t>{relay});
    EXPECT_EQ(quota->total(), 0U);
    EXPECT_EQ(server().stats().allocations_expired, 1U);
}

TEST_F(TurnRefresh, RequestedLifetimeIsCappedAndRaisedToTheDefault) {
    auto c = client();
    allocate_ok(c);
    EXPECT_EQ(u32_of(refresh(c, 7200), attr::kLifetime), 3600U);
    EXPECT_EQ(u32_of(refresh(c, 1800), attr::kLifetime), 1800U);
    // RFC 8656 §7.3: a non-zero lifetime below the default gets the default.
    EXPECT_EQ(u32_of(refresh(c, 60), attr::kLifetime), 600U);
    timers.skip_for(599s);
    EXPECT_EQ(server().allocation_count(), 1U);
    timers.skip_for(2s);
    EXPECT_EQ(server().allocation_count(), 0U);
}

TEST_F(TurnRefresh, LongLifetimeAllocationLivesThatLong) {
    auto c = client();
    allocate_ok(c, {lifetime(3600)});
    timers.skip_for(3599s);
    EXPECT_EQ(server().allocation_count(), 1U);
    timers.skip_for(2s);
    EXPECT_EQ(server().allocation_count(), 0U);
}

TEST_F(TurnRefresh, FromAnotherUsernameIs441) {
    auto c = client();
    allocate_ok(c);
    auto carol = c; // same 5-tuple, other credentials
    carol.username = "carol";
    carol.password = "carols-secret";
    auto m = refresh(carol, 0);
    EXPECT_EQ(error_code(m), 441);
    EXPECT_TRUE(stun::verify_message_integrity(m, carol.md5_key()));
    EXPECT_EQ(server().allocation_count(), 1U);
    EXPECT_EQ(error_code(create_permission(carol, {kPeer})), 441);
    EXPECT_EQ(error_code(channel_bind(carol, 0x4000, kPeer)), 441);
}

TEST_F(TurnRefresh, FamilyMismatchIs443) {
    auto c = client();
    allocate_ok(c);
    auto m = request(c, method::kRefresh, {lifetime(600), family(kFamilyIpv6)});
    EXPECT_EQ(error_code(m), 443);
    m = request(c, method::kRefresh, {lifetime(600), family(kFamilyIpv4)});
    EXPECT_TRUE(is_success(m));
}

TEST_F(TurnRefresh, ConnectionCloseDeletesAStreamAllocation) {
    auto tcp = client("192.0.2.10", 40000, ClientTransport::Tcp, 42);
    auto udp = client("192.0.2.10", 40000);
    auto tcp_relay = relay_of(allocate_ok(tcp));
    allocate_ok(udp);
    EXPECT_EQ(server().allocation_count(), 2U);

    server().on_connection_closed(41); // someone else's
    server().on_connection_closed(0);  // UDP flows have no connection
    EXPECT_EQ(server().allocation_count(), 2U);

    server().on_connection_closed(42);
    EXPECT_EQ(server().allocation_count(), 1U);
    EXPECT_EQ(io.closed, std::vector<std::uint32_t>{tcp_relay});
    EXPECT_EQ(quota->total(), 1U);
    EXPECT_EQ(server().stats().allocations_deleted, 1U);
    server().on_connection_closed(42); // twice is harmless
    timers.skip_for(700s);             // its expiry timer went with it
    EXPECT_EQ(io.closed.size(), 2U);    // only the UDP one expired
    EXPECT_EQ(server().stats().allocations_expired, 1U);
}

TEST_F(TurnRefresh, DestroyingTheServerGivesBackTheQuota) {
    allocate_ok(client("192.0.2.10"));
    allocate_ok(client("192.0.2.11"));
    EXPECT_EQ(quota->total(), 2U);
    EXPECT_EQ(timers.pending(), 2U);
    destroy_server();
    EXPECT_EQ(quota->total(), 0U);
    EXPECT_EQ(timers.pending(), 0U);
    timers.skip_for(3600s); // no timer calls into the dead server
}

// =============================================================================================
// Permissions, Send and Data (RFC 8656 §9, §10)

TEST_F(TurnPermission, SendReachesThePeerOnlyWithAPermission) {
    auto c = client();
    auto relay = relay_of(allocate_ok(c));

    send_indication(c, kPeer, "too early");
    EXPECT_TRUE(io.to_peer.empty());
    EXPECT_EQ(server().stats().dropped, 1U);

    auto m = create_permission(c, {kPeer});
    ASSERT_TRUE(is_success(m)) << error_code(m);
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));

    send_indication(c, kPeer, "hello");
    ASSERT_EQ(io.to_peer.size(), 1U);
    EXPECT_EQ(io.to_peer[0].relay, relay);
    EXPECT_EQ(io.to_peer[0].peer, kPeer);
    EXPECT_EQ(string_of(io.to_peer[0].data), "hello");
    EXPECT_FALSE(io.to_peer[0].dont_fragment);

    // Permissions are per IP address: any port of the peer.
    auto other_port = kPeer;
    other_port.port = 9999;
    send_indication(c, other_port, "port", true);
    ASSERT_EQ(io.to_peer.size(), 2U);
    EXPECT_EQ(io.to_peer[1].peer, other_port);
    EXPECT_TRUE(io.to_peer[1].dont_fragment);

    // But not another address.
    send_indication(c, kPeer2, "nope");
    EXPECT_EQ(io.to_peer.size(), 2U);
    EXPECT_EQ(server().stats().packets_to_peer, 2U);
    EXPECT_EQ(server().stats().bytes_to_peer, 9U);
    // Indications are never answered.
    EXPECT_EQ(io.to_client.size(), 2U);
}

TEST_F(TurnPermission, SendWithoutAllocationIsDropped) {
    auto c = client();
    send_indication(c, kPeer, "hello");
    EXPECT_TRUE(io.to_peer.empty());
    EXPECT_TRUE(io.to_client.empty());
    EXPECT_EQ(server().stats().dropped, 1U);
}

TEST_F(TurnPermission, SendWithoutDataOrPeerIsDropped) {
    auto c = client();
    allocate_with_permission(c);
    auto bytes = encode(c, method::kSend, stun::MessageClass::Indication, {peer_attr(kPeer)},
                        next_tid(), Integrity::None);
    send_raw(c, bytes);
    bytes = encode(c, method::kSend, stun::MessageClass::Indication, {data_attr("x")}, next_tid(),
                   Integrity::None);
    send_raw(c, bytes);
    send_indication(c, kPeer6, "wrong family");
    EXPECT_TRUE(io.to_peer.empty());
    EXPECT_EQ(server().stats().dropped, 3U);
}

TEST_F(TurnPermission, ExpiresAfterFiveMinutes) {
    auto c = client();
    auto relay = allocate_with_permission(c);
    timers.skip_for(299s);
    send_indication(c, kPeer, "a");
    peer_sends(relay, kPeer, "b");
    EXPECT_EQ(io.to_peer.size(), 1U);
    auto to_client = io.to_client.size();
    EXPECT_EQ(to_client, 3U); // Allocate, CreatePermission, Data

    timers.skip_for(1s);
    send_indication(c, kPeer, "c");
    peer_sends(relay, kPeer, "d");
    EXPECT_EQ(io.to_peer.size(), 1U);
    EXPECT_EQ(io.to_client.size(), to_client);
    EXPECT_EQ(server().allocation_count(), 1U); // the allocation itself lives on
}

TEST_F(TurnPermission, CreatePermissionAgainRefreshes) {
    auto c = client();
    allocate_with_permission(c);
    timers.skip_for(250s);
    ASSERT_TRUE(is_success(create_permission(c, {kPeer})));
    timers.skip_for(250s); // 500 s: the first would have lapsed
    send_indication(c, kPeer, "still");
    EXPECT_EQ(io.to_peer.size(), 1U);
    timers.skip_for(50s);
    send_indication(c, kPeer, "gone");
    EXPECT_EQ(io.to_peer.size(), 1U);
}

TEST_F(TurnPermission, SeveralPeersInOneRequest) {
    auto c = client();
    allocate_ok(c);
    ASSERT_TRUE(is_success(create_permission(c, {kPeer, kPeer2})));
    send_indication(c, kPeer, "1");
    send_indication(c, kPeer2, "2");
    EXPECT_EQ(io.to_peer.size(), 2U);
}

TEST_F(TurnPermission, AllOrNothing) {
    auto c = client();
    allocate_ok(c);
    auto m = create_permission(c, {kPeer, endpoint("10.0.0.1", 1)});
    EXPECT_EQ(error_code(m), 403);
    send_indication(c, kPeer, "not installed");
    EXPECT_TRUE(io.to_peer.empty());
}

TEST_F(TurnPermission, WithoutAllocationIs437AndWithoutPeerIs400) {
    auto c = client();
    EXPECT_EQ(error_code(create_permission(c, {kPeer})), 437);
    allocate_ok(c);
    EXPECT_EQ(error_code(create_permission(c, {})), 400);
    EXPECT_EQ(error_code(request(c, method::kCreatePermission,
                                 {raw(attr::kXorPeerAddress, {0, 1, 2})})),
              400);
}

TEST_F(TurnPermission, PeerFamilyMismatchIs443) {
    auto c = client();
    allocate_ok(c);
    EXPECT_EQ(error_code(create_permission(c, {kPeer6})), 443);
    EXPECT_EQ(error_code(channel_bind(c, 0x4000, kPeer6)), 443);
}

TEST_F(TurnPermission, TooManyPermissionsIs508) {
    config.max_permissions = 2;
    auto c = client();
    allocate_ok(c);
    EXPECT_EQ(error_code(create_permission(
                  c, {kPeer, kPeer2, endpoint("198.51.100.9", 1)})),
              508);
    EXPECT_TRUE(is_success(create_permission(c, {kPeer, kPeer2})));
    // At the limit, existing permissions can still be refreshed (every 5 minutes, §9).
    EXPECT_TRUE(is_success(create_permission(c, {kPeer})));
    EXPECT_TRUE(is_success(create_permission(c, {kPeer2, kPeer})));
    EXPECT_EQ(error_code(create_permission(c, {endpoint("198.51.100.9", 1)})), 508);
    timers.skip_for(300s); // lapsed permissions make room
    EXPECT_TRUE(is_success(create_permission(c, {endpoint("198.51.100.9", 1)})));
}

TEST_F(TurnPermission, PeerDataBecomesADataIndication) {
    auto c = client();
    auto relay = allocate_with_permission(c);
    auto from = kPeer;
    from.port = 6000; // any port of a permitted address
    peer_sends(relay, from, "from the peer");
    ASSERT_EQ(io.to_client.size(), 3U);
    EXPECT_EQ(io.to_client.back().flow, c.flow);
    auto m = last_to_client();
    EXPECT_EQ(m.method(), method::kData);
    EXPECT_EQ(m.message_class(), stun::MessageClass::Indication);
    EXPECT_TRUE(m.has_magic_cookie());
    EXPECT_EQ(xor_of(m, attr::kXorPeerAddress), from);
    EXPECT_EQ(text_of(m, attr::kData), "from the peer");
    EXPECT_EQ(m.message_integrity(), nullptr);
    EXPECT_EQ(server().stats().packets_to_client, 1U);
    EXPECT_EQ(server().stats().bytes_to_client, 13U);

    // Each indication has its own transaction id.
    peer_sends(relay, from, "again");
    auto m2 = last_to_client();
    EXPECT_FALSE(std::equal(m.transaction_id().begin(), m.transaction_id().end(),
                            m2.transaction_id().begin()));
    EXPECT_EQ(text_of(m2, attr::kData), "again");
}

TEST_F(TurnPermission, PeerDataWithoutPermissionIsDropped) {
    auto c = client();
    auto relay = allocate_with_permission(c);
    auto before = io.to_client.size();
    peer_sends(relay, kPeer2, "stranger");
    peer_sends(relay + 100, kPeer, "no such relay");
    EXPECT_EQ(io.to_client.size(), before);
    EXPECT_EQ(server().stats().dropped, 2U);
}

TEST_F(TurnPermission, PeerDataAfterTheAllocationEndsIsDropped) {
    auto c = client();
    auto relay = allocate_with_permission(c);
    ASSERT_TRUE(is_success(refresh(c, 0)));
    auto before = io.to_client.size();
    peer_sends(relay, kPeer, "late");
    EXPECT_EQ(io.to_client.size(), before);
    send_indication(c, kPeer, "late");
    EXPECT_TRUE(io.to_peer.empty());
}

TEST_F(TurnPermission, BandwidthCapDropsBeyondTheRate) {
    config.max_bytes_per_second = 1000;
    auto c = client();
    auto relay = allocate_with_permission(c);
    std::string chunk(600, 'x');
    send_indication(c, kPeer, chunk);
    EXPECT_EQ(io.to_peer.size(), 1U);
    send_indication(c, kPeer, chunk); // 1200 > 1000 in the first second
    EXPECT_EQ(io.to_peer.size(), 1U);
    auto before = io.to_client.size();
    peer_sends(relay, kPeer, std::string(300, 'y')); // both directions share it: 400 left
    EXPECT_EQ(io.to_client.size(), before + 1);
    peer_sends(relay, kPeer, std::string(300, 'y'));
    EXPECT_EQ(io.to_client.size(), before + 1);
    EXPECT_EQ(server().stats().dropped, 2U);

    timers.skip_for(1s); // refilled
    send_indication(c, kPeer, chunk);
    EXPECT_EQ(io.to_peer.size(), 2U);
}

TEST_F(TurnPermission, UnlimitedByDefault) {
    auto c = client();
    allocate_with_permission(c);
    std::string chunk(60000, 'x');
    for (int i = 0; i < 20; ++i) {
        send_indication(c, kPeer, chunk);
    }
    EXPECT_EQ(io.to_peer.size(), 20U);
}

// =============================================================================================
// Channels (RFC 8656 §11, §12)

TEST_F(TurnChannel, ChannelDataBothWaysOverUdp) {
    auto c = client();
    auto relay = relay_of(allocate_ok(c));
    auto m = channel_bind(c, 0x4000, kPeer);
    ASSERT_TRUE(is_success(m)) << error_code(m);
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));

    send_raw(c, channel_data(0x4000, "to peer"));
    ASSERT_EQ(io.to_peer.size(), 1U);
    EXPECT_EQ(io.to_peer[0].relay, relay);
    EXPECT_EQ(io.to_peer[0].peer, kPeer);
    EXPECT_EQ(string_of(io.to_peer[0].data), "to peer");

    // Over UDP the datagram may carry padding after the data.
    send_raw(c, channel_data(0x4000, "pad", true));
    ASSERT_EQ(io.to_peer.size(), 2U);
    EXPECT_EQ(string_of(io.to_peer[1].data), "pad");

    // From the bound peer: ChannelData, not padded over UDP.
    peer_sends(relay, kPeer, "hello");
    ASSERT_EQ(io.to_client.size(), 3U);
    EXPECT_EQ(io.to_client.back().flow, c.flow);
    EXPECT_EQ(io.to_client.back().bytes, channel_data(0x4000, "hello"));

    // Another port of the same address has the permission but not the channel: Data indication.
    auto other = kPeer;
    other.port = 4001;
    peer_sends(relay, other, "hi");
    auto d = last_to_client();
    EXPECT_EQ(d.method(), method::kData);
    EXPECT_EQ(xor_of(d, attr::kXorPeerAddress), other);
}

TEST_F(TurnChannel, PaddedOverAStream) {
    auto c = client("192.0.2.10", 40000, ClientTransport::Tcp, 5);
    auto relay = relay_of(allocate_ok(c));
    ASSERT_TRUE(is_success(channel_bind(c, 0x4001, kPeer)));
    peer_sends(relay, kPeer, "hello");
    auto expected = channel_data(0x4001, "hello", true);
    ASSERT_EQ(expected.size(), 12U);
    EXPECT_EQ(io.to_client.back().bytes, expected);
    EXPECT_EQ(TurnServer::frame_length(io.to_client.back().bytes), 12U);

    peer_sends(relay, kPeer, "four");
    EXPECT_EQ(io.to_client.back().bytes, channel_data(0x4001, "four"));

    // And the client's padded frames are taken as they come.
    send_raw(c, channel_data(0x4001, "abc", true));
    ASSERT_EQ(io.to_peer.size(), 1U);
    EXPECT_EQ(string_of(io.to_peer[0].data), "abc");
}

TEST_F(TurnChannel, NumberOutOfRangeIs400) {
    auto c = client();
    allocate_ok(c);
    EXPECT_EQ(error_code(channel_bind(c, 0x3FFF, kPeer)), 400);
    EXPECT_EQ(error_code(channel_bind(c, 0x8000, kPeer)), 400);
    EXPECT_EQ(error_code(channel_bind(c, 0xFFFF, kPeer)), 400);
    EXPECT_EQ(error_code(request(c, method::kChannelBind, {peer_attr(kPeer)})), 400);
    EXPECT_EQ(error_code(request(c, method::kChannelBind, {channel_number(0x4000)})), 400);
    // Both ends of the range (RFC 5766 clients use up to 0x7FFF).
    EXPECT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    EXPECT_TRUE(is_success(channel_bind(c, 0x7FFF, kPeer2)));
}

TEST_F(TurnChannel, WithoutAllocationIs437) {
    auto c = client();
    EXPECT_EQ(error_code(channel_bind(c, 0x4000, kPeer)), 437);
}

TEST_F(TurnChannel, RebindingToAnotherPeerIs400) {
    auto c = client();
    allocate_ok(c);
    ASSERT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    EXPECT_EQ(error_code(channel_bind(c, 0x4000, kPeer2)), 400); // number taken
    EXPECT_EQ(error_code(channel_bind(c, 0x4001, kPeer)), 400);  // peer taken
    auto other_port = kPeer;
    other_port.port = 4001;
    EXPECT_EQ(error_code(channel_bind(c, 0x4000, other_port)), 400);
    EXPECT_TRUE(is_success(channel_bind(c, 0x4000, kPeer))); // the same binding: a refresh
    EXPECT_TRUE(is_success(channel_bind(c, 0x4001, other_port)));
}

TEST_F(TurnChannel, BindingInstallsThePermission) {
    auto c = client();
    allocate_ok(c);
    ASSERT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    send_indication(c, kPeer, "via send");
    EXPECT_EQ(io.to_peer.size(), 1U);
}

TEST_F(TurnChannel, ExpiresAfterTenMinutes) {
    auto c = client();
    auto relay = relay_of(allocate_ok(c, {lifetime(3600)}));
    ASSERT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    timers.skip_for(550s);
    // Keep the permission (300 s) alive on its own, so only the channel lapses.
    ASSERT_TRUE(is_success(create_permission(c, {kPeer})));
    send_raw(c, channel_data(0x4000, "at 550"));
    EXPECT_EQ(io.to_peer.size(), 1U);
    peer_sends(relay, kPeer, "x");
    EXPECT_EQ(io.to_client.back().bytes, channel_data(0x4000, "x"));

    timers.skip_for(50s); // 600 s
    send_raw(c, channel_data(0x4000, "at 600"));
    EXPECT_EQ(io.to_peer.size(), 1U);
    peer_sends(relay, kPeer, "y");
    auto m = last_to_client(); // a Data indication now
    EXPECT_EQ(m.method(), method::kData);
    EXPECT_EQ(text_of(m, attr::kData), "y");

    // The number is free for another peer once the binding is gone.
    EXPECT_TRUE(is_success(channel_bind(c, 0x4000, kPeer2)));
}

TEST_F(TurnChannel, RebindRefreshesTheChannel) {
    auto c = client();
    allocate_ok(c, {lifetime(3600)});
    ASSERT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    timers.skip_for(500s);
    ASSERT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    timers.skip_for(200s); // 700 s: alive thanks to the rebind (and its permission refresh)
    send_raw(c, channel_data(0x4000, "ok"));
    EXPECT_EQ(io.to_peer.size(), 1U);
}

TEST_F(TurnChannel, ChannelDataOnAnUnboundChannelIsDropped) {
    auto c = client();
    allocate_ok(c);
    ASSERT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    send_raw(c, channel_data(0x4002, "nobody"));
    auto stranger = client("192.0.2.200");
    send_raw(stranger, channel_data(0x4000, "no allocation"));
    EXPECT_TRUE(io.to_peer.empty());
    EXPECT_EQ(server().stats().dropped, 2U);
}

TEST_F(TurnChannel, TooManyChannelsIs508) {
    config.max_channels = 1;
    auto c = client();
    allocate_ok(c);
    ASSERT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    EXPECT_EQ(error_code(channel_bind(c, 0x4001, kPeer2)), 508);
    EXPECT_TRUE(is_success(channel_bind(c, 0x4000, kPeer))); // a refresh still works
}

TEST_F(TurnChannel, ChannelDataCountsAgainstTheRate) {
    config.max_bytes_per_second = 100;
    auto c = client();
    allocate_ok(c);
    ASSERT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    send_raw(c, channel_data(0x4000, std::string(80, 'a')));
    send_raw(c, channel_data(0x4000, std::string(80, 'a')));
    EXPECT_EQ(io.to_peer.size(), 1U);
}

// =============================================================================================
// Peer policy through the server (RFC 8656 §21.3.1)

TEST_F(TurnPeerPolicy, DeniedIpv4PeersAre403) {
    auto c = client();
    allocate_ok(c);
    for (std::string_view address :
         {"127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.169.254", "0.0.0.0",
          "255.255.255.255", "224.0.0.1", "100.64.0.1", "172.31.255.255", "240.0.0.1"}) {
        auto peer = endpoint(address, 3478);
        auto m = create_permission(c, {peer});
        EXPECT_EQ(error_code(m), 403) << address;
        EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));
        EXPECT_EQ(error_code(channel_bind(c, 0x4000, peer)), 403) << address;
    }
    EXPECT_EQ(server().stats().forbidden_peers, 22U);
    // Not denied: the neighbours of the private ranges.
    EXPECT_TRUE(is_success(create_permission(c, {endpoint("172.32.0.1", 1)})));
    EXPECT_TRUE(is_success(create_permission(c, {endpoint("100.128.0.1", 1)})));
    EXPECT_TRUE(is_success(create_permission(c, {endpoint("11.0.0.1", 1)})));
}

TEST_F(TurnPeerPolicy, DeniedIpv6PeersAre403) {
    io.relay_v6 = endpoint("2001:db8::10", 0);
    auto c = client();
    auto relayed = allocate_ok(c, {family(kFamilyIpv6)});
    ASSERT_TRUE(relayed.is_v6());
    for (std::string_view address :
         {"::", "::1", "fe80::1", "fc00::1", "fd00::1", "ff02::1", "::ffff:127.0.0.1",
          "::ffff:10.0.0.1", "64:ff9b::7f00:1", "::ffff:169.254.169.254", "fec0::1",
          "::ffff:0.0.0.0", "::127.0.0.1"}) {
        auto peer = endpoint(address, 3478);
        EXPECT_EQ(error_code(create_permission(c, {peer})), 403) << address;
        EXPECT_EQ(error_code(channel_bind(c, 0x4000, peer)), 403) << address;
    }
    // Documentation space is not in the denied list.
    EXPECT_TRUE(is_success(create_permission(c, {kPeer6})));
    send_indication(c, kPeer6, "v6");
    ASSERT_EQ(io.to_peer.size(), 1U);
    EXPECT_EQ(io.to_peer[0].peer, kPeer6);
    EXPECT_TRUE(is_success(create_permission(c, {endpoint("2a00:1450::1", 1)})));
    EXPECT_TRUE(is_success(create_permission(c, {endpoint("64:ff9b::c633:6407", 1)})));
    // An IPv4 peer on an IPv6 allocation is a family mismatch.
    EXPECT_EQ(error_code(create_permission(c, {kPeer})), 443);
}

TEST_F(TurnPeerPolicy, PublicPeersAreAllowed) {
    auto c = client();
    allocate_ok(c);
    EXPECT_TRUE(is_success(create_permission(c, {endpoint("198.51.100.7", 1)})));
    EXPECT_TRUE(is_success(create_permission(c, {endpoint("8.8.8.8", 53)})));
    EXPECT_TRUE(is_success(channel_bind(c, 0x4000, endpoint("192.0.2.44", 1000))));
    EXPECT_EQ(server().stats().forbidden_peers, 0U);
}

TEST_F(TurnPeerPolicy, OwnAddressOnlyForRelayEndpoints) {
    auto a = client("192.0.2.10");
    auto b = client("192.0.2.20");
    allocate_ok(a);
    auto b_relayed = allocate_ok(b);
    ASSERT_EQ(b_relayed.address, kOwnAddress.address);

    // The server's own address, but no relay there: its other services stay out of reach.
    auto sip_port = kOwnAddress;
    sip_port.port = 5060;
    EXPECT_EQ(error_code(create_permission(a, {sip_port})), 403);
    EXPECT_EQ(error_code(channel_bind(a, 0x4000, sip_port)), 403);

    // The other client's relay: allowed, relay to relay.
    ASSERT_TRUE(is_success(create_permission(a, {b_relayed})));
    send_indication(a, b_relayed, "relay to relay");
    ASSERT_EQ(io.to_peer.size(), 1U);
    EXPECT_EQ(io.to_peer[0].peer, b_relayed);

    // The permission is for the address, but it covers only relay endpoints.
    send_indication(a, sip_port, "sneaky");
    EXPECT_EQ(io.to_peer.size(), 1U);

    // Once B's relay is gone, its port is not a relay endpoint any more.
    ASSERT_TRUE(is_success(refresh(b, 0)));
    send_indication(a, b_relayed, "after close");
    EXPECT_EQ(io.to_peer.size(), 1U);
}

TEST_F(TurnPeerPolicy, ChannelToAnotherRelay) {
    auto a = client("192.0.2.10");
    auto b = client("192.0.2.20");
    allocate_ok(a);
    auto b_relayed = allocate_ok(b);
    ASSERT_TRUE(is_success(channel_bind(a, 0x4000, b_relayed)));
    send_raw(a, channel_data(0x4000, "over the channel"));
    ASSERT_EQ(io.to_peer.size(), 1U);
    EXPECT_EQ(io.to_peer[0].peer, b_relayed);
    // The channel's permission does not open the address's other ports.
    auto other = b_relayed;
    other.port = 5060;
    send_indication(a, other, "x");
    EXPECT_EQ(io.to_peer.size(), 1U);
}

TEST_F(TurnPeerPolicy, ListedRelayEndpointInAPrivateRange) {
    // Relays bound on a private address behind NAT: still reachable relay to relay.
    auto private_relay = endpoint("10.0.0.5", 50000);
    io.relay_endpoints.push_back(private_relay);
    auto c = client();
    allocate_ok(c);
    EXPECT_TRUE(is_success(create_permission(c, {private_relay})));
    send_indication(c, private_relay, "ok");
    auto other_port = private_relay;
    other_port.port = 22;
    send_indication(c, other_port, "ssh");
    ASSERT_EQ(io.to_peer.size(), 1U);
    EXPECT_EQ(io.to_peer[0].peer, private_relay);
    EXPECT_EQ(error_code(create_permission(c, {other_port})), 403);
}

TEST_F(TurnPeerPolicy, AllowedPeersOverride) {
    policy = std::make_unique<PeerPolicy>(
        std::vector<core::Cidr>{*core::parse_cidr("127.0.0.0/8", nullptr)},
        std::vector<core::IpEndpoint>{kOwnAddress});
    auto c = client();
    allocate_ok(c);
    auto loopback = endpoint("127.0.0.1", 8080);
    ASSERT_TRUE(is_success(create_permission(c, {loopback})));
    send_indication(c, loopback, "local");
    ASSERT_EQ(io.to_peer.size(), 1U);
    EXPECT_EQ(io.to_peer[0].peer, loopback);
    EXPECT_EQ(error_code(create_permission(c, {endpoint("10.1.2.3", 1)})), 403);
}

// =============================================================================================
// Everything else: unknown attributes and methods, malformed input, framing

TEST_F(TurnServerMisc, UnknownComprehensionRequiredAttributeIs420) {
    auto c = client();
    auto m = allocate(c, {raw(0x7777, {1, 2, 3, 4}), raw(0x0031, {})});
    EXPECT_EQ(error_code(m), 420);
    const auto* unknown = m.find(sattr::kUnknownAttributes);
    ASSERT_NE(unknown, nullptr);
    ASSERT_EQ(unknown->value.size(), 4U);
    EXPECT_EQ(core::load_u16be(unknown->value.data()), 0x7777);
    EXPECT_EQ(core::load_u16be(unknown->value.data() + 2), 0x0031);
    EXPECT_TRUE(stun::verify_message_integrity(m, c.md5_key()));
    EXPECT_TRUE(io.requests.empty());

    // Unknown comprehension-optional attributes are ignored.
    EXPECT_TRUE(is_success(allocate(c, {raw(0x8777, {1, 2, 3, 4})})));
}

TEST_F(TurnServerMisc, UnknownMethodIs400) {
    auto c = client();
    auto m = request(c, 0x0FF);
    EXPECT_EQ(error_code(m), 400);
    EXPECT_EQ(error_code(request(c, stun::method::kBinding)), 400);
    EXPECT_EQ(error_code(request(c, method::kSend)), 400); // Send is an indication
    c.integrity = Integrity::None;
    EXPECT_EQ(error_code(request(c, 0x0FF)), 400); // answered before authentication
}

TEST_F(TurnServerMisc, MalformedInputIsCountedAndNotAnswered) {
    auto c = client();
    auto relay = relay_of(allocate_ok(c));
    ASSERT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    auto to_client = io.to_client.size();
    auto malformed = server().stats().malformed;

    std::vector<std::vector<std::uint8_t>> inputs = {
        {0xFF, 0x00, 0x01},                         // neither STUN nor ChannelData
        {0x00, 0x01, 0x00},                         // a truncated STUN header
        {0x40, 0x00, 0x00},                         // truncated ChannelData header
        {0x40, 0x00, 0x00, 0x10, 1, 2, 3, 4},       // ChannelData longer than the datagram
        {0x00, 0x03, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // bad length
    };
    // A request without the magic cookie (RFC 3489 style).
    auto classic = encode(c, method::kAllocate, stun::MessageClass::Request, {transport()},
                          next_tid(), Integrity::Md5);
    classic[4] ^= 0xFF;
    inputs.push_back(classic);
    // A request whose FINGERPRINT does not match.
    auto bad_fingerprint = encode(c, method::kRefresh, stun::MessageClass::Request,
                                  {lifetime(0)}, next_tid(), Integrity::Md5);
    bad_fingerprint.back() ^= 0x01;
    inputs.push_back(bad_fingerprint);

    for (const auto& in : inputs) {
        send_raw(c, in);
    }
    EXPECT_EQ(server().stats().malformed, malformed + inputs.size());
    EXPECT_EQ(io.to_client.size(), to_client);
    EXPECT_TRUE(io.to_peer.empty());
    EXPECT_EQ(server().allocation_count(), 1U); // the bad Refresh 0 did nothing
    EXPECT_TRUE(io.is_open(relay));
    send_raw(c, {}); // empty: ignored
    EXPECT_EQ(io.to_client.size(), to_client);
}

TEST_F(TurnServerMisc, RandomBytesAreNeverAnswered) {
    auto c = client();
    allocate_ok(c);
    auto to_client = io.to_client.size();
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<std::size_t> length(1, 300);
    const std::uint64_t rounds = 2000;
    for (std::uint64_t i = 0; i < rounds; ++i) {
        std::vector<std::uint8_t> in(length(rng));
        for (auto& b : in) {
            b = static_cast<std::uint8_t>(byte(rng));
        }
        send_raw(c, in);
        server().on_peer_data(1, kPeer, in);
    }
    EXPECT_EQ(io.to_client.size(), to_client);
    EXPECT_TRUE(io.to_peer.empty());
    const auto& s = server().stats();
    EXPECT_EQ(s.malformed + s.dropped, 2 * rounds);
    EXPECT_GT(s.malformed, 0U);
}

TEST_F(TurnServerMisc, ResponsesAndOtherIndicationsAreDropped) {
    auto c = client();
    allocate_ok(c);
    auto before = io.to_client.size();
    auto response = encode(c, method::kAllocate, stun::MessageClass::SuccessResponse, {},
                           next_tid(), Integrity::None);
    send_raw(c, response);
    auto data = encode(c, method::kData, stun::MessageClass::Indication,
                       {peer_attr(kPeer), data_attr("x")}, next_tid(), Integrity::None);
    send_raw(c, data);
    EXPECT_EQ(io.to_client.size(), before);
    EXPECT_TRUE(io.to_peer.empty());
    EXPECT_EQ(server().stats().dropped, 2U);
}

TEST_F(TurnServerMisc, PeerDataForAnUnknownRelayIsDropped) {
    peer_sends(99, kPeer, "x");
    EXPECT_TRUE(io.to_client.empty());
    EXPECT_EQ(server().stats().dropped, 1U);
}

TEST_F(TurnServerMisc, LargestPeerDatagramOverAChannel) {
    auto c = client("192.0.2.10", 40000, ClientTransport::Tcp, 3);
    auto relay = relay_of(allocate_ok(c));
    ASSERT_TRUE(is_success(channel_bind(c, 0x4000, kPeer)));
    std::string big(65535, 'z');
    peer_sends(relay, kPeer, big);
    ASSERT_EQ(io.to_client.back().bytes.size(), 4U + 65536U);
    EXPECT_EQ(core::load_u16be(io.to_client.back().bytes.data() + 2), 65535);
    EXPECT_EQ(TurnServer::frame_length(io.to_client.back().bytes), 4U + 65536U);
}

TEST_F(TurnServerMisc, LargePeerDatagramAsDataIndication) {
    auto c = client();
    auto relay = allocate_with_permission(c);
    std::string payload(60000, 'q');
    peer_sends(relay, kPeer, payload);
    auto m = last_to_client();
    EXPECT_EQ(m.method(), method::kData);
    EXPECT_EQ(text_of(m, attr::kData), payload);
    // Too large to fit a Data indication: dropped, not truncated.
    auto before = io.to_client.size();
    peer_sends(relay, kPeer, std::string(65535, 'q'));
    EXPECT_EQ(io.to_client.size(), before);
}

// =============================================================================================
// REST credentials through the server

// printf '%s' '1700000000:bob' | openssl dgst -sha1 -hmac SECRET -binary | base64
constexpr std::string_view kBobRestPassword = "lIQjdQ/2UyZsEWYoATB3FmTTPgs=";
// printf '%s' '1700000100:bob' | openssl dgst -sha1 -hmac SECRET -binary | base64
constexpr std::string_view kBobRestPassword2 = "CMSk5vduKvkuQgKDmCrqKLz6DkQ=";

TEST_F(RestCredentialsServer, AllocateWithRestCredentials) {
    quota = std::make_unique<AllocationQuota>(1U, 0U);
    auto bob = client("192.0.2.30");
    bob.username = "1700000000:bob";
    bob.password = std::string(kBobRestPassword);
    auto m = allocate(bob);
    ASSERT_TRUE(is_success(m)) << error_code(m);
    EXPECT_TRUE(stun::verify_message_integrity(m, bob.md5_key()));

    // The quota belongs to "bob", whatever the expiry in the username.
    auto bob2 = client("192.0.2.31");
    bob2.username = "1700000100:bob";
    bob2.password = std::string(kBobRestPassword2);
    EXPECT_EQ(error_code(allocate(bob2)), 486);

    EXPECT_TRUE(is_success(refresh(bob, 0)));
    EXPECT_TRUE(is_success(allocate(bob2)));
}

TEST_F(RestCredentialsServer, ExpiredRestCredentialsAre401) {
    unix_time = 1'700'000'000;
    auto bob = client();
    bob.username = "1700000000:bob";
    bob.password = std::string(kBobRestPassword);
    expect_challenge(allocate(bob), 401);
}

TEST_F(RestCredentialsServer, WrongRestPasswordIs401) {
    auto bob = client();
    bob.username = "1700000000:bob";
    bob.password = std::string(kBobRestPassword2);
    expect_challenge(allocate(bob), 401);
}

// =============================================================================================
// Stream framing (RFC 8656 §12.5)

TEST(TurnFraming, StunMessages) {
    Client c;
    auto msg = encode(c, method::kAllocate, stun::MessageClass::Request, {transport()}, Tid{},
                      Integrity::None);
    std::span<const std::uint8_t> all(msg);
    EXPECT_EQ(TurnServer::frame_length(all), msg.size());
    EXPECT_EQ(TurnServer::frame_length(all.first(msg.size() - 1)), 0U);
    EXPECT_EQ(TurnServer::frame_length(all.first(3)), 0U);
    EXPECT_EQ(TurnServer::frame_length({}), 0U);
    auto two = msg;
    two.insert(two.end(), msg.begin(), msg.end());
    EXPECT_EQ(TurnServer::frame_length(two), msg.size());
    auto odd = msg;
    odd[3] = 0x05; // a length not a multiple of 4
    EXPECT_FALSE(TurnServer::frame_length(odd).has_value());
}

TEST(TurnFraming, ChannelDataIsPaddedToFour) {
    auto five = channel_data(0x4000, "hello", true);
    ASSERT_EQ(five.size(), 12U);
    std::span<const std::uint8_t> all(five);
    EXPECT_EQ(TurnServer::frame_length(all), 12U);
    EXPECT_EQ(TurnServer::frame_length(all.first(9)), 0U); // data there, padding not yet
    EXPECT_EQ(TurnServer::frame_length(all.first(3)), 0U);
    EXPECT_EQ(TurnServer::frame_length(channel_data(0x4000, "")), 4U);
    EXPECT_EQ(TurnServer::frame_length(channel_data(0x7FFF, "four")), 8U);
    auto two = five;
    two.insert(two.end(), five.begin(), five.end());
    EXPECT_EQ(TurnServer::frame_length(two), 12U);
}

TEST(TurnFraming, NeitherClosesTheConnection) {
    EXPECT_FALSE(TurnServer::frame_length(std::vector<std::uint8_t>{0x80, 0, 0, 0}).has_value());
    EXPECT_FALSE(TurnServer::frame_length(std::vector<std::uint8_t>{0xC0}).has_value());
    EXPECT_FALSE(TurnServer::frame_length(std::vector<std::uint8_t>{0xFF, 0xFF}).has_value());
}

} // namespace
} // namespace strowger::turn
