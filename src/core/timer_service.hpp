#pragma once
// What a protocol core needs of time: "call me back after this long", cancel, and "what time is
// it". A shard implements it on its timer wheel and steady clock; unit tests implement it on a
// fake clock, so transaction timers run in simulated time.

#include "core/timer_wheel.hpp"

namespace strowger::core {

class TimerService {
public:
    using TimerId = TimerWheel::TimerId;
    using Duration = TimerWheel::Duration;
    using TimePoint = TimerWheel::TimePoint;
    using Callback = TimerWheel::Callback;

    virtual ~TimerService() = default;
    virtual TimerId schedule_after(Duration delay, Callback callback) = 0;
    virtual bool cancel(TimerId id) = 0;
    [[nodiscard]] virtual TimePoint now() const = 0;
};

} // namespace strowger::core
