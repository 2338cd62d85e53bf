#pragma once
// One entry of a service's `listen` list: "transport:address:port", IPv6 in brackets
// ("udp:[::1]:3478"). Parsing lives in core so that configuration can validate without I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ip_endpoint.hpp"

namespace strowger::core {

enum class Transport : std::uint8_t { Udp, Tcp, Tls, Ws, Wss };

std::string_view to_string(Transport t);
bool is_stream(Transport t);

struct ListenSpec {
    Transport transport = Transport::Udp;
    IpEndpoint endpoint;

    // "udp:0.0.0.0:3478" form, the way an operator wrote it.
    [[nodiscard]] std::string to_string() const;
};

// On failure returns nothing and puts the reason in *error.
std::optional<ListenSpec> parse_listen_spec(std::string_view text, std::string* error);

} // namespace strowger::core
