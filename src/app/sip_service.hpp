#pragma once
// Wires the sans-IO SIP proxy to the network: one instance per shard, serving that shard's UDP
// sockets and TCP connections, and sending for its proxy. A connection belongs to the shard
// that accepted (or opened) it, so a message for a connection of another shard is posted
// there; so is a response whose Via branch names another shard's transaction.

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/handlers.hpp"
#include "sip/proxy.hpp"

namespace strowger::net {
class Shard;
class TcpListener;
class UdpEndpoint;
} // namespace strowger::net

namespace strowger::app {

class SipService;

// What every shard's SIP service shares; filled before the shards start, read-only after.
struct SipShared {
    sip::LocationStore* location = nullptr;
    sip::LocalIdentity identity;
    sip::ProxyConfig config;
    sip::FlowTokens::Key flow_key{};
    std::vector<SipService*> shards; // by shard index
    // SIP over WebSocket lives on the web shard: connection ids naming `web_shard` are sent
    // to through `ws_send`, which posts there (sip_ws_bridge.hpp).
    unsigned web_shard = ~0U;
    std::function<void(std::uint64_t connection, std::string message)> ws_send;
};

class SipService final : public net::DatagramHandler, public sip::Transmitter {
public:
    SipService(net::Shard& shard, SipShared& shared);
    ~SipService() override;

    void attach(net::UdpEndpoint& udp);
    // A listener of plain TCP connections: the one outbound connections are opened from.
    void attach(net::TcpListener& tcp);

    // What a stream listener of `transport` (TCP, or TLS under the TLS decorator) hands its
    // connections' bytes to: each SIP flow must know the transport it travels on.
    net::StreamHandler& stream_handler(core::Transport transport);

    // net::DatagramHandler
    std::span<const std::uint8_t> on_datagram(std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& from,
                                              std::span<std::uint8_t> reply_buffer) override;

    // One SIP message from a WebSocket flow (one WebSocket message), on this shard.
    void on_ws_message(const sip::Flow& from, std::string_view bytes);
    // A flow the server cannot open again (TLS, WebSocket) closed: its bindings go.
    void on_flow_closed(std::uint64_t connection_id);

    // sip::Transmitter
    bool send(const sip::Flow& to, std::string_view bytes) override;

    [[nodiscard]] const sip::Proxy& proxy() const { return *proxy_; }
    [[nodiscard]] net::Shard& shard() { return shard_; }

private:
    class StreamPort;

    std::optional<std::size_t> on_stream_data(core::Transport transport,
                                              std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& peer,
                                              net::StreamWriter& out);
    void on_stream_closed(core::Transport transport, net::StreamWriter& writer);
    bool send_stream(const sip::Flow& to, std::string_view bytes);
    net::StreamWriter* connection_to(core::Transport transport, const core::IpEndpoint& remote);
    static std::string peer_key(core::Transport transport, const core::IpEndpoint& remote);

    net::Shard& shard_;
    SipShared& shared_;
    std::unique_ptr<sip::Proxy> proxy_;
    std::vector<net::UdpEndpoint*> udp_;
    std::vector<net::TcpListener*> tcp_;
    std::vector<std::unique_ptr<StreamPort>> ports_; // one per stream transport in use
    std::unordered_map<std::uint64_t, net::StreamWriter*> connections_;
    // transport and "addr:port" -> the latest connection with that peer
    std::unordered_map<std::string, net::StreamWriter*> by_peer_;
};

} // namespace strowger::app
