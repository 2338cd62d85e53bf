#include "sip/uri.hpp"

#include "sip/syntax.hpp"

namespace strowger::sip {
namespace {

using core::unexpected;
using UriResult = core::Result<Uri, SipError>;

bool is_scheme_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '+' ||
           c == '-' || c == '.';
}

bool is_password_char(char c) {
    return is_unreserved(c) || c == '&' || c == '=' || c == '+' || c == '$' || c == ',';
}

// Every character satisfies `pred` or starts a valid %HH escape: one pass.
template <class Pred>
bool valid_escaped(std::string_view s, Pred pred) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
                return false;
            }
            i += 2;
        } else if (!pred(s[i])) {
            return false;
        }
    }
    return true;
}

// IPv6reference = "[" IPv6address "]". The address is checked for its alphabet only, which
// also tolerates the three-colon form RFC 3261's ABNF produced (RFC 5118 §4.10).
bool valid_ipv6_reference(std::string_view host) {
    if (host.size() < 4 || host.front() != '[' || host.back() != ']') {
        return false;
    }
    auto inner = host.substr(1, host.size() - 2);
    return inner.find(':') != std::string_view::npos &&
           all_chars(inner, [](char c) { return is_hex(c) || c == ':' || c == '.'; });
}

bool has_whitespace(std::string_view s) {
    for (char c : s) {
        if (c == ' ' || c == '\t') {
            return true;
        }
    }
    return false;
}

bool valid_hostname(std::string_view host) {
    return !host.empty() && all_chars(host, [](char c) { return is_host_char(c); }) && host.front() != '.' &&
           host.front() != '-';
}

// ;name[=value] pairs without LWS; every name non-empty.
bool valid_uri_params(std::string_view params) {
    std::size_t i = 0;
    auto run = [&params, &i] {
        auto start = i;
        while (i < params.size() && (is_param_char(params[i]) || params[i] == '%')) {
            if (params[i] == '%' &&
                (i + 2 >= params.size() || !is_hex(params[i + 1]) || !is_hex(params[i + 2]))) {
                return std::string_view::npos;
            }
            i += params[i] == '%' ? 3U : 1U;
        }
        return i - start;
    };
    while (i < params.size()) {
        if (params[i] != ';') {
            return false;
        }
        ++i;
        auto name_length = run();
        if (name_length == 0 || name_length == std::string_view::npos) {
            return false;
        }
        if (i < params.size() && params[i] == '=') {
            ++i;
            if (run() == std::string_view::npos) {
                return false;
            }
        }
    }
    return true;
}

// hname "=" hvalue *( "&" hname "=" hvalue )
bool valid_uri_headers(std::string_view headers) {
    if (headers.empty()) {
        return false;
    }
    return valid_escaped(headers,
                         [](char c) { return is_header_char(c) || c == '=' || c == '&'; });
}

SipError parse_sip_uri(Uri& uri, std::string_view rest) {
    // userinfo ends at the '@'; neither user nor password may hold a raw '@'.
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        auto userinfo = rest.substr(0, at);
        rest.remove_prefix(at + 1);
        auto colon = userinfo.find(':');
        uri.user = userinfo.substr(0, colon);
        if (colon != std::string_view::npos) {
            uri.password = userinfo.substr(colon + 1);
            if (!valid_escaped(*uri.password, [](char c) { return is_password_char(c); })) {
                return SipError::BadUri;
            }
        }
        if (uri.user.empty() || !valid_escaped(uri.user, [](char c) { return is_user_char(c); })) {
            return SipError::BadUri;
        }
    }
    // hostport
    std::size_t host_end = 0;
    if (!rest.empty() && rest.front() == '[') {
        host_end = rest.find(']');
        if (host_end == std::string_view::npos) {
            return SipError::BadUri;
        }
        ++host_end;
        uri.host = rest.substr(0, host_end);
        if (!valid_ipv6_reference(uri.host)) {
            return SipError::BadUri;
        }
    } else {
        while (host_end < rest.size() && is_host_char(rest[host_end])) {
            ++host_end;
        }
        uri.host = rest.substr(0, host_end);
        if (!valid_hostname(uri.host)) {
            return SipError::BadUri;
        }
    }
    rest.remove_prefix(host_end);
    if (!rest.empty() && rest.front() == ':') {
        rest.remove_prefix(1);
        std::size_t n = 0;
        while (n < rest.size() && is_digit(rest[n])) {
            ++n;
        }
        auto port = parse_decimal(rest.substr(0, n), 65535);
        if (!port) {
            return SipError::BadUri;
        }
        uri.port = static_cast<std::uint16_t>(*port);
        rest.remove_prefix(n);
    }
    auto q = rest.find('?');
    auto params = rest.substr(0, q);
    if (!params.empty() && !valid_uri_params(params)) {
        return SipError::BadUri;
    }
    uri.params = ParamList(params, false);
    if (q != std::string_view::npos) {
        uri.headers = rest.substr(q + 1);
        if (!valid_uri_headers(uri.headers)) {
            return SipError::BadUri;
        }
    }
    return SipError::None;
}

} // namespace

