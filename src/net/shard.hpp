#pragma once
// A shard: one thread running one Boost.Asio io_context, plus a timer wheel for protocol
// timers. Everything a shard owns (sockets, connections, protocol state) is touched only from
// its thread, so none of it needs locks; other threads reach it with post().

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <optional>
#include <thread>

#include "core/connection_id.hpp"
#include "core/timer_service.hpp"
#include "core/timer_wheel.hpp"

namespace strowger::net {

class Shard final : public core::TimerService {
public:
    explicit Shard(unsigned index);
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;
    ~Shard() override;

    [[nodiscard]] unsigned index() const noexcept { return index_; }
    boost::asio::io_context& io() noexcept { return io_; }

    // Protocol timers, from the shard's thread only. The wheel is advanced by one Asio timer
    // that is armed only while timers are pending.
    core::TimerWheel::TimerId schedule_after(core::TimerWheel::Duration delay,
                                             core::TimerWheel::Callback callback) override;
    bool cancel(core::TimerWheel::TimerId id) override { return wheel_.cancel(id); }
    [[nodiscard]] core::TimerWheel::TimePoint now() const override {
        return core::TimerWheel::Clock::now();
    }

    // A new id for a connection of this shard (core/connection_id.hpp).
    std::uint64_t next_connection_id() { return core::make_connection_id(index_, ++connections_); }

    // Runs `fn` on the shard's thread.
    void post(std::function<void()> fn);

    void start();
    // The shard's loop ended with an exception (a bug); the process has been asked to stop.
    [[nodiscard]] bool failed() const noexcept { return failed_; }
    // Runs `on_stop` on the shard's thread (to close what it owns), then stops and joins.
    void stop(std::function<void()> on_stop);

private:
    void arm_wheel();

    unsigned index_;
    // Starts from the start time (seconds, shifted past 65536 ids a second), so that an id
    // kept from before a restart never names a connection opened after it.
    std::uint64_t connections_ = start_counter();
    static std::uint64_t start_counter();
    boost::asio::io_context io_{1};
    core::TimerWheel wheel_;
    boost::asio::steady_timer wheel_timer_;
    std::optional<core::TimerWheel::TimePoint> armed_for_;
    std::thread thread_;
    std::atomic<bool> failed_{false};
};

} // namespace strowger::net
