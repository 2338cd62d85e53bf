#include "net/shard.hpp"

#include <ctime>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <future>

namespace strowger::net {

Shard::Shard(unsigned index)
    : index_(index), wheel_(core::TimerWheel::Clock::now()), wheel_timer_(io_) {}

Shard::~Shard() {
    if (thread_.joinable()) {
        io_.stop();
        thread_.join();
    }
}

core::TimerWheel::TimerId Shard::schedule_after(core::TimerWheel::Duration delay,
                                                core::TimerWheel::Callback callback) {
    auto id = wheel_.schedule_after(now(), delay, std::move(callback));
    arm_wheel();
    return id;
}

void Shard::arm_wheel() {
    auto next = wheel_.next_wakeup();
    if (!next || (armed_for_ && *armed_for_ <= *next)) {
        return;
    }
    armed_for_ = next;
    wheel_timer_.expires_at(*next);
    wheel_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) {
            return; // cancelled: re-armed for an earlier time, or shutting down
        }
        armed_for_.reset();
        wheel_.advance(now());
        arm_wheel();
    });
}

void Shard::post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

void Shard::start() {
    thread_ = std::thread([this] {
        auto work = boost::asio::make_work_guard(io_);
        try {
            io_.run();
        } catch (const std::exception& e) {
            // The packet path does not throw; reaching here is a bug worth a loud line. A
            // server with a dead shard would silently lose the flows the kernel gives it, so
            // the whole process is asked to stop (and exits with an error).
            spdlog::critical("shard {}: stopped by exception: {}", index_, e.what());
            failed_ = true;
            std::raise(SIGTERM);
        }
    });
}

void Shard::stop(std::function<void()> on_stop) {
    if (!thread_.joinable()) {
        return;
    }
    if (failed_) {
        thread_.join(); // its loop is gone: what it owned is closed from here
        on_stop();
        return;
    }
    std::promise<void> closed;
    post([&] {
        on_stop();
        wheel_timer_.cancel();
        closed.set_value();
    });
    closed.get_future().wait();
    io_.stop();
    thread_.join();
}

std::uint64_t Shard::start_counter() {
    return (static_cast<std::uint64_t>(std::time(nullptr)) & 0xFFFF'FFFFULL) << 16;
}

} // namespace strowger::net
