#pragma once
// One shard's listening socket on a stream listen address (SO_REUSEPORT: the kernel spreads
// new connections over the shards). Owns the connections it accepted.

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <chrono>
#include <memory>
#include <unordered_map>

#include "core/listen_spec.hpp"
#include "net/handlers.hpp"

namespace strowger::net {

class Shard;
class TcpConnection;

struct TcpStats {
    std::uint64_t accepted = 0;
    std::uint64_t accept_errors = 0;
};

class TcpListener {
public:
    // `fd` is a bound, listening, non-blocking socket (open_reuseport_socket), owned from now on.
    TcpListener(Shard& shard, const core::ListenSpec& spec, int fd, StreamHandler& handler,
                std::chrono::seconds idle_timeout = std::chrono::seconds(300));
    TcpListener(const TcpListener&) = delete;
    TcpListener& operator=(const TcpListener&) = delete;
    ~TcpListener();

    void start();
    // Stops accepting and closes every connection.
    void close();

    // Opens a connection to `remote` from this listener's address family, owned and served
    // like an accepted one. Writes made before it is connected are queued. Nothing when closed.
    StreamWriter* connect(const core::IpEndpoint& remote);

    [[nodiscard]] const TcpStats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::size_t connection_count() const noexcept { return connections_.size(); }
    [[nodiscard]] const core::ListenSpec& spec() const noexcept { return spec_; }

private:
    friend class TcpConnection;
    void accept_next();
    void release(TcpConnection* connection);

    Shard& shard_;
    core::ListenSpec spec_;
    boost::asio::ip::tcp::acceptor acceptor_;
    StreamHandler& handler_; // passed by argument, outlives this
    std::chrono::seconds idle_timeout_;
    std::unordered_map<TcpConnection*, std::unique_ptr<TcpConnection>> connections_;
    TcpStats stats_;
    bool closed_ = false;
};

} // namespace strowger::net
