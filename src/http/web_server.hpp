#pragma once
// The HTTP service (Boost.Beast, kept out of this header): HTTP/1.0 and 1.1 with keep-alive,
// HTTPS on tls: listeners, the long-poll signaling endpoints, WebSocket signaling at /ws, the
// embedded web apps, and the API the application supplies (/api/ice-servers, /metrics). All
// of it runs on one shard, which owns the signaling rooms, so no state is shared across
// threads.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

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

struct WebStats {
    std::uint64_t accepted = 0;
    std::uint64_t requests = 0;
    std::uint64_t malformed = 0;     // unparseable requests (answered 400) and TLS failures
    std::uint64_t websockets = 0;    // upgrades accepted
    std::uint64_t ws_malformed = 0;  // protocol errors and binary frames on /ws
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
    // tls: listener, which must outlive this.
    void listen(const core::ListenSpec& spec, int fd, const net::TlsContext* tls);
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
