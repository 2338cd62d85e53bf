// The data path of the TURN server: Send indications and ChannelData from clients, datagrams
// from peers (RFC 8656 §10, §12). Called once per relayed packet, so it does no allocation and
// no logging; drops are counted.

#include <algorithm>

#include "core/byte_reader.hpp"
#include "stun/message_writer.hpp"
#include "turn/constants.hpp"
#include "turn/server.hpp"

namespace strowger::turn {

bool TurnServer::may_send(const Allocation& a, const core::IpEndpoint& peer, TimePoint now) {
    const auto* permission = a.permission_for(peer, now);
    if (permission == nullptr) {
        return false;
    }
    // A permission for one of our own addresses covers only its relay endpoints, which come
    // and go: the port is checked each time, so nothing reaches the server's other services.
    return !permission->relay_only || deps_.io.is_relay_endpoint(peer);
}

void TurnServer::relay_to_peer(Allocation& a, const core::IpEndpoint& peer,
                               std::span<const std::uint8_t> data, bool dont_fragment,
                               TimePoint now) {
    if (!may_send(a, peer, now) || !a.rate.take(data.size(), now)) {
        ++stats_.dropped;
        return;
    }
    deps_.io.send_to_peer(a.relay, peer, data, dont_fragment);
    ++a.stats.packets_to_peer;
    a.stats.bytes_to_peer += data.size();
    ++stats_.packets_to_peer;
    stats_.bytes_to_peer += data.size();
}

void TurnServer::on_send_indication(const stun::Message& m, const ClientFlow& flow) {
    auto* a = find(flow);
    const auto* peer_attr = m.find(attr::kXorPeerAddress);
    const auto* data = m.find(attr::kData);
    if (a == nullptr || peer_attr == nullptr || data == nullptr) {
        ++stats_.dropped; // §10.2: no allocation, or not a usable Send: silently discarded
        return;
    }
    auto peer = stun::decode_xor_address(peer_attr->value, m.cookie_and_transaction_id());
    if (!peer || peer->family != a->relayed.family) {
        ++stats_.dropped;
        return;
    }
    relay_to_peer(*a, *peer, data->value, m.find(attr::kDontFragment) != nullptr,
                  deps_.timers.now());
}

void TurnServer::on_channel_data(std::span<const std::uint8_t> bytes, const ClientFlow& flow) {
    if (bytes.size() < kChannelHeaderSize) {
        ++stats_.malformed;
        return;
    }
    auto number = core::load_u16be(bytes.data());
    std::size_t length = core::load_u16be(bytes.data() + 2);
    // §12.5: over UDP the datagram may carry padding past the length; less is malformed.
    if (length > bytes.size() - kChannelHeaderSize) {
        ++stats_.malformed;
        return;
    }
    auto* a = find(flow);
    if (a == nullptr) {
        ++stats_.dropped;
        return;
    }
    auto now = deps_.timers.now();
    const auto* channel = a->channel_by_number(number, now);
    if (channel == nullptr) {
        ++stats_.dropped;
        return;
    }
    relay_to_peer(*a, channel->peer, bytes.subspan(kChannelHeaderSize, length), false, now);
}

void TurnServer::on_peer_data(std::uint32_t relay, const core::IpEndpoint& peer,
                              std::span<const std::uint8_t> data) noexcept {
    auto it = by_relay_.find(relay);
    if (it == by_relay_.end() || data.size() > 0xFFFF) {
        ++stats_.dropped;
        return;
    }
    auto& a = *it->second;
    auto now = deps_.timers.now();
    // §10.3: only peers the client gave a permission may reach it.
    if (a.permission_for(peer, now) == nullptr || !a.rate.take(data.size(), now)) {
        ++stats_.dropped;
        return;
    }
    std::span<const std::uint8_t> out;
    if (const auto* channel = a.channel_by_peer(peer, now)) {
        // §12.6: ChannelData; over a stream it is padded to a multiple of 4 (§12.5).
        std::size_t padded = is_stream(a.flow.transport) ? (data.size() + 3) & ~std::size_t{3}
                                                         : data.size();
        core::store_u16be(data_.data(), channel->number);
        core::store_u16be(data_.data() + 2, static_cast<std::uint16_t>(data.size()));
        std::copy(data.begin(), data.end(), data_.begin() + kChannelHeaderSize);
        std::fill(data_.begin() + static_cast<std::ptrdiff_t>(kChannelHeaderSize + data.size()),
                  data_.begin() + static_cast<std::ptrdiff_t>(kChannelHeaderSize + padded), 0);
        out = std::span(data_).first(kChannelHeaderSize + padded);
    } else {
        // §10.3: a Data indication. Its transaction id only has to differ between messages.
        std::array<std::uint8_t, 16> id{};
        core::store_u32be(id.data(), stun::kMagicCookie);
        next_indication_ += 0x9E3779B97F4A7C15ULL;
        core::store_u32be(id.data() + 4, static_cast<std::uint32_t>(next_indication_ >> 32));
        core::store_u32be(id.data() + 8, static_cast<std::uint32_t>(next_indication_));
        core::store_u32be(id.data() + 12, relay);
        stun::MessageWriter w(data_);
        w.begin(stun::message_type(method::kData, stun::MessageClass::Indication), id);
        w.add_xor_address(attr::kXorPeerAddress, peer);
        w.add(attr::kData, data);
        out = w.bytes();
        if (out.empty()) {
            ++stats_.dropped;
            return;
        }
    }
    deps_.io.send_to_client(a.flow, out);
    ++a.stats.packets_to_client;
    a.stats.bytes_to_client += data.size();
    ++stats_.packets_to_client;
    stats_.bytes_to_client += data.size();
}

} // namespace strowger::turn
