#pragma once
// Transports by name, as SIP writes them: the Via transport (upper case, RFC 3261 §18.2.1,
// RFC 7118 §5.2) and the URI transport parameter (lower case, "ws" for WebSocket secure or not).

#include <optional>
#include <string_view>

#include "core/listen_spec.hpp"

namespace strowger::sip {

// "udp", "TCP", "tls", "ws", "WSS" in any case; nothing for SCTP or anything else.
std::optional<core::Transport> transport_named(std::string_view name);
// "UDP", "TCP", "TLS", "WS", "WSS".
std::string_view via_transport(core::Transport t);
// The URI transport parameter's value: "udp", "tcp", "tls", or "ws" for both WebSockets.
std::string_view uri_transport(core::Transport t);
// TLS underneath: what a sips: URI needs on every hop (RFC 5630).
inline bool is_secure(core::Transport t) {
    return t == core::Transport::Tls || t == core::Transport::Wss;
}

} // namespace strowger::sip
