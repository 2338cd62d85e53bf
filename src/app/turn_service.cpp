#include "app/turn_service.hpp"

#include <ctime>

#include "core/byte_reader.hpp"
#include "net/shard.hpp"
#include "net/udp_endpoint.hpp"
#include "turn/constants.hpp"

namespace strowger::app {
namespace {

// RFC 7983 demultiplexing on the STUN port: Binding (any class) goes to the Binding service,
// which also counts what is not STUN at all; other STUN methods and ChannelData are TURN's.
bool is_turn(std::span<const std::uint8_t> data) {
    if (data.size() >= turn::kChannelHeaderSize && turn::is_channel_data(data[0])) {
        return true;
    }
    return data.size() >= stun::kHeaderSize && (data[0] & 0xC0) == 0 &&
           stun::method_of(core::load_u16be(data.data())) != stun::method::kBinding;
}

} // namespace

// Tells the service which UDP listener a datagram came in on: the server side of the 5-tuple.
class TurnService::UdpPort final : public net::DatagramHandler {
public:
    UdpPort(TurnService& service, std::size_t index) : service_(service), index_(index) {}
    std::span<const std::uint8_t> on_datagram(std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& from,
                                              std::span<std::uint8_t> reply_buffer) override {
        return service_.on_datagram(index_, data, from, reply_buffer);
    }

private:
    TurnService& service_;
    std::size_t index_;
};

TurnService::TurnService(net::Shard& shard, TurnShared& shared, std::string software)
    : shard_(shard),
      shared_(shared),
      binding_(software),
      turn_(shared.config,
            turn::TurnDependencies{*this, shard, *shared.authenticator, *shared.nonces,
                                   *shared.quota, *shared.policy,
                                   [] { return static_cast<std::int64_t>(std::time(nullptr)); }}) {}

TurnService::~TurnService() { close(); }

net::DatagramHandler& TurnService::udp_handler(std::size_t listener) {
    while (ports_.size() <= listener) {
        ports_.push_back(std::make_unique<UdpPort>(*this, ports_.size()));
        udp_.push_back(nullptr);
    }
    return *ports_[listener];
}

void TurnService::attach(std::size_t listener, net::UdpEndpoint& endpoint) {
    udp_handler(listener);
    udp_[listener] = &endpoint;
}

std::span<const std::uint8_t> TurnService::on_datagram(std::size_t listener,
                                                       std::span<const std::uint8_t> data,
                                                       const core::IpEndpoint& from,
                                                       std::span<std::uint8_t> reply_buffer) {
    if (!is_turn(data)) {
        return binding_.handle(data, from, reply_buffer);
    }
    turn::ClientFlow flow{turn::ClientTransport::Udp, static_cast<std::uint32_t>(listener), 0,
                          from};
    turn_.on_client_message(data, flow); // answers through send_to_client
    return {};
}

std::optional<std::size_t> TurnService::on_stream_data(std::span<const std::uint8_t> data,
                                                       const core::IpEndpoint& peer,
                                                       net::StreamWriter& out) {
    // ChannelData can only follow a TURN request on the same connection (a ChannelBind); as a
    // first message it is some other protocol that happens to start with 64-127 ("GET ..."),
    // and waiting for its "length" would hold the connection open for nothing.
    if (!data.empty() && turn::is_channel_data(data[0]) &&
        !streams_.contains(out.connection_id())) {
        return std::nullopt;
    }
    auto length = turn::TurnServer::frame_length(data);
    if (!length || *length == 0) {
        return length;
    }
    auto frame = data.first(*length);
    if (!is_turn(frame)) {
        std::array<std::uint8_t, stun::BindingService::kMaxResponse> reply{};
        auto response = binding_.handle(frame, peer, reply);
        if (!response.empty()) {
            out.write(response);
        }
        return length;
    }
    streams_[out.connection_id()] = &out;
    turn::ClientFlow flow{turn::ClientTransport::Tcp, 0, out.connection_id(), peer};
    turn_.on_client_message(frame, flow);
    return length;
}

void TurnService::on_stream_closed(net::StreamWriter& writer) {
    turn_.on_connection_closed(writer.connection_id());
    streams_.erase(writer.connection_id());
}

void TurnService::on_relay_datagram(std::uint32_t relay, const core::IpEndpoint& from,
                                    std::span<const std::uint8_t> data) {
    if (!holding_sends_) {
        for (auto* u : udp_) {
            if (u != nullptr) {
                u->hold_sends();
            }
        }
        holding_sends_ = true;
    }
    turn_.on_peer_data(relay, from, data);
}

void TurnService::on_relay_batch_end() {
    if (!holding_sends_) {
        return;
    }
    holding_sends_ = false;
    for (auto* u : udp_) {
        if (u != nullptr) {
            u->release_sends();
        }
    }
}

core::Result<turn::RelayOpened, turn::RelayError> TurnService::open_relay(
    const turn::RelayRequest& request) {
    auto opened = shared_.ports->open(request);
    if (!opened) {
        return core::unexpected(opened.error());
    }
    auto id = ++next_relay_;
    auto* socket = new net::RelaySocket(shard_, opened->fd, request.ipv6, id, *this, scratch_,
                                        relay_stats_);
    socket->start();
    relays_[id] = {socket, opened->port};
    auto local = shared_.ports->address();
    local.port = opened->port;
    return turn::RelayOpened{id, local, opened->reservation};
}

void TurnService::close_relay(std::uint32_t relay) {
    auto it = relays_.find(relay);
    if (it == relays_.end()) {
        return;
    }
    it->second.socket->close_and_delete();
    shared_.ports->release(it->second.port);
    relays_.erase(it);
}

void TurnService::send_to_peer(std::uint32_t relay, const core::IpEndpoint& peer,
                               std::span<const std::uint8_t> data, bool dont_fragment) {
    auto it = relays_.find(relay);
    if (it != relays_.end()) {
        it->second.socket->send_to(peer, data, dont_fragment);
    }
}

void TurnService::send_to_client(const turn::ClientFlow& flow,
                                 std::span<const std::uint8_t> data) {
    if (flow.transport == turn::ClientTransport::Udp) {
        if (flow.listener < udp_.size() && udp_[flow.listener] != nullptr) {
            udp_[flow.listener]->send_to(flow.remote, data);
        }
        return;
    }
    auto it = streams_.find(flow.connection);
    if (it != streams_.end()) {
        it->second->write(data);
    }
}

bool TurnService::is_relay_endpoint(const core::IpEndpoint& address) const {
    return shared_.ports->is_relay_endpoint(address);
}

void TurnService::close() {
    for (auto& [id, relay] : relays_) {
        relay.socket->close_and_delete();
        shared_.ports->release(relay.port);
    }
    relays_.clear();
}

} // namespace strowger::app
