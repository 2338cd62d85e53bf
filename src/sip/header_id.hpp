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
// The canonical full name, e.g. "Call-ID".
std::string_view header_name(HeaderId id);
// Headers whose value is a comma-separated list that may be split across lines (RFC 3261
// §7.3.1). Authentication headers are not: their commas separate parameters of one value.
bool is_list_header(HeaderId id);

} // namespace strowger::sip
