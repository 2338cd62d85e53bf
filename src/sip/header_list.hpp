#pragma once
// The values of a list header (Via, Contact, Route, ...): every field of that header in order,
// each split at commas that are not inside a quoted string or <...> (RFC 3261 §7.3.1).

#include <string_view>

#include "sip/error.hpp"
#include "sip/message.hpp"
#include "sip/syntax.hpp"

namespace strowger::sip {

// Splits one field value. Calls fn(item) for each item (LWS-trimmed); returns EmptyListItem
// for an empty item ("a,,b"), or UnterminatedQuote; stops early if fn returns false.
template <class Fn>
SipError split_list(std::string_view value, Fn fn);

// All items of header `id` across the message, in order.
template <class Fn>
SipError for_each_value(const Message& msg, HeaderId id, Fn fn) {
    for (const auto& h : msg.headers()) {
        if (h.id != id) {
            continue;
        }
        bool stop = false;
        auto e = split_list(h.value, [&](std::string_view item) {
            stop = !fn(item);
            return !stop;
        });
        if (e != SipError::None || stop) {
            return e;
        }
    }
    return SipError::None;
}

std::string_view trim_list_item(std::string_view item);

template <class Fn>
SipError split_list(std::string_view value, Fn fn) {
    std::size_t start = 0;
    bool bracket = false;
    const std::size_t n = value.size();
    std::size_t i = 0;
    while (true) {
        // Most bytes are ordinary: skip them with one table lookup each.
        while (i < n && !is_list_special(value[i])) {
            ++i;
        }
        char c = i < n ? value[i] : ',';
        if (c == '"') {
            // A quoted string: skip to its closing quote, minding quoted-pairs.
            for (++i; i < n && value[i] != '"'; ++i) {
                if (value[i] == '\\') {
                    ++i;
                }
            }
            if (i >= n) {
                return SipError::UnterminatedQuote;
            }
            ++i;
            continue;
        }
        if (c == '<') {
            bracket = true;
        } else if (c == '>') {
            bracket = false;
        } else if (c == ',' && (!bracket || i >= n)) {
            // At the end of the value the last item is emitted even inside an unclosed '<':
            // its own parser reports that.
            auto item = trim_list_item(value.substr(start, i - start));
            if (item.empty()) {
                return SipError::EmptyListItem;
            }
            if (!fn(item) || i >= n) {
                return SipError::None;
            }
            start = i + 1;
        }
        ++i;
    }
}

} // namespace strowger::sip
