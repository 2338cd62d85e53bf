#include "sip/writer.hpp"

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

} // namespace

std::string make_response(const Message& request, int status, std::string_view reason,
                          const ResponseOptions& options) {
    std::string out;
    out.reserve(request.header_end() + 128 + options.extra_headers.size() + options.body.size());
    out.append("SIP/2.0 ");
    out.append(std::to_string(status));
    out.push_back(' ');
    out.append(reason);
    out.append("\r\n");
    for (const auto& h : request.headers()) {
        switch (h.id) {
        case HeaderId::Via:
        case HeaderId::From:
        case HeaderId::CallId:
        case HeaderId::CSeq:
            append_header(out, header_name(h.id), h.value);
            break;
        case HeaderId::To:
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
    for (const auto& h : request.headers()) {
        if (h.id == HeaderId::MaxForwards) {
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
    out.append(raw.substr(request.header_end())); // the empty line and the body, untouched
    return out;
}

} // namespace strowger::sip
