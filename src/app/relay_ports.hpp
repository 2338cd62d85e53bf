#pragma once
// The relay ports of the whole server (`turn.relay_ports` on `turn.relay_address`), shared by
// every shard: a port belongs to one allocation at a time, EVEN-PORT reservations can be taken
// by an Allocate on any shard, and every shard must tell a relay endpoint of ours from the
// server's other ports (the relay-to-relay exception of the peer policy) without a lock.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/ip_endpoint.hpp"
#include "core/result.hpp"
#include "turn/turn_io.hpp"

namespace strowger::app {

class RelayPorts {
public:
    using Clock = std::chrono::steady_clock;

    struct Opened {
        int fd = -1; // bound, non-blocking UDP socket; the caller owns it
        std::uint16_t port = 0;
        std::optional<std::uint64_t> reservation;
    };

    // `advertised`: the external address, also counted as a relay endpoint address.
    RelayPorts(core::IpEndpoint address, std::optional<core::IpEndpoint> advertised,
               std::uint16_t low, std::uint16_t high);
    ~RelayPorts();
    RelayPorts(const RelayPorts&) = delete;
    RelayPorts& operator=(const RelayPorts&) = delete;

    core::Result<Opened, turn::RelayError> open(const turn::RelayRequest& request);
    // The port's socket has been closed by its owner; the port is free again.
    void release(std::uint16_t port);

    [[nodiscard]] bool is_relay_endpoint(const core::IpEndpoint& address) const noexcept;
    [[nodiscard]] const core::IpEndpoint& address() const noexcept { return address_; }
    [[nodiscard]] std::size_t live_count() const;

private:
    enum class State : std::uint8_t { Free, Live, Reserved };
    struct Reservation {
        std::uint16_t port;
        int fd;
        Clock::time_point expires;
    };

    int bind_port(std::uint16_t port) const;
    void drop_expired_reservations(Clock::time_point now);
    std::optional<Opened> take_reservation(std::uint64_t token, Clock::time_point now);

    core::IpEndpoint address_;
    std::optional<core::IpEndpoint> advertised_;
    std::uint16_t low_;
    std::uint16_t high_;
    mutable std::mutex mutex_;
    std::vector<State> state_; // indexed by port - low_
    std::size_t cursor_ = 0;   // where the next search for a free port starts
    std::size_t live_ = 0;
    std::unordered_map<std::uint64_t, Reservation> reservations_;
    // Read without the lock by is_relay_endpoint on every shard.
    std::unique_ptr<std::atomic<bool>[]> live_ports_;
};

} // namespace strowger::app
