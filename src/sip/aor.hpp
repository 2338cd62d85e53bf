#pragma once
// Address-of-record keys (RFC 3261 §10.3 step 5): the canonical "sip:user@host" of a To
// header or Request-URI, so that equivalent URIs (§19.1.4: escapes, host case, sip vs sips)
// find the same bindings. Port and parameters are not part of it.

#include <string>

#include "sip/uri.hpp"

namespace strowger::sip {

// The user part is unescaped and re-escaped in one normal form (uppercase hex, and only
// characters that need it); the host is lowercased.
std::string canonical_aor(const Uri& uri);

} // namespace strowger::sip
