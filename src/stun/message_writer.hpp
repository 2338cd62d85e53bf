#pragma once
// Builds one STUN message into a caller-owned buffer, with no allocation. Attributes are
// appended in order; MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT are computed over what was
// written before them, so add them last (RFC 8489 §14.5-14.7). Writing past the buffer sets a
// sticky failure and leaves ok() false; nothing is written out of bounds.

#include <cstdint>
#include <span>
#include <string_view>

#include "core/ip_endpoint.hpp"
#include "stun/constants.hpp"

namespace strowger::stun {

class MessageWriter {
public:
    explicit MessageWriter(std::span<std::uint8_t> buffer) noexcept : buf_(buffer) {}

    // Writes the header; `cookie_and_id` is bytes 4..19 (echoed from a request in a response).
    void begin(std::uint16_t type, std::span<const std::uint8_t, 16> cookie_and_id) noexcept;

    // `pad` fills the bytes up to the next multiple of 4; receivers ignore them (§14).
    void add(std::uint16_t type, std::span<const std::uint8_t> value,
             std::uint8_t pad = 0) noexcept;
    void add_string(std::uint16_t type, std::string_view value, std::uint8_t pad = 0) noexcept;
    void add_u32(std::uint16_t type, std::uint32_t value) noexcept;
    void add_u64(std::uint16_t type, std::uint64_t value) noexcept;
    void add_address(std::uint16_t type, const core::IpEndpoint& ep) noexcept;
    void add_xor_address(std::uint16_t type, const core::IpEndpoint& ep) noexcept;
    // ERROR-CODE (§14.8): class, number and a UTF-8 reason phrase.
    void add_error_code(int code, std::string_view reason) noexcept;
    void add_unknown_attributes(std::span<const std::uint16_t> types) noexcept;

    void add_message_integrity(std::span<const std::uint8_t> key) noexcept;
    void add_message_integrity_sha256(std::span<const std::uint8_t> key) noexcept;
    void add_fingerprint() noexcept;

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] std::size_t size() const noexcept { return ok_ ? size_ : 0; }
    [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept {
        return buf_.first(size());
    }

private:
    // Reserves an attribute of `length` value bytes and returns a pointer to its value.
    std::uint8_t* reserve(std::uint16_t type, std::size_t length, std::uint8_t pad) noexcept;
    void set_length(std::size_t message_size) noexcept;

    std::span<std::uint8_t> buf_;
    std::size_t size_ = 0;
    bool ok_ = true;
};

} // namespace strowger::stun
