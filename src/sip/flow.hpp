#pragma once
// Where a SIP message came from or goes to: a transport, the peer's address, and for stream
// transports the connection it travels on. Responses and requests to a phone that registered
// over TCP reuse that connection (RFC 3261 §18.2.2, RFC 5626), so the id travels with the
// binding; 0 means "no particular connection" (UDP, or open a new one).

#include <cstdint>

#include "core/connection_id.hpp"
#include "core/ip_endpoint.hpp"
#include "core/listen_spec.hpp"

namespace strowger::sip {

struct Flow {
    core::Transport transport = core::Transport::Udp;
    core::IpEndpoint remote;
    // A stream connection (core/connection_id.hpp); 0 for none.
    std::uint64_t connection_id = 0;

    friend bool operator==(const Flow&, const Flow&) = default;
};

} // namespace strowger::sip
