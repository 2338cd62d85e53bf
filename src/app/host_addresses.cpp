#include "app/host_addresses.hpp"

#include <ifaddrs.h>

#include <algorithm>

namespace strowger::app {

bool is_wildcard(const core::IpEndpoint& ep) {
    return std::all_of(ep.address.begin(), ep.address.begin() + (ep.is_v6() ? 16 : 4),
                       [](std::uint8_t b) { return b == 0; });
}

bool is_loopback(const core::IpEndpoint& ep) {
    if (ep.is_v6()) {
        return ep.address_string() == "::1";
    }
    return ep.address[0] == 127;
}

std::vector<core::IpEndpoint> interface_addresses() {
    std::vector<core::IpEndpoint> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        return out;
    }
    for (auto* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr) {
            continue;
        }
        if (auto ep = core::IpEndpoint::from_sockaddr(i->ifa_addr)) {
            if (!(ep->is_v6() && ep->address[0] == 0xFE && (ep->address[1] & 0xC0) == 0x80)) {
                out.push_back(*ep);
            }
        }
    }
    freeifaddrs(list);
    return out;
}

} // namespace strowger::app
