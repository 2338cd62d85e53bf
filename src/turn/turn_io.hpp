#pragma once
// What the sans-IO TURN server asks of the network: relay sockets and sending. app/ implements
// it on a shard; unit tests implement it in memory.

#include <cstdint>
#include <optional>
#include <span>

#include "core/ip_endpoint.hpp"
#include "core/result.hpp"
#include "turn/client_flow.hpp"

namespace strowger::turn {

struct RelayRequest {
    bool ipv6 = false;
    bool even_port = false;      // EVEN-PORT (§7.2): the relayed port must be even
    bool reserve_next = false;   // EVEN-PORT R bit: also reserve port + 1 for a later Allocate
    std::optional<std::uint64_t> token; // RESERVATION-TOKEN: take that reserved port
};

struct RelayOpened {
    std::uint32_t relay = 0;
    core::IpEndpoint local;                   // where the relay socket is bound
    std::optional<std::uint64_t> reservation; // token for the reserved next port
};

enum class RelayError : std::uint8_t {
    NoCapacity,         // no free port in the range (508)
    FamilyUnsupported,  // no relay address of the requested family (440)
    BadToken,           // unknown or expired RESERVATION-TOKEN (508, §7.2)
};

class TurnIo {
public:
    virtual ~TurnIo() = default;
    virtual core::Result<RelayOpened, RelayError> open_relay(const RelayRequest& request) = 0;
    virtual void close_relay(std::uint32_t relay) = 0;
    virtual void send_to_peer(std::uint32_t relay, const core::IpEndpoint& peer,
                              std::span<const std::uint8_t> data, bool dont_fragment) = 0;
    virtual void send_to_client(const ClientFlow& flow, std::span<const std::uint8_t> data) = 0;
    // Whether `address` is a live relay endpoint of this server (any shard), as bound or as
    // advertised: relay-to-relay traffic is always allowed.
    [[nodiscard]] virtual bool is_relay_endpoint(const core::IpEndpoint& address) const = 0;
};

} // namespace strowger::turn
