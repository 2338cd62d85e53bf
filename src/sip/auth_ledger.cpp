#include "sip/auth_ledger.hpp"

#include <algorithm>

namespace strowger::sip {

std::string AuthLedger::address_key(const core::IpEndpoint& ep) {
    const std::size_t size = ep.is_v6() ? 16 : 4;
    return std::string(reinterpret_cast<const char*>(ep.address.data()), size);
}

void AuthLedger::forget_old_nonces(std::int64_t now) {
    // A nonce past its lifetime is stale anyway, so its count need not be kept; past the
    // memory bound the oldest go first, and everything issued up to them is refused from then
    // on (Forgotten), so that forgetting never lets a replay through.
    while (!nonce_order_.empty() &&
           (nonce_order_.front().first + nonce_lifetime_s_ < now ||
            nonce_order_.size() > limits_.max_nonces)) {
        auto& [issued, nonce] = nonce_order_.front();
        if (nonce_order_.size() > limits_.max_nonces) {
            forgotten_before_ = std::max(forgotten_before_, issued + 1);
        }
        nonces_.erase(nonce);
        nonce_order_.pop_front();
    }
}

AuthLedger::Count AuthLedger::use_nonce(std::string_view nonce, std::uint32_t nc,
                                        std::int64_t issued, std::int64_t now) {
    std::lock_guard lock(mutex_);
    forget_old_nonces(now);
    if (issued < forgotten_before_) {
        return Count::Forgotten;
    }
    auto [it, inserted] = nonces_.try_emplace(std::string(nonce));
    auto& use = it->second;
    if (inserted) {
        nonce_order_.emplace_back(issued, it->first);
    } else if (nc == 0 ? use.used_without_qop : nc <= use.nc) {
        return Count::Replayed;
    }
    if (nc == 0) {
        use.used_without_qop = true;
    } else {
        use.nc = nc;
    }
    forget_old_nonces(now); // keeps the bound when this one was the one too many
    return Count::Fresh;
}

bool AuthLedger::record_failure(const core::IpEndpoint& source, std::int64_t now) {
    std::lock_guard lock(mutex_);
    if (failures_.size() >= limits_.max_addresses) {
        std::erase_if(failures_, [&](const auto& entry) {
            const auto& f = entry.second;
            return f.locked_until <= now && f.window_start + limits_.failure_window_s <= now;
        });
        if (failures_.size() >= limits_.max_addresses) {
            return false; // under a flood from that many addresses: count no more of them
        }
    }
    auto& f = failures_[address_key(source)];
    if (f.locked_until > now) {
        return false;
    }
    if (f.count == 0 || f.window_start + limits_.failure_window_s <= now) {
        f.window_start = now;
        f.count = 0;
    }
    if (++f.count < limits_.max_failures) {
        return false;
    }
    f.locked_until = now + limits_.lockout_s;
    f.count = 0;
    return true;
}

bool AuthLedger::locked_out(const core::IpEndpoint& source, std::int64_t now) const {
    std::lock_guard lock(mutex_);
    if (failures_.empty()) {
        return false;
    }
    auto it = failures_.find(address_key(source));
    return it != failures_.end() && it->second.locked_until > now;
}

std::size_t AuthLedger::locked_count(std::int64_t now) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(
        failures_.begin(), failures_.end(),
        [&](const auto& entry) { return entry.second.locked_until > now; }));
}

} // namespace strowger::sip
