#include "sip/aor.hpp"

#include "sip/syntax.hpp"

namespace strowger::sip {
namespace {

void append_normalised_user(std::string& out, std::string_view user) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (std::size_t i = 0; i < user.size(); ++i) {
        char c = user[i];
        if (c == '%' && i + 2 < user.size()) {
            int hi = hex_value(user[i + 1]);
            int lo = hex_value(user[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = static_cast<char>(hi * 16 + lo);
                i += 2;
            }
        }
        auto u = static_cast<unsigned char>(c);
        if (is_user_char(c) && c != '%') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        }
    }
}

} // namespace

std::string canonical_aor(const Uri& uri) {
    std::string out;
    out.reserve(uri.user.size() + uri.host.size() + 5);
    out.append("sip:");
    if (uri.has_user()) {
        append_normalised_user(out, uri.user);
        out.push_back('@');
    }
    for (char c : uri.host) {
        out.push_back(to_lower(c));
    }
    return out;
}

} // namespace strowger::sip
