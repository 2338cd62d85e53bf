#include "app/sip_setup.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "app/host_addresses.hpp"
#include "app/secret_file.hpp"
#include "app/server.hpp"

namespace strowger::app {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string host_of(const core::IpEndpoint& ep) {
    return ep.is_v6() ? "[" + ep.address_string() + "]" : ep.address_string();
}

// A fixed-size key kept in the data directory (made at first start).
template <class Key>
Key load_key(const std::string& data_dir, const char* file) {
    Key key{};
    auto bytes = load_or_create_secret((std::filesystem::path(data_dir) / file).string(),
                                       key.size());
    std::copy(bytes.begin(), bytes.end(), key.begin());
    return key;
}

} // namespace

sip::LocalIdentity make_sip_identity(const Config& config) {
    sip::LocalIdentity id;
    const auto interfaces = interface_addresses();
    auto add_host = [&](std::string h) {
        h = lower(std::move(h));
        if (std::find(id.hosts.begin(), id.hosts.end(), h) == id.hosts.end()) {
            id.hosts.push_back(std::move(h));
        }
    };
    if (!config.sip.advertise.empty()) {
        add_host(config.sip.advertise);
    }
    // SIP over WebSocket is also served at /sip on every http.listen listener: those are our
    // ws (tcp:) and wss (tls:) addresses too, after any sip.listen gives explicitly.
    auto specs = config.sip.listen;
    for (auto spec : config.http_listen) {
        spec.transport =
            spec.transport == core::Transport::Tls ? core::Transport::Wss : core::Transport::Ws;
        specs.push_back(spec);
    }
    for (const auto& spec : specs) {
        std::string host;
        if (is_wildcard(spec.endpoint)) {
            for (const auto& ep : interfaces) {
                if (ep.is_v6() != spec.endpoint.is_v6()) {
                    continue;
                }
                add_host(host_of(ep));
                if (host.empty() && !is_loopback(ep)) {
                    host = host_of(ep);
                }
            }
            if (host.empty()) {
                host = spec.endpoint.is_v6() ? "[::1]" : "127.0.0.1";
            }
        } else {
            host = host_of(spec.endpoint);
        }
        add_host(host);
        if (!config.sip.advertise.empty()) {
            host = config.sip.advertise;
        }
        id.listeners.push_back({spec.transport, host, spec.endpoint.port});
    }
    return id;
}

sip::ProxyConfig make_proxy_config(const Config& config) {
    sip::ProxyConfig p;
    p.domains = config.sip.domains;
    p.forward_foreign = config.sip.forward_foreign;
    p.timer_c = std::chrono::seconds(config.sip.timer_c);
    p.timers.t1 = std::chrono::milliseconds(config.sip.t1_ms);
    p.timers.t2 = std::chrono::milliseconds(config.sip.t2_ms);
    p.timers.t4 = std::chrono::milliseconds(config.sip.t4_ms);
    p.registrar.min_expires = config.sip.min_expires;
    p.registrar.max_expires = config.sip.max_expires;
    p.registrar.default_expires = std::clamp<std::uint32_t>(3600, config.sip.min_expires,
                                                            config.sip.max_expires);
    p.max_message_bytes = config.sip.max_message_bytes;
    p.auth.mode = config.sip.auth == "required" ? sip::AuthMode::Required
                  : config.sip.auth == "off"    ? sip::AuthMode::Off
                                                : sip::AuthMode::Auto;
    p.auth.realm = config.realm;
    p.auth.nonce_lifetime_s = config.sip.nonce_lifetime;
    p.auth.algorithms.clear();
    for (const auto& name : config.sip.auth_algorithms) {
        p.auth.algorithms.push_back(*sip::parse_digest_algorithm(name)); // checked by config
    }
    return p;
}

sip::DigestNonces::Key load_nonce_key(const std::string& data_dir) {
    return load_key<sip::DigestNonces::Key>(data_dir, "sip-nonce.key");
}

sip::FlowTokens::Key load_flow_key(const std::string& data_dir) {
    return load_key<sip::FlowTokens::Key>(data_dir, "flow-token.key");
}

} // namespace strowger::app
