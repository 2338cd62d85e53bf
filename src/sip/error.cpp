#include "sip/error.hpp"

namespace strowger::sip {

namespace {
struct Entry {
    std::string_view name;
    std::string_view description;
};

constexpr Entry kEntries[] = {
    {"None", "No error"},
    {"Empty", "Empty message"},
    {"TooLarge", "Message too large"},
    {"HeadersNotTerminated", "Header section not terminated"},
    {"MissingContentLength", "Missing Content-Length on a stream"},
    {"BadContentLength", "Malformed Content-Length"},
    {"MultipleContentLength", "Multiple Content-Length values"},
    {"BodyTooShort", "Body shorter than Content-Length"},
    {"BadStartLine", "Malformed start line"},
    {"BadMethod", "Malformed method"},
    {"BadRequestUri", "Malformed Request-URI"},
    {"BracketedRequestUri", "Request-URI enclosed in <>"},
    {"WhitespaceInRequestUri", "Whitespace in Request-URI"},
    {"ExtraWhitespaceInStartLine", "Extra whitespace in start line"},
    {"HeadersInRequestUri", "Headers not allowed in Request-URI"},
    {"UnsupportedVersion", "SIP version not supported"},
    {"BadStatusCode", "Malformed status code"},
    {"BadHeaderLine", "Malformed header line"},
    {"TooManyHeaders", "Too many header fields"},
    {"MissingHeader", "Missing mandatory header"},
    {"DuplicateHeader", "Duplicate single-value header"},
    {"EmptyListItem", "Empty list item"},
    {"EmptyParameter", "Empty parameter"},
    {"BadVia", "Malformed Via"},
    {"BadCSeq", "Malformed CSeq"},
    {"CSeqMethodMismatch", "CSeq method does not match the request"},
    {"BadMaxForwards", "Malformed Max-Forwards"},
    {"BadCallId", "Malformed Call-ID"},
    {"BadFrom", "Malformed From"},
    {"BadTo", "Malformed To"},
    {"BadContact", "Malformed Contact"},
    {"BadRoute", "Malformed Route"},
    {"BadExpires", "Malformed Expires"},
    {"BadDate", "Malformed Date"},
    {"BadUri", "Malformed URI"},
    {"UnterminatedQuote", "Unterminated quoted string"},
    {"BadDisplayName", "Malformed display name"},
    {"AddrSpecNeedsBrackets", "URI with ',', ';' or '?' must be in <>"},
    {"WhitespaceInUri", "Whitespace inside a URI"},
    {"BadHeaderValue", "Malformed header value"},
};
static_assert(std::size(kEntries) == static_cast<std::size_t>(SipError::BadHeaderValue) + 1);
} // namespace

std::string_view describe(SipError e) { return kEntries[static_cast<std::size_t>(e)].description; }
std::string_view name(SipError e) { return kEntries[static_cast<std::size_t>(e)].name; }

} // namespace strowger::sip
