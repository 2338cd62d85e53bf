#include "net/socket_options.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace strowger::net {
namespace {

constexpr int kUdpSocketBuffer = 4 << 20;

int socket_type(const core::ListenSpec& spec) {
    return spec.transport == core::Transport::Udp ? SOCK_DGRAM : SOCK_STREAM;
}

int family(const core::ListenSpec& spec) { return spec.endpoint.is_v6() ? AF_INET6 : AF_INET; }

bool set_int(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof value) == 0;
}

std::error_code last_error() { return {errno, std::system_category()}; }

} // namespace

std::error_code probe_bind(core::ListenSpec& spec) {
    int fd = ::socket(family(spec), socket_type(spec) | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return last_error();
    }
    std::error_code ec;
    // TCP: SO_REUSEADDR only lets us past TIME_WAIT leftovers, never past a listener. UDP must
    // not set it: on Linux it would let two UDP sockets share the port.
    bool ok = (spec.transport == core::Transport::Udp ||
               set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) &&
              (!spec.endpoint.is_v6() || set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1));
    sockaddr_storage addr{};
    auto len = spec.endpoint.to_sockaddr(addr);
    if (!ok || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
        ec = last_error();
    } else if (spec.endpoint.port == 0) {
        socklen_t bound_len = sizeof addr;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &bound_len) == 0) {
            if (auto bound = core::IpEndpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&addr))) {
                spec.endpoint.port = bound->port;
            }
        }
    }
    ::close(fd);
    return ec;
}

int open_reuseport_socket(const core::ListenSpec& spec, std::error_code& error) {
    int fd = ::socket(family(spec), socket_type(spec) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = last_error();
        return -1;
    }
    sockaddr_storage addr{};
    auto len = spec.endpoint.to_sockaddr(addr);
    bool ok = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) &&
              (spec.transport == core::Transport::Udp ||
               set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) &&
              (!spec.endpoint.is_v6() || set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)) &&
              ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
              (spec.transport == core::Transport::Udp || ::listen(fd, SOMAXCONN) == 0);
    if (!ok) {
        error = last_error();
        ::close(fd);
        return -1;
    }
    if (spec.transport == core::Transport::Udp) {
        // Bursts of small datagrams overflow the default buffer (~208 KiB) while a shard is
        // busy, and UDP loses them silently. The kernel caps the request at net.core.rmem_max;
        // a smaller buffer is not an error.
        set_int(fd, SOL_SOCKET, SO_RCVBUF, kUdpSocketBuffer);
        set_int(fd, SOL_SOCKET, SO_SNDBUF, kUdpSocketBuffer);
    }
    return fd;
}

} // namespace strowger::net
