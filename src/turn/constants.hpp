#pragma once
// TURN wire constants (RFC 8656 §18), on top of the STUN ones in stun/constants.hpp.

#include <chrono>
#include <cstdint>

namespace strowger::turn {

namespace method {
inline constexpr std::uint16_t kAllocate = 0x003;
inline constexpr std::uint16_t kRefresh = 0x004;
inline constexpr std::uint16_t kSend = 0x006;
inline constexpr std::uint16_t kData = 0x007;
inline constexpr std::uint16_t kCreatePermission = 0x008;
inline constexpr std::uint16_t kChannelBind = 0x009;
} // namespace method

namespace attr {
inline constexpr std::uint16_t kChannelNumber = 0x000C;
inline constexpr std::uint16_t kLifetime = 0x000D;
inline constexpr std::uint16_t kXorPeerAddress = 0x0012;
inline constexpr std::uint16_t kData = 0x0013;
inline constexpr std::uint16_t kXorRelayedAddress = 0x0016;
inline constexpr std::uint16_t kRequestedAddressFamily = 0x0017;
inline constexpr std::uint16_t kEvenPort = 0x0018;
inline constexpr std::uint16_t kRequestedTransport = 0x0019;
inline constexpr std::uint16_t kDontFragment = 0x001A;
inline constexpr std::uint16_t kReservationToken = 0x0022;
inline constexpr std::uint16_t kAdditionalAddressFamily = 0x8000;
inline constexpr std::uint16_t kAddressErrorCode = 0x8001;
inline constexpr std::uint16_t kIcmp = 0x8004;
} // namespace attr

namespace error {
inline constexpr int kForbidden = 403;
inline constexpr int kAllocationMismatch = 437;
inline constexpr int kAddressFamilyNotSupported = 440;
inline constexpr int kWrongCredentials = 441;
inline constexpr int kUnsupportedTransportProtocol = 442;
inline constexpr int kPeerAddressFamilyMismatch = 443;
inline constexpr int kAllocationQuotaReached = 486;
inline constexpr int kInsufficientCapacity = 508;
} // namespace error

// REQUESTED-TRANSPORT protocol number for UDP (the only one RFC 8656 relays).
inline constexpr std::uint8_t kProtocolUdp = 17;
// REQUESTED-ADDRESS-FAMILY values (§18.8).
inline constexpr std::uint8_t kFamilyIpv4 = 0x01;
inline constexpr std::uint8_t kFamilyIpv6 = 0x02;

// ChannelData (§12.4): a 4-byte header (number, length). RFC 8656 narrowed the channel
// numbers to 0x4000-0x4FFF, but RFC 5766 clients (coturn's tools among them) still pick from
// 0x4000-0x7FFF; both ranges demultiplex the same way (first byte 64-127), so both are served.
inline constexpr std::uint16_t kMinChannel = 0x4000;
inline constexpr std::uint16_t kMaxChannel = 0x7FFF;
inline constexpr std::size_t kChannelHeaderSize = 4;

// Lifetimes (§3.2, §9, §12).
inline constexpr std::chrono::seconds kDefaultLifetime{600};
inline constexpr std::chrono::seconds kPermissionLifetime{300};
inline constexpr std::chrono::seconds kChannelLifetime{600};
// §7.2: a reserved port (EVEN-PORT with R) is kept about 30 seconds for its token.
inline constexpr std::chrono::seconds kReservationLifetime{30};

// Top two bits 01: a ChannelData message, not STUN (RFC 7983 demultiplexing: 64-79).
constexpr bool is_channel_data(std::uint8_t first_byte) { return (first_byte & 0xC0) == 0x40; }

} // namespace strowger::turn
