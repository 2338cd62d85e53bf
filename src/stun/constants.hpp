#pragma once
// STUN wire constants: RFC 8489 (STUN), RFC 5780 (NAT behaviour discovery), RFC 8445 (ICE),
// and the RFC 3489 attributes classic clients still send.

#include <cstdint>

namespace strowger::stun {

inline constexpr std::uint32_t kMagicCookie = 0x2112A442;
inline constexpr std::uint32_t kFingerprintXor = 0x5354554E; // RFC 8489 §14.7: "STUN"
inline constexpr std::size_t kHeaderSize = 20;

enum class MessageClass : std::uint8_t {
    Request = 0,
    Indication = 1,
    SuccessResponse = 2,
    ErrorResponse = 3,
};

namespace method {
inline constexpr std::uint16_t kBinding = 0x001;
} // namespace method

namespace attr {
inline constexpr std::uint16_t kMappedAddress = 0x0001;
inline constexpr std::uint16_t kResponseAddress = 0x0002; // RFC 3489, deprecated
inline constexpr std::uint16_t kChangeRequest = 0x0003;   // RFC 5780
inline constexpr std::uint16_t kSourceAddress = 0x0004;   // RFC 3489, deprecated
inline constexpr std::uint16_t kChangedAddress = 0x0005;  // RFC 3489, deprecated
inline constexpr std::uint16_t kUsername = 0x0006;
inline constexpr std::uint16_t kMessageIntegrity = 0x0008;
inline constexpr std::uint16_t kErrorCode = 0x0009;
inline constexpr std::uint16_t kUnknownAttributes = 0x000A;
inline constexpr std::uint16_t kRealm = 0x0014;
inline constexpr std::uint16_t kNonce = 0x0015;
inline constexpr std::uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr std::uint16_t kPasswordAlgorithm = 0x001D;
inline constexpr std::uint16_t kUserhash = 0x001E;
inline constexpr std::uint16_t kXorMappedAddress = 0x0020;
inline constexpr std::uint16_t kPriority = 0x0024;      // RFC 8445
inline constexpr std::uint16_t kUseCandidate = 0x0025;  // RFC 8445
inline constexpr std::uint16_t kPadding = 0x0026;       // RFC 5780
inline constexpr std::uint16_t kResponsePort = 0x0027;  // RFC 5780
// Comprehension-optional range (0x8000-0xFFFF).
inline constexpr std::uint16_t kPasswordAlgorithms = 0x8002;
inline constexpr std::uint16_t kAlternateDomain = 0x8003;
inline constexpr std::uint16_t kSoftware = 0x8022;
inline constexpr std::uint16_t kAlternateServer = 0x8023;
inline constexpr std::uint16_t kFingerprint = 0x8028;
inline constexpr std::uint16_t kIceControlled = 0x8029;
inline constexpr std::uint16_t kIceControlling = 0x802A;
inline constexpr std::uint16_t kResponseOrigin = 0x802B; // RFC 5780
inline constexpr std::uint16_t kOtherAddress = 0x802C;   // RFC 5780

// RFC 8489 §14: attributes below 0x8000 must be understood, or the request is refused (420).
constexpr bool is_comprehension_required(std::uint16_t type) { return type < 0x8000; }
} // namespace attr

namespace error {
inline constexpr int kTryAlternate = 300;
inline constexpr int kBadRequest = 400;
inline constexpr int kUnauthorized = 401;
inline constexpr int kUnknownAttribute = 420;
inline constexpr int kStaleNonce = 438;
inline constexpr int kServerError = 500;
} // namespace error

// RFC 8489 §5: the class bits C1 C0 sit at bits 8 and 4 of the type, interleaved with the
// 12 method bits M11..M0.
constexpr std::uint16_t message_type(std::uint16_t method, MessageClass cls) {
    auto c = static_cast<std::uint16_t>(cls);
    return static_cast<std::uint16_t>(((method & 0x0F80) << 2) | ((method & 0x0070) << 1) |
                                      (method & 0x000F) | ((c & 0x2) << 7) | ((c & 0x1) << 4));
}
constexpr std::uint16_t method_of(std::uint16_t type) {
    return static_cast<std::uint16_t>(((type & 0x3E00) >> 2) | ((type & 0x00E0) >> 1) |
                                      (type & 0x000F));
}
constexpr MessageClass class_of(std::uint16_t type) {
    return static_cast<MessageClass>(((type >> 7) & 0x2) | ((type >> 4) & 0x1));
}

} // namespace strowger::stun
