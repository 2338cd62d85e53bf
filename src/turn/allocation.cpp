#include "turn/allocation.hpp"

#include <algorithm>

namespace strowger::turn {
namespace {

bool same_address(const core::IpEndpoint& a, const core::IpEndpoint& b) {
    return a.family == b.family && a.address == b.address;
}

} // namespace

bool RateLimit::take(std::size_t bytes, TimePoint now) {
    if (rate_ == 0) {
        return true;
    }
    auto burst = static_cast<double>(rate_);
    if (!started_) {
        tokens_ = burst;
        started_ = true;
    } else {
        std::chrono::duration<double> elapsed = now - last_;
        tokens_ = std::min(burst, tokens_ + elapsed.count() * burst);
    }
    last_ = now;
    if (tokens_ < static_cast<double>(bytes)) {
        return false;
    }
    tokens_ -= static_cast<double>(bytes);
    return true;
}

const Permission* Allocation::permission_for(const core::IpEndpoint& peer, TimePoint now) const {
    for (const auto& p : permissions) {
        if (same_address(p.address, peer)) {
            return p.expires > now ? &p : nullptr;
        }
    }
    return nullptr;
}

void Allocation::permit(const core::IpEndpoint& peer, TimePoint until, bool relay_only) {
    for (auto& p : permissions) {
        if (same_address(p.address, peer)) {
            p.expires = until;
            p.relay_only = relay_only;
            return;
        }
    }
    core::IpEndpoint address = peer;
    address.port = 0;
    permissions.push_back({address, until, relay_only});
}

const Channel* Allocation::channel_by_number(std::uint16_t number, TimePoint now) const {
    for (const auto& c : channels) {
        if (c.number == number) {
            return c.expires > now ? &c : nullptr;
        }
    }
    return nullptr;
}

const Channel* Allocation::channel_by_peer(const core::IpEndpoint& peer, TimePoint now) const {
    for (const auto& c : channels) {
        if (c.peer == peer) {
            return c.expires > now ? &c : nullptr;
        }
    }
    return nullptr;
}

void Allocation::forget_expired(TimePoint now) {
    std::erase_if(permissions, [now](const Permission& p) { return p.expires <= now; });
    std::erase_if(channels, [now](const Channel& c) { return c.expires <= now; });
}

} // namespace strowger::turn
