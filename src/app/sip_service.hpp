#pragma once
// Wires the sans-IO SIP proxy to the network: one instance per shard, serving that shard's UDP
// sockets and TCP connections, and sending for its proxy. A connection belongs to the shard
// that accepted (or opened) it, so a message for a connection of another shard is posted
// there; so is a response whose Via branch names another shard's transaction.

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
};

class SipService final : public net::DatagramHandler,
                         public net::StreamHandler,
                         public sip::Transmitter {
public:
    SipService(net::Shard& shard, SipShared& shared);
    ~SipService() override;

    void attach(net::UdpEndpoint& udp);
    void attach(net::TcpListener& tcp);

    // net::DatagramHandler
    std::span<const std::uint8_t> on_datagram(std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& from,
                                              std::span<std::uint8_t> reply_buffer) override;
    // net::StreamHandler
    std::optional<std::size_t> on_stream_data(std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& peer,
                                              net::StreamWriter& out) override;
    std::size_t max_message_size() const override { return shared_.config.max_message_bytes; }
    void on_stream_closed(net::StreamWriter& writer) override;

    // sip::Transmitter
    bool send(const sip::Flow& to, std::string_view bytes) override;

    [[nodiscard]] const sip::Proxy& proxy() const { return *proxy_; }
    [[nodiscard]] net::Shard& shard() { return shard_; }

private:
    bool send_stream(const sip::Flow& to, std::string_view bytes);
    net::StreamWriter* connection_to(const core::IpEndpoint& remote);

    net::Shard& shard_;
    SipShared& shared_;
    std::unique_ptr<sip::Proxy> proxy_;
    std::vector<net::UdpEndpoint*> udp_;
    std::vector<net::TcpListener*> tcp_;
    std::unordered_map<std::uint64_t, net::StreamWriter*> connections_;
    std::unordered_map<std::string, net::StreamWriter*> by_peer_; // "addr:port" -> latest
};

} // namespace strowger::app
