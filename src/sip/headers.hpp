#pragma once
// Typed views of header values (RFC 3261 §20, §25.1 and the extensions named below). Each
// parser takes one value (one list item for list headers) and returns a view into it, or the
// reason it is malformed. Nothing is allocated.

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.hpp"
#include "sip/error.hpp"
#include "sip/params.hpp"
#include "sip/uri.hpp"

namespace strowger::sip {

template <class T>
using Parsed = core::Result<T, SipError>;

// name-addr / addr-spec with header parameters: From, To, Contact, Route, Record-Route,
// Reply-To, Refer-To, Referred-By, Path.
struct NameAddr {
    std::string_view display_name; // as written: a quoted-string keeps its quotes
    Uri uri;
    ParamList params; // header parameters (after '>' or after the addr-spec)
    bool bracketed = false;
    std::optional<std::string_view> tag_param; // noted while the parameters are checked

    [[nodiscard]] std::optional<std::string_view> tag() const { return tag_param; }
};
// `error` is the reason reported for a malformed value (BadFrom, BadContact, ...).
Parsed<NameAddr> parse_name_addr(std::string_view value, SipError error);
// The first value of a list field (Route, Record-Route, Path): parsing stops at the comma that
// ends it, without splitting the rest of the field.
Parsed<NameAddr> parse_first_name_addr(std::string_view value, SipError error);

// Contact may also be "*" (RFC 3261 §10.2.2).
struct ContactValue {
    bool star = false;
    NameAddr address;
    [[nodiscard]] std::optional<std::string_view> expires() const {
        return address.params.get("expires");
    }
};
Parsed<ContactValue> parse_contact(std::string_view value);

struct Via {
    std::string_view protocol_name;    // "SIP"
    std::string_view protocol_version; // "2.0"
    std::string_view transport;        // "UDP", "TCP", "TLS", "WS", "WSS", ...
    std::string_view host;             // IPv6 references keep their brackets
    std::optional<std::uint16_t> port;
    std::string_view sent_by; // host[:port] as written
    ParamList params;
    // The parameters RFC 3261 and RFC 3581 give meaning to, noted while the list is checked.
    std::optional<std::string_view> branch_param;
    std::optional<std::string_view> received_param;
    std::optional<std::string_view> maddr_param;
    std::optional<std::string_view> ttl_param;
    std::optional<std::string_view> rport_param; // empty value: ";rport" without a port

    [[nodiscard]] std::optional<std::string_view> branch() const { return branch_param; }
    [[nodiscard]] std::optional<std::string_view> received() const { return received_param; }
    [[nodiscard]] std::optional<std::string_view> maddr() const { return maddr_param; }
    [[nodiscard]] std::optional<std::string_view> ttl() const { return ttl_param; }
    // RFC 3581: ";rport" (asks for it) or ";rport=1234" (filled in by a server).
    [[nodiscard]] bool has_rport() const { return rport_param.has_value(); }
    // RFC 3261 §8.1.1.7: the branch starts with the magic cookie and has more after it.
    [[nodiscard]] bool has_rfc3261_branch() const;
};
Parsed<Via> parse_via(std::string_view value);
// The first Via value of a field (the one a response is routed by), up to its comma.
Parsed<Via> parse_first_via(std::string_view value);

struct CSeq {
    std::uint32_t number = 0;
    std::string_view method;
};
Parsed<CSeq> parse_cseq(std::string_view value);

// Max-Forwards: 0..255 (RFC 3261 §20.22); leading zeros allowed.
Parsed<std::uint8_t> parse_max_forwards(std::string_view value);
// delta-seconds for Expires, Min-Expires: 32 bits (RFC 3261 §25.1).
Parsed<std::uint32_t> parse_delta_seconds(std::string_view value, SipError error);
// Call-ID: word [ "@" word ].
Parsed<std::string_view> parse_call_id(std::string_view value);
// Date: rfc1123-date, which must say GMT (RFC 3261 §20.17).
Parsed<std::string_view> parse_date(std::string_view value);

// Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate: a scheme then
// comma-separated auth-params (RFC 3261 §25.1; RFC 8760 for the algorithms).
struct AuthValue {
    std::string_view scheme;
    std::string_view params; // "a=b, c="d""
    // A parameter's value, quotes removed (escapes left as written).
    [[nodiscard]] std::optional<std::string_view> param(std::string_view name) const;
};
Parsed<AuthValue> parse_auth(std::string_view value);

// Content-Type: type "/" subtype *(SEMI m-parameter)
struct MediaType {
    std::string_view type;
    std::string_view subtype;
    ParamList params;
};
Parsed<MediaType> parse_media_type(std::string_view value);

// Reason (RFC 3326): protocol *(SEMI reason-params), e.g. SIP ;cause=200 ;text="Call completed".
struct ReasonValue {
    std::string_view protocol;
    ParamList params;
    [[nodiscard]] std::optional<std::string_view> cause() const { return params.get("cause"); }
    [[nodiscard]] std::optional<std::string_view> text() const { return params.get("text"); }
};
Parsed<ReasonValue> parse_reason(std::string_view value);

// Replaces (RFC 3891): callid *(SEMI replaces-param): to-tag, from-tag, early-only.
struct ReplacesValue {
    std::string_view call_id;
    ParamList params;
    [[nodiscard]] std::optional<std::string_view> to_tag() const { return params.get("to-tag"); }
    [[nodiscard]] std::optional<std::string_view> from_tag() const {
        return params.get("from-tag");
    }
    [[nodiscard]] bool early_only() const { return params.has("early-only"); }
};
Parsed<ReplacesValue> parse_replaces(std::string_view value);

// Event (RFC 6665) and Subscription-State: a token then parameters.
struct TokenWithParams {
    std::string_view token;
    ParamList params;
};
Parsed<TokenWithParams> parse_token_with_params(std::string_view value, SipError error);

// One item of a token list (Allow, Supported, Require, Proxy-Require, Unsupported, ...):
// a method or option-tag, which is a token (RFC 3261 §20.5, §20.37).
Parsed<std::string_view> parse_token_item(std::string_view item);

// The quoted-string's content with quoted-pairs resolved is not a view; this returns the text
// between the quotes (escapes left as written), or the input when it is not quoted.
std::string_view unquote(std::string_view s);

} // namespace strowger::sip
