#pragma once
// Why a SIP message was refused. One value per distinct defect, so tests can assert the reason
// and the transport can put a precise phrase in its 400 (RFC 3261 §21.4.1).

#include <cstdint>
#include <string_view>

namespace strowger::sip {

enum class SipError : std::uint8_t {
    None,
    // Framing
    Empty,
    TooLarge,
    HeadersNotTerminated,
    MissingContentLength, // stream transports need it (RFC 3261 §18.3)
    BadContentLength,
    MultipleContentLength,
    BodyTooShort,
    // Start line
    BadStartLine,
    BadMethod,
    BadRequestUri,
    BracketedRequestUri,
    WhitespaceInRequestUri,
    ExtraWhitespaceInStartLine,
    HeadersInRequestUri,
    UnsupportedVersion, // answered with 505, not 400
    BadStatusCode,
    // Header section
    BadHeaderLine,
    TooManyHeaders,
    MissingHeader,
    DuplicateHeader,
    EmptyListItem,
    EmptyParameter,
    // Header values
    BadVia,
    BadCSeq,
    CSeqMethodMismatch,
    BadMaxForwards,
    BadCallId,
    BadFrom,
    BadTo,
    BadContact,
    BadRoute,
    BadExpires,
    BadDate,
    BadUri,
    UnterminatedQuote,
    BadDisplayName,
    AddrSpecNeedsBrackets,
    WhitespaceInUri,
    BadHeaderValue,
};

// Short English phrase naming the defect, e.g. for "400 Bad Request (Malformed Via)".
std::string_view describe(SipError e);
// The enumerator's name ("BadVia"), for tests and logs.
std::string_view name(SipError e);

} // namespace strowger::sip
