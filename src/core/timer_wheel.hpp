#pragma once
// A hashed timer wheel for protocol timers (SIP A-K, TURN lifetimes, idle connections): O(1)
// schedule and cancel; advancing costs one slot visit per elapsed tick, none once the wheel is
// empty. It never reads a clock: the owner passes "now" to advance(), which makes timer logic
// testable on a fake clock and lets a simulation jump hours ahead in one call.
//
// Single-threaded: one wheel per shard. Callbacks may schedule and cancel timers, including
// their own id (which is already inactive when the callback runs).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace strowger::core {

class TimerWheel {
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;
    using Duration = Clock::duration;
    using Callback = std::function<void()>;

    // Identifies one scheduled timer. A stale id (fired or cancelled) is harmless to cancel,
    // because the generation no longer matches.
    struct TimerId {
        std::uint32_t index = UINT32_MAX;
        std::uint32_t generation = 0;
        friend bool operator==(const TimerId&, const TimerId&) = default;
    };

    TimerWheel(TimePoint start, Duration tick = std::chrono::milliseconds(10),
               std::size_t slot_count = 1024);

    // A deadline in the past fires on the next advance().
    TimerId schedule(TimePoint deadline, Callback callback);
    TimerId schedule_after(TimePoint now, Duration delay, Callback callback) {
        return schedule(now + delay, std::move(callback));
    }
    // Returns true when the timer was pending and is now cancelled.
    bool cancel(TimerId id);
    [[nodiscard]] bool is_pending(TimerId id) const;

    // Fires every timer whose tick has passed by `now`; returns how many fired.
    std::size_t advance(TimePoint now);

    // When the owner should call advance() next: the next tick boundary while timers are
    // pending, nothing when the wheel is empty.
    [[nodiscard]] std::optional<TimePoint> next_wakeup() const;

    [[nodiscard]] std::size_t size() const noexcept { return active_; }
    [[nodiscard]] Duration tick() const noexcept { return tick_; }

private:
    static constexpr std::uint32_t kNone = UINT32_MAX;

    struct Node {
        std::uint64_t due_tick = 0;
        std::uint32_t generation = 0;
        std::uint32_t prev = kNone;
        std::uint32_t next = kNone;
        bool active = false;
        Callback callback;
    };

    [[nodiscard]] std::uint64_t tick_of(TimePoint t) const;
    std::uint32_t allocate_node();
    void link(std::uint32_t index);
    void unlink(std::uint32_t index);
    std::size_t fire_slot(std::size_t slot, std::uint64_t up_to_tick);

    TimePoint start_;
    Duration tick_;
    std::uint64_t current_tick_ = 0; // every tick <= this one has been processed
    std::vector<std::uint32_t> slots_; // head node index per slot
    std::vector<Node> nodes_;
    std::vector<std::uint32_t> free_;
    std::size_t active_ = 0;
};

} // namespace strowger::core
