// The timer wheel on a fake clock: nothing here sleeps; hours pass in one advance().

#include <gtest/gtest.h>

#include <random>

#include "core/timer_wheel.hpp"

namespace strowger::core {
namespace {

using namespace std::chrono_literals;
using TimePoint = TimerWheel::TimePoint;

const TimePoint kStart{};

TEST(TimerWheel, FiresAtTheDeadlineAndNotBefore) {
    TimerWheel wheel(kStart, 10ms, 64);
    int fired = 0;
    wheel.schedule(kStart + 105ms, [&] { ++fired; });
    EXPECT_EQ(wheel.advance(kStart + 100ms), 0U);
    EXPECT_EQ(wheel.advance(kStart + 109ms), 0U);
    EXPECT_EQ(wheel.advance(kStart + 110ms), 1U);
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(wheel.size(), 0U);
    EXPECT_FALSE(wheel.next_wakeup());
}

TEST(TimerWheel, DeadlinesBeyondOneRevolutionWaitTheirTurn) {
    TimerWheel wheel(kStart, 10ms, 8); // one revolution is 80 ms
    std::vector<int> order;
    wheel.schedule(kStart + 30ms, [&] { order.push_back(1); });
    wheel.schedule(kStart + 110ms, [&] { order.push_back(2); }); // same slot, next round
    wheel.advance(kStart + 50ms);
    EXPECT_EQ(order, std::vector<int>{1});
    wheel.advance(kStart + 100ms);
    EXPECT_EQ(order, std::vector<int>{1});
    wheel.advance(kStart + 110ms);
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(TimerWheel, CancelIsExactAndStaleIdsAreHarmless) {
    TimerWheel wheel(kStart, 10ms, 64);
    int a = 0;
    int b = 0;
    auto id_a = wheel.schedule(kStart + 50ms, [&] { ++a; });
    auto id_b = wheel.schedule(kStart + 50ms, [&] { ++b; });
    EXPECT_TRUE(wheel.cancel(id_a));
    EXPECT_FALSE(wheel.cancel(id_a));
    wheel.advance(kStart + 60ms);
    EXPECT_EQ(a, 0);
    EXPECT_EQ(b, 1);
    EXPECT_FALSE(wheel.cancel(id_b)); // already fired
    // The node is reused; the old ids must not cancel the new timer.
    auto id_c = wheel.schedule(kStart + 100ms, [&] { ++a; });
    EXPECT_TRUE(id_c.index == id_a.index || id_c.index == id_b.index);
    EXPECT_FALSE(wheel.cancel(id_a));
    EXPECT_FALSE(wheel.cancel(id_b));
    wheel.advance(kStart + 200ms);
    EXPECT_EQ(a, 1);
}

TEST(TimerWheel, CallbacksMayScheduleAndCancel) {
    TimerWheel wheel(kStart, 10ms, 16);
    int chain = 0;
    bool victim_fired = false;
    std::function<void()> step = [&] {
        if (++chain < 5) {
            wheel.schedule(kStart + (chain + 1) * 20ms, step); // re-arms from inside a callback
        }
    };
    wheel.schedule(kStart + 20ms, step);
    auto victim = wheel.schedule(kStart + 40ms, [&] { victim_fired = true; });
    wheel.schedule(kStart + 30ms, [&] { EXPECT_TRUE(wheel.cancel(victim)); });
    wheel.advance(kStart + 1s);
    EXPECT_EQ(chain, 5);
    EXPECT_FALSE(victim_fired);
    EXPECT_EQ(wheel.size(), 0U);
}

TEST(TimerWheel, ACallbackMayCancelATimerDueInTheSameTick) {
    TimerWheel wheel(kStart, 10ms, 16);
    int fired = 0;
    TimerWheel::TimerId other;
    auto first = wheel.schedule(kStart + 20ms, [&] {
        ++fired;
        wheel.cancel(other);
    });
    other = wheel.schedule(kStart + 20ms, [&] {
        ++fired;
        wheel.cancel(first);
    });
    EXPECT_EQ(wheel.advance(kStart + 20ms), 1U); // whichever ran first cancelled the other
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(wheel.size(), 0U);
}

TEST(TimerWheel, ThousandsOfTimersFireInOrderOfTicks) {
    TimerWheel wheel(kStart, 10ms, 1024);
    std::mt19937 rng(7);
    std::vector<std::pair<TimePoint, TimePoint>> fired; // (deadline, when observed)
    TimePoint now = kStart;
    std::vector<TimerWheel::TimerId> ids;
    for (int i = 0; i < 20000; ++i) {
        auto deadline = kStart + std::chrono::milliseconds(rng() % 600000); // up to 10 min
        ids.push_back(wheel.schedule(deadline, [&, deadline] { fired.emplace_back(deadline, now); }));
    }
    std::size_t cancelled = 0;
    for (std::size_t i = 0; i < ids.size(); i += 3) {
        cancelled += wheel.cancel(ids[i]) ? 1U : 0U;
    }
    while (now < kStart + 601s) {
        now += 7ms;
        wheel.advance(now);
    }
    EXPECT_EQ(fired.size() + cancelled, 20000U);
    for (auto [deadline, when] : fired) {
        ASSERT_GE(when, deadline);            // never early
        ASSERT_LT(when - deadline, 10ms + 7ms); // late by at most a tick plus our step
    }
}

TEST(TimerWheel, JumpingHoursAheadFiresEverythingDue) {
    TimerWheel wheel(kStart, 10ms, 64);
    int fired = 0;
    for (int i = 1; i <= 100; ++i) {
        wheel.schedule(kStart + std::chrono::seconds(i * 30), [&] { ++fired; });
    }
    wheel.schedule(kStart + 10h, [&] { fired += 1000; });
    wheel.advance(kStart + 1h);
    EXPECT_EQ(fired, 100);
    wheel.advance(kStart + 10h);
    EXPECT_EQ(fired, 1100);
}

} // namespace
} // namespace strowger::core
