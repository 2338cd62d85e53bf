#pragma once
// A parsed STUN message (RFC 8489 §5, §14): a view over the caller's bytes, which must outlive it.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |0 0|     STUN Message Type     |         Message Length        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                         Magic Cookie                          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     Transaction ID (96 bits)                  |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   then attributes: Type (16) | Length (16) | Value, padded to a multiple of 4 bytes.
//
// A message without the magic cookie is a classic RFC 3489 message whose transaction id is the
// full 128 bits after the length; it is accepted and flagged, so a server can answer old clients.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/ip_endpoint.hpp"
#include "stun/constants.hpp"

namespace strowger::stun {

struct Attribute {
    std::uint16_t type = 0;
    std::uint16_t offset = 0; // of the attribute header within the message
    std::span<const std::uint8_t> value;
};

enum class ParseError : std::uint8_t {
    TooShort,           // fewer than 20 bytes
    NotStun,            // top two bits not zero: some other protocol on the port
    BadLength,          // length not a multiple of 4, or not what the datagram holds
    AttributeOverrun,   // an attribute runs past the message end
    TooManyAttributes,  // more than Message::kMaxAttributes
    BadFingerprintPlace // FINGERPRINT not the last attribute
};

std::string_view to_string(ParseError e);

class Message {
public:
    static constexpr std::size_t kMaxAttributes = 40;

    std::uint16_t type() const noexcept { return type_; }
    std::uint16_t method() const noexcept { return method_of(type_); }
    MessageClass message_class() const noexcept { return class_of(type_); }
    bool has_magic_cookie() const noexcept { return magic_cookie_; }
    // Bytes 4..19: magic cookie + 96-bit id, or the 128-bit id of an RFC 3489 message. A
    // response echoes all 16.
    std::span<const std::uint8_t, 16> cookie_and_transaction_id() const noexcept {
        return raw_.subspan<4, 16>();
    }
    std::span<const std::uint8_t, 12> transaction_id() const noexcept {
        return raw_.subspan<8, 12>();
    }
    std::span<const std::uint8_t> raw() const noexcept { return raw_; }

    std::span<const Attribute> attributes() const noexcept { return {attrs_.data(), count_}; }
    // RFC 8489 §14: only the first occurrence of an attribute is processed.
    const Attribute* find(std::uint16_t type) const noexcept;

    const Attribute* message_integrity() const noexcept { return find(attr::kMessageIntegrity); }
    const Attribute* fingerprint() const noexcept { return find(attr::kFingerprint); }

    friend std::optional<Message> parse_message(std::span<const std::uint8_t>, ParseError*);

private:
    std::span<const std::uint8_t> raw_;
    std::uint16_t type_ = 0;
    bool magic_cookie_ = false;
    std::size_t count_ = 0;
    std::array<Attribute, kMaxAttributes> attrs_{};
};

// Parses exactly one message occupying all of `bytes` (one UDP datagram, or one frame cut by
// frame_length() from a stream). On failure returns nothing and, if given, sets *error.
std::optional<Message> parse_message(std::span<const std::uint8_t> bytes,
                                     ParseError* error = nullptr);
// A Message views its input: parsing a temporary buffer would leave it dangling.
std::optional<Message> parse_message(std::vector<std::uint8_t>&& bytes,
                                     ParseError* error = nullptr) = delete;

// Stream framing (RFC 8489 §6.2.2: over TCP, STUN messages are self-delimiting).
// Returns the size of the complete message at the front of `bytes`, 0 when more bytes are
// needed, or nullopt when the bytes cannot be STUN and the stream should be closed.
std::optional<std::size_t> frame_length(std::span<const std::uint8_t> bytes);

// Cheap demultiplexing test (RFC 7983): could these bytes be a STUN message with the cookie?
bool looks_like_stun(std::span<const std::uint8_t> bytes) noexcept;

// (XOR-)MAPPED-ADDRESS family values (RFC 8489 §14.1).
inline constexpr std::uint8_t kFamilyIpv4 = 0x01;
inline constexpr std::uint8_t kFamilyIpv6 = 0x02;

std::optional<core::IpEndpoint> decode_address(std::span<const std::uint8_t> value);
// `cookie_and_id` is the 16 header bytes after the length, used as the XOR pad.
std::optional<core::IpEndpoint> decode_xor_address(std::span<const std::uint8_t> value,
                                                   std::span<const std::uint8_t, 16> cookie_and_id);

} // namespace strowger::stun
