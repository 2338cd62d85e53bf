#pragma once
// Byte-and-text helpers several services need: lowercase hex of bytes (digest responses, keys,
// tokens) and UTF-8 well-formedness (RFC 3629: passwords, WebSocket text frames).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace strowger::core {

// Lowercase hex, two digits a byte.
std::string to_hex(std::span<const std::uint8_t> bytes);

// The code point at `text[i]` and its length in bytes, or nothing for bytes that are not
// UTF-8 (a bad sequence, an overlong form, a surrogate, beyond U+10FFFF).
struct CodePoint {
    std::uint32_t value = 0;
    std::size_t length = 0;
};
std::optional<CodePoint> decode_utf8(std::string_view text, std::size_t i);

// Every byte of `text` is part of a well-formed UTF-8 sequence.
bool is_utf8(std::string_view text);

} // namespace strowger::core
