#pragma once
// SIP over WebSocket between the web shard, which holds the connections (Beast, http/), and
// the SIP shards, which route: each connection is served by one SIP shard for its whole life
// (chosen by its id), so its messages, and the news that it closed, arrive there in order;
// what the SIP shards send to it is posted back to the web shard.
//
// CRLF keep-alives (RFC 7118 §6 with RFC 5626 §4.4.1) are answered here, on the web shard:
// "\r\n\r\n" gets "\r\n", a lone "\r\n" (a pong) nothing, and neither reaches the parser.

#include <cstdint>
#include <unordered_map>

#include "app/sip_service.hpp"
#include "http/web_server.hpp"
#include "sip/flow.hpp"

namespace strowger::net {
class Shard;
}

namespace strowger::app {

struct SipWsStats {
    std::uint64_t connections = 0;
    std::uint64_t messages = 0;
    std::uint64_t keepalives = 0;
};

class SipWsBridge final : public http::SipWsGateway {
public:
    // `web` is the web shard this runs on; `server` its HTTP service; `sip` what the SIP
    // shards share (filled before the shards start).
    SipWsBridge(net::Shard& web, http::WebServer& server, SipShared& sip);

    // The function SipShared::ws_send is set to: callable from any SIP shard.
    void send_from_sip(std::uint64_t connection, std::string message);

    // http::SipWsGateway (web shard)
    void sip_opened(std::uint64_t id, const core::IpEndpoint& peer, bool secure) override;
    void sip_message(std::uint64_t id, std::string_view bytes) override;
    void sip_closed(std::uint64_t id) override;

    [[nodiscard]] const SipWsStats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::size_t connection_count() const noexcept { return flows_.size(); }

private:
    SipService* shard_for(std::uint64_t id) const;

    net::Shard& web_;
    http::WebServer& server_;
    SipShared& sip_;
    std::unordered_map<std::uint64_t, sip::Flow> flows_;
    SipWsStats stats_;
};

} // namespace strowger::app
