#pragma once
// Writing SIP messages: responses built from a request (RFC 3261 §8.2.6), and requests
// forwarded by a proxy (§16.6), which splice the few changed parts around the bytes they do
// not touch: every header line the proxy does not change is copied verbatim, never
// re-serialised.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sip/error.hpp"
#include "sip/message.hpp"

namespace strowger::sip {

struct ResponseOptions {
    // Added to To when it has no tag and the status is above 100 (§8.2.6.2).
    std::string_view to_tag{};
    // Further header lines, each ending in CRLF (e.g. "Contact: <sip:a@b>\r\n").
    std::string_view extra_headers{};
    std::string_view body{};
    std::string_view content_type{}; // required with a body
    // Replaces the first Via value (the one the transport stamped with received/rport).
    std::string_view top_via{};
};

// Status line, then Via (all, in order), From, To (+tag), Call-ID, CSeq copied from the request,
// Timestamp for 100 (§8.2.6.1), the extras, Content-Length, and the body.
std::string make_response(const Message& request, int status, std::string_view reason,
                          const ResponseOptions& options = {});

// The answer to a request refused with `error`: 505 for an unsupported version, otherwise 400
// with a reason phrase naming the defect (§21.4.1), e.g. "400 Malformed Via".
std::string make_error_response(const Message& request, SipError error,
                                std::string_view to_tag = {});

struct ForwardEdits {
    std::optional<std::string_view> request_uri{}; // retarget (§16.5)
    std::string_view via{};                      // our Via value, pushed on top (§16.6 step 8)
    std::span<const std::string_view> record_route{}; // values added above any existing ones
    std::size_t pop_routes = 0;      // Route values removed from the top (our own, §16.4)
    std::span<const std::string_view> push_routes{}; // values placed before the remaining Routes
    // Replaces the request's own first Via value (stamped with received/rport on receipt).
    std::string_view top_via{};
};

// The request as forwarded: new Request-URI, our Via on top, Max-Forwards decremented (or set
// to 70 when absent, §16.6 step 3), Record-Route and Route edits; everything else byte for
// byte. The caller has checked Max-Forwards > 0 (§16.3 step 3: 483 otherwise).
std::string forward_request(const Message& request, const ForwardEdits& edits);

// A response as a proxy passes it upstream (§16.7 step 9): the first Via value, ours, removed;
// everything else byte for byte.
std::string strip_top_via(const Message& response);

// The ACK a client transaction sends for a non-2xx final response (§17.1.1.3): Request-URI,
// Call-ID, From, CSeq number, top Via and Route of the request; To from the response.
std::string make_ack_for_failure(const Message& request, const Message& response);

// CANCEL for a request (§9.1): the request's Request-URI, top Via, Call-ID, From, To, CSeq
// number and Route, with Max-Forwards 70 and, when given, a Reason (RFC 3326).
std::string make_cancel(const Message& request, std::string_view reason = {});

// The first value of a list field and what follows its comma (empty when it is the only one).
struct FirstItem {
    std::string_view item;
    std::string_view rest;
};
FirstItem split_first_item(std::string_view value);

} // namespace strowger::sip
