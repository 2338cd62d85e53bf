#include "sip/syntax.hpp"

namespace strowger::sip {

namespace {

// Reads one character of `s` at `i`, decoding an escape; advances `i`.
int next_unescaped(std::string_view s, std::size_t& i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
        hex_value(s[i + 2]) >= 0) {
        int v = hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]);
        i += 3;
        return v;
    }
    return static_cast<unsigned char>(s[i++]);
}

template <bool CaseInsensitive>
bool unescaped_compare(std::string_view a, std::string_view b) {
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.size() && j < b.size()) {
        int x = next_unescaped(a, i);
        int y = next_unescaped(b, j);
        if constexpr (CaseInsensitive) {
            x = to_lower(static_cast<char>(x));
            y = to_lower(static_cast<char>(y));
        }
        if (x != y) {
            return false;
        }
    }
    return i == a.size() && j == b.size();
}

} // namespace

bool unescaped_equals(std::string_view a, std::string_view b) {
    return unescaped_compare<false>(a, b);
}

bool unescaped_iequals(std::string_view a, std::string_view b) {
    return unescaped_compare<true>(a, b);
}

std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) {
    if (s.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : s) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
        if (value > max) {
            return std::nullopt; // also stops before the accumulator could overflow
        }
    }
    return value;
}


bool Scanner::consume_separator(char c) {
    auto start = pos_;
    skip_lws();
    if (!consume(c)) {
        pos_ = start;
        return false;
    }
    skip_lws();
    return true;
}


std::optional<std::string_view> Scanner::quoted_string() {
    if (peek() != '"') {
        return std::nullopt;
    }
    auto start = pos_;
    std::size_t i = pos_ + 1;
    while (i < text_.size()) {
        char c = text_[i];
        if (c == '\\') {
            // quoted-pair: '\' followed by any octet except CR and LF (RFC 3261 §25.1).
            if (i + 1 >= text_.size() || text_[i + 1] == '\r' || text_[i + 1] == '\n') {
                return std::nullopt;
            }
            i += 2;
            continue;
        }
        if (c == '"') {
            pos_ = i + 1;
            return text_.substr(start, pos_ - start);
        }
        ++i;
    }
    return std::nullopt;
}

} // namespace strowger::sip
