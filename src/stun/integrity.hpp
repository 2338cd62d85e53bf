#pragma once
// MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256 (§14.6), FINGERPRINT
// (CRC-32, §14.7) and long-term credential keys (§9.2.2).

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "stun/message.hpp"

namespace strowger::stun {

using Sha1Digest = std::array<std::uint8_t, 20>;
using Sha256Digest = std::array<std::uint8_t, 32>;
using Md5Digest = std::array<std::uint8_t, 16>;

// The HMAC/CRC input is the message up to the attribute, with the header length field set as if
// the attribute were the last one (§14.5). `message` holds at least `attr_offset` bytes.
Sha1Digest compute_integrity_sha1(std::span<const std::uint8_t> message, std::size_t attr_offset,
                                  std::span<const std::uint8_t> key);
// `value_size` is what the attribute will carry: 32, or a truncation to 16..28 (§14.6).
Sha256Digest compute_integrity_sha256(std::span<const std::uint8_t> message,
                                      std::size_t attr_offset, std::span<const std::uint8_t> key,
                                      std::size_t value_size = 32);
std::uint32_t compute_fingerprint(std::span<const std::uint8_t> message, std::size_t attr_offset);

// Verification of a parsed message. A message without the attribute does not verify.
bool verify_message_integrity(const Message& msg, std::span<const std::uint8_t> key);
bool verify_message_integrity_sha256(const Message& msg, std::span<const std::uint8_t> key);
bool verify_fingerprint(const Message& msg);

// Long-term credential key: MD5 (or SHA-256 with PASSWORD-ALGORITHM 0x0002) of
// "username:realm:password". The password must already be SASLprep-processed (§9.2.2).
Md5Digest long_term_key_md5(std::string_view username, std::string_view realm,
                            std::string_view password);
Sha256Digest long_term_key_sha256(std::string_view username, std::string_view realm,
                                  std::string_view password);

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

} // namespace strowger::stun
