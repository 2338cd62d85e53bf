#pragma once
// Header field names known to the stack, with their compact forms (RFC 3261 §7.3.3 and the
// RFCs that added more). Lookup is case-insensitive and does not allocate.

#include <cstdint>
#include <string_view>

namespace strowger::sip {

enum class HeaderId : std::uint8_t {
    Unknown,
    Accept,
    AcceptContact,
    AcceptEncoding,
    AcceptLanguage,
    AlertInfo,
    Allow,
    AllowEvents,
    AuthenticationInfo,
    Authorization,
    CallId,
    CallInfo,
    Contact,
    ContentDisposition,
    ContentEncoding,
    ContentLanguage,
    ContentLength,
    ContentType,
    CSeq,
    Date,
    ErrorInfo,
    Event,
    Expires,
    From,
    Identity,
    InReplyTo,
    MaxForwards,
    MimeVersion,
    MinExpires,
    MinSe,
    Organization,
    Path,
    Priority,
    ProxyAuthenticate,
    ProxyAuthorization,
    ProxyRequire,
    RAck,
    Reason,
    RecordRoute,
    ReferTo,
    ReferredBy,
    RejectContact,
    Replaces,
    ReplyTo,
    RequestDisposition,
    Require,
    RetryAfter,
    Route,
    RSeq,
    Server,
    SessionExpires,
    Subject,
    SubscriptionState,
    Supported,
    Timestamp,
    To,
    Unsupported,
    UserAgent,
    Via,
    Warning,
    WwwAuthenticate,
    Count
};

HeaderId header_id(std::string_view name);

// The key header_id() looks names up by: the length and three lower-cased characters (first,
// middle, last), which tell the known names apart with few collisions and cost nothing to
// compute once the parser knows where a name ends.
constexpr std::uint32_t header_name_key(std::string_view name) {
    auto lower = [](char c) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(c) | 0x20U); };
    auto n = static_cast<std::uint32_t>(name.size());
    return n == 0 ? 0U
                  : (n * 2654435761U) ^ (lower(name[0]) << 16) ^ (lower(name[n / 2]) << 8) ^
                        (lower(name[n - 1]) * 31U);
}
// header_id() for a name whose key the caller already computed.
HeaderId header_id(std::string_view name, std::uint32_t key);
// The canonical full name, e.g. "Call-ID".
std::string_view header_name(HeaderId id);
// Headers whose value is a comma-separated list that may be split across lines (RFC 3261
// §7.3.1). Authentication headers are not: their commas separate parameters of one value.
bool is_list_header(HeaderId id);

} // namespace strowger::sip
