// Fuzz target: the SIP message parser and everything that reads a parsed message. Any input
// must parse or be refused without crashing, reading out of bounds or looping; whatever is
// accepted must survive validation, every typed header view, and being answered or forwarded.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sip/framing.hpp"
#include "sip/header_list.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"
#include "sip/validate.hpp"
#include "sip/writer.hpp"

namespace {

using namespace strowger::sip;

void read_every_header(const Message& m) {
    for (const auto& h : m.headers()) {
        auto item = [&](std::string_view v) {
            switch (h.id) {
            case HeaderId::Via: (void)parse_via(v); break;
            case HeaderId::Contact: (void)parse_contact(v); break;
            case HeaderId::Route:
            case HeaderId::RecordRoute:
            case HeaderId::Path: (void)parse_name_addr(v, SipError::BadRoute); break;
            case HeaderId::Allow:
            case HeaderId::Supported:
            case HeaderId::Require:
            case HeaderId::ProxyRequire:
            case HeaderId::Unsupported: (void)parse_token_item(v); break;
            case HeaderId::Reason: (void)parse_reason(v); break;
            default: break;
            }
            return true;
        };
        if (is_list_header(h.id)) {
            (void)split_list(h.value, item);
            if (h.id == HeaderId::Via) {
                (void)parse_first_via(h.value);
            } else if (h.id == HeaderId::Route || h.id == HeaderId::RecordRoute) {
                (void)parse_first_name_addr(h.value, SipError::BadRoute);
            }
            continue;
        }
        switch (h.id) {
        case HeaderId::From:
        case HeaderId::To:
        case HeaderId::ReferTo:
        case HeaderId::ReferredBy:
            if (auto na = parse_name_addr(h.value, SipError::BadFrom)) {
                (void)na->tag();
                (void)uri_equivalent(na->uri, na->uri);
            }
            break;
        case HeaderId::CSeq: (void)parse_cseq(h.value); break;
        case HeaderId::CallId: (void)parse_call_id(h.value); break;
        case HeaderId::MaxForwards: (void)parse_max_forwards(h.value); break;
        case HeaderId::Expires: (void)parse_delta_seconds(h.value, SipError::BadExpires); break;
        case HeaderId::Date: (void)parse_date(h.value); break;
        case HeaderId::ContentType: (void)parse_media_type(h.value); break;
        case HeaderId::Replaces: (void)parse_replaces(h.value); break;
        case HeaderId::Event:
        case HeaderId::SubscriptionState:
            (void)parse_token_with_params(h.value, SipError::BadHeaderValue);
            break;
        case HeaderId::Authorization:
        case HeaderId::ProxyAuthorization:
        case HeaderId::WwwAuthenticate:
        case HeaderId::ProxyAuthenticate:
            if (auto a = parse_auth(h.value)) {
                (void)a->param("nonce");
            }
            break;
        default: break;
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    (void)frame_stream(bytes, 4096);
    for (auto framing : {Framing::Datagram, Framing::Stream}) {
        auto outcome = parse_message(bytes, framing);
        if (!outcome.message) {
            continue;
        }
        const Message& m = *outcome.message;
        read_every_header(m);
        auto error = outcome.error != SipError::None ? outcome.error : validate(m);
        if (m.is_request() && can_answer(m)) {
            auto reply = make_error_response(m, error == SipError::None ? SipError::BadVia : error,
                                             "fuzz");
            if (!parse_message(reply).message) {
                __builtin_trap(); // our own responses must always parse
            }
        }
        if (error == SipError::None && m.is_request()) {
            auto forwarded = forward_request(m, {.via = "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKf",
                                                 .pop_routes = 1});
            auto again = parse_message(forwarded, framing);
            if (!again.message || again.error != SipError::None) {
                __builtin_trap(); // forwarding a valid request must keep it valid
            }
        }
    }
    return 0;
}
