#include "turn/quota.hpp"

namespace strowger::turn {

QuotaResult AllocationQuota::acquire(std::string_view user) {
    std::lock_guard lock(mutex_);
    if (total_limit_ != 0 && total_ >= total_limit_) {
        return QuotaResult::Capacity;
    }
    auto [it, inserted] = by_user_.try_emplace(std::string(user), 0);
    if (per_user_ != 0 && it->second >= per_user_) {
        return QuotaResult::UserQuota;
    }
    ++it->second;
    ++total_;
    return QuotaResult::Granted;
}

void AllocationQuota::release(std::string_view user) {
    std::lock_guard lock(mutex_);
    auto it = by_user_.find(std::string(user));
    if (it == by_user_.end() || it->second == 0) {
        return;
    }
    if (--it->second == 0) {
        by_user_.erase(it);
    }
    --total_;
}

unsigned AllocationQuota::total() const {
    std::lock_guard lock(mutex_);
    return total_;
}

} // namespace strowger::turn
