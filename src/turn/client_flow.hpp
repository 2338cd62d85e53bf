#pragma once
// The client side of a TURN 5-tuple (RFC 8656 §2): which listener or connection of ours the
// client talks to, and from where. It names an allocation.

#include <cstdint>
#include <functional>

#include "core/ip_endpoint.hpp"

namespace strowger::turn {

enum class ClientTransport : std::uint8_t { Udp, Tcp, Tls };

constexpr bool is_stream(ClientTransport t) { return t != ClientTransport::Udp; }

struct ClientFlow {
    ClientTransport transport = ClientTransport::Udp;
    std::uint32_t listener = 0;   // UDP: which listening address (the server side of the tuple)
    std::uint64_t connection = 0; // TCP/TLS: the connection, unique per server process
    core::IpEndpoint remote;      // the client's address as we see it (its NAT's, often)

    friend bool operator==(const ClientFlow&, const ClientFlow&) = default;
};

struct ClientFlowHash {
    std::size_t operator()(const ClientFlow& f) const noexcept {
        std::uint64_t h = 0xcbf29ce484222325ULL;
        auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 0x100000001b3ULL; };
        mix(static_cast<std::uint64_t>(f.transport));
        mix(f.listener);
        mix(f.connection);
        mix(f.remote.port);
        for (auto b : f.remote.address) {
            mix(b);
        }
        return static_cast<std::size_t>(h);
    }
};

} // namespace strowger::turn
