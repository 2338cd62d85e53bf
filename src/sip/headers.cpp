#include "sip/headers.hpp"

#include "sip/syntax.hpp"

namespace strowger::sip {
namespace {

using core::unexpected;

// Characters of a gen-value that is not quoted: token, host (IPv4, hostname, and IPv6 with or
// without brackets: RFC 5118 §4.5 sees both in Via received).
bool is_gen_value_char(char c) { return is_token_char(c) || c == ':' || c == '[' || c == ']'; }

// *( SEMI generic-param ) up to the end of the value, checked in one pass that hands each
// parameter to `visit(name, value, has_value)` (the value as written, quotes kept). Returns the
// list, or `error` for a stray separator or an unterminated quoted value.
// With `stop_at_comma`, a comma ends the list (the next value of a list header begins there)
// and the scanner is left on it.
template <class Visit>
Parsed<ParamList> parse_header_params(Scanner& s, SipError error, Visit visit,
                                      bool stop_at_comma = false) {
    s.skip_lws();
    auto start = s.position();
    while (!s.at_end()) {
        if (stop_at_comma && s.peek() == ',') {
            return ParamList(s.text().substr(start, s.position() - start), true);
        }
        if (!s.consume(';')) {
            return unexpected(error);
        }
        s.skip_lws();
        auto name = s.token();
        if (name.empty()) {
            return unexpected(s.peek() == ';' || s.at_end() ? SipError::EmptyParameter : error);
        }
        std::string_view value;
        bool has_value = s.consume_separator('=');
        if (has_value) {
            if (s.peek() == '"') {
                auto quoted = s.quoted_string();
                if (!quoted) {
                    return unexpected(SipError::UnterminatedQuote);
                }
                value = *quoted;
            } else {
                value = s.take_while([](char c) { return is_gen_value_char(c); });
                if (value.empty()) {
                    return unexpected(error);
                }
            }
        }
        if (!visit(name, value, has_value)) {
            return unexpected(error);
        }
        s.skip_lws();
    }
    return ParamList(s.text().substr(start), true);
}

Parsed<ParamList> parse_header_params(Scanner& s, SipError error) {
    return parse_header_params(s, error, [](auto, auto, auto) { return true; });
}

// display-name = *(token LWS) / quoted-string
bool valid_token_display_name(std::string_view name) {
    Scanner s(name);
    while (!s.at_end()) {
        if (s.take_while([](char c) { return is_token_char(c); }).empty()) {
            return false;
        }
        s.skip_lws();
    }
    return true;
}

bool has_whitespace(std::string_view s) {
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            return true;
        }
    }
    return false;
}

} // namespace

std::string_view unquote(std::string_view s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        return s.substr(1, s.size() - 2);
    }
    return s;
}

