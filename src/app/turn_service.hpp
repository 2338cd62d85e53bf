#pragma once
// Wires the sans-IO TURN server and the STUN Binding service to one shard's sockets: the UDP
// listeners and stream connections of `stun.listen`, and the relay sockets of the allocations
// made on this shard. Binding requests go to stun::BindingService, everything else (TURN
// methods, ChannelData) to turn::TurnServer.

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/relay_ports.hpp"
#include "net/handlers.hpp"
#include "net/relay_socket.hpp"
#include "stun/binding_service.hpp"
#include "turn/server.hpp"

namespace strowger::net {
class Shard;
class UdpEndpoint;
} // namespace strowger::net

namespace strowger::app {

// What every shard's TurnService shares; built once at start-up (turn_setup).
struct TurnShared {
    turn::TurnConfig config;
    std::unique_ptr<turn::Authenticator> authenticator;
    std::unique_ptr<turn::NonceIssuer> nonces;
    std::unique_ptr<turn::AllocationQuota> quota;
    std::unique_ptr<turn::PeerPolicy> policy;
    std::unique_ptr<RelayPorts> ports;
    std::string rest_secret; // TURN REST: what /api/ice-servers signs credentials with
};

class TurnService final : public net::StreamHandler,
                          public net::RelayReceiver,
                          private turn::TurnIo {
public:
    TurnService(net::Shard& shard, TurnShared& shared, std::string software);
    ~TurnService() override;
    TurnService(const TurnService&) = delete;
    TurnService& operator=(const TurnService&) = delete;

    // The handler for one UDP listener; `endpoint` is set once the listener exists.
    net::DatagramHandler& udp_handler(std::size_t listener);
    void attach(std::size_t listener, net::UdpEndpoint& endpoint);

    // net::StreamHandler: STUN and ChannelData framed on TCP (or TLS, under the decorator).
    std::optional<std::size_t> on_stream_data(std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& peer,
                                              net::StreamWriter& out) override;
    std::size_t max_message_size() const override { return stun::kHeaderSize + 0xFFFF; }
    void on_stream_closed(net::StreamWriter& writer) override;

    // net::RelayReceiver
    void on_relay_datagram(std::uint32_t relay, const core::IpEndpoint& from,
                           std::span<const std::uint8_t> data) override;
    void on_relay_batch_end() override;

    // Closes every relay socket (at shutdown, on the shard's thread).
    void close();

    [[nodiscard]] const stun::BindingStats& binding_stats() const noexcept {
        return binding_.stats();
    }
    [[nodiscard]] const turn::TurnStats& stats() const noexcept { return turn_.stats(); }
    [[nodiscard]] std::size_t allocation_count() const noexcept {
        return turn_.allocation_count();
    }
    [[nodiscard]] const net::RelaySocketStats& relay_stats() const noexcept {
        return relay_stats_;
    }

private:
    class UdpPort;
    struct Relay {
        net::RelaySocket* socket;
        std::uint16_t port;
    };

    std::span<const std::uint8_t> on_datagram(std::size_t listener,
                                              std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& from,
                                              std::span<std::uint8_t> reply_buffer);

    // turn::TurnIo
    core::Result<turn::RelayOpened, turn::RelayError> open_relay(
        const turn::RelayRequest& request) override;
    void close_relay(std::uint32_t relay) override;
    void send_to_peer(std::uint32_t relay, const core::IpEndpoint& peer,
                      std::span<const std::uint8_t> data, bool dont_fragment) override;
    void send_to_client(const turn::ClientFlow& flow, std::span<const std::uint8_t> data) override;
    bool is_relay_endpoint(const core::IpEndpoint& address) const override;

    net::Shard& shard_;
    TurnShared& shared_;
    stun::BindingService binding_;
    turn::TurnServer turn_;
    std::vector<std::unique_ptr<UdpPort>> ports_;
    std::vector<net::UdpEndpoint*> udp_;
    std::unordered_map<std::uint64_t, net::StreamWriter*> streams_;
    std::unordered_map<std::uint32_t, Relay> relays_;
    std::uint32_t next_relay_ = 0;
    net::RelayScratch scratch_;
    net::RelaySocketStats relay_stats_;
    bool holding_sends_ = false;
};

} // namespace strowger::app
