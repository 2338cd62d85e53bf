#pragma once
// The STUN Binding server (RFC 8489 §6.3, §12; RFC 5780 §7.2 for CHANGE-REQUEST). Sans-IO:
// given the bytes of one request and where they came from, it writes the response into a
// caller-owned buffer. It never throws and never touches a socket, so it can run on any shard
// (one instance per shard, no locking) and be fed random bytes by tests.

#include <cstdint>
#include <span>
#include <string>

#include "core/ip_endpoint.hpp"
#include "stun/message.hpp"

namespace strowger::stun {

struct BindingStats {
    std::uint64_t requests = 0;          // well-formed Binding requests
    std::uint64_t success = 0;           // 200-class responses sent
    std::uint64_t errors = 0;            // error responses sent (400, 420)
    std::uint64_t indications = 0;       // Binding indications (keep-alives), absorbed
    std::uint64_t malformed = 0;         // not parseable as STUN: dropped
    std::uint64_t bad_fingerprint = 0;   // FINGERPRINT present but wrong: dropped
    std::uint64_t ignored = 0;           // responses or other methods' indications: dropped
};

class BindingService {
public:
    // Buffer size that always holds a response.
    static constexpr std::size_t kMaxResponse = 512;

    explicit BindingService(std::string software);

    // Returns the response written to `out` (a prefix of it), or an empty span to drop.
    std::span<const std::uint8_t> handle(std::span<const std::uint8_t> request,
                                         const core::IpEndpoint& from,
                                         std::span<std::uint8_t> out) noexcept;

    [[nodiscard]] const BindingStats& stats() const noexcept { return stats_; }

private:
    std::span<const std::uint8_t> success(const Message& request, const core::IpEndpoint& from,
                                          std::span<std::uint8_t> out) noexcept;
    std::span<const std::uint8_t> error(const Message& request, int code,
                                        std::string_view reason,
                                        std::span<const std::uint16_t> unknown,
                                        std::span<std::uint8_t> out) noexcept;

    std::string software_; // SOFTWARE attribute value (§14.14)
    BindingStats stats_;
};

} // namespace strowger::stun
