// Fuzz target: the TURN server behind the transport. An input is a script of events, each
//   kind (1 byte) | length (2 bytes, big-endian) | payload
// kind 0: a datagram from a UDP client; 1: a frame from a TCP client (cut by frame_length);
// 2: a datagram from a peer to the first relay; 3: the clock moves payload[0] * 10 seconds;
// 4: the TCP client's connection closes.
// Requests are re-signed before they reach the server (MESSAGE-INTEGRITY recomputed with the
// test user's key), so mutations get past authentication into allocations, permissions and
// channels. The seeds carry the one nonce this fixed key and clock accept.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/simulated_timers.hpp"
#include "stun/integrity.hpp"
#include "stun/message.hpp"
#include "turn/server.hpp"

namespace {

using namespace strowger;

constexpr std::int64_t kNow = 1'000'000;

class MemoryIo final : public turn::TurnIo {
public:
    core::Result<turn::RelayOpened, turn::RelayError> open_relay(
        const turn::RelayRequest& request) override {
        if (request.ipv6 || open_.size() >= 8) {
            return core::unexpected(request.ipv6 ? turn::RelayError::FamilyUnsupported
                                                 : turn::RelayError::NoCapacity);
        }
        auto id = ++next_;
        open_.insert(id);
        auto local = *core::IpEndpoint::from_address("192.0.2.1", 0);
        local.port = static_cast<std::uint16_t>(50000 + id);
        return turn::RelayOpened{id, local, std::nullopt};
    }
    void close_relay(std::uint32_t relay) override { open_.erase(relay); }
    void send_to_peer(std::uint32_t relay, const core::IpEndpoint&,
                      std::span<const std::uint8_t> data, bool) override {
        sink_ += data.size() + (open_.contains(relay) ? 0 : 1'000'000'000); // must be open
    }
    void send_to_client(const turn::ClientFlow&, std::span<const std::uint8_t> data) override {
        sink_ += data.size();
    }
    bool is_relay_endpoint(const core::IpEndpoint& address) const override {
        return address.port > 50000 && open_.contains(address.port - 50000U);
    }
    [[nodiscard]] std::uint32_t first_open() const { return open_.empty() ? 0 : *open_.begin(); }

private:
    std::uint32_t next_ = 0;
    std::set<std::uint32_t> open_;
    std::size_t sink_ = 0;
};

class OneUser final : public turn::CredentialStore {
public:
    std::optional<turn::UserKeys> find_user(std::string_view username,
                                            std::string_view realm) override {
        if (username != "alice") {
            return std::nullopt;
        }
        turn::UserKeys keys;
        keys.md5 = stun::long_term_key_md5(username, realm, "secret");
        keys.sha256 = stun::long_term_key_sha256(username, realm, "secret");
        return keys;
    }
};

// Recomputes MESSAGE-INTEGRITY in place with alice's MD5 key, when the frame has one.
void resign(std::vector<std::uint8_t>& frame) {
    auto m = stun::parse_message(frame);
    if (!m) {
        return;
    }
    const auto* mi = m->message_integrity();
    if (mi == nullptr || mi->value.size() != 20) {
        return;
    }
    auto key = stun::long_term_key_md5("alice", "strowger", "secret");
    auto mac = stun::compute_integrity_sha1(frame, mi->offset, key);
    std::copy(mac.begin(), mac.end(), frame.begin() + mi->offset + 4);
    if (const auto* fp = m->fingerprint(); fp != nullptr && fp->value.size() == 4) {
        core::store_u32be(frame.data() + fp->offset + 4,
                          stun::compute_fingerprint(frame, fp->offset));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    core::SimulatedTimers timers;
    MemoryIo io;
    OneUser users;
    turn::Authenticator authenticator(&users, "fuzz-secret");
    turn::NonceIssuer nonces(std::array<std::uint8_t, 32>{}, 3600);
    turn::AllocationQuota quota(4, 6);
    turn::PeerPolicy policy({}, {*core::IpEndpoint::from_address("192.0.2.1", 0)});
    std::int64_t unix_now = kNow;
    turn::TurnConfig config;
    config.max_bytes_per_second = 100000;
    turn::TurnServer server(config, turn::TurnDependencies{io, timers, authenticator, nonces,
                                                           quota, policy,
                                                           [&unix_now] { return unix_now; }});
    const turn::ClientFlow udp{turn::ClientTransport::Udp, 0, 0,
                               *core::IpEndpoint::from_address("198.51.100.7", 40000)};
    const turn::ClientFlow tcp{turn::ClientTransport::Tcp, 0, 77,
                               *core::IpEndpoint::from_address("198.51.100.8", 40001)};
    const auto peer = *core::IpEndpoint::from_address("203.0.113.9", 7000);

    core::ByteReader in({data, size});
    std::vector<std::uint8_t> frame;
    while (in.remaining() >= 3) {
        auto kind = in.u8();
        auto payload = in.take(std::min<std::size_t>(in.u16be(), in.remaining()));
        frame.assign(payload.begin(), payload.end());
        switch (kind % 5) {
        case 0:
            resign(frame);
            server.on_client_message(frame, udp);
            break;
        case 1:
            if (auto length = turn::TurnServer::frame_length(frame); length && *length > 0) {
                frame.resize(*length);
                resign(frame);
                server.on_client_message(frame, tcp);
            }
            break;
        case 2:
            server.on_peer_data(io.first_open(), peer, frame);
            break;
        case 3: {
            auto seconds = frame.empty() ? 1 : frame[0] * 10;
            timers.skip_for(std::chrono::seconds(seconds));
            unix_now += seconds;
            break;
        }
        case 4:
            server.on_connection_closed(77);
            break;
        }
    }
    if (std::getenv("TURN_FUZZ_VERBOSE") != nullptr) { // to check that seeds reach deep
        const auto& st = server.stats();
        std::fprintf(stderr, "allocations=%llu to_peer=%llu to_client=%llu errors=%llu\n",
                     static_cast<unsigned long long>(st.allocations_created),
                     static_cast<unsigned long long>(st.packets_to_peer),
                     static_cast<unsigned long long>(st.packets_to_client),
                     static_cast<unsigned long long>(st.error_responses));
    }
    // Everything expires in the end: no allocation may outlive its lifetime.
    timers.skip_for(std::chrono::hours(2));
    if (server.allocation_count() != 0) {
        __builtin_trap();
    }
    return 0;
}
