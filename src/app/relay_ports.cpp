#include "app/relay_ports.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "turn/constants.hpp"
#include "turn/crypto.hpp"

namespace strowger::app {
namespace {

bool same_address(const core::IpEndpoint& a, const core::IpEndpoint& b) {
    return a.family == b.family && a.address == b.address;
}

} // namespace

RelayPorts::RelayPorts(core::IpEndpoint address, std::optional<core::IpEndpoint> advertised,
                       std::uint16_t low, std::uint16_t high)
    : address_(address),
      advertised_(advertised),
      low_(low),
      high_(high),
      state_(static_cast<std::size_t>(high - low) + 1, State::Free),
      live_ports_(std::make_unique<std::atomic<bool>[]>(65536)) {
    // Start at a random place, so that a restarted server does not hand out the ports its
    // previous run's clients may still be sending to.
    std::array<std::uint8_t, 4> r{};
    turn::random_bytes(r);
    cursor_ = (std::size_t{r[0]} << 8 | r[1]) % state_.size();
}

RelayPorts::~RelayPorts() {
    for (auto& [token, r] : reservations_) {
        ::close(r.fd);
    }
}

int RelayPorts::bind_port(std::uint16_t port) const {
    int fd = ::socket(address_.is_v6() ? AF_INET6 : AF_INET,
                      SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    auto at = address_;
    at.port = port;
    sockaddr_storage addr{};
    auto length = at.to_sockaddr(addr);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), length) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

void RelayPorts::drop_expired_reservations(Clock::time_point now) {
    for (auto it = reservations_.begin(); it != reservations_.end();) {
        if (it->second.expires <= now) {
            ::close(it->second.fd);
            state_[it->second.port - low_] = State::Free;
            it = reservations_.erase(it);
        } else {
            ++it;
        }
    }
}

std::optional<RelayPorts::Opened> RelayPorts::take_reservation(std::uint64_t token,
                                                               Clock::time_point now) {
    drop_expired_reservations(now);
    auto it = reservations_.find(token);
    if (it == reservations_.end()) {
        return std::nullopt;
    }
    Opened opened{it->second.fd, it->second.port, std::nullopt};
    state_[opened.port - low_] = State::Live;
    live_ports_[opened.port].store(true, std::memory_order_release);
    ++live_;
    reservations_.erase(it);
    return opened;
}

core::Result<RelayPorts::Opened, turn::RelayError> RelayPorts::open(
    const turn::RelayRequest& request) {
    if (request.ipv6 != address_.is_v6()) {
        return core::unexpected(turn::RelayError::FamilyUnsupported);
    }
    auto now = Clock::now();
    std::lock_guard lock(mutex_);
    if (request.token) {
        if (auto opened = take_reservation(*request.token, now)) {
            return *opened;
        }
        return core::unexpected(turn::RelayError::BadToken);
    }
    drop_expired_reservations(now);
    const std::size_t count = state_.size();
    for (std::size_t step = 0; step < count; ++step) {
        std::size_t index = (cursor_ + step) % count;
        auto port = static_cast<std::uint16_t>(low_ + index);
        if (state_[index] != State::Free || (request.even_port && port % 2 != 0)) {
            continue;
        }
        bool pair = request.reserve_next;
        if (pair && (index + 1 >= count || state_[index + 1] != State::Free)) {
            continue;
        }
        int fd = bind_port(port);
        if (fd < 0) {
            continue; // taken by another process: try the next
        }
        Opened opened{fd, port, std::nullopt};
        if (pair) {
            int next_fd = bind_port(static_cast<std::uint16_t>(port + 1));
            if (next_fd < 0) {
                ::close(fd);
                continue;
            }
            std::uint64_t token = 0;
            do {
                turn::random_bytes(std::span(reinterpret_cast<std::uint8_t*>(&token), sizeof token));
            } while (reservations_.contains(token));
            reservations_[token] = {static_cast<std::uint16_t>(port + 1), next_fd,
                                    now + turn::kReservationLifetime};
            state_[index + 1] = State::Reserved;
            opened.reservation = token;
        }
        state_[index] = State::Live;
        live_ports_[port].store(true, std::memory_order_release);
        ++live_;
        cursor_ = (index + 1) % count;
        return opened;
    }
    return core::unexpected(turn::RelayError::NoCapacity);
}

void RelayPorts::release(std::uint16_t port) {
    std::lock_guard lock(mutex_);
    if (port < low_ || port > high_ || state_[port - low_] != State::Live) {
        return;
    }
    state_[port - low_] = State::Free;
    live_ports_[port].store(false, std::memory_order_release);
    --live_;
}

bool RelayPorts::is_relay_endpoint(const core::IpEndpoint& address) const noexcept {
    bool ours = same_address(address, address_) ||
                (advertised_ && same_address(address, *advertised_));
    return ours && live_ports_[address.port].load(std::memory_order_acquire);
}

std::size_t RelayPorts::live_count() const {
    std::lock_guard lock(mutex_);
    return live_;
}

} // namespace strowger::app
