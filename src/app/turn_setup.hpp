#pragma once
// Turns the configuration into what every shard's TURN service shares: relay address and
// ports, the peer policy, credentials (user store and REST secret), nonces and quotas.

#include "app/config.hpp"
#include "app/turn_service.hpp"
#include "turn/credentials.hpp"

namespace strowger::app {

// `users` (the store's accounts) outlives the result. Throws StartupError naming the key at
// fault (a relay address that is not ours, a port range with no free port, ...).
TurnShared make_turn_shared(const Config& config, turn::CredentialStore* users);

// turn.relay_address, or the first non-loopback IPv4 address of the machine (then IPv6), or
// 127.0.0.1 on a machine with no network.
core::IpEndpoint relay_address(const Config& config);

} // namespace strowger::app
