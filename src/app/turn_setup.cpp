#include "app/turn_setup.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <filesystem>

#include "app/host_addresses.hpp"
#include "app/secret_file.hpp"
#include "app/server.hpp"
#include "app/version.hpp"
#include "turn/crypto.hpp"

namespace strowger::app {
namespace {

// How long a nonce stays usable before the client is asked (438) to take a fresh one.
constexpr std::int64_t kNonceLifetime = 3600;

} // namespace

core::IpEndpoint relay_address(const Config& config) {
    if (!config.turn.relay_address.empty()) {
        return *core::IpEndpoint::from_address(config.turn.relay_address, 0);
    }
    auto interfaces = interface_addresses();
    for (bool v6 : {false, true}) {
        for (const auto& ep : interfaces) {
            if (ep.is_v6() == v6 && !is_loopback(ep) && !is_wildcard(ep)) {
                return ep;
            }
        }
    }
    return *core::IpEndpoint::from_address("127.0.0.1", 0);
}

TurnShared make_turn_shared(const Config& config, turn::CredentialStore* users) {
    TurnShared shared;
    auto relay = relay_address(config);
    if (is_wildcard(relay)) {
        throw StartupError("turn.relay_address: '" + relay.address_string() +
                           "' is a wildcard; name the address relays are bound to");
    }
    std::optional<core::IpEndpoint> external;
    if (!config.turn.external_address.empty()) {
        external = core::IpEndpoint::from_address(config.turn.external_address, 0);
    }

    auto& c = shared.config;
    c.realm = config.turn_realm();
    c.software = std::string("strowger/") + kVersion;
    c.max_lifetime = std::chrono::seconds(config.turn.max_lifetime);
    c.external_address = external;
    c.max_bytes_per_second = config.turn.max_bytes_per_second;

    std::string secret = config.turn.auth_secret;
    if (secret.empty()) {
        auto path = (std::filesystem::path(config.data_dir) / "turn_secret").string();
        secret = load_or_create_text_secret(path);
        spdlog::info("turn: REST credentials use the secret in {}", path);
    }
    shared.authenticator = std::make_unique<turn::Authenticator>(users, secret);
    shared.rest_secret = secret;

    std::array<std::uint8_t, 32> nonce_key{};
    turn::random_bytes(nonce_key);
    shared.nonces = std::make_unique<turn::NonceIssuer>(nonce_key, kNonceLifetime);
    shared.quota = std::make_unique<turn::AllocationQuota>(config.turn.user_quota,
                                                            config.turn.total_quota);

    // "Us": every interface address, the relay and external addresses, and what we listen on.
    auto own = interface_addresses();
    own.push_back(relay);
    if (external) {
        own.push_back(*external);
    }
    for (const auto* list : {&config.stun_listen, &config.sip.listen}) {
        for (const auto& spec : *list) {
            if (!is_wildcard(spec.endpoint)) {
                own.push_back(spec.endpoint);
            }
        }
    }
    shared.policy = std::make_unique<turn::PeerPolicy>(config.turn.allowed_peers, std::move(own));
    shared.ports = std::make_unique<RelayPorts>(
        relay, external, static_cast<std::uint16_t>(config.turn.relay_port_min),
        static_cast<std::uint16_t>(config.turn.relay_port_max));

    // Bind one port now, so that an address that is not ours fails at start-up, not at the
    // first Allocate.
    turn::RelayRequest probe;
    probe.ipv6 = relay.is_v6();
    auto opened = shared.ports->open(probe);
    if (!opened) {
        throw StartupError("turn.relay_address/turn.relay_ports: cannot bind any port " +
                           std::to_string(config.turn.relay_port_min) + "-" +
                           std::to_string(config.turn.relay_port_max) + " on " +
                           relay.address_string());
    }
    ::close(opened->fd);
    shared.ports->release(opened->port);

    std::string allowed;
    for (const auto& cidr : config.turn.allowed_peers) {
        allowed += " " + cidr.to_string();
    }
    spdlog::info("turn: realm '{}', relays on {} ports {}-{}{}{}", c.realm,
                 relay.address_string(), config.turn.relay_port_min,
                 config.turn.relay_port_max,
                 external ? ", advertised as " + external->address_string() : std::string(),
                 allowed.empty() ? std::string() : ", peers allowed despite the policy:" + allowed);
    return shared;
}

} // namespace strowger::app
