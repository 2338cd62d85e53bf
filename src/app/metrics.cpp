#include "app/metrics.hpp"

#include <fmt/format.h>

#include <functional>

#include "app/version.hpp"

namespace strowger::app {

namespace {

class Writer {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }
    void sample(std::string_view name, std::uint64_t value, std::string_view labels = {}) {
        if (labels.empty()) {
            out_ += fmt::format("{} {}\n", name, value);
        } else {
            out_ += fmt::format("{}{{{}}} {}\n", name, labels, value);
        }
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

template <class Field>
std::uint64_t sum(const MetricsSnapshot& s, Field field) {
    std::uint64_t total = 0;
    for (const auto& shard : s.shards) {
        total += static_cast<std::uint64_t>(std::invoke(field, shard));
    }
    return total;
}

} // namespace

std::string render_metrics(const MetricsSnapshot& s) {
    Writer w;
    w.family("strowger_build_info", "gauge", "The running version.");
    w.sample("strowger_build_info", 1, fmt::format("version=\"{}\"", kVersion));

    w.family("strowger_sip_requests_total", "counter",
             "Well-formed SIP requests received, by method.");
    for (std::size_t i = 0; i <= sip::kCountedMethods.size(); ++i) {
        auto method = i < sip::kCountedMethods.size() ? sip::kCountedMethods[i] : "other";
        w.sample("strowger_sip_requests_total",
                 sum(s, [i](const ShardMetrics& m) { return m.sip.requests_by_method[i]; }),
                 fmt::format("method=\"{}\"", method));
    }
    w.family("strowger_sip_responses_total", "counter",
             "Well-formed SIP responses received, by status code.");
    for (std::size_t code = 100; code < 700; ++code) {
        auto n = sum(s, [code](const ShardMetrics& m) { return m.sip.responses_by_code[code - 100]; });
        if (n != 0) { // 600 mostly empty series would drown the rest
            w.sample("strowger_sip_responses_total", n, fmt::format("code=\"{}\"", code));
        }
    }
    w.family("strowger_sip_transactions", "gauge", "Live SIP transactions.");
    w.sample("strowger_sip_transactions", sum(s, &ShardMetrics::sip_server_transactions),
             "kind=\"server\"");
    w.sample("strowger_sip_transactions", sum(s, &ShardMetrics::sip_client_transactions),
             "kind=\"client\"");
    const auto answered = sum(s, [](const ShardMetrics& m) { return m.sip.calls_answered; });
    const auto ended = sum(s, [](const ShardMetrics& m) { return m.sip.calls_ended; });
    w.family("strowger_sip_calls", "gauge",
             "Live calls: INVITEs answered 2xx less BYEs answered 2xx through this proxy.");
    w.sample("strowger_sip_calls", answered > ended ? answered - ended : 0);
    w.family("strowger_sip_calls_answered_total", "counter", "INVITEs answered 2xx.");
    w.sample("strowger_sip_calls_answered_total", answered);
    w.family("strowger_sip_calls_ended_total", "counter", "BYEs answered 2xx.");
    w.sample("strowger_sip_calls_ended_total", ended);
    w.family("strowger_sip_websocket_connections", "gauge",
             "SIP over WebSocket connections open (ws and wss).");
    w.sample("strowger_sip_websocket_connections", s.sip_ws_connections);
    w.family("strowger_sip_bindings", "gauge", "Registered contact bindings.");
    w.sample("strowger_sip_bindings", s.sip_bindings);

    w.family("strowger_sip_auth_total", "counter",
             "SIP digest authentication outcomes: challenges sent (stale ones included), "
             "requests let through, failures (wrong password, unknown user, replayed "
             "nonce-count, another user's identity), refusals of locked-out addresses and "
             "unreadable credentials.");
    const std::pair<const char*, std::uint64_t sip::AuthStats::*> outcomes[] = {
        {"challenge", &sip::AuthStats::challenges},  {"stale", &sip::AuthStats::stale},
        {"success", &sip::AuthStats::successes},     {"failure", &sip::AuthStats::failures},
        {"replay", &sip::AuthStats::replays},        {"locked", &sip::AuthStats::locked_refusals},
        {"malformed", &sip::AuthStats::malformed}};
    for (const auto& [name, field] : outcomes) {
        w.sample("strowger_sip_auth_total",
                 sum(s, [field = field](const ShardMetrics& m) { return m.sip_auth.*field; }),
                 fmt::format("result=\"{}\"", name));
    }
    w.family("strowger_sip_auth_lockouts_total", "counter",
             "Source addresses locked out after repeated failed logins.");
    w.sample("strowger_sip_auth_lockouts_total",
             sum(s, [](const ShardMetrics& m) { return m.sip_auth.lockouts; }));
    w.family("strowger_sip_auth_locked_addresses", "gauge",
             "Source addresses locked out now.");
    w.sample("strowger_sip_auth_locked_addresses", s.sip_auth_locked);

    w.family("strowger_turn_allocations", "gauge", "Live TURN allocations.");
    w.sample("strowger_turn_allocations", sum(s, &ShardMetrics::turn_allocations));
    w.family("strowger_turn_allocations_total", "counter", "TURN allocations created.");
    w.sample("strowger_turn_allocations_total",
             sum(s, [](const ShardMetrics& m) { return m.turn.allocations_created; }));
    w.family("strowger_turn_relayed_bytes_total", "counter",
             "Application bytes relayed by TURN, by direction.");
    w.sample("strowger_turn_relayed_bytes_total",
             sum(s, [](const ShardMetrics& m) { return m.turn.bytes_to_peer; }),
             "direction=\"to_peer\"");
    w.sample("strowger_turn_relayed_bytes_total",
             sum(s, [](const ShardMetrics& m) { return m.turn.bytes_to_client; }),
             "direction=\"to_client\"");
    w.family("strowger_turn_auth_failures_total", "counter",
             "TURN requests refused for wrong credentials.");
    w.sample("strowger_turn_auth_failures_total",
             sum(s, [](const ShardMetrics& m) { return m.turn.auth_failures; }));
    w.family("strowger_stun_binding_requests_total", "counter", "STUN Binding requests.");
    w.sample("strowger_stun_binding_requests_total",
             sum(s, [](const ShardMetrics& m) { return m.stun.requests; }));

    w.family("strowger_signaling_peers", "gauge", "Signaling peers online, by protocol.");
    w.sample("strowger_signaling_peers", s.long_poll_peers, "protocol=\"longpoll\"");
    w.sample("strowger_signaling_peers", s.websocket_peers, "protocol=\"websocket\"");
    w.family("strowger_http_requests_total", "counter", "HTTP requests received.");
    w.sample("strowger_http_requests_total", s.http.requests);

    w.family("strowger_malformed_total", "counter",
             "Malformed messages dropped or refused, by service.");
    w.sample("strowger_malformed_total",
             sum(s, [](const ShardMetrics& m) { return m.sip.malformed; }), "service=\"sip\"");
    w.sample("strowger_malformed_total",
             sum(s, [](const ShardMetrics& m) {
                 return m.stun.malformed + m.stun.bad_fingerprint;
             }),
             "service=\"stun\"");
    w.sample("strowger_malformed_total",
             sum(s, [](const ShardMetrics& m) { return m.turn.malformed; }), "service=\"turn\"");
    w.sample("strowger_malformed_total", s.http.malformed, "service=\"http\"");
    w.sample("strowger_malformed_total", s.websocket_malformed, "service=\"websocket\"");
    w.sample("strowger_malformed_total", s.sip_ws_malformed, "service=\"sip_websocket\"");
    return w.take();
}

} // namespace strowger::app
