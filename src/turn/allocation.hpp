#pragma once
// One TURN allocation (RFC 8656 §3): the client's 5-tuple, the relayed transport address, and
// the permissions and channels that say which peers may exchange data with the client. Lives on
// the shard that received its Allocate and is touched only there.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ip_endpoint.hpp"
#include "core/timer_service.hpp"
#include "turn/client_flow.hpp"

namespace strowger::turn {

using TimePoint = core::TimerService::TimePoint;

struct Permission {
    core::IpEndpoint address; // port 0: permissions are per IP address (§9)
    TimePoint expires;
    // The address is refused by policy but was allowed as one of our own relay endpoints:
    // data may go only to addresses that are still relay endpoints, checked per packet.
    bool relay_only = false;
};

struct Channel {
    std::uint16_t number = 0;
    core::IpEndpoint peer;
    TimePoint expires;
};

// Bytes per second in both directions, with one second of burst.
class RateLimit {
public:
    explicit RateLimit(std::uint64_t bytes_per_second) : rate_(bytes_per_second) {}
    // False when `bytes` would exceed the rate (the packet is dropped).
    bool take(std::size_t bytes, TimePoint now);

private:
    std::uint64_t rate_; // 0: unlimited
    double tokens_ = 0;
    TimePoint last_{};
    bool started_ = false;
};

struct AllocationStats {
    std::uint64_t packets_to_peer = 0;
    std::uint64_t bytes_to_peer = 0;
    std::uint64_t packets_to_client = 0;
    std::uint64_t bytes_to_client = 0;
};

struct Allocation {
    Allocation(const ClientFlow& f, std::uint64_t bytes_per_second) : flow(f), rate(bytes_per_second) {}

    ClientFlow flow;
    std::uint32_t relay = 0;            // the relay socket's id in TurnIo
    core::IpEndpoint relayed;           // XOR-RELAYED-ADDRESS as advertised
    std::string username;               // §5: later requests must use the same one (441)
    std::string quota_owner;
    std::array<std::uint8_t, 12> transaction{}; // of the Allocate, to answer retransmissions
    std::optional<std::uint64_t> reservation;   // RESERVATION-TOKEN handed out with it
    bool ipv6_refused = false;                  // ADDITIONAL-ADDRESS-FAMILY asked for IPv6
    TimePoint expires;
    core::TimerService::TimerId timer{};
    std::vector<Permission> permissions;
    std::vector<Channel> channels;
    RateLimit rate;
    AllocationStats stats;

    // Live permission for the peer's address, or null.
    const Permission* permission_for(const core::IpEndpoint& peer, TimePoint now) const;
    // Installs or refreshes the permission for the peer's address.
    void permit(const core::IpEndpoint& peer, TimePoint expires, bool relay_only);
    const Channel* channel_by_number(std::uint16_t number, TimePoint now) const;
    const Channel* channel_by_peer(const core::IpEndpoint& peer, TimePoint now) const;
    // Drops expired permissions and channels (§9, §12: they simply lapse).
    void forget_expired(TimePoint now);
};

} // namespace strowger::turn
