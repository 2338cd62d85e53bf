#include "app/web_service.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

#include "app/server.hpp"
#include "app/version.hpp"
#include "turn/crypto.hpp"

namespace strowger::app {

namespace {

std::string server_header() { return std::string("Strowger/") + kVersion; }

} // namespace

WebService::WebService(unsigned shard_index, const Config& config, std::string rest_secret,
                       MetricsSource metrics_source)
    : shard_(shard_index),
      long_poll_(shard_, server_header()),
      ws_(shard_),
      server_(shard_, *this, long_poll_, ws_, server_header()),
      ice_{config.stun_listen, config.turn.external_address, std::move(rest_secret),
           config.turn.rest_lifetime},
      metrics_source_(std::move(metrics_source)) {}

WebService::~WebService() = default;

void WebService::open(const std::vector<core::ListenSpec>& listen, const net::TlsContext* tls) {
    for (const auto& spec : listen) {
        int fd = open_listen_socket("http.listen", spec);
        server_.listen(spec, fd, spec.transport == core::Transport::Tls ? tls : nullptr);
    }
}

void WebService::open_sip(SipShared& sip, const std::vector<core::ListenSpec>& sip_listen,
                          const net::TlsContext* tls, std::size_t max_message_bytes,
                          std::chrono::seconds idle_timeout) {
    sip_bridge_ = std::make_unique<SipWsBridge>(shard_, server_, sip);
    server_.set_sip_gateway(sip_bridge_.get(), max_message_bytes, idle_timeout);
    sip.web_shard = shard_.index();
    sip.ws_send = [bridge = sip_bridge_.get()](std::uint64_t connection, std::string message) {
        bridge->send_from_sip(connection, std::move(message));
    };
    for (const auto& spec : sip_listen) {
        if (spec.transport != core::Transport::Ws && spec.transport != core::Transport::Wss) {
            continue;
        }
        int fd = open_listen_socket("sip.listen", spec);
        server_.listen(spec, fd, spec.transport == core::Transport::Wss ? tls : nullptr,
                       http::ListenerRole::Sip);
    }
}

void WebService::start() {
    shard_.start();
    shard_.post([this] { server_.start(); });
}

void WebService::stop() {
    shard_.stop([this] {
        server_.close();
        long_poll_.close();
    });
    const auto& lp = long_poll_.stats();
    const auto& ws = ws_.stats();
    const auto& web = server_.stats();
    if (sip_bridge_) {
        const auto& b = sip_bridge_->stats();
        spdlog::info("web: sip over websocket connections={} messages={} keepalives={} "
                     "refused={} errors={}",
                     b.connections, b.messages, b.keepalives, web.sip_ws_refused,
                     web.sip_ws_errors);
    }
    spdlog::info("web: http accepted={} requests={} malformed={} websockets={}; long-poll "
                 "sign_ins={} sign_outs={} timeouts={} messages={} refused={}; ws messages={} "
                 "relayed={} malformed={} refused={} closed_for_abuse={}",
                 web.accepted, web.requests, web.malformed, web.websockets, lp.sign_ins,
                 lp.sign_outs, lp.timeouts, lp.messages, lp.refused, ws.messages, ws.relayed,
                 ws.malformed, ws.refused, ws.closed_for_abuse);
}

std::string WebService::ice_servers(std::string_view host) {
    // A user name of its own per answer, so that TURN's per-user quota applies per page.
    std::array<std::uint8_t, 4> tag{};
    turn::random_bytes(tag);
    return ice_servers_json(ice_, host, static_cast<std::int64_t>(std::time(nullptr)),
                            "web-" + turn::hex(tag));
}

void WebService::metrics(std::function<void(std::string)> done) {
    metrics_source_([this, done = std::move(done)](MetricsSnapshot snapshot) {
        snapshot.long_poll_peers = long_poll_.member_count();
        snapshot.websocket_peers = ws_.online();
        snapshot.http = server_.stats();
        snapshot.websocket_malformed = ws_.stats().malformed + server_.stats().ws_malformed;
        snapshot.sip_ws_malformed = server_.stats().sip_ws_refused + server_.stats().sip_ws_errors;
        snapshot.sip_ws_connections = sip_bridge_ ? sip_bridge_->connection_count() : 0;
        done(render_metrics(snapshot));
    });
}

} // namespace strowger::app
