#include "net/tcp_connection.hpp"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include <sys/socket.h>

#include "net/shard.hpp"
#include "net/tcp_listener.hpp"

namespace strowger::net {

TcpConnection::TcpConnection(TcpListener& owner, Shard& shard,
                             boost::asio::ip::tcp::socket socket, const core::IpEndpoint& peer,
                             StreamHandler& handler, std::chrono::seconds idle_timeout,
                             bool connect)
    : owner_(owner),
      shard_(shard),
      socket_(std::move(socket)),
      peer_(peer),
      handler_(handler),
      id_(shard.next_connection_id()),
      idle_timeout_(idle_timeout),
      connecting_(connect),
      // Most messages fit here; the buffer grows only for a larger one (an idle connection
      // should cost little: servers keep tens of thousands of them).
      in_(kInitialBuffer),
      last_activity_(shard.now()) {}

TcpConnection::~TcpConnection() { shard_.cancel(idle_timer_); }

void TcpConnection::start() {
    arm_idle_timer(idle_timeout_);
    if (connecting_) {
        connect();
    } else {
        read_more();
    }
}

void TcpConnection::connect() {
    sockaddr_storage ss{};
    auto length = peer_.to_sockaddr(ss);
    boost::asio::ip::tcp::endpoint remote;
    std::memcpy(remote.data(), &ss, length);
    reading_ = true; // the connect counts as the outstanding read until it completes
    socket_.async_connect(remote, [this](const boost::system::error_code& ec) {
        reading_ = false;
        connecting_ = false;
        if (ec || closed_) {
            spdlog::debug("tcp {}: connect failed: {}", peer_.to_string(), ec.message());
            close();
            return release_if_done();
        }
        boost::system::error_code ignored;
        socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
        write_pending();
        read_more();
    });
}

void TcpConnection::arm_idle_timer(core::TimerWheel::Duration delay) {
    idle_timer_ = shard_.schedule_after(delay, [this] {
        auto idle = shard_.now() - last_activity_;
        if (idle >= idle_timeout_) {
            spdlog::debug("tcp {}: idle, closing", peer_.to_string());
            close();
        } else {
            arm_idle_timer(idle_timeout_ - idle);
        }
    });
}

void TcpConnection::read_more() {
    if (closed_) {
        return release_if_done();
    }
    reading_ = true;
    socket_.async_read_some(
        boost::asio::buffer(in_.data() + in_size_, in_.size() - in_size_),
        [this](const boost::system::error_code& ec, std::size_t n) {
            reading_ = false;
            if (ec || closed_) {
                close();
                return release_if_done();
            }
            on_read(n);
        });
}

void TcpConnection::on_read(std::size_t n) {
    in_size_ += n;
    last_activity_ = shard_.now();
    std::size_t offset = 0;
    while (!closed_ && offset < in_size_) {
        auto consumed = handler_.on_stream_data({in_.data() + offset, in_size_ - offset}, peer_,
                                                *this);
        if (!consumed) {
            spdlog::debug("tcp {}: unframeable data, closing", peer_.to_string());
            close();
            break;
        }
        if (*consumed == 0) {
            break;
        }
        offset += *consumed;
    }
    std::memmove(in_.data(), in_.data() + offset, in_size_ - offset);
    in_size_ -= offset;
    if (in_size_ == in_.size()) {
        // Room for one maximal message plus the start of the next, and no more.
        const auto limit = handler_.max_message_size() + 4096;
        if (in_.size() >= limit) {
            spdlog::debug("tcp {}: message larger than {} bytes, closing", peer_.to_string(),
                          handler_.max_message_size());
            close();
        } else {
            in_.resize(std::min(2 * in_.size(), limit));
        }
    } else if (in_size_ == 0 && in_.size() > kInitialBuffer) {
        in_.resize(kInitialBuffer);
        in_.shrink_to_fit(); // a burst of large messages is over
    }
    read_more();
}

void TcpConnection::write(std::span<const std::uint8_t> bytes) {
    if (closed_) {
        return;
    }
    if (out_queued_.size() + bytes.size() > kMaxQueuedOutput) {
        spdlog::debug("tcp {}: peer is not reading, closing", peer_.to_string());
        close();
        return;
    }
    out_queued_.insert(out_queued_.end(), bytes.begin(), bytes.end());
    write_pending();
}

void TcpConnection::write_pending() {
    if (writing_ || closed_ || connecting_ || out_queued_.empty()) {
        return;
    }
    writing_ = true;
    std::swap(out_writing_, out_queued_);
    out_queued_.clear();
    boost::asio::async_write(socket_, boost::asio::buffer(out_writing_),
                             [this](const boost::system::error_code& ec, std::size_t) {
                                 writing_ = false;
                                 out_writing_.clear();
                                 if (ec) {
                                     close();
                                     return release_if_done();
                                 }
                                 write_pending();
                                 release_if_done();
                             });
}

void TcpConnection::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    shard_.cancel(idle_timer_);
    handler_.on_stream_closed(*this);
    boost::system::error_code ignored;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    // Outstanding operations complete with operation_aborted and release us then.
    release_if_done();
}

void TcpConnection::release_if_done() {
    if (closed_ && !reading_ && !writing_ && !release_posted_) {
        // Deferred: close() may run deep inside this connection's own read handler.
        release_posted_ = true;
        shard_.post([owner = &owner_, self = this] { owner->release(self); });
    }
}

} // namespace strowger::net
