#pragma once
// A transport address (IP + port) as plain bytes. Protocol cores use this instead of a socket
// library's type so that they stay free of I/O headers; net/ converts at the edge.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;
struct sockaddr_storage;

namespace strowger::core {

struct IpEndpoint {
    enum class Family : std::uint8_t { V4, V6 };

    Family family = Family::V4;
    // Network byte order; V4 uses the first four bytes.
    std::array<std::uint8_t, 16> address{};
    std::uint16_t port = 0;

    static IpEndpoint v4(std::array<std::uint8_t, 4> a, std::uint16_t port);
    static IpEndpoint v6(const std::array<std::uint8_t, 16>& a, std::uint16_t port);

    // Parses a literal address without port: "192.0.2.1", "2001:db8::1" (no brackets).
    static std::optional<IpEndpoint> from_address(std::string_view text, std::uint16_t port);
    static std::optional<IpEndpoint> from_sockaddr(const sockaddr* sa);
    // Fills `out` and returns the length to pass to bind/sendto.
    unsigned to_sockaddr(sockaddr_storage& out) const;

    [[nodiscard]] bool is_v6() const noexcept { return family == Family::V6; }
    [[nodiscard]] std::string address_string() const;
    // "192.0.2.1:3478" or "[2001:db8::1]:3478".
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const IpEndpoint&, const IpEndpoint&) = default;
};

} // namespace strowger::core
