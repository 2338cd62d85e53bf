#pragma once
// A TURN relay's UDP socket on a shard: one per allocation, so it must be small. Datagrams are
// read in batches into the shard's shared scratch buffers (a shard handles one socket at a
// time), not into buffers of its own.

#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "core/ip_endpoint.hpp"

namespace strowger::net {

class Shard;

class RelayReceiver {
public:
    virtual ~RelayReceiver() = default;
    virtual void on_relay_datagram(std::uint32_t relay, const core::IpEndpoint& from,
                                   std::span<const std::uint8_t> data) = 0;
    // After each batch, so that what the batch produced can leave together.
    virtual void on_relay_batch_end() {}
};

// The shard's receive buffers for all its relay sockets.
class RelayScratch {
public:
    static constexpr unsigned kBatch = 16;
    // Media datagrams are far smaller; a larger one is counted as truncated and dropped.
    static constexpr std::size_t kMaxDatagram = 4096;

    RelayScratch();

private:
    friend class RelaySocket;
    std::vector<std::uint8_t> buffer_;
    std::array<mmsghdr, kBatch> msgs_{};
    std::array<iovec, kBatch> iov_{};
    std::array<sockaddr_storage, kBatch> names_{};
};

struct RelaySocketStats {
    std::uint64_t truncated = 0;
    std::uint64_t send_failed = 0;
};

class RelaySocket {
public:
    // `fd` is a bound non-blocking UDP socket, owned from now on.
    RelaySocket(Shard& shard, int fd, bool ipv6, std::uint32_t id, RelayReceiver& receiver,
                RelayScratch& scratch, RelaySocketStats& stats);
    RelaySocket(const RelaySocket&) = delete;
    RelaySocket& operator=(const RelaySocket&) = delete;

    void start();
    // Closes the socket and deletes this object, at once or, when a wait is still pending in
    // the shard's loop, as soon as it completes. The pointer must not be used afterwards.
    void close_and_delete();
    // `dont_fragment` sets DF on this and later datagrams until a send without it.
    void send_to(const core::IpEndpoint& to, std::span<const std::uint8_t> data,
                 bool dont_fragment);

private:
    ~RelaySocket() = default;
    void wait_readable();
    void drain();

    boost::asio::ip::udp::socket socket_;
    RelayReceiver& receiver_;
    RelayScratch& scratch_;
    RelaySocketStats& stats_;
    std::uint32_t id_;
    bool ipv6_;
    bool dont_fragment_ = false;
    bool waiting_ = false;  // an async_wait is pending
    bool draining_ = false; // inside drain(): the receiver may close this socket
    bool closed_ = false;
};

} // namespace strowger::net
