#pragma once
// GET /metrics: what an operator watches, in the Prometheus text format (version 0.0.4).
// Counters live in each shard, unsynchronised; a scrape copies them on each shard's own
// thread (MetricsSnapshot) and renders the sum here.

#include <cstdint>
#include <string>
#include <vector>

#include "http/web_server.hpp"
#include "sip/proxy.hpp"
#include "stun/binding_service.hpp"
#include "turn/server.hpp"

namespace strowger::app {

// One shard's counters, copied on its thread.
struct ShardMetrics {
    sip::ProxyStats sip;
    sip::AuthStats sip_auth;
    std::size_t sip_server_transactions = 0;
    std::size_t sip_client_transactions = 0;
    stun::BindingStats stun;
    turn::TurnStats turn;
    std::size_t turn_allocations = 0;
};

struct MetricsSnapshot {
    std::vector<ShardMetrics> shards;
    std::size_t sip_bindings = 0;
    std::size_t sip_auth_locked = 0; // source addresses locked out now
    std::size_t sip_ws_connections = 0; // SIP over WebSocket connections open
    std::size_t long_poll_peers = 0;
    std::size_t websocket_peers = 0;
    std::uint64_t websocket_malformed = 0; // bad JSON or messages, and bad frames
    std::uint64_t sip_ws_malformed = 0;    // SIP over WebSocket: refused upgrades, bad frames
    http::WebStats http;
};

std::string render_metrics(const MetricsSnapshot& snapshot);

} // namespace strowger::app
