#include "net/relay_socket.hpp"

#include <netinet/in.h>

#include <cerrno>

#include "net/shard.hpp"

namespace strowger::net {

RelayScratch::RelayScratch() : buffer_(kBatch * kMaxDatagram) {
    for (unsigned i = 0; i < kBatch; ++i) {
        iov_[i] = {buffer_.data() + i * kMaxDatagram, kMaxDatagram};
    }
}

RelaySocket::RelaySocket(Shard& shard, int fd, bool ipv6, std::uint32_t id,
                         RelayReceiver& receiver, RelayScratch& scratch, RelaySocketStats& stats)
    : socket_(shard.io(), ipv6 ? boost::asio::ip::udp::v6() : boost::asio::ip::udp::v4(), fd),
      receiver_(receiver),
      scratch_(scratch),
      stats_(stats),
      id_(id),
      ipv6_(ipv6) {}

void RelaySocket::start() { wait_readable(); }

void RelaySocket::close_and_delete() {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored); // a pending wait completes with operation_aborted, then deletes
    if (!waiting_ && !draining_) {
        delete this;
    }
}

void RelaySocket::wait_readable() {
    waiting_ = true;
    socket_.async_wait(boost::asio::ip::udp::socket::wait_read,
                       [this](const boost::system::error_code& ec) {
                           waiting_ = false;
                           if (closed_) {
                               delete this;
                               return;
                           }
                           if (ec) {
                               return;
                           }
                           draining_ = true;
                           drain();
                           draining_ = false;
                           if (closed_) { // the receiver deleted the allocation meanwhile
                               delete this;
                               return;
                           }
                           wait_readable();
                       });
}

void RelaySocket::drain() {
    auto& s = scratch_;
    for (unsigned i = 0; i < RelayScratch::kBatch; ++i) {
        auto& hdr = s.msgs_[i].msg_hdr;
        hdr = {};
        hdr.msg_name = &s.names_[i];
        hdr.msg_namelen = sizeof(sockaddr_storage);
        hdr.msg_iov = &s.iov_[i];
        hdr.msg_iovlen = 1;
    }
    int n = ::recvmmsg(socket_.native_handle(), s.msgs_.data(), RelayScratch::kBatch,
                       MSG_DONTWAIT, nullptr);
    if (n <= 0) {
        return;
    }
    for (int i = 0; i < n && !closed_; ++i) {
        auto& msg = s.msgs_[static_cast<unsigned>(i)];
        if ((msg.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
            ++stats_.truncated;
            continue;
        }
        auto from = core::IpEndpoint::from_sockaddr(static_cast<const sockaddr*>(msg.msg_hdr.msg_name));
        if (from) {
            receiver_.on_relay_datagram(
                id_, *from,
                {static_cast<const std::uint8_t*>(msg.msg_hdr.msg_iov->iov_base), msg.msg_len});
        }
    }
    receiver_.on_relay_batch_end();
    // A full batch means more may be waiting: the next wait returns at once (level-triggered),
    // after the shard's other sockets had their turn.
}

void RelaySocket::send_to(const core::IpEndpoint& to, std::span<const std::uint8_t> data,
                          bool dont_fragment) {
    if (closed_) {
        return;
    }
    int fd = socket_.native_handle();
    if (dont_fragment != dont_fragment_) {
        // RFC 8656 §10.2: DONT-FRAGMENT asks for DF on the datagram to the peer.
        int value = dont_fragment ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
        if (ipv6_) {
            int v6 = dont_fragment ? IPV6_PMTUDISC_DO : IPV6_PMTUDISC_DONT;
            ::setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof v6);
        } else {
            ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &value, sizeof value);
        }
        dont_fragment_ = dont_fragment;
    }
    sockaddr_storage addr{};
    auto length = to.to_sockaddr(addr);
    if (::sendto(fd, data.data(), data.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&addr),
                 length) < 0) {
        ++stats_.send_failed;
    }
}

} // namespace strowger::net
