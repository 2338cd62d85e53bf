#include "stun/message.hpp"

#include <algorithm>

#include "core/byte_reader.hpp"

namespace strowger::stun {

using core::ByteReader;
using core::load_u16be;
using core::load_u32be;

std::string_view to_string(ParseError e) {
    switch (e) {
    case ParseError::TooShort: return "shorter than a STUN header";
    case ParseError::NotStun: return "not STUN (top bits set)";
    case ParseError::BadLength: return "length field does not match the message";
    case ParseError::AttributeOverrun: return "attribute runs past the end";
    case ParseError::TooManyAttributes: return "too many attributes";
    case ParseError::BadFingerprintPlace: return "FINGERPRINT is not the last attribute";
    }
    return "unknown";
}

const Attribute* Message::find(std::uint16_t type) const noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
        if (attrs_[i].type == type) {
            return &attrs_[i];
        }
    }
    return nullptr;
}

bool looks_like_stun(std::span<const std::uint8_t> bytes) noexcept {
    return bytes.size() >= kHeaderSize && (bytes[0] & 0xC0) == 0 &&
           load_u32be(bytes.data() + 4) == kMagicCookie;
}

std::optional<std::size_t> frame_length(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) {
        return 0;
    }
    if ((bytes[0] & 0xC0) != 0) {
        return std::nullopt;
    }
    if (bytes.size() < 4) {
        return 0;
    }
    std::size_t length = load_u16be(bytes.data() + 2);
    if (length % 4 != 0) {
        return std::nullopt;
    }
    std::size_t total = kHeaderSize + length;
    return bytes.size() >= total ? total : 0;
}

std::optional<Message> parse_message(std::span<const std::uint8_t> bytes, ParseError* error) {
    auto fail = [error](ParseError e) -> std::optional<Message> {
        if (error != nullptr) {
            *error = e;
        }
        return std::nullopt;
    };
    // RFC 7983: the first byte tells STUN (0-3) from ChannelData, DTLS, RTP; check it first so
    // that a short frame of another protocol is reported as such.
    if (!bytes.empty() && (bytes[0] & 0xC0) != 0) {
        return fail(ParseError::NotStun);
    }
    if (bytes.size() < kHeaderSize) {
        return fail(ParseError::TooShort);
    }
    std::size_t length = load_u16be(bytes.data() + 2);
    // RFC 8489 §5: the length excludes the header and is always a multiple of 4.
    if (length % 4 != 0 || kHeaderSize + length != bytes.size()) {
        return fail(ParseError::BadLength);
    }

    Message msg;
    msg.raw_ = bytes;
    msg.type_ = load_u16be(bytes.data());
    msg.magic_cookie_ = load_u32be(bytes.data() + 4) == kMagicCookie;

    ByteReader reader{bytes.subspan(kHeaderSize)};
    bool seen_fingerprint = false;
    while (reader.remaining() > 0) {
        auto offset = kHeaderSize + reader.position();
        auto type = reader.u16be();
        auto value_length = reader.u16be();
        auto value = reader.take(value_length);
        reader.skip((4U - value_length % 4U) % 4U); // padding: any value, ignored (§14)
        if (!reader.ok()) {
            return fail(ParseError::AttributeOverrun);
        }
        if (seen_fingerprint) {
            return fail(ParseError::BadFingerprintPlace);
        }
        if (msg.count_ == Message::kMaxAttributes) {
            return fail(ParseError::TooManyAttributes);
        }
        msg.attrs_[msg.count_++] = Attribute{type, static_cast<std::uint16_t>(offset), value};
        seen_fingerprint = type == attr::kFingerprint;
    }
    return msg;
}

std::optional<core::IpEndpoint> decode_address(std::span<const std::uint8_t> value) {
    if (value.size() != 8 && value.size() != 20) {
        return std::nullopt;
    }
    auto family = value[1];
    auto port = load_u16be(value.data() + 2);
    if (family == kFamilyIpv4 && value.size() == 8) {
        return core::IpEndpoint::v4({value[4], value[5], value[6], value[7]}, port);
    }
    if (family == kFamilyIpv6 && value.size() == 20) {
        std::array<std::uint8_t, 16> a{};
        std::copy_n(value.begin() + 4, 16, a.begin());
        return core::IpEndpoint::v6(a, port);
    }
    return std::nullopt;
}

std::optional<core::IpEndpoint> decode_xor_address(std::span<const std::uint8_t> value,
                                                   std::span<const std::uint8_t, 16> cookie_and_id) {
    auto ep = decode_address(value);
    if (!ep) {
        return std::nullopt;
    }
    // RFC 8489 §14.2: the port is XORed with the cookie's top 16 bits, the address with the
    // cookie (IPv4) or the cookie followed by the transaction id (IPv6).
    ep->port = static_cast<std::uint16_t>(ep->port ^ load_u16be(cookie_and_id.data()));
    std::size_t n = ep->is_v6() ? 16 : 4;
    for (std::size_t i = 0; i < n; ++i) {
        ep->address[i] ^= cookie_and_id[i];
    }
    return ep;
}

} // namespace strowger::stun
