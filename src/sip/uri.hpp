#pragma once
// URIs in SIP (RFC 3261 §19.1, §25.1): sip: and sips: URIs fully, tel: (RFC 3966) as number
// plus parameters, and any other absoluteURI as an opaque string (RFC 4475 §3.3.2: it must
// parse, and an element that cannot use it answers 416). Views point into the parsed text.

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.hpp"
#include "sip/error.hpp"
#include "sip/params.hpp"

namespace strowger::sip {

struct Uri {
    enum class Scheme : std::uint8_t { Sip, Sips, Tel, Other };

    std::string_view text; // the whole URI
    Scheme scheme = Scheme::Other;
    std::string_view scheme_name;
    // sip/sips. All as written (still %-escaped).
    std::string_view user; // may contain ';' (RFC 4475 §3.1.1.9)
    std::optional<std::string_view> password;
    std::string_view host; // IPv6 references keep their brackets
    std::optional<std::uint16_t> port;
    ParamList params;          // URI parameters (no LWS)
    std::string_view headers;  // after '?', without it
    // tel: the number; other schemes: everything after "scheme:".
    std::string_view opaque;

    [[nodiscard]] bool is_sip() const noexcept {
        return scheme == Scheme::Sip || scheme == Scheme::Sips;
    }
    [[nodiscard]] bool has_user() const noexcept { return !user.empty(); }
    [[nodiscard]] std::optional<std::string_view> param(std::string_view name) const {
        return params.get(name);
    }
    [[nodiscard]] bool has_param(std::string_view name) const { return params.has(name); }
    // RFC 3261 §19.1.1: the port to use when none is written.
    [[nodiscard]] std::uint16_t port_or_default() const {
        return port.value_or(scheme == Scheme::Sips ? 5061 : 5060);
    }
    [[nodiscard]] bool host_is_ipv6() const noexcept {
        return !host.empty() && host.front() == '[';
    }
};

core::Result<Uri, SipError> parse_uri(std::string_view text);
// The same, filling `uri` in place (for parsers that embed a Uri): SipError::None on success.
SipError parse_uri_into(std::string_view text, Uri& uri);

// RFC 3261 §19.1.4 URI equivalence (escapes decoded; user and password case-sensitive; host,
// scheme, parameter names case-insensitive; an absent port differs from an explicit one;
// user/ttl/method/maddr/transport must agree when either side has them; other parameters only
// when both do; headers must all match).
bool uri_equivalent(const Uri& a, const Uri& b);

} // namespace strowger::sip