SipError parse_uri_into(std::string_view text, Uri& uri) {
    uri = Uri{};
    uri.text = text;
    auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return SipError::BadUri;
    }
    uri.scheme_name = text.substr(0, colon);
    char first = to_lower(uri.scheme_name[0]);
    if (first < 'a' || first > 'z' ||
        !all_chars(uri.scheme_name, [](char c) { return is_scheme_char(c); })) {
        return SipError::BadUri;
    }
    auto rest = text.substr(colon + 1);
    if (iequals(uri.scheme_name, "sip") || iequals(uri.scheme_name, "sips")) {
        uri.scheme = uri.scheme_name.size() == 3 ? Uri::Scheme::Sip : Uri::Scheme::Sips;
        // The character classes of each part already exclude white space and controls; only
        // a refused URI is scanned again, to say whether white space was the reason.
        auto e = parse_sip_uri(uri, rest);
        return e != SipError::None && has_whitespace(rest) ? SipError::WhitespaceInUri : e;
    }
    for (char c : rest) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
            return c == ' ' || c == '\t' ? SipError::WhitespaceInUri : SipError::BadUri;
        }
    }
    if (rest.empty()) {
        return SipError::BadUri;
    }
    if (iequals(uri.scheme_name, "tel")) {
        uri.scheme = Uri::Scheme::Tel;
        auto semi = rest.find(';');
        uri.opaque = rest.substr(0, semi);
        if (uri.opaque.empty()) {
            return SipError::BadUri;
        }
        if (semi != std::string_view::npos) {
            auto params = rest.substr(semi);
            if (!valid_uri_params(params)) {
                return SipError::BadUri;
            }
            uri.params = ParamList(params, false);
        }
        return SipError::None;
    }
    uri.scheme = Uri::Scheme::Other;
    uri.opaque = rest;
    return SipError::None;
}

UriResult parse_uri(std::string_view text) {
    Uri uri;
    auto e = parse_uri_into(text, uri);
    if (e != SipError::None) {
        return unexpected(e);
    }
    return uri;
}

namespace {

// RFC 3261 §19.1.4: these parameters must match whenever either URI has them.
constexpr std::string_view kSignificant[] = {"user", "ttl", "method", "maddr", "transport"};

bool params_equivalent(const ParamList& a, const ParamList& b) {
    bool ok = true;
    for (auto name : kSignificant) {
        auto x = a.find(name);
        auto y = b.find(name);
        if (x.has_value() != y.has_value() ||
            (x && !unescaped_iequals(x->value, y->value))) {
            return false;
        }
    }
    a.for_each([&](const Param& p) {
        // A repeated name counts once, by its first occurrence on both sides.
        if (auto first = a.find(p.name); first && first->name.data() != p.name.data()) {
            return true;
        }
        if (auto other = b.find(p.name)) {
            ok = unescaped_iequals(p.value, other->value) && p.has_value == other->has_value;
        }
        return ok;
    });
    return ok;
}

// Each header of one URI must be in the other with an equal value, and vice versa.
bool headers_contained(std::string_view a, std::string_view b) {
    while (!a.empty()) {
        auto amp = a.find('&');
        auto item = a.substr(0, amp);
        auto eq = item.find('=');
        auto name = item.substr(0, eq);
        auto value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        bool found = false;
        auto rest = b;
        while (!rest.empty() && !found) {
            auto amp2 = rest.find('&');
            auto other = rest.substr(0, amp2);
            auto eq2 = other.find('=');
            found = unescaped_iequals(other.substr(0, eq2), name) &&
                    unescaped_equals(eq2 == std::string_view::npos ? std::string_view{}
                                                                   : other.substr(eq2 + 1),
                                     value);
            rest = amp2 == std::string_view::npos ? std::string_view{} : rest.substr(amp2 + 1);
        }
        if (!found) {
            return false;
        }
        a = amp == std::string_view::npos ? std::string_view{} : a.substr(amp + 1);
    }
    return true;
}

} // namespace

bool uri_equivalent(const Uri& a, const Uri& b) {
    if (a.scheme != b.scheme || !iequals(a.scheme_name, b.scheme_name)) {
        return false;
    }
    if (!a.is_sip()) {
        return a.scheme == Uri::Scheme::Tel
                   ? unescaped_equals(a.opaque, b.opaque) && params_equivalent(a.params, b.params)
                   : unescaped_equals(a.opaque, b.opaque);
    }
    return unescaped_equals(a.user, b.user) && a.password.has_value() == b.password.has_value() &&
           (!a.password || unescaped_equals(*a.password, *b.password)) &&
           unescaped_iequals(a.host, b.host) && a.port == b.port &&
           params_equivalent(a.params, b.params) && headers_contained(a.headers, b.headers) &&
           headers_contained(b.headers, a.headers);
}

} // namespace strowger::sip
