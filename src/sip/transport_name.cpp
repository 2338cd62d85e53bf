#include "sip/transport_name.hpp"

#include "sip/syntax.hpp"

namespace strowger::sip {

std::optional<core::Transport> transport_named(std::string_view name) {
    for (auto t : {core::Transport::Udp, core::Transport::Tcp, core::Transport::Tls,
                   core::Transport::Ws, core::Transport::Wss}) {
        if (iequals(name, via_transport(t))) {
            return t;
        }
    }
    return std::nullopt;
}

std::string_view via_transport(core::Transport t) {
    switch (t) {
    case core::Transport::Udp: return "UDP";
    case core::Transport::Tcp: return "TCP";
    case core::Transport::Tls: return "TLS";
    case core::Transport::Ws: return "WS";
    case core::Transport::Wss: return "WSS";
    }
    return "UDP";
}

std::string_view uri_transport(core::Transport t) {
    switch (t) {
    case core::Transport::Udp: return "udp";
    case core::Transport::Tcp: return "tcp";
    case core::Transport::Tls: return "tls";
    case core::Transport::Ws:
    case core::Transport::Wss: return "ws"; // RFC 7118 §5.2: secure or not, the scheme says
    }
    return "udp";
}

} // namespace strowger::sip
