#pragma once
// An address prefix ("10.0.0.0/8", "fc00::/7", or a bare address for a single host), as the
// configuration writes allow and deny lists.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ip_endpoint.hpp"

namespace strowger::core {

struct Cidr {
    IpEndpoint network; // port unused
    unsigned prefix = 0;

    // True when `address` (port ignored) lies in the prefix; families must match.
    [[nodiscard]] bool contains(const IpEndpoint& address) const noexcept;
    [[nodiscard]] std::string to_string() const;
};

// On failure returns nothing and puts the reason in *error. Host bits beyond the prefix must be
// zero ("10.0.0.1/8" is refused: it is almost always a typo for a host or another prefix).
std::optional<Cidr> parse_cidr(std::string_view text, std::string* error);

} // namespace strowger::core
