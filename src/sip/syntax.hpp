#pragma once
// RFC 3261 §25.1 character classes and a scanner for header values. Header values may be
// folded (CRLF followed by SP/HT), which counts as linear white space wherever LWS is allowed.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace strowger::sip {

namespace detail {
enum CharClass : std::uint8_t {
    kToken = 1,      // alphanum - . ! % * _ + ` ' ~
    kUnreserved = 2, // alphanum mark
    kUserExtra = 4,  // user-unreserved: & = + $ , ; ? /
    kParamExtra = 8, // param-unreserved: [ ] / : & + $
    kHeaderExtra = 16, // hnv-unreserved: [ ] / ? : + $
    kHostChar = 32,  // alphanum - . (hostname), plus IPv6/IPv4 literal chars handled apart
    kWordExtra = 64, // word: token chars plus ( ) < > : \ " / [ ] ? { }
    kListSpecial = 128, // what list splitting looks at: , " < > and backslash
};

constexpr std::array<std::uint8_t, 256> make_table() {
    std::array<std::uint8_t, 256> t{};
    auto add = [&t](std::string_view chars, std::uint8_t cls) {
        for (char c : chars) {
            t[static_cast<unsigned char>(c)] |= cls;
        }
    };
    for (int c = 0; c < 256; ++c) {
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum) {
            t[static_cast<std::size_t>(c)] |= kToken | kUnreserved | kHostChar | kWordExtra;
        }
    }
    add("-.!%*_+`'~", kToken | kWordExtra);
    add("-_.!~*'()", kUnreserved);
    add("&=+$,;?/", kUserExtra);
    add("[]/:&+$", kParamExtra);
    add("[]/?:+$", kHeaderExtra);
    add("-.", kHostChar);
    add("()<>:\\\"/[]?{}", kWordExtra);
    add(",\"<>\\", kListSpecial);
    return t;
}
inline constexpr auto kTable = make_table();

constexpr std::array<char, 256> make_lower() {
    std::array<char, 256> t{};
    for (int c = 0; c < 256; ++c) {
        t[static_cast<std::size_t>(c)] =
            static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return t;
}
inline constexpr auto kLower = make_lower();
} // namespace detail

inline bool is_token_char(char c) {
    return (detail::kTable[static_cast<unsigned char>(c)] & detail::kToken) != 0;
}
inline bool is_word_char(char c) {
    return (detail::kTable[static_cast<unsigned char>(c)] & detail::kWordExtra) != 0;
}
inline bool is_unreserved(char c) {
    return (detail::kTable[static_cast<unsigned char>(c)] & detail::kUnreserved) != 0;
}
inline bool is_user_char(char c) {
    return (detail::kTable[static_cast<unsigned char>(c)] &
            (detail::kUnreserved | detail::kUserExtra)) != 0;
}
inline bool is_param_char(char c) {
    return (detail::kTable[static_cast<unsigned char>(c)] &
            (detail::kUnreserved | detail::kParamExtra)) != 0;
}
inline bool is_header_char(char c) {
    return (detail::kTable[static_cast<unsigned char>(c)] &
            (detail::kUnreserved | detail::kHeaderExtra)) != 0;
}
inline bool is_host_char(char c) {
    return (detail::kTable[static_cast<unsigned char>(c)] & detail::kHostChar) != 0;
}
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline bool is_wsp(char c) { return c == ' ' || c == '\t'; }

inline bool is_list_special(char c) {
    return (detail::kTable[static_cast<unsigned char>(c)] & detail::kListSpecial) != 0;
}

// The value of a hex digit, or -1.
inline int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = static_cast<char>(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

inline char to_lower(char c) { return detail::kLower[static_cast<unsigned char>(c)]; }
// ASCII case-insensitive equality (header and parameter names, schemes, hosts).
inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) {
            return false;
        }
    }
    return true;
}
// Compares after decoding %HH escapes on both sides (RFC 3261 §19.1.4), case-sensitively or not.
bool unescaped_equals(std::string_view a, std::string_view b);
bool unescaped_iequals(std::string_view a, std::string_view b);

// Every character of `s` satisfies `pred` (true for an empty string).
template <class Pred>
bool all_chars(std::string_view s, Pred pred) {
    for (char c : s) {
        if (!pred(c)) {
            return false;
        }
    }
    return true;
}

// Every character is a token character (and there is at least one).
inline bool is_token(std::string_view s) {
    return !s.empty() && all_chars(s, [](char c) { return is_token_char(c); });
}
// Decimal digits only, value <= max; leading zeros allowed (RFC 4475 §3.1.1.1).
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max);
inline bool is_lws_char(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
// Trims LWS (including folding) from both ends.
inline std::string_view trim_lws(std::string_view s) {
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && is_lws_char(s[b])) {
        ++b;
    }
    while (e > b && is_lws_char(s[e - 1])) {
        --e;
    }
    return s.substr(b, e - b);
}

// A cursor over a header value.
class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {}

    [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
    [[nodiscard]] char peek() const { return at_end() ? '\0' : text_[pos_]; }
    [[nodiscard]] std::size_t position() const { return pos_; }
    [[nodiscard]] std::string_view rest() const { return text_.substr(pos_); }
    [[nodiscard]] std::string_view text() const { return text_; }
    void advance(std::size_t n = 1) { pos_ = std::min(pos_ + n, text_.size()); }

    // Skips SP, HT and folding (CRLF or LF followed by SP/HT); returns whether any was skipped.
    bool skip_lws() {
        auto start = pos_;
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (is_wsp(c)) {
                ++pos_;
            } else if (c == '\r' && pos_ + 2 < text_.size() && text_[pos_ + 1] == '\n' &&
                       is_wsp(text_[pos_ + 2])) {
                pos_ += 3;
            } else if (c == '\n' && pos_ + 1 < text_.size() && is_wsp(text_[pos_ + 1])) {
                pos_ += 2;
            } else {
                break;
            }
        }
        return pos_ != start;
    }
    bool consume(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    // SWS c SWS, as in RFC 3261's SEMI, COLON, SLASH, EQUAL, COMMA.
    bool consume_separator(char c);
    std::string_view token() { return take_while([](char c) { return is_token_char(c); }); }
    // A quoted-string including its quotes; nullopt (position unchanged) when unterminated.
    std::optional<std::string_view> quoted_string();
    // Characters while pred holds.
    template <class Pred>
    std::string_view take_while(Pred pred) {
        auto start = pos_;
        while (pos_ < text_.size() && pred(text_[pos_])) {
            ++pos_;
        }
        return text_.substr(start, pos_ - start);
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

} // namespace strowger::sip
