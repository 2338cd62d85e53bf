#include "turn/peer_policy.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace strowger::turn {
namespace {

std::vector<core::Cidr> make_denied() {
    static constexpr std::string_view kRanges[] = {
        "0.0.0.0/8",       // "this network"; 0.0.0.0 reaches the host itself (RFC 1122)
        "10.0.0.0/8",      // private (RFC 1918)
        "100.64.0.0/10",   // shared address space, carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",     // loopback
        "169.254.0.0/16",  // link-local, where cloud metadata services live (RFC 3927)
        "172.16.0.0/12",   // private
        "192.168.0.0/16",  // private
        "224.0.0.0/4",     // multicast
        "240.0.0.0/4",     // reserved, and 255.255.255.255 limited broadcast
        "::/96",           // unspecified "::", loopback "::1", deprecated IPv4-compatible
        "fc00::/7",        // unique local (RFC 4193)
        "fe80::/10",       // link-local
        "fec0::/10",       // deprecated site-local
        "ff00::/8",        // multicast
    };
    std::vector<core::Cidr> out;
    for (auto text : kRanges) {
        out.push_back(*core::parse_cidr(text, nullptr));
    }
    return out;
}

bool same_address(const core::IpEndpoint& a, const core::IpEndpoint& b) {
    return a.family == b.family && a.address == b.address;
}

} // namespace

core::IpEndpoint effective_address(const core::IpEndpoint& address) {
    if (!address.is_v6()) {
        return address;
    }
    static constexpr std::array<std::uint8_t, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    static constexpr std::array<std::uint8_t, 12> kNat64 = {0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
    const auto& a = address.address;
    if (std::equal(kMapped.begin(), kMapped.end(), a.begin()) ||
        std::equal(kNat64.begin(), kNat64.end(), a.begin())) {
        return core::IpEndpoint::v4({a[12], a[13], a[14], a[15]}, address.port);
    }
    return address;
}

std::span<const core::Cidr> PeerPolicy::denied_ranges() {
    static const std::vector<core::Cidr> denied = make_denied();
    return denied;
}

PeerPolicy::PeerPolicy(std::vector<core::Cidr> allowed, std::vector<core::IpEndpoint> own_addresses)
    : allowed_(std::move(allowed)), own_(std::move(own_addresses)) {
    for (auto& own : own_) {
        own = effective_address(own);
    }
}

PeerVerdict PeerPolicy::check_address(const core::IpEndpoint& peer) const {
    auto address = effective_address(peer);
    // An allowed range may be written in either form, so both are tested.
    for (const auto& range : allowed_) {
        if (range.contains(address) || range.contains(peer)) {
            return PeerVerdict::Allowed;
        }
    }
    for (const auto& range : denied_ranges()) {
        if (range.contains(address)) {
            return PeerVerdict::DeniedRange;
        }
    }
    for (const auto& own : own_) {
        if (same_address(own, address)) {
            return PeerVerdict::OwnAddress;
        }
    }
    return PeerVerdict::Allowed;
}

} // namespace strowger::turn
