#include "core/text.hpp"

#include <array>

namespace strowger::core {

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(bytes.size() * 2, '0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        out[2 * i] = kDigits[bytes[i] >> 4];
        out[2 * i + 1] = kDigits[bytes[i] & 15];
    }
    return out;
}

std::optional<CodePoint> decode_utf8(std::string_view text, std::size_t i) {
    static constexpr std::array<std::uint32_t, 5> kSmallest = {0, 0, 0x80, 0x800, 0x10000};
    const auto lead = static_cast<std::uint8_t>(text[i]);
    CodePoint cp;
    if (lead < 0x80) {
        return CodePoint{lead, 1};
    }
    if ((lead & 0xe0) == 0xc0) {
        cp = {lead & 0x1fu, 2};
    } else if ((lead & 0xf0) == 0xe0) {
        cp = {lead & 0x0fu, 3};
    } else if ((lead & 0xf8) == 0xf0) {
        cp = {lead & 0x07u, 4};
    } else {
        return std::nullopt;
    }
    if (cp.length > text.size() - i) {
        return std::nullopt;
    }
    for (std::size_t k = 1; k < cp.length; ++k) {
        const auto next = static_cast<std::uint8_t>(text[i + k]);
        if ((next & 0xc0) != 0x80) {
            return std::nullopt;
        }
        cp.value = (cp.value << 6) | (next & 0x3fu);
    }
    if (cp.value < kSmallest[cp.length] || (cp.value >= 0xd800 && cp.value <= 0xdfff) ||
        cp.value > 0x10ffff) {
        return std::nullopt;
    }
    return cp;
}

bool is_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        auto cp = decode_utf8(text, i);
        if (!cp) {
            return false;
        }
        i += cp->length;
    }
    return true;
}

} // namespace strowger::core
