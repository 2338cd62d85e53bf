#include "sip/params.hpp"

#include "sip/syntax.hpp"

namespace strowger::sip {

bool ParamList::next(std::size_t& pos, Param& out) const {
    Scanner s(raw_);
    s.advance(pos);
    if (lws_) {
        s.skip_lws();
    }
    if (!s.consume(';')) {
        return false;
    }
    if (lws_) {
        s.skip_lws();
    }
    // URI parameter names may hold escapes and param-unreserved characters; header parameter
    // names are tokens.
    out.name = lws_ ? s.token() : s.take_while([](char c) { return is_param_char(c) || c == '%'; });
    out.has_value = false;
    out.value = {};
    if (lws_ ? s.consume_separator('=') : s.consume('=')) {
        out.has_value = true;
        if (auto q = s.quoted_string()) {
            out.value = *q;
        } else {
            out.value = s.take_while([](char c) {
                return is_param_char(c) || is_token_char(c) || c == '%' || c == ':' ||
                       c == '[' || c == ']';
            });
        }
    }
    pos = s.position();
    return true;
}

std::optional<Param> ParamList::find(std::string_view name) const {
    std::optional<Param> found;
    for_each([&](const Param& p) {
        // URI parameter names may be %-escaped (RFC 4475 §3.1.1.3: "%6C%72" is "lr").
        if (lws_ ? iequals(p.name, name) : unescaped_iequals(p.name, name)) {
            found = p;
            return false;
        }
        return true;
    });
    return found;
}

std::optional<std::string_view> ParamList::get(std::string_view name) const {
    auto p = find(name);
    if (!p) {
        return std::nullopt;
    }
    return p->value;
}

} // namespace strowger::sip
