#include "net/udp_endpoint.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "net/shard.hpp"

namespace strowger::net {

UdpEndpoint::UdpEndpoint(Shard& shard, const core::ListenSpec& spec, int fd,
                         DatagramHandler& handler, std::size_t max_datagram,
                         std::size_t max_reply)
    : spec_(spec),
      socket_(shard.io(),
              spec.endpoint.is_v6() ? boost::asio::ip::udp::v6() : boost::asio::ip::udp::v4(),
              fd),
      handler_(handler),
      max_datagram_(max_datagram),
      max_reply_(max_reply),
      rx_buffer_(kBatch * max_datagram),
      tx_buffer_(kBatch * max_reply) {
    for (unsigned i = 0; i < kBatch; ++i) {
        rx_iov_[i] = {rx_buffer_.data() + i * max_datagram_, max_datagram_};
    }
}

void UdpEndpoint::start() { wait_readable(); }

bool UdpEndpoint::send_to(const core::IpEndpoint& to, std::span<const std::uint8_t> bytes) {
    if (closed_) {
        return false;
    }
    QueuedSend send{};
    send.to_length = to.to_sockaddr(send.to);
    if (in_batch_ || held_) {
        send.offset = queued_bytes_.size();
        send.length = bytes.size();
        queued_bytes_.insert(queued_bytes_.end(), bytes.begin(), bytes.end());
        queued_.push_back(send);
        return true;
    }
    auto n = ::sendto(socket_.native_handle(), bytes.data(), bytes.size(), MSG_DONTWAIT,
                      reinterpret_cast<const sockaddr*>(&send.to), send.to_length);
    if (n < 0) {
        ++stats_.send_failed;
        return false;
    }
    ++stats_.sent;
    return true;
}

void UdpEndpoint::release_sends() {
    held_ = false;
    if (!in_batch_) {
        flush_queued();
    }
}

void UdpEndpoint::flush_queued() {
    std::size_t next = 0;
    while (next < queued_.size()) {
        unsigned count = 0;
        for (; count < kBatch && next + count < queued_.size(); ++count) {
            auto& q = queued_[next + count];
            tx_iov_[count] = {queued_bytes_.data() + q.offset, q.length};
            auto& hdr = tx_msgs_[count].msg_hdr;
            hdr = {};
            hdr.msg_name = &q.to;
            hdr.msg_namelen = q.to_length;
            hdr.msg_iov = &tx_iov_[count];
            hdr.msg_iovlen = 1;
        }
        flush(count);
        next += count;
    }
    queued_.clear();
    queued_bytes_.clear();
}

void UdpEndpoint::close() {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
}

void UdpEndpoint::wait_readable() {
    socket_.async_wait(boost::asio::ip::udp::socket::wait_read,
                       [this](const boost::system::error_code& ec) {
                           if (ec || closed_) {
                               return;
                           }
                           drain();
                           wait_readable();
                       });
}

void UdpEndpoint::drain() {
    int fd = socket_.native_handle();
    for (unsigned round = 0; round < kMaxBatchesPerWake; ++round) {
        for (unsigned i = 0; i < kBatch; ++i) {
            auto& hdr = rx_msgs_[i].msg_hdr;
            hdr = {};
            hdr.msg_name = &rx_names_[i];
            hdr.msg_namelen = sizeof(sockaddr_storage);
            hdr.msg_iov = &rx_iov_[i];
            hdr.msg_iovlen = 1;
        }
        int n = ::recvmmsg(fd, rx_msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                spdlog::debug("udp {}: recvmmsg: {}", spec_.to_string(), std::strerror(errno));
            }
            return;
        }
        unsigned replies = 0;
        in_batch_ = true;
        for (int i = 0; i < n; ++i) {
            auto& msg = rx_msgs_[static_cast<unsigned>(i)];
            ++stats_.received;
            if ((msg.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
                ++stats_.truncated;
                continue;
            }
            auto from = core::IpEndpoint::from_sockaddr(
                static_cast<const sockaddr*>(msg.msg_hdr.msg_name));
            if (!from) {
                continue;
            }
            auto* data = static_cast<const std::uint8_t*>(msg.msg_hdr.msg_iov->iov_base);
            std::span<std::uint8_t> reply_buffer{tx_buffer_.data() + replies * max_reply_,
                                                 max_reply_};
            auto reply = handler_.on_datagram({data, msg.msg_len}, *from, reply_buffer);
            if (reply.empty()) {
                continue;
            }
            tx_iov_[replies] = {const_cast<std::uint8_t*>(reply.data()), reply.size()};
            auto& out = tx_msgs_[replies].msg_hdr;
            out = {};
            // Reply to the address the datagram came from, which is still in rx_names_[i].
            out.msg_name = msg.msg_hdr.msg_name;
            out.msg_namelen = msg.msg_hdr.msg_namelen;
            out.msg_iov = &tx_iov_[replies];
            out.msg_iovlen = 1;
            ++replies;
        }
        in_batch_ = false;
        flush(replies);
        flush_queued();
        if (static_cast<unsigned>(n) < kBatch) {
            return; // the socket is drained
        }
    }
}

void UdpEndpoint::flush(unsigned count) {
    unsigned done = 0;
    while (done < count) {
        int n = ::sendmmsg(socket_.native_handle(), tx_msgs_.data() + done, count - done,
                           MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            // UDP has no back-pressure: the message at the front is lost (EAGAIN with a full
            // buffer, or an error for that destination); go on with the rest.
            ++stats_.send_failed;
            ++done;
            continue;
        }
        stats_.sent += static_cast<unsigned>(n);
        done += static_cast<unsigned>(n);
    }
}

} // namespace strowger::net
