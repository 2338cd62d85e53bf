#pragma once
// The HTTP service (Boost.Beast, kept out of this header): HTTP/1.0 and 1.1 with keep-alive,
// HTTPS on tls: listeners, the long-poll signaling endpoints, WebSocket signaling at /ws, SIP
// over WebSocket at /sip (and on listeners of its own), the embedded web apps, and the API the
// application supplies (/api/ice-servers, /metrics). All
// of it runs on one shard, which owns the signaling rooms, so no state is shared across
// threads.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/ip_endpoint.hpp"
#include "core/listen_spec.hpp"

namespace strowger::net {
class Shard;
class TlsContext;
} // namespace strowger::net

namespace strowger::signaling {
class LongPollRoom;
class WsRoom;
} // namespace strowger::signaling

namespace strowger::http {

// What the application answers itself.
class WebApi {
public:
    virtual ~WebApi() = default;
    // The body of GET /api/ice-servers (JSON) for a page loaded from `host` (no port).
    virtual std::string ice_servers(std::string_view host) = 0;
    // The body of GET /metrics. Counters live on other shards, so it is asynchronous: `done`
    // is called later on the web shard (or never, when the server stops first).
    virtual void metrics(std::function<void(std::string)> done) = 0;
};

// Where SIP over WebSocket (RFC 7118) goes: the application's SIP service. Called on the web
// shard; each connection has an id (core/connection_id.hpp, naming the web shard) that the
// service uses to answer through WebServer::sip_send.
class SipWsGateway {
public:
    virtual ~SipWsGateway() = default;
    // A connection that completed its upgrade; `secure` for wss (over TLS).
    virtual void sip_opened(std::uint64_t id, const core::IpEndpoint& peer, bool secure) = 0;
    // One WebSocket message: one SIP message, or a CRLF keep-alive (RFC 7118 §4.2, §6).
    virtual void sip_message(std::uint64_t id, std::string_view bytes) = 0;
    virtual void sip_closed(std::uint64_t id) = 0;
};

// What a listener serves: the web service (HTTP, /ws signaling, and SIP over WebSocket at
// /sip), or only SIP over WebSocket, at any path (the ws:/wss: entries of sip.listen).
enum class ListenerRole : std::uint8_t { Web, Sip };

struct WebStats {
    std::uint64_t accepted = 0;
    std::uint64_t requests = 0;
    std::uint64_t malformed = 0;     // unparseable requests (answered 400) and TLS failures
    std::uint64_t websockets = 0;    // upgrades accepted
    std::uint64_t ws_malformed = 0;  // protocol errors and binary frames on /ws
    std::uint64_t sip_websockets = 0; // SIP over WebSocket upgrades accepted
    std::uint64_t sip_ws_refused = 0; // upgrades refused (no "sip" subprotocol, bad path)
    std::uint64_t sip_ws_errors = 0;  // connections closed for oversized or bad frames
};

class WebServer {
public:
    // `server_header` is the Server header's value ("Strowger/0.1.0").
    WebServer(net::Shard& shard, WebApi& api, signaling::LongPollRoom& long_poll,
              signaling::WsRoom& ws, std::string server_header);
    ~WebServer();
    WebServer(const WebServer&) = delete;
    WebServer& operator=(const WebServer&) = delete;

    // `fd`: a bound, listening socket (open_reuseport_socket), owned from now on. `tls` for a
    // tls: (or wss:) listener, which must outlive this.
    void listen(const core::ListenSpec& spec, int fd, const net::TlsContext* tls,
                ListenerRole role = ListenerRole::Web);
    // SIP over WebSocket: where its messages go (before start), the largest message taken
    // (larger ones close the connection with 1009), and, from the web shard, sending one
    // SIP message to a connection or closing it. Unknown ids (gone already) are ignored.
    void set_sip_gateway(SipWsGateway* gateway, std::size_t max_message_bytes,
                         std::chrono::seconds idle_timeout);
    void sip_send(std::uint64_t id, std::string message);
    void sip_close(std::uint64_t id);
    // From the shard's thread.
    void start();
    // Stops accepting and closes the connections (from the shard's thread).
    void close();

    [[nodiscard]] const WebStats& stats() const noexcept;
    [[nodiscard]] std::size_t connection_count() const noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace strowger::http
