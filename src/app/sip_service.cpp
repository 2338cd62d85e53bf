#include "app/sip_service.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

#include "net/shard.hpp"
#include "net/tcp_listener.hpp"
#include "net/udp_endpoint.hpp"
#include "sip/framing.hpp"

namespace strowger::app {
namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

} // namespace

// A listener's way into the service, tagged with the transport its connections carry.
class SipService::StreamPort final : public net::StreamHandler {
public:
    StreamPort(SipService& service, core::Transport transport)
        : service_(service), transport_(transport) {}

    std::optional<std::size_t> on_stream_data(std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& peer,
                                              net::StreamWriter& out) override {
        return service_.on_stream_data(transport_, data, peer, out);
    }
    std::size_t max_message_size() const override {
        return service_.shared_.config.max_message_bytes;
    }
    void on_stream_closed(net::StreamWriter& writer) override {
        service_.on_stream_closed(transport_, writer);
    }
    [[nodiscard]] core::Transport transport() const { return transport_; }

private:
    SipService& service_;
    core::Transport transport_;
};

SipService::SipService(net::Shard& shard, SipShared& shared) : shard_(shard), shared_(shared) {
    proxy_ = std::make_unique<sip::Proxy>(
        shard.index(), shard, *this, *shared.location, shared.identity, shared.config,
        shared.flow_key, [] { return static_cast<std::int64_t>(std::time(nullptr)); },
        [this](unsigned target, sip::Message&& message, const sip::Flow& from) {
            if (target >= shared_.shards.size()) {
                return; // a branch minted by another process (or forged): not ours
            }
            auto* other = shared_.shards[target];
            auto moved = std::make_shared<sip::Message>(std::move(message));
            other->shard().post([other, moved, from] {
                other->proxy_->on_handed_over(std::move(*moved), from);
            });
        });
}

SipService::~SipService() = default;

void SipService::attach(net::UdpEndpoint& udp) { udp_.push_back(&udp); }
void SipService::attach(net::TcpListener& tcp) { tcp_.push_back(&tcp); }

net::StreamHandler& SipService::stream_handler(core::Transport transport) {
    for (auto& port : ports_) {
        if (port->transport() == transport) {
            return *port;
        }
    }
    return *ports_.emplace_back(std::make_unique<StreamPort>(*this, transport));
}

std::string SipService::peer_key(core::Transport transport, const core::IpEndpoint& remote) {
    return std::string(core::to_string(transport)) + ":" + remote.to_string();
}

std::span<const std::uint8_t> SipService::on_datagram(std::span<const std::uint8_t> data,
                                                      const core::IpEndpoint& from,
                                                      std::span<std::uint8_t> reply_buffer) {
    (void)reply_buffer; // the proxy sends through send(), to wherever §18 says
    proxy_->on_bytes({reinterpret_cast<const char*>(data.data()), data.size()},
                     sip::Framing::Datagram, sip::Flow{core::Transport::Udp, from, 0});
    return {};
}

std::optional<std::size_t> SipService::on_stream_data(core::Transport transport,
                                                      std::span<const std::uint8_t> data,
                                                      const core::IpEndpoint& peer,
                                                      net::StreamWriter& out) {
    const auto id = out.connection_id();
    if (connections_.emplace(id, &out).second) {
        by_peer_[peer_key(transport, peer)] = &out;
    }
    std::string_view buffer{reinterpret_cast<const char*>(data.data()), data.size()};
    auto frame = sip::frame_stream(buffer, shared_.config.max_message_bytes);
    for (std::size_t i = 0; i < frame.pings; ++i) {
        out.write(as_bytes("\r\n")); // RFC 5626 §3.5.1: a CRLF pong for each CRLFCRLF ping
    }
    switch (frame.kind) {
    case sip::StreamFrame::Kind::NeedMore:
        return frame.skipped;
    case sip::StreamFrame::Kind::Malformed:
        spdlog::debug("sip {} {}: cannot frame the stream ({}), closing",
                      core::to_string(transport), peer.to_string(), sip::describe(frame.error));
        return std::nullopt;
    case sip::StreamFrame::Kind::Complete:
        break;
    }
    proxy_->on_bytes(buffer.substr(frame.skipped, frame.size), sip::Framing::Stream,
                     sip::Flow{transport, peer, id});
    return frame.consumed();
}

