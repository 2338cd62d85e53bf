#pragma once
// The body of GET /api/ice-servers: this server's STUN and TURN URLs with fresh TURN REST
// credentials, shaped as RTCConfiguration so that a page passes it to RTCPeerConnection as is.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/listen_spec.hpp"

namespace strowger::app {

struct IceServersConfig {
    std::vector<core::ListenSpec> stun_listen;
    std::string external_address; // advertised instead of the page's host when set
    std::string secret;           // TURN REST secret
    unsigned lifetime = 86400;    // seconds the credentials last
};

// `host`: the host the page was loaded from ("example.org", "[2001:db8::1]"). `now`: Unix
// time. `user`: the name part of the REST user name, "<expiry>:<user>".
std::string ice_servers_json(const IceServersConfig& config, std::string_view host,
                             std::int64_t now, std::string_view user);

} // namespace strowger::app