namespace {

Parsed<NameAddr> parse_name_addr_in(Scanner& s, SipError error, bool first_only) {
    NameAddr na;
    auto value = s.text();
    s.skip_lws();
    std::string_view uri_text;
    if (s.peek() == '"') {
        auto quoted = s.quoted_string();
        if (!quoted) {
            return unexpected(SipError::UnterminatedQuote);
        }
        na.display_name = *quoted;
        s.skip_lws();
        if (s.peek() != '<') {
            return unexpected(error);
        }
    } else if (auto lt = value.find('<'); lt != std::string_view::npos) {
        na.display_name = trim_lws(value.substr(s.position(), lt - s.position()));
        if (!valid_token_display_name(na.display_name)) {
            return unexpected(na.display_name.find('"') != std::string_view::npos
                                  ? SipError::UnterminatedQuote
                                  : SipError::BadDisplayName);
        }
        s.advance(lt - s.position());
    }
    if (s.consume('<')) {
        na.bracketed = true;
        auto close = s.rest().find('>');
        if (close == std::string_view::npos) {
            return unexpected(error);
        }
        // LAQUOT addr-spec RAQUOT: nothing may separate the URI from its brackets. The URI's
        // character classes exclude white space, so parse_uri() refuses it, and only then do
        // we look for it to name the reason.
        uri_text = s.rest().substr(0, close);
        s.advance(close + 1);
    } else {
        // addr-spec: the URI ends at the first ';' or LWS; what follows are header parameters
        // (RFC 3261 §20.10). A URI holding ',' or '?' must be bracketed.
        uri_text = s.take_while([first_only](char c) {
            return c != ';' && !is_wsp(c) && c != '\r' && c != '\n' && !(first_only && c == ',');
        });
        if (uri_text.find_first_of(",?") != std::string_view::npos) {
            return unexpected(SipError::AddrSpecNeedsBrackets);
        }
    }
    if (auto e = parse_uri_into(uri_text, na.uri); e != SipError::None) {
        return unexpected(has_whitespace(uri_text) ? SipError::WhitespaceInUri : e);
    }
    auto params = parse_header_params(
        s, error,
        [&na](std::string_view name, std::string_view v, bool has_value) {
            if (name.size() == 3 && iequals(name, "tag") && !na.tag_param) {
                na.tag_param = v;
                return has_value && !v.empty(); // tag = "tag" EQUAL token
            }
            return true;
        },
        first_only);
    if (!params) {
        return unexpected(params.error());
    }
    na.params = *params;
    return na;
}

} // namespace

Parsed<NameAddr> parse_name_addr(std::string_view value, SipError error) {
    Scanner s(value);
    return parse_name_addr_in(s, error, false);
}

Parsed<NameAddr> parse_first_name_addr(std::string_view value, SipError error) {
    Scanner s(value);
    return parse_name_addr_in(s, error, true);
}

Parsed<ContactValue> parse_contact(std::string_view value) {
    ContactValue c;
    if (trim_lws(value) == "*") {
        c.star = true;
        return c;
    }
    auto na = parse_name_addr(value, SipError::BadContact);
    if (!na) {
        return unexpected(na.error());
    }
    c.address = *na;
    if (auto expires = c.expires(); expires && !parse_decimal(*expires, UINT32_MAX)) {
        return unexpected(SipError::BadContact);
    }
    return c;
}

bool Via::has_rfc3261_branch() const {
    auto b = branch();
    return b && b->size() > 7 && b->substr(0, 7) == "z9hG4bK";
}

namespace {

// Via: sent-protocol LWS sent-by *( SEMI via-params )
//      sent-protocol = protocol-name SLASH protocol-version SLASH transport
Parsed<Via> parse_via_in(std::string_view value, bool first_only) {
    Via via;
    Scanner s(value);
    s.skip_lws();
    via.protocol_name = s.token();
    if (via.protocol_name.empty() || !s.consume_separator('/')) {
        return unexpected(SipError::BadVia);
    }
    via.protocol_version = s.token();
    if (via.protocol_version.empty() || !s.consume_separator('/')) {
        return unexpected(SipError::BadVia);
    }
    via.transport = s.token();
    if (via.transport.empty() || !s.skip_lws()) {
        return unexpected(SipError::BadVia);
    }
    auto sent_by_start = s.position();
    if (s.peek() == '[') {
        auto close = s.rest().find(']');
        if (close == std::string_view::npos) {
            return unexpected(SipError::BadVia);
        }
        via.host = s.rest().substr(0, close + 1);
        s.advance(close + 1);
    } else {
        via.host = s.take_while([](char c) { return is_host_char(c); });
    }
    if (via.host.empty()) {
        return unexpected(SipError::BadVia);
    }
    auto sent_by_end = s.position();
    if (s.consume_separator(':')) {
        auto port = parse_decimal(s.take_while([](char c) { return is_digit(c); }), 65535);
        if (!port) {
            return unexpected(SipError::BadVia);
        }
        via.port = static_cast<std::uint16_t>(*port);
        sent_by_end = s.position();
    }
    via.sent_by = value.substr(sent_by_start, sent_by_end - sent_by_start);
    auto params = parse_header_params(s, SipError::BadVia, [&via](std::string_view name,
                                                                  std::string_view v,
                                                                  bool has_value) {
        // RFC 3261 §25.1: branch, received, maddr and ttl take a value; rport (RFC 3581) may
        // stand alone. The first occurrence counts.
        std::optional<std::string_view>* slot = nullptr;
        bool needs_value = true;
        if (iequals(name, "branch")) {
            slot = &via.branch_param;
        } else if (iequals(name, "received")) {
            slot = &via.received_param;
        } else if (iequals(name, "maddr")) {
            slot = &via.maddr_param;
        } else if (iequals(name, "ttl")) {
            slot = &via.ttl_param;
        } else if (iequals(name, "rport")) {
            slot = &via.rport_param;
            needs_value = false;
        }
        if (slot == nullptr || slot->has_value()) {
            return true;
        }
        *slot = v;
        return !needs_value || (has_value && !v.empty());
    }, first_only);
    if (!params) {
        return unexpected(params.error());
    }
    via.params = *params;
    if (auto ttl = via.ttl(); ttl && !parse_decimal(*ttl, 255)) {
        return unexpected(SipError::BadVia);
    }
    return via;
}

} // namespace

