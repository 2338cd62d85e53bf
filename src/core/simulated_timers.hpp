#pragma once
// A TimerService on a clock that only moves when told to: protocol cores run on it in tests,
// simulations and fuzzing, hours of timers in milliseconds of real time.

#include <algorithm>
#include <chrono>

#include "core/timer_service.hpp"

namespace strowger::core {

class SimulatedTimers final : public TimerService {
public:
    TimerId schedule_after(Duration delay, Callback callback) override {
        return wheel_.schedule_after(now_, delay, std::move(callback));
    }
    bool cancel(TimerId id) override { return wheel_.cancel(id); }
    [[nodiscard]] TimePoint now() const override { return now_; }

    // Moves the clock forward one wheel tick at a time, so timers fire at their own deadlines
    // and see the right "now" when they re-arm.
    void run_for(Duration span) {
        const auto end = now_ + span;
        while (now_ < end) {
            now_ = std::min(now_ + wheel_.tick(), end);
            wheel_.advance(now_);
        }
    }
    // Jumps from one pending deadline to the next up to `span` from now: as run_for, but
    // without visiting the empty ticks between them.
    void skip_for(Duration span) {
        const auto end = now_ + span;
        while (auto next = wheel_.next_wakeup()) {
            if (*next > end) {
                break;
            }
            now_ = std::max(now_, *next);
            wheel_.advance(now_);
        }
        now_ = end;
        wheel_.advance(now_);
    }
    [[nodiscard]] std::size_t pending() const { return wheel_.size(); }
    // Milliseconds of simulated time since the start.
    [[nodiscard]] long long elapsed_ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(now_ - TimePoint{}).count();
    }

private:
    TimePoint now_{};
    TimerWheel wheel_{TimePoint{}};
};

} // namespace strowger::core
