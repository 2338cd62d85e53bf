#pragma once
// One accepted stream connection, owned by the TcpListener that accepted it and living on that
// listener's shard for its whole life. Bytes are framed by the service's StreamHandler; replies
// are queued and written in order. No shared_ptr: the connection counts its outstanding Asio
// operations and asks its listener to delete it once it is closed and none are left.

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

#include "core/ip_endpoint.hpp"
#include "core/timer_wheel.hpp"
#include "net/handlers.hpp"

namespace strowger::net {

class Shard;
class TcpListener;

class TcpConnection final : public StreamWriter {
public:
    static constexpr std::size_t kInitialBuffer = 4096;
    // Output queued for a peer that does not read beyond this closes the connection. Generous,
    // because one connection may carry every call of a gateway or a busy softphone.
    static constexpr std::size_t kMaxQueuedOutput = 4 << 20;

    // An accepted connection (start() begins reading), or with `connect` set an outbound one
    // still to be connected (start() connects; writes queue meanwhile).
    TcpConnection(TcpListener& owner, Shard& shard, boost::asio::ip::tcp::socket socket,
                  const core::IpEndpoint& peer, StreamHandler& handler,
                  std::chrono::seconds idle_timeout, bool connect = false);
    TcpConnection(const TcpConnection&) = delete;
    TcpConnection& operator=(const TcpConnection&) = delete;
    ~TcpConnection() override;

    void start();
    void close();
    void write(std::span<const std::uint8_t> bytes) override;
    [[nodiscard]] std::uint64_t connection_id() const override { return id_; }
    [[nodiscard]] const core::IpEndpoint& peer() const override { return peer_; }

private:
    void connect();
    void read_more();
    void on_read(std::size_t n);
    void write_pending();
    void arm_idle_timer(core::TimerWheel::Duration delay);
    void release_if_done();

    TcpListener& owner_; // owns this
    Shard& shard_;
    boost::asio::ip::tcp::socket socket_;
    core::IpEndpoint peer_;
    StreamHandler& handler_;
    std::uint64_t id_;
    std::chrono::seconds idle_timeout_;
    bool connecting_;
    std::vector<std::uint8_t> in_;
    std::size_t in_size_ = 0;
    std::vector<std::uint8_t> out_queued_;
    std::vector<std::uint8_t> out_writing_;
    bool writing_ = false;
    bool reading_ = false;
    bool closed_ = false;
    bool release_posted_ = false;
    core::TimerWheel::TimerId idle_timer_;
    core::TimerWheel::TimePoint last_activity_;
};

} // namespace strowger::net
