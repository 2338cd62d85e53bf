#pragma once
// One shard's UDP socket on a listen address. The kernel spreads flows over the shards'
// SO_REUSEPORT sockets; each reads in batches with recvmmsg, hands every datagram to the
// service's handler and sends the replies back in one sendmmsg.

#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>

#include <array>
#include <cstdint>
#include <vector>

#include "core/listen_spec.hpp"
#include "net/handlers.hpp"

namespace strowger::net {

class Shard;

struct UdpStats {
    std::uint64_t received = 0;
    std::uint64_t sent = 0;
    std::uint64_t truncated = 0;  // larger than the receive buffer: dropped
    std::uint64_t send_failed = 0; // kernel refused (buffer full, unreachable): dropped
};

class UdpEndpoint {
public:
    // `fd` is a bound non-blocking socket (open_reuseport_socket), owned from now on.
    UdpEndpoint(Shard& shard, const core::ListenSpec& spec, int fd, DatagramHandler& handler,
                std::size_t max_datagram, std::size_t max_reply);
    UdpEndpoint(const UdpEndpoint&) = delete;
    UdpEndpoint& operator=(const UdpEndpoint&) = delete;

    void start();
    void close();
    // Sends one datagram. While the endpoint is handing a received batch to its handler, sends
    // are queued and leave together in one sendmmsg at the end of the batch (a proxy answers
    // 100 Trying and forwards the INVITE for one datagram in); otherwise at once. False when
    // the kernel refuses an immediate send.
    bool send_to(const core::IpEndpoint& to, std::span<const std::uint8_t> bytes);
    // Sends made outside a received batch (relayed media arriving on other sockets) are
    // gathered the same way: between hold_sends() and release_sends() they queue, then leave in
    // one sendmmsg.
    void hold_sends() noexcept { held_ = true; }
    void release_sends();
    [[nodiscard]] const UdpStats& stats() const noexcept { return stats_; }
    [[nodiscard]] const core::ListenSpec& spec() const noexcept { return spec_; }

private:
    static constexpr unsigned kBatch = 32;
    // Batches per wake-up before yielding to the shard's other work.
    static constexpr unsigned kMaxBatchesPerWake = 16;

    void wait_readable();
    void drain();
    void flush(unsigned count);
    void flush_queued();

    core::ListenSpec spec_;
    boost::asio::ip::udp::socket socket_;
    DatagramHandler& handler_; // passed by argument, outlives this
    std::size_t max_datagram_;
    std::size_t max_reply_;
    std::vector<std::uint8_t> rx_buffer_; // kBatch * max_datagram_
    std::vector<std::uint8_t> tx_buffer_; // kBatch * max_reply_
    std::array<mmsghdr, kBatch> rx_msgs_{};
    std::array<iovec, kBatch> rx_iov_{};
    std::array<sockaddr_storage, kBatch> rx_names_{};
    std::array<mmsghdr, kBatch> tx_msgs_{};
    std::array<iovec, kBatch> tx_iov_{};
    UdpStats stats_;
    bool closed_ = false;
    // Sends made while a batch is being handled (see send_to).
    bool in_batch_ = false;
    bool held_ = false;
    struct QueuedSend {
        sockaddr_storage to;
        socklen_t to_length;
        std::size_t offset;
        std::size_t length;
    };
    std::vector<QueuedSend> queued_;
    std::vector<std::uint8_t> queued_bytes_;
};

} // namespace strowger::net