Parsed<Via> parse_via(std::string_view value) { return parse_via_in(value, false); }

Parsed<Via> parse_first_via(std::string_view value) { return parse_via_in(value, true); }

// CSeq = 1*DIGIT LWS Method
Parsed<CSeq> parse_cseq(std::string_view value) {
    Scanner s(trim_lws(value));
    auto digits = s.take_while([](char c) { return is_digit(c); });
    auto number = parse_decimal(digits, UINT32_MAX);
    if (!number || !s.skip_lws()) {
        return unexpected(SipError::BadCSeq);
    }
    CSeq cseq;
    cseq.number = static_cast<std::uint32_t>(*number);
    cseq.method = s.token();
    if (cseq.method.empty() || !s.at_end()) {
        return unexpected(SipError::BadCSeq);
    }
    return cseq;
}

Parsed<std::uint8_t> parse_max_forwards(std::string_view value) {
    auto n = parse_decimal(trim_lws(value), 255);
    if (!n) {
        return unexpected(SipError::BadMaxForwards);
    }
    return static_cast<std::uint8_t>(*n);
}

Parsed<std::uint32_t> parse_delta_seconds(std::string_view value, SipError error) {
    auto n = parse_decimal(trim_lws(value), UINT32_MAX);
    if (!n) {
        return unexpected(error);
    }
    return static_cast<std::uint32_t>(*n);
}

// Call-ID = word [ "@" word ]
Parsed<std::string_view> parse_call_id(std::string_view value) {
    value = trim_lws(value);
    auto at = value.find('@');
    auto first = value.substr(0, at);
    auto all_word = [](std::string_view w) {
        return !w.empty() && all_chars(w, [](char c) { return is_word_char(c); });
    };
    if (!all_word(first) ||
        (at != std::string_view::npos && !all_word(value.substr(at + 1)))) {
        return unexpected(SipError::BadCallId);
    }
    return value;
}

// rfc1123-date = wkday "," SP date1 SP time SP "GMT"; e.g. "Sat, 13 Nov 2010 23:29:00 GMT".
Parsed<std::string_view> parse_date(std::string_view value) {
    value = trim_lws(value);
    constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    auto digits = [&](std::size_t at, std::size_t n) {
        for (std::size_t i = at; i < at + n; ++i) {
            if (!is_digit(value[i])) {
                return false;
            }
        }
        return true;
    };
    auto one_of = [](std::string_view s, const auto& list) {
        for (auto x : list) {
            if (s == x) {
                return true;
            }
        }
        return false;
    };
    if (value.size() != 29 || !one_of(value.substr(0, 3), kDays) || value.substr(3, 2) != ", " ||
        !digits(5, 2) || value[7] != ' ' || !one_of(value.substr(8, 3), kMonths) ||
        value[11] != ' ' || !digits(12, 4) || value[16] != ' ' || !digits(17, 2) ||
        value[19] != ':' || !digits(20, 2) || value[22] != ':' || !digits(23, 2) ||
        value.substr(25) != " GMT") {
        return unexpected(SipError::BadDate);
    }
    return value;
}

