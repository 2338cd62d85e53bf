// The pieces of an allocation on their own: permissions and channels with their lifetimes,
// the rate limit, and the shared allocation quota.

#include <gtest/gtest.h>

#include <chrono>

#include "turn/allocation.hpp"
#include "turn/quota.hpp"
#include "turn_fakes.hpp"

namespace strowger::turn {
namespace {

using namespace std::chrono_literals;
using test::endpoint;

const TimePoint kT0 = TimePoint{} + 1000s;

TEST(TurnAllocation, PermissionsArePerAddress) {
    Allocation a(ClientFlow{}, 0);
    a.permit(endpoint("198.51.100.7", 4000), kT0 + 300s, false);
    ASSERT_EQ(a.permissions.size(), 1U);
    EXPECT_EQ(a.permissions[0].address.port, 0); // ports do not matter
    EXPECT_NE(a.permission_for(endpoint("198.51.100.7", 1), kT0), nullptr);
    EXPECT_EQ(a.permission_for(endpoint("198.51.100.8", 4000), kT0), nullptr);
    EXPECT_EQ(a.permission_for(endpoint("::ffff:198.51.100.7", 4000), kT0), nullptr);
    EXPECT_NE(a.permission_for(endpoint("198.51.100.7", 1), kT0 + 299s), nullptr);
    EXPECT_EQ(a.permission_for(endpoint("198.51.100.7", 1), kT0 + 300s), nullptr);

    // Refreshing does not duplicate it, and updates the relay-only mark.
    a.permit(endpoint("198.51.100.7", 9), kT0 + 600s, true);
    ASSERT_EQ(a.permissions.size(), 1U);
    EXPECT_TRUE(a.permissions[0].relay_only);
    EXPECT_NE(a.permission_for(endpoint("198.51.100.7", 1), kT0 + 599s), nullptr);
}

TEST(TurnAllocation, ChannelsAndExpiry) {
    Allocation a(ClientFlow{}, 0);
    auto peer = endpoint("198.51.100.7", 4000);
    a.channels.push_back({0x4000, peer, kT0 + 600s});
    a.permit(peer, kT0 + 300s, false);
    EXPECT_NE(a.channel_by_number(0x4000, kT0), nullptr);
    EXPECT_NE(a.channel_by_peer(peer, kT0), nullptr);
    EXPECT_EQ(a.channel_by_peer(endpoint("198.51.100.7", 4001), kT0), nullptr);
    EXPECT_EQ(a.channel_by_number(0x4001, kT0), nullptr);
    EXPECT_EQ(a.channel_by_number(0x4000, kT0 + 600s), nullptr);

    a.forget_expired(kT0 + 300s);
    EXPECT_TRUE(a.permissions.empty());
    EXPECT_EQ(a.channels.size(), 1U);
    a.forget_expired(kT0 + 600s);
    EXPECT_TRUE(a.channels.empty());
}

TEST(TurnRateLimit, OneSecondOfBurstThenTheRate) {
    RateLimit r(1000);
    EXPECT_TRUE(r.take(1000, kT0));
    EXPECT_FALSE(r.take(1, kT0));
    EXPECT_TRUE(r.take(500, kT0 + 500ms));
    EXPECT_FALSE(r.take(100, kT0 + 500ms));
    EXPECT_TRUE(r.take(1000, kT0 + 10s)); // refills only up to the burst
    EXPECT_FALSE(r.take(1, kT0 + 10s));
    EXPECT_FALSE(r.take(2000, kT0 + 20s)); // larger than the burst: never
}

TEST(TurnRateLimit, ZeroIsUnlimited) {
    RateLimit r(0);
    for (int i = 0; i < 100; ++i) {
        EXPECT_TRUE(r.take(1'000'000, kT0));
    }
}

TEST(TurnQuota, PerUserAndTotal) {
    AllocationQuota q(2, 3);
    EXPECT_EQ(q.acquire("alice"), QuotaResult::Granted);
    EXPECT_EQ(q.acquire("alice"), QuotaResult::Granted);
    EXPECT_EQ(q.acquire("alice"), QuotaResult::UserQuota);
    EXPECT_EQ(q.acquire("bob"), QuotaResult::Granted);
    EXPECT_EQ(q.total(), 3U);
    EXPECT_EQ(q.acquire("carol"), QuotaResult::Capacity);
    q.release("alice");
    EXPECT_EQ(q.total(), 2U);
    EXPECT_EQ(q.acquire("carol"), QuotaResult::Granted);
    EXPECT_EQ(q.acquire("alice"), QuotaResult::Capacity);
}

TEST(TurnQuota, ReleaseOfNothingIsHarmless) {
    AllocationQuota q(1, 0);
    q.release("nobody");
    EXPECT_EQ(q.total(), 0U);
    EXPECT_EQ(q.acquire("alice"), QuotaResult::Granted);
    q.release("alice");
    q.release("alice"); // once too often
    EXPECT_EQ(q.total(), 0U);
    EXPECT_EQ(q.acquire("alice"), QuotaResult::Granted);
    EXPECT_EQ(q.acquire("alice"), QuotaResult::UserQuota);
}

TEST(TurnQuota, ZeroIsUnlimited) {
    AllocationQuota q(0, 0);
    for (int i = 0; i < 1000; ++i) {
        EXPECT_EQ(q.acquire("alice"), QuotaResult::Granted);
    }
    EXPECT_EQ(q.total(), 1000U);
}

} // namespace
} // namespace strowger::turn