void SipService::on_ws_message(const sip::Flow& from, std::string_view bytes) {
    // Each WebSocket message is one SIP message, ended where the message ends (RFC 7118
    // §4.2): framed like a datagram, so that a missing Content-Length means "the rest".
    proxy_->on_bytes(bytes, sip::Framing::Datagram, from);
}

void SipService::on_flow_closed(std::uint64_t connection_id) {
    proxy_->on_flow_closed(connection_id);
}

void SipService::on_stream_closed(core::Transport transport, net::StreamWriter& writer) {
    if (transport != core::Transport::Tcp) {
        on_flow_closed(writer.connection_id()); // TLS: a phone behind it is unreachable now
    }
    connections_.erase(writer.connection_id());
    auto it = by_peer_.find(peer_key(transport, writer.peer()));
    if (it != by_peer_.end() && it->second == &writer) {
        by_peer_.erase(it);
    }
}

bool SipService::send(const sip::Flow& to, std::string_view bytes) {
    if (core::is_stream(to.transport)) {
        return send_stream(to, bytes);
    }
    for (auto* udp : udp_) {
        if (udp->spec().endpoint.is_v6() == to.remote.is_v6()) {
            return udp->send_to(to.remote, as_bytes(bytes));
        }
    }
    spdlog::debug("sip: no UDP listener of the family of {}", to.remote.to_string());
    return false;
}

bool SipService::send_stream(const sip::Flow& to, std::string_view bytes) {
    if (to.connection_id != 0) {
        auto owner = core::connection_shard(to.connection_id);
        if (owner == shared_.web_shard) {
            if (shared_.ws_send) {
                shared_.ws_send(to.connection_id, std::string(bytes));
                return true;
            }
            return false;
        }
        if (owner != shard_.index() && owner < shared_.shards.size()) {
            // The connection lives on its own shard: hand the bytes over. A connection that
            // closed meanwhile drops them, as a lost datagram would be.
            auto* other = shared_.shards[owner];
            other->shard().post([other, to, data = std::string(bytes)] {
                other->send_stream(to, data);
            });
            return true;
        }
        if (auto it = connections_.find(to.connection_id); it != connections_.end()) {
            it->second->write(as_bytes(bytes));
            return true;
        }
    }
    // No connection named (or it is gone): reuse one to that address, or open one (§18.1.1).
    auto* conn = connection_to(to.transport, to.remote);
    if (conn == nullptr) {
        return false;
    }
    conn->write(as_bytes(bytes));
    return true;
}

net::StreamWriter* SipService::connection_to(core::Transport transport,
                                             const core::IpEndpoint& remote) {
    const auto key = peer_key(transport, remote);
    if (auto it = by_peer_.find(key); it != by_peer_.end()) {
        return it->second;
    }
    if (transport != core::Transport::Tcp) {
        // TLS and WebSocket flows are the peer's to open: a phone on them is reached over the
        // connection it registered on, or not at all.
        spdlog::debug("sip: no {} connection to {}", core::to_string(transport),
                      remote.to_string());
        return nullptr;
    }
    for (auto* tcp : tcp_) {
        if (tcp->spec().endpoint.is_v6() == remote.is_v6()) {
            auto* conn = tcp->connect(remote);
            if (conn != nullptr) {
                connections_.emplace(conn->connection_id(), conn);
                by_peer_[key] = conn;
            }
            return conn;
        }
    }
    return nullptr;
}

} // namespace strowger::app