Parsed<AuthValue> parse_auth(std::string_view value) {
    Scanner s(trim_lws(value));
    AuthValue auth;
    auth.scheme = s.token();
    if (auth.scheme.empty()) {
        return unexpected(SipError::BadHeaderValue);
    }
    s.skip_lws();
    auto start = s.position();
    // auth-param *(COMMA auth-param); auth-param = token EQUAL ( token / quoted-string )
    while (!s.at_end()) {
        if (s.token().empty() || !s.consume_separator('=')) {
            return unexpected(SipError::BadHeaderValue);
        }
        if (s.peek() == '"') {
            if (!s.quoted_string()) {
                return unexpected(SipError::UnterminatedQuote);
            }
        } else if (s.take_while([](char c) { return is_token_char(c); }).empty()) {
            return unexpected(SipError::BadHeaderValue);
        }
        s.skip_lws();
        if (!s.at_end() && !s.consume_separator(',')) {
            return unexpected(SipError::BadHeaderValue);
        }
    }
    auth.params = s.text().substr(start);
    return auth;
}

std::optional<std::string_view> AuthValue::param(std::string_view name) const {
    Scanner s(params);
    while (!s.at_end()) {
        auto key = s.token();
        s.consume_separator('=');
        std::string_view v = s.peek() == '"' ? s.quoted_string().value_or("")
                                             : s.take_while([](char c) { return is_token_char(c); });
        if (iequals(key, name)) {
            return unquote(v);
        }
        s.consume_separator(',');
        if (key.empty()) {
            break; // checked at parse time; guards against looping on malformed input
        }
    }
    return std::nullopt;
}

Parsed<MediaType> parse_media_type(std::string_view value) {
    Scanner s(value);
    s.skip_lws();
    MediaType mt;
    mt.type = s.token();
    if (mt.type.empty() || !s.consume_separator('/')) {
        return unexpected(SipError::BadHeaderValue);
    }
    mt.subtype = s.token();
    if (mt.subtype.empty()) {
        return unexpected(SipError::BadHeaderValue);
    }
    auto params = parse_header_params(s, SipError::BadHeaderValue);
    if (!params) {
        return unexpected(params.error());
    }
    mt.params = *params;
    return mt;
}

Parsed<TokenWithParams> parse_token_with_params(std::string_view value, SipError error) {
    Scanner s(value);
    s.skip_lws();
    TokenWithParams t;
    t.token = s.token();
    if (t.token.empty()) {
        return unexpected(error);
    }
    auto params = parse_header_params(s, error);
    if (!params) {
        return unexpected(params.error());
    }
    t.params = *params;
    return t;
}

Parsed<std::string_view> parse_token_item(std::string_view item) {
    item = trim_lws(item);
    if (!is_token(item)) {
        return unexpected(SipError::BadHeaderValue);
    }
    return item;
}

Parsed<ReasonValue> parse_reason(std::string_view value) {
    auto t = parse_token_with_params(value, SipError::BadHeaderValue);
    if (!t) {
        return unexpected(t.error());
    }
    return ReasonValue{t->token, t->params};
}

Parsed<ReplacesValue> parse_replaces(std::string_view value) {
    Scanner s(value);
    s.skip_lws();
    ReplacesValue r;
    r.call_id = s.take_while([](char c) { return is_word_char(c) || c == '@'; });
    if (!parse_call_id(r.call_id)) {
        return unexpected(SipError::BadHeaderValue);
    }
    auto params = parse_header_params(s, SipError::BadHeaderValue);
    if (!params) {
        return unexpected(params.error());
    }
    r.params = *params;
    return r;
}

} // namespace strowger::sip
