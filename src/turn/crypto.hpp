#pragma once
// The few primitives TURN authentication needs beyond STUN's own: HMAC over arbitrary bytes,
// base64, and random bytes (OpenSSL underneath).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace strowger::turn {

std::array<std::uint8_t, 20> hmac_sha1(std::span<const std::uint8_t> key, std::string_view data);
std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::string_view data);
std::string base64(std::span<const std::uint8_t> bytes);
std::string hex(std::span<const std::uint8_t> bytes);
// Cryptographically strong; throws std::runtime_error when the system has no entropy.
void random_bytes(std::span<std::uint8_t> out);

} // namespace strowger::turn
