#include "sip/registrar.hpp"

#include <algorithm>
#include <ctime>
#include <optional>
#include <vector>

#include "sip/aor.hpp"
#include "sip/header_list.hpp"
#include "sip/headers.hpp"
#include "sip/syntax.hpp"
#include "sip/writer.hpp"

namespace strowger::sip {
namespace {

struct ContactChange {
    std::string_view uri_text;
    Uri uri;
    std::uint32_t expires = 0;
    std::uint16_t q = 1000;
    std::string_view instance{}; // +sip.instance, as written
    std::uint32_t reg_id = 0;
};

// Whether `b` is the binding `c` refreshes: the same instance and reg-id when the phone gave
// both (RFC 5626 §6: a new flow replaces the old one), else the same Contact URI (§10.3).
bool same_binding(const Binding& b, const ContactChange& c) {
    if (c.reg_id != 0 && !c.instance.empty()) {
        return b.reg_id == c.reg_id && b.instance == c.instance;
    }
    auto uri = parse_uri(b.contact);
    return b.reg_id == 0 && uri && uri_equivalent(*uri, c.uri);
}

// q-value (§20.10): "0" to "1" with at most three decimals, kept in thousandths.
std::optional<std::uint16_t> parse_q(std::string_view text) {
    if (text.empty() || (text[0] != '0' && text[0] != '1')) {
        return std::nullopt;
    }
    unsigned value = static_cast<unsigned>(text[0] - '0') * 1000;
    if (text.size() > 1) {
        if (text[1] != '.' || text.size() > 5) {
            return std::nullopt;
        }
        unsigned scale = 100;
        for (char c : text.substr(2)) {
            if (!is_digit(c)) {
                return std::nullopt;
            }
            value += static_cast<unsigned>(c - '0') * scale;
            scale /= 10;
        }
    }
    if (value > 1000) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

// delta-seconds of any length: a value beyond 32 bits means "as long as allowed".
std::optional<std::uint64_t> parse_expires(std::string_view text) {
    if (text.empty() || !all_chars(text, is_digit)) {
        return std::nullopt;
    }
    auto v = parse_decimal(text, UINT64_MAX);
    return v.value_or(UINT64_MAX);
}

std::string http_date(std::int64_t now) {
    auto t = static_cast<std::time_t>(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

RegisterReply refuse(const Message& request, std::string_view top_via, std::string_view to_tag,
                     int status, std::string_view reason, std::string_view extra = {}) {
    return {status,
            make_response(request, status, reason,
                          {.to_tag = to_tag, .extra_headers = extra, .top_via = top_via}),
            {}};
}

} // namespace

RegisterReply Registrar::handle(const Message& request, const Flow& source,
                                std::string_view top_via, std::int64_t now,
                                std::string_view to_tag) const {
    auto to = parse_name_addr(request.value(HeaderId::To), SipError::BadTo);
    if (!to || !to->uri.is_sip() || !to->uri.has_user()) {
        // §10.3 step 5: not an address-of-record of a domain we serve.
        return refuse(request, top_via, to_tag, 404, "Not Found (To is not a SIP address-of-record)");
    }
    auto aor = canonical_aor(to->uri);

    std::optional<std::uint64_t> header_expires;
    if (const auto* h = request.first(HeaderId::Expires)) {
        header_expires = parse_expires(trim_lws(h->value));
        if (!header_expires) {
            return refuse(request, top_via, to_tag, 400, describe(SipError::BadExpires));
        }
    }

    // §10.3 step 6-7: every Contact, its expiry clamped to [min, max] and checked against
    // Min-Expires (423), all before anything changes.
    bool star = false;
    std::size_t contact_values = 0;
    std::vector<ContactChange> changes;
    bool bad_contact = false;
    std::optional<std::string_view> bad_q;
    for_each_value(request, HeaderId::Contact, [&](std::string_view item) {
        ++contact_values;
        auto c = parse_contact(item);
        if (!c) {
            bad_contact = true;
            return false;
        }
        if (c->star) {
            star = true;
            return true;
        }
        ContactChange change{c->address.uri.text, c->address.uri};
        std::uint64_t expires = config_.default_expires;
        if (auto e = c->expires()) {
            auto v = parse_expires(*e);
            if (!v) {
                bad_contact = true;
                return false;
            }
            expires = *v;
        } else if (header_expires) {
            expires = *header_expires;
        }
        change.expires = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(expires, config_.max_expires));
        if (auto instance = c->address.params.get("+sip.instance")) {
            change.instance = *instance;
        }
        if (auto reg_id = c->address.params.get("reg-id")) {
            // RFC 5626 §4.2: 1 to 2^31-1; anything else is not a reg-id we can key on.
            auto v = parse_decimal(*reg_id, 2147483647);
            change.reg_id = v && *v > 0 ? static_cast<std::uint32_t>(*v) : 0;
        }
        if (auto q = c->address.params.get("q")) {
            auto v = parse_q(*q);
            if (!v) {
                bad_q = *q;
                return false;
            }
            change.q = *v;
        }
        changes.push_back(change);
        return true;
    });
    if (bad_contact) {
        return refuse(request, top_via, to_tag, 400, describe(SipError::BadContact));
    }
    if (bad_q) {
        return refuse(request, top_via, to_tag, 400, "Bad Request (Malformed q-value in Contact)");
    }
    if (star && (contact_values != 1 || header_expires != std::uint64_t{0})) {
        return refuse(request, top_via, to_tag, 400,
                      "Bad Request (Contact * needs Expires: 0 and no other Contact)");
    }
    for (const auto& c : changes) {
        if (c.expires != 0 && c.expires < config_.min_expires) {
            auto min = "Min-Expires: " + std::to_string(config_.min_expires) + "\r\n";
            return refuse(request, top_via, to_tag, 423, "Interval Too Brief", min);
        }
    }

    auto cseq = parse_cseq(request.value(HeaderId::CSeq));
    auto call_id = request.value(HeaderId::CallId);
    const std::uint32_t cseq_number = cseq ? cseq->number : 0;

    std::string path;
    for_each_value(request, HeaderId::Path, [&](std::string_view item) {
        if (!path.empty()) {
            path.append(", ");
        }
        path.append(item);
        return true;
    });
    std::string user_agent(request.value(HeaderId::UserAgent));

    // A request older than the binding it would change is refused as a whole (step 7).
    bool out_of_order = false;
    auto is_stale = [&](const Binding& b) {
        return b.call_id == call_id && cseq_number <= b.cseq;
    };
    auto bindings = store_.update(aor, now, [&](Bindings& current) {
        if (star) {
            if (std::any_of(current.begin(), current.end(), is_stale)) {
                out_of_order = true;
                return false;
            }
            current.clear();
            return true;
        }
        if (changes.empty()) {
            return false; // a query: nothing changes
        }
        for (const auto& c : changes) {
            auto existing = std::find_if(current.begin(), current.end(),
                                         [&](const Binding& b) { return same_binding(b, c); });
            if (existing != current.end()) {
                if (is_stale(*existing)) {
                    out_of_order = true;
                    return false;
                }
                if (c.expires == 0) {
                    current.erase(existing);
                    continue;
                }
            } else if (c.expires == 0) {
                continue;
            } else {
                existing = current.insert(current.end(), Binding{});
            }
            existing->contact = std::string(c.uri_text); // may be new for the same instance
            existing->instance = c.reg_id != 0 ? std::string(c.instance) : std::string{};
            existing->reg_id = c.instance.empty() ? 0 : c.reg_id;
            existing->path = path;
            existing->call_id = std::string(call_id);
            existing->cseq = cseq_number;
            existing->expires_at = now + c.expires;
            existing->q = c.q;
            existing->flow = source;
            existing->user_agent = user_agent;
        }
        return true;
    });
    if (out_of_order) {
        return refuse(request, top_via, to_tag, 400,
                      "Bad Request (CSeq not above the binding's; out of order REGISTER)");
    }

    // Step 8: 200 with every current binding and its remaining time.
    std::string extra;
    extra.reserve(64 + bindings.size() * 96);
    for (const auto& b : bindings) {
        extra.append("Contact: <");
        extra.append(b.contact);
        extra.append(">;expires=");
        extra.append(std::to_string(std::max<std::int64_t>(0, b.expires_at - now)));
        if (b.q != 1000) {
            char q[8];
            std::snprintf(q, sizeof q, "%u.%03u", b.q / 1000U, b.q % 1000U);
            extra.append(";q=");
            extra.append(q);
        }
        if (b.reg_id != 0) {
            // So that the phone finds its own binding in the list (RFC 5626 §6, JsSIP does).
            extra.append(";+sip.instance=");
            extra.append(b.instance);
            extra.append(";reg-id=");
            extra.append(std::to_string(b.reg_id));
        }
        extra.append("\r\n");
    }
    if (!path.empty()) {
        extra.append("Path: ");
        extra.append(path);
        extra.append("\r\n");
    }
    extra.append("Date: ");
    extra.append(http_date(now));
    extra.append("\r\n");
    return {200,
            make_response(request, 200, "OK",
                          {.to_tag = to_tag, .extra_headers = extra, .top_via = top_via}),
            std::move(aor)};
}

} // namespace strowger::sip
