#include "core/listen_spec.hpp"

#include <charconv>

namespace strowger::core {

std::string_view to_string(Transport t) {
    switch (t) {
    case Transport::Udp: return "udp";
    case Transport::Tcp: return "tcp";
    case Transport::Tls: return "tls";
    case Transport::Ws: return "ws";
    case Transport::Wss: return "wss";
    }
    return "?";
}

bool is_stream(Transport t) { return t != Transport::Udp; }

std::string ListenSpec::to_string() const {
    return std::string(core::to_string(transport)) + ":" + endpoint.to_string();
}

std::optional<ListenSpec> parse_listen_spec(std::string_view text, std::string* error) {
    auto fail = [error](std::string why) -> std::optional<ListenSpec> {
        if (error != nullptr) {
            *error = std::move(why);
        }
        return std::nullopt;
    };
    auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        return fail("expected transport:address:port");
    }
    ListenSpec spec;
    auto transport = text.substr(0, colon);
    if (transport == "udp") {
        spec.transport = Transport::Udp;
    } else if (transport == "tcp") {
        spec.transport = Transport::Tcp;
    } else if (transport == "tls") {
        spec.transport = Transport::Tls;
    } else if (transport == "ws") {
        spec.transport = Transport::Ws;
    } else if (transport == "wss") {
        spec.transport = Transport::Wss;
    } else {
        return fail("unknown transport '" + std::string(transport) +
                    "' (expected udp, tcp, tls, ws or wss)");
    }
    auto rest = text.substr(colon + 1);
    std::string_view host;
    std::string_view port;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
            return fail("expected [IPv6]:port");
        }
        host = rest.substr(1, close - 1);
        port = rest.substr(close + 2);
    } else {
        auto last = rest.rfind(':');
        if (last == std::string_view::npos) {
            return fail("missing port");
        }
        host = rest.substr(0, last);
        port = rest.substr(last + 1);
        if (host.find(':') != std::string_view::npos) {
            return fail("IPv6 addresses must be in brackets, e.g. udp:[::1]:3478");
        }
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535) {
        return fail("invalid port '" + std::string(port) + "'");
    }
    auto ep = IpEndpoint::from_address(host, static_cast<std::uint16_t>(value));
    if (!ep) {
        return fail("invalid IP address '" + std::string(host) + "'");
    }
    spec.endpoint = *ep;
    return spec;
}

} // namespace strowger::core
