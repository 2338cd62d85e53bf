#include "sip/validate.hpp"

#include "sip/header_list.hpp"
#include "sip/headers.hpp"
#include "sip/syntax.hpp"

namespace strowger::sip {

std::string_view trim_list_item(std::string_view item) { return trim_lws(item); }

namespace {

// Every item of a list header must parse with `parse`.
template <class ParseFn>
SipError check_list(const Message& msg, HeaderId id, ParseFn parse) {
    SipError found = SipError::None;
    auto e = for_each_value(msg, id, [&](std::string_view item) {
        auto r = parse(item);
        if (!r) {
            found = r.error();
            return false;
        }
        return true;
    });
    return e != SipError::None ? e : found;
}

constexpr HeaderId kMandatory[] = {HeaderId::Via, HeaderId::From, HeaderId::To,
                                   HeaderId::CallId, HeaderId::CSeq};
constexpr HeaderId kSingle[] = {HeaderId::From, HeaderId::To, HeaderId::CallId, HeaderId::CSeq,
                                HeaderId::MaxForwards, HeaderId::Expires,
                                HeaderId::ContentType};

SipError check_request_uri(const Message& msg) {
    auto uri = parse_uri(msg.request_uri());
    if (!uri) {
        return SipError::BadRequestUri;
    }
    // RFC 3261 §19.1.5: headers are not allowed in a Request-URI.
    if (uri->is_sip() && !uri->headers.empty()) {
        return SipError::HeadersInRequestUri;
    }
    return SipError::None;
}

} // namespace

SipError validate(const Message& msg) {
    if (msg.is_request()) {
        if (auto e = check_request_uri(msg); e != SipError::None) {
            return e;
        }
    }
    for (auto id : kMandatory) {
        if (msg.first(id) == nullptr) {
            return SipError::MissingHeader;
        }
    }
    for (auto id : kSingle) {
        if (msg.count(id) > 1) {
            return SipError::DuplicateHeader;
        }
    }
    if (auto e = check_list(msg, HeaderId::Via, parse_via); e != SipError::None) {
        return e;
    }
    if (auto r = parse_name_addr(msg.value(HeaderId::From), SipError::BadFrom); !r) {
        return r.error();
    }
    if (auto r = parse_name_addr(msg.value(HeaderId::To), SipError::BadTo); !r) {
        return r.error();
    }
    if (auto r = parse_call_id(msg.value(HeaderId::CallId)); !r) {
        return r.error();
    }
    auto cseq = parse_cseq(msg.value(HeaderId::CSeq));
    if (!cseq) {
        return cseq.error();
    }
    // RFC 3261 §8.1.1.5: the CSeq method matches the request method (case-sensitive).
    if (msg.is_request() && cseq->method != msg.method()) {
        return SipError::CSeqMethodMismatch;
    }
    if (const auto* mf = msg.first(HeaderId::MaxForwards)) {
        if (auto r = parse_max_forwards(mf->value); !r) {
            return r.error();
        }
    }
    if (auto e = check_list(msg, HeaderId::Contact, parse_contact); e != SipError::None) {
        return e;
    }
    auto route = [](std::string_view v) { return parse_name_addr(v, SipError::BadRoute); };
    for (auto id : {HeaderId::Route, HeaderId::RecordRoute}) {
        if (auto e = check_list(msg, id, route); e != SipError::None) {
            return e;
        }
    }
    for (auto id : {HeaderId::Expires, HeaderId::MinExpires}) {
        if (const auto* h = msg.first(id)) {
            if (auto r = parse_delta_seconds(h->value, SipError::BadExpires); !r) {
                return r.error();
            }
        }
    }
    if (const auto* h = msg.first(HeaderId::Date)) {
        if (auto r = parse_date(h->value); !r) {
            return r.error();
        }
    }
    return SipError::None;
}

bool can_answer(const Message& msg) {
    // A response goes back along the top Via (§18.2.2), or when that cannot be read, to the
    // source address; everything else it echoes (From, To, Call-ID, CSeq) is copied when
    // present, so a request missing them still gets its 400 (RFC 4475 §3.3.1).
    return msg.is_request() && msg.first(HeaderId::Via) != nullptr;
}

} // namespace strowger::sip
