#pragma once
// The checks a SIP element makes before acting on a message (RFC 3261 §8.2, §16.3, §18.1.2):
// a usable start line and Request-URI, the mandatory headers present once each and well
// formed, and the CSeq method matching the request. Returns the first defect found.

#include "sip/error.hpp"
#include "sip/message.hpp"

namespace strowger::sip {

SipError validate(const Message& msg);

// Enough of a refused request is there to answer it: a request with a Via (RFC 3261 §18.2.2
// routes the response by it, or by the source address when it is unreadable); a request
// without one can only be dropped.
bool can_answer(const Message& msg);

} // namespace strowger::sip
