#pragma once
// This machine's addresses, for the services that must know which addresses are "us" (SIP's
// Via/Record-Route hosts, TURN's own-address peer check and default relay address).

#include <vector>

#include "core/ip_endpoint.hpp"

namespace strowger::app {

// Every interface address except IPv6 link-local ones (unusable without a zone).
std::vector<core::IpEndpoint> interface_addresses();

bool is_wildcard(const core::IpEndpoint& ep);
bool is_loopback(const core::IpEndpoint& ep);

} // namespace strowger::app
