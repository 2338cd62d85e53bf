#pragma once
// Framing SIP on a stream (TCP, TLS; RFC 3261 §18.3): the header section ends at the first
// empty line and Content-Length, mandatory here, gives the body. CRLFs between messages are
// keep-alives (RFC 5626 §4.4.1: a client "ping" is CRLFCRLF, answered by a CRLF "pong").
//
// The framer only finds boundaries; parse_message() then parses the framed bytes.

#include <cstddef>
#include <string_view>

#include "sip/error.hpp"

namespace strowger::sip {

struct StreamFrame {
    enum class Kind { Complete, NeedMore, Malformed };

    Kind kind = Kind::NeedMore;
    // Leading CRLF bytes skipped before the message (or all of them, with NeedMore).
    std::size_t skipped = 0;
    // Pings (CRLFCRLF) among the skipped bytes: each wants a CRLF pong.
    std::size_t pings = 0;
    // Complete: the message (after the skipped bytes); the caller consumes skipped + size.
    std::size_t size = 0;
    SipError error = SipError::None; // Malformed: why; the connection cannot be resynchronised

    [[nodiscard]] std::size_t consumed() const noexcept {
        return skipped + (kind == Kind::Complete ? size : 0);
    }
};

StreamFrame frame_stream(std::string_view buffer, std::size_t max_size);

} // namespace strowger::sip
