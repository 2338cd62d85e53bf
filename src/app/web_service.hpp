#pragma once
// The web shard: one thread of its own that runs the HTTP service (http.listen) and owns the
// signaling rooms, so that signaling never waits behind SIP or relayed media, and every
// member of a room is reachable from every connection without locks.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "app/config.hpp"
#include "app/ice_servers.hpp"
#include "app/metrics.hpp"
#include "app/sip_ws_bridge.hpp"
#include "http/web_server.hpp"
#include "net/shard.hpp"
#include "signaling/long_poll_room.hpp"
#include "signaling/ws_room.hpp"

namespace strowger::net {
class TlsContext;
}

namespace strowger::app {

class WebService final : public http::WebApi {
public:
    // Fills a snapshot with the other shards' counters and calls `done` with it on the web
    // shard; the server provides it, as it owns those shards.
    using MetricsSource = std::function<void(std::function<void(MetricsSnapshot)> done)>;

    WebService(unsigned shard_index, const Config& config, std::string rest_secret,
               MetricsSource metrics_source);
    ~WebService() override;
    WebService(const WebService&) = delete;
    WebService& operator=(const WebService&) = delete;

    // Opens every http.listen socket; `tls` serves the tls: entries. Throws StartupError.
    void open(const std::vector<core::ListenSpec>& listen, const net::TlsContext* tls);
    // SIP over WebSocket, at /sip on every http.listen listener and on the ws:/wss: entries of
    // sip.listen (`tls` for wss:), bridged to the SIP shards of `sip`. Before start().
    void open_sip(SipShared& sip, const std::vector<core::ListenSpec>& sip_listen,
                  const net::TlsContext* tls, std::size_t max_message_bytes,
                  std::chrono::seconds idle_timeout);
    void start();
    void stop();

    net::Shard& shard() noexcept { return shard_; }
    [[nodiscard]] const http::WebServer& server() const noexcept { return server_; }
    [[nodiscard]] const signaling::LongPollRoom& long_poll() const noexcept { return long_poll_; }
    [[nodiscard]] const signaling::WsRoom& ws() const noexcept { return ws_; }

    // http::WebApi
    std::string ice_servers(std::string_view host) override;
    void metrics(std::function<void(std::string)> done) override;

private:
    net::Shard shard_;
    std::unique_ptr<SipWsBridge> sip_bridge_;
    signaling::LongPollRoom long_poll_;
    signaling::WsRoom ws_;
    http::WebServer server_;
    IceServersConfig ice_;
    MetricsSource metrics_source_;
};

} // namespace strowger::app
