#pragma once
// Flow tokens (after RFC 5626 §5.2): the user part of the Record-Route URIs this proxy inserts
// names the flow (transport, peer address, connection) of the side that URI faces, so that
// in-dialog requests reach a phone behind NAT at the address and over the connection its
// dialog was set up on, not at the private address in its Contact.
//
// The token is authenticated with HMAC-SHA-256 under a key the server keeps, so a Route header
// written by anyone else cannot make the proxy send to an address of the sender's choosing.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/flow.hpp"

namespace strowger::sip {

class FlowTokens {
public:
    using Key = std::array<std::uint8_t, 32>;
    explicit FlowTokens(const Key& key) : key_(key) {}

    // Lowercase hex, usable unescaped as a SIP URI user part.
    [[nodiscard]] std::string encode(const Flow& flow) const;
    // Nothing unless `token` was made by encode() under this key.
    [[nodiscard]] std::optional<Flow> decode(std::string_view token) const;

private:
    Key key_;
};

} // namespace strowger::sip
