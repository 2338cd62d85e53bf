#pragma once
// Which peers a relay may talk to (RFC 8656 §21.3.1 "Exploiting the Relay"). Without a policy,
// a TURN server is an open proxy into its own network: a client could reach the loopback
// services, the private LAN and link-local metadata endpoints behind the server. So peers in
// the ranges no public peer can have are refused with 403, and so are the server's own
// addresses, unless an operator allows a range explicitly (`turn.allowed_peers`).
//
// The order of the decision, first match wins:
//   1. an allowed range (configuration)                          -> allowed
//   2. one of this server's relay endpoints (exact address+port) -> allowed, always: two
//      relay-only ICE clients must talk relay to relay even when the relay address is private
//   3. a denied range, or one of the server's own addresses      -> refused
//   4. anything else                                             -> allowed
// IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are judged by the IPv4
// address they carry, so "::ffff:127.0.0.1" is loopback; "::" and "0.0.0.0", which the kernel
// treats as "this host", are refused (coturn's CVE-2020-26262 let them through).

#include <span>
#include <vector>

#include "core/cidr.hpp"
#include "core/ip_endpoint.hpp"

namespace strowger::turn {

enum class PeerVerdict : std::uint8_t {
    Allowed,
    OwnRelay,     // allowed: one of our relay endpoints
    DeniedRange,  // loopback, private, link-local, multicast, ...
    OwnAddress,   // one of this server's addresses (but not a relay endpoint)
};

constexpr bool is_allowed(PeerVerdict v) {
    return v == PeerVerdict::Allowed || v == PeerVerdict::OwnRelay;
}

class PeerPolicy {
public:
    PeerPolicy(std::vector<core::Cidr> allowed, std::vector<core::IpEndpoint> own_addresses);

    // `is_own_relay` says whether `peer` (address and port) is one of our live relay endpoints;
    // it is asked only when the address alone would be refused.
    template <class IsOwnRelay>
    PeerVerdict check(const core::IpEndpoint& peer, IsOwnRelay&& is_own_relay) const {
        auto by_address = check_address(peer);
        if (by_address == PeerVerdict::Allowed) {
            return by_address;
        }
        return is_own_relay(peer) ? PeerVerdict::OwnRelay : by_address;
    }

    // The verdict on the address alone (port ignored, no relay exception).
    [[nodiscard]] PeerVerdict check_address(const core::IpEndpoint& peer) const;

    // The ranges refused by default, in the order they are tested.
    static std::span<const core::Cidr> denied_ranges();

private:
    std::vector<core::Cidr> allowed_;
    std::vector<core::IpEndpoint> own_; // ports ignored
};

// The IPv4 address an IPv6 address stands for (IPv4-mapped or NAT64 well-known prefix), or the
// address itself.
core::IpEndpoint effective_address(const core::IpEndpoint& address);

} // namespace strowger::turn
