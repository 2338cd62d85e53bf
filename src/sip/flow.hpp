#pragma once
// Where a SIP message came from or goes to: a transport, the peer's address, and for stream
// transports the connection it travels on. Responses and requests to a phone that registered
// over TCP reuse that connection (RFC 3261 §18.2.2, RFC 5626), so the id travels with the
// binding; 0 means "no particular connection" (UDP, or open a new one).

#include <cstdint>

#include "core/ip_endpoint.hpp"
#include "core/listen_spec.hpp"

namespace strowger::sip {

struct Flow {
    core::Transport transport = core::Transport::Udp;
    core::IpEndpoint remote;
    // Names a connection across shards: the owning shard is in the top 16 bits
    // (see connection_shard()), a per-shard counter in the rest.
    std::uint64_t connection_id = 0;

    friend bool operator==(const Flow&, const Flow&) = default;
};

constexpr unsigned connection_shard(std::uint64_t connection_id) {
    return static_cast<unsigned>(connection_id >> 48);
}
constexpr std::uint64_t make_connection_id(unsigned shard, std::uint64_t counter) {
    return (static_cast<std::uint64_t>(shard) << 48) | (counter & 0xFFFF'FFFF'FFFFull);
}

} // namespace strowger::sip
