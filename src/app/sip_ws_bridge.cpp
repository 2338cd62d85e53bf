#include "app/sip_ws_bridge.hpp"

#include <memory>

#include "net/shard.hpp"

namespace strowger::app {

SipWsBridge::SipWsBridge(net::Shard& web, http::WebServer& server, SipShared& sip)
    : web_(web), server_(server), sip_(sip) {}

SipService* SipWsBridge::shard_for(std::uint64_t id) const {
    if (sip_.shards.empty()) {
        return nullptr;
    }
    // The low bits of the counter: connections spread evenly over the SIP shards.
    return sip_.shards[(id & 0xFFFF'FFFF'FFFFULL) % sip_.shards.size()];
}

void SipWsBridge::send_from_sip(std::uint64_t connection, std::string message) {
    web_.post([this, connection, message = std::move(message)]() mutable {
        server_.sip_send(connection, std::move(message));
    });
}

void SipWsBridge::sip_opened(std::uint64_t id, const core::IpEndpoint& peer, bool secure) {
    ++stats_.connections;
    flows_.emplace(id, sip::Flow{secure ? core::Transport::Wss : core::Transport::Ws, peer, id});
}

void SipWsBridge::sip_message(std::uint64_t id, std::string_view bytes) {
    auto it = flows_.find(id);
    auto* target = shard_for(id);
    if (it == flows_.end() || target == nullptr) {
        return;
    }
    if (bytes.find_first_not_of("\r\n") == std::string_view::npos) {
        ++stats_.keepalives;
        if (bytes == "\r\n\r\n") {
            server_.sip_send(id, "\r\n"); // a ping: pong; anything else CRLF-only is a pong
        }
        return;
    }
    ++stats_.messages;
    target->shard().post([target, flow = it->second, message = std::string(bytes)] {
        target->on_ws_message(flow, message);
    });
}

void SipWsBridge::sip_closed(std::uint64_t id) {
    flows_.erase(id);
    if (auto* target = shard_for(id)) {
        target->shard().post([target, id] { target->on_flow_closed(id); });
    }
}

} // namespace strowger::app
