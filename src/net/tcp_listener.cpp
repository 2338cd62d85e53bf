#include "net/tcp_listener.hpp"

#include <spdlog/spdlog.h>

#include "net/shard.hpp"
#include "net/tcp_connection.hpp"

namespace strowger::net {

TcpListener::TcpListener(Shard& shard, const core::ListenSpec& spec, int fd,
                         StreamHandler& handler, std::chrono::seconds idle_timeout)
    : shard_(shard),
      spec_(spec),
      acceptor_(shard.io(),
                spec.endpoint.is_v6() ? boost::asio::ip::tcp::v6() : boost::asio::ip::tcp::v4(),
                fd),
      handler_(handler),
      idle_timeout_(idle_timeout) {}

TcpListener::~TcpListener() = default;

void TcpListener::start() { accept_next(); }

void TcpListener::accept_next() {
    acceptor_.async_accept([this](const boost::system::error_code& ec,
                                  boost::asio::ip::tcp::socket socket) {
        if (closed_ || ec == boost::asio::error::operation_aborted) {
            return;
        }
        if (ec) {
            // Out of descriptors or memory: back off briefly instead of spinning on accept.
            ++stats_.accept_errors;
            spdlog::warn("tcp {}: accept failed: {}", spec_.to_string(), ec.message());
            shard_.schedule_after(std::chrono::milliseconds(100), [this] {
                if (!closed_) {
                    accept_next();
                }
            });
            return;
        }
        boost::system::error_code peer_ec;
        auto remote = socket.remote_endpoint(peer_ec);
        if (!peer_ec) {
            auto peer = core::IpEndpoint::from_sockaddr(remote.data());
            ++stats_.accepted;
            socket.set_option(boost::asio::ip::tcp::no_delay(true), peer_ec);
            auto conn = std::make_unique<TcpConnection>(*this, shard_, std::move(socket),
                                                        peer.value_or(core::IpEndpoint{}),
                                                        handler_, idle_timeout_);
            auto* raw = conn.get();
            connections_.emplace(raw, std::move(conn));
            raw->start();
        }
        accept_next();
    });
}

StreamWriter* TcpListener::connect(const core::IpEndpoint& remote) {
    if (closed_) {
        return nullptr;
    }
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket socket(shard_.io());
    socket.open(remote.is_v6() ? boost::asio::ip::tcp::v6() : boost::asio::ip::tcp::v4(), ec);
    if (ec) {
        spdlog::warn("tcp {}: cannot open a socket: {}", remote.to_string(), ec.message());
        return nullptr;
    }
    auto conn = std::make_unique<TcpConnection>(*this, shard_, std::move(socket), remote, handler_,
                                                idle_timeout_, /*connect=*/true);
    auto* raw = conn.get();
    connections_.emplace(raw, std::move(conn));
    raw->start();
    return raw;
}

void TcpListener::release(TcpConnection* connection) {
    if (!closed_) {
        connections_.erase(connection);
    }
}

void TcpListener::close() {
    closed_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& [raw, conn] : connections_) {
        conn->close();
    }
}

} // namespace strowger::net
