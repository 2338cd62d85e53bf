#include "sip/writer.hpp"

#include <utility>

#include "sip/header_list.hpp"
#include "sip/headers.hpp"
#include "sip/syntax.hpp"

namespace strowger::sip {
namespace {

void append_header(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

bool has_tag(std::string_view to_value) {
    auto to = parse_name_addr(to_value, SipError::BadTo);
    return to && to->tag().has_value();
}

// Writes a Via field whose first value is replaced by `top`.
void append_via_replacing_first(std::string& out, std::string_view value, std::string_view top) {
    auto [first, rest] = split_first_item(value);
    out.append("Via: ");
    out.append(top);
    if (!rest.empty()) {
        out.append(", ");
        out.append(rest);
    }
    out.append("\r\n");
}

// Copies the fields of `request` with id `id`, in order.
void copy_fields(std::string& out, const Message& msg, HeaderId id) {
    for (const auto& h : msg.headers()) {
        if (h.id == id) {
            append_header(out, header_name(id), h.value);
        }
    }
}

std::string_view first_via_value(const Message& msg) {
    const auto* via = msg.first(HeaderId::Via);
    return via == nullptr ? std::string_view{} : split_first_item(via->value).item;
}

void append_cseq(std::string& out, const Message& request, std::string_view method) {
    auto cseq = parse_cseq(request.value(HeaderId::CSeq));
    out.append("CSeq: ");
    out.append(std::to_string(cseq ? cseq->number : 0));
    out.push_back(' ');
    out.append(method);
    out.append("\r\n");
}

} // namespace

FirstItem split_first_item(std::string_view value) {
    FirstItem result{value, {}};
    bool first = true;
    split_list(value, [&](std::string_view item) {
        if (first) {
            result.item = item;
            first = false;
            return true;
        }
        result.rest = value.substr(static_cast<std::size_t>(item.data() - value.data()));
        return false;
    });
    return result;
}

std::string make_response(const Message& request, int status, std::string_view reason,
                          const ResponseOptions& options) {
    std::string out;
    out.reserve(request.header_end() + 128 + options.extra_headers.size() + options.body.size());
    out.append("SIP/2.0 ");
    out.append(std::to_string(status));
    out.push_back(' ');
    out.append(reason);
    out.append("\r\n");
    bool first_via = true;
    // From, To, Call-ID and CSeq once each, even when a broken request repeats them.
    bool seen_from = false;
    bool seen_to = false;
    bool seen_call_id = false;
    bool seen_cseq = false;
    auto once = [](bool& seen) { return !std::exchange(seen, true); };
    for (const auto& h : request.headers()) {
        switch (h.id) {
        case HeaderId::Via:
            if (first_via && !options.top_via.empty()) {
                append_via_replacing_first(out, h.value, options.top_via);
            } else {
                append_header(out, "Via", h.value);
            }
            first_via = false;
            break;
        case HeaderId::From:
            if (once(seen_from)) {
                append_header(out, "From", h.value);
            }
            break;
        case HeaderId::CallId:
            if (once(seen_call_id)) {
                append_header(out, "Call-ID", h.value);
            }
            break;
        case HeaderId::CSeq:
            if (once(seen_cseq)) {
                append_header(out, "CSeq", h.value);
            }
            break;
        case HeaderId::To:
            if (!once(seen_to)) {
                break;
            }
            out.append("To: ");
            out.append(h.value);
            if (status > 100 && !options.to_tag.empty() && !has_tag(h.value)) {
                out.append(";tag=");
                out.append(options.to_tag);
            }
            out.append("\r\n");
            break;
        case HeaderId::Timestamp:
            if (status == 100) {
                append_header(out, "Timestamp", h.value);
            }
            break;
        default:
            break;
        }
    }
    out.append(options.extra_headers);
    if (!options.body.empty()) {
        append_header(out, "Content-Type", options.content_type);
    }
    append_header(out, "Content-Length", std::to_string(options.body.size()));
    out.append("\r\n");
    out.append(options.body);
    return out;
}

std::string make_error_response(const Message& request, SipError error,
                                std::string_view to_tag) {
    if (error == SipError::UnsupportedVersion) {
        return make_response(request, 505, "Version Not Supported", {.to_tag = to_tag});
    }
    return make_response(request, 400, describe(error), {.to_tag = to_tag});
}

std::string forward_request(const Message& request, const ForwardEdits& edits) {
    auto raw = request.raw();
    std::string out;
    out.reserve(raw.size() + edits.via.size() + 256);

    // Request-Line = Method SP Request-URI SP SIP-Version CRLF
    out.append(request.method());
    out.push_back(' ');
    out.append(edits.request_uri.value_or(request.request_uri()));
    out.push_back(' ');
    out.append(request.version());
    out.append("\r\n");
    if (!edits.via.empty()) {
        append_header(out, "Via", edits.via);
    }
    for (auto rr : edits.record_route) {
        append_header(out, "Record-Route", rr);
    }
    if (request.first(HeaderId::MaxForwards) == nullptr) {
        append_header(out, "Max-Forwards", "70");
    }

    // Copy the header section in runs of untouched lines; rewrite only Max-Forwards and the
    // Route lines that lose values.
    std::size_t to_pop = edits.pop_routes;
    bool routes_pushed = edits.push_routes.empty();
    auto push_routes = [&] {
        for (auto r : edits.push_routes) {
            append_header(out, "Route", r);
        }
        routes_pushed = true;
    };
    std::size_t copy_from = request.headers().empty() ? request.header_end()
                                                      : request.headers().front().line_begin;
    auto flush = [&](std::size_t up_to) {
        out.append(raw.substr(copy_from, up_to - copy_from));
    };
    bool first_via = true;
    for (const auto& h : request.headers()) {
        if (h.id == HeaderId::Via && first_via) {
            first_via = false;
            if (!edits.top_via.empty()) {
                flush(h.line_begin);
                append_via_replacing_first(out, h.value, edits.top_via);
                copy_from = h.line_end;
            }
        } else if (h.id == HeaderId::MaxForwards) {
            flush(h.line_begin);
            auto mf = parse_max_forwards(h.value);
            append_header(out, "Max-Forwards",
                          std::to_string(mf && *mf > 0 ? *mf - 1 : 0));
            copy_from = h.line_end;
        } else if (h.id == HeaderId::Route && (to_pop > 0 || !routes_pushed)) {
            flush(h.line_begin);
            // Drop the first values of this field; keep the rest of it as written.
            std::string_view remaining;
            split_list(h.value, [&](std::string_view item) {
                if (to_pop > 0) {
                    --to_pop;
                    return true;
                }
                remaining = h.value.substr(static_cast<std::size_t>(item.data() - h.value.data()));
                return false;
            });
            if (!routes_pushed) {
                push_routes();
            }
            if (!remaining.empty()) {
                append_header(out, "Route", remaining);
            }
            copy_from = h.line_end;
        }
    }
    flush(request.header_end());
    if (!routes_pushed) {
        push_routes();
    }
    if (!request.content_length()) {
        // Optional over UDP, mandatory on a stream (§18.3): the next hop may be either.
        append_header(out, "Content-Length", std::to_string(request.body().size()));
    }
    out.append(raw.substr(request.header_end())); // the empty line and the body, untouched
    return out;
}

std::string strip_top_via(const Message& response) {
    auto raw = response.raw();
    const auto* via = response.first(HeaderId::Via);
    if (via == nullptr) {
        return std::string(raw);
    }
    std::string out;
    out.reserve(raw.size());
    out.append(raw.substr(0, via->line_begin));
    auto [first, rest] = split_first_item(via->value);
    if (!rest.empty()) {
        append_header(out, "Via", rest);
    }
    out.append(raw.substr(via->line_end));
    return out;
}

namespace {

// The requests a client transaction makes of its own request (§9.1, §17.1.1.3): same
// Request-URI, top Via, Route, From, Call-ID and CSeq number; only the method, To and Reason
// differ.
std::string make_sibling_request(const Message& request, std::string_view method,
                                 std::string_view to, std::string_view reason) {
    std::string out;
    out.reserve(512);
    out.append(method);
    out.push_back(' ');
    out.append(request.request_uri());
    out.append(" SIP/2.0\r\n");
    append_header(out, "Via", first_via_value(request));
    copy_fields(out, request, HeaderId::Route);
    append_header(out, "Max-Forwards", "70");
    append_header(out, "From", request.value(HeaderId::From));
    append_header(out, "To", to);
    append_header(out, "Call-ID", request.value(HeaderId::CallId));
    append_cseq(out, request, method);
    if (!reason.empty()) {
        append_header(out, "Reason", reason);
    }
    out.append("Content-Length: 0\r\n\r\n");
    return out;
}

} // namespace

std::string make_ack_for_failure(const Message& request, const Message& response) {
    return make_sibling_request(request, "ACK", response.value(HeaderId::To), {});
}

std::string make_cancel(const Message& request, std::string_view reason) {
    return make_sibling_request(request, "CANCEL", request.value(HeaderId::To), reason);
}

} // namespace strowger::sip
