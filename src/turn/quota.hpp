#pragma once
// Allocation counts shared by all shards: per user (486 Allocation Quota Reached) and for the
// whole server (508 Insufficient Capacity). Taken once per Allocate and given back when the
// allocation ends, under one short lock.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace strowger::turn {

enum class QuotaResult : std::uint8_t { Granted, UserQuota, Capacity };

class AllocationQuota {
public:
    // 0 means unlimited.
    AllocationQuota(unsigned per_user, unsigned total) : per_user_(per_user), total_limit_(total) {}

    QuotaResult acquire(std::string_view user);
    void release(std::string_view user);
    [[nodiscard]] unsigned total() const;

private:
    unsigned per_user_;
    unsigned total_limit_;
    mutable std::mutex mutex_;
    unsigned total_ = 0;
    std::unordered_map<std::string, unsigned> by_user_;
};

} // namespace strowger::turn
