#include "core/ip_endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace strowger::core {

IpEndpoint IpEndpoint::v4(std::array<std::uint8_t, 4> a, std::uint16_t port) {
    IpEndpoint ep;
    ep.family = Family::V4;
    std::memcpy(ep.address.data(), a.data(), 4);
    ep.port = port;
    return ep;
}

IpEndpoint IpEndpoint::v6(const std::array<std::uint8_t, 16>& a, std::uint16_t port) {
    IpEndpoint ep;
    ep.family = Family::V6;
    ep.address = a;
    ep.port = port;
    return ep;
}

std::optional<IpEndpoint> IpEndpoint::from_address(std::string_view text, std::uint16_t port) {
    // inet_pton needs a terminated string; addresses are short.
    if (text.size() >= INET6_ADDRSTRLEN) {
        return std::nullopt;
    }
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, text.data(), text.size());
    IpEndpoint ep;
    ep.port = port;
    if (inet_pton(AF_INET, buf, ep.address.data()) == 1) {
        ep.family = Family::V4;
        return ep;
    }
    if (inet_pton(AF_INET6, buf, ep.address.data()) == 1) {
        ep.family = Family::V6;
        return ep;
    }
    return std::nullopt;
}

std::optional<IpEndpoint> IpEndpoint::from_sockaddr(const sockaddr* sa) {
    IpEndpoint ep;
    if (sa->sa_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, sa, sizeof in);
        ep.family = Family::V4;
        std::memcpy(ep.address.data(), &in.sin_addr, 4);
        ep.port = ntohs(in.sin_port);
        return ep;
    }
    if (sa->sa_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, sa, sizeof in6);
        ep.family = Family::V6;
        std::memcpy(ep.address.data(), &in6.sin6_addr, 16);
        ep.port = ntohs(in6.sin6_port);
        return ep;
    }
    return std::nullopt;
}

unsigned IpEndpoint::to_sockaddr(sockaddr_storage& out) const {
    std::memset(&out, 0, sizeof out);
    if (family == Family::V4) {
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        std::memcpy(&in.sin_addr, address.data(), 4);
        std::memcpy(&out, &in, sizeof in);
        return sizeof in;
    }
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    std::memcpy(&in6.sin6_addr, address.data(), 16);
    std::memcpy(&out, &in6, sizeof in6);
    return sizeof in6;
}

std::string IpEndpoint::address_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(is_v6() ? AF_INET6 : AF_INET, address.data(), buf, sizeof buf);
    return buf;
}

std::string IpEndpoint::to_string() const {
    if (is_v6()) {
        return "[" + address_string() + "]:" + std::to_string(port);
    }
    return address_string() + ":" + std::to_string(port);
}

} // namespace strowger::core
