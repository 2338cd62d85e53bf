#include "stun/message_writer.hpp"

#include <algorithm>
#include <cstring>

#include "core/byte_reader.hpp"
#include "stun/integrity.hpp"
#include "stun/message.hpp"

namespace strowger::stun {

using core::store_u16be;
using core::store_u32be;

void MessageWriter::begin(std::uint16_t type,
                          std::span<const std::uint8_t, 16> cookie_and_id) noexcept {
    size_ = 0;
    ok_ = buf_.size() >= kHeaderSize;
    if (!ok_) {
        return;
    }
    store_u16be(buf_.data(), type);
    store_u16be(buf_.data() + 2, 0);
    std::copy(cookie_and_id.begin(), cookie_and_id.end(), buf_.begin() + 4);
    size_ = kHeaderSize;
}

void MessageWriter::set_length(std::size_t message_size) noexcept {
    store_u16be(buf_.data() + 2, static_cast<std::uint16_t>(message_size - kHeaderSize));
}

std::uint8_t* MessageWriter::reserve(std::uint16_t type, std::size_t length,
                                     std::uint8_t pad) noexcept {
    std::size_t padded = (length + 3) & ~std::size_t{3};
    if (!ok_ || length > 0xFFFF || size_ + 4 + padded > buf_.size() ||
        size_ + 4 + padded - kHeaderSize > 0xFFFF) {
        ok_ = false;
        return nullptr;
    }
    auto* p = buf_.data() + size_;
    store_u16be(p, type);
    store_u16be(p + 2, static_cast<std::uint16_t>(length));
    std::memset(p + 4 + length, pad, padded - length);
    size_ += 4 + padded;
    set_length(size_);
    return p + 4;
}

void MessageWriter::add(std::uint16_t type, std::span<const std::uint8_t> value,
                        std::uint8_t pad) noexcept {
    if (auto* p = reserve(type, value.size(), pad)) {
        std::copy(value.begin(), value.end(), p);
    }
}

void MessageWriter::add_string(std::uint16_t type, std::string_view value,
                               std::uint8_t pad) noexcept {
    add(type, as_bytes(value), pad);
}

void MessageWriter::add_u32(std::uint16_t type, std::uint32_t value) noexcept {
    if (auto* p = reserve(type, 4, 0)) {
        store_u32be(p, value);
    }
}

void MessageWriter::add_u64(std::uint16_t type, std::uint64_t value) noexcept {
    if (auto* p = reserve(type, 8, 0)) {
        store_u32be(p, static_cast<std::uint32_t>(value >> 32));
        store_u32be(p + 4, static_cast<std::uint32_t>(value));
    }
}

//    0                   1                   2                   3
//   |0 0 0 0 0 0 0 0|    Family     |           Port                |
//   |                 Address (32 bits or 128 bits)                 |
void MessageWriter::add_address(std::uint16_t type, const core::IpEndpoint& ep) noexcept {
    std::size_t n = ep.is_v6() ? 16 : 4;
    if (auto* p = reserve(type, 4 + n, 0)) {
        p[0] = 0;
        p[1] = ep.is_v6() ? kFamilyIpv6 : kFamilyIpv4;
        store_u16be(p + 2, ep.port);
        std::copy_n(ep.address.begin(), n, p + 4);
    }
}

void MessageWriter::add_xor_address(std::uint16_t type, const core::IpEndpoint& ep) noexcept {
    if (!ok_) {
        return;
    }
    // The XOR pad is the header's cookie and transaction id (RFC 8489 §14.2), already written.
    std::array<std::uint8_t, 16> pad{};
    std::copy_n(buf_.begin() + 4, 16, pad.begin());
    std::size_t n = ep.is_v6() ? 16 : 4;
    if (auto* p = reserve(type, 4 + n, 0)) {
        p[0] = 0;
        p[1] = ep.is_v6() ? kFamilyIpv6 : kFamilyIpv4;
        store_u16be(p + 2, static_cast<std::uint16_t>(ep.port ^ core::load_u16be(pad.data())));
        for (std::size_t i = 0; i < n; ++i) {
            p[4 + i] = ep.address[i] ^ pad[i];
        }
    }
}

void MessageWriter::add_error_code(int code, std::string_view reason) noexcept {
    // §14.8: the reason phrase is at most 127 characters (763 bytes of UTF-8).
    reason = reason.substr(0, 763);
    if (auto* p = reserve(attr::kErrorCode, 4 + reason.size(), 0)) {
        p[0] = 0;
        p[1] = 0;
        p[2] = static_cast<std::uint8_t>((code / 100) & 0x07);
        p[3] = static_cast<std::uint8_t>(code % 100);
        std::copy(reason.begin(), reason.end(), p + 4);
    }
}

void MessageWriter::add_unknown_attributes(std::span<const std::uint16_t> types) noexcept {
    if (auto* p = reserve(attr::kUnknownAttributes, types.size() * 2, 0)) {
        for (auto t : types) {
            store_u16be(p, t);
            p += 2;
        }
    }
}

void MessageWriter::add_message_integrity(std::span<const std::uint8_t> key) noexcept {
    auto offset = size_;
    if (auto* p = reserve(attr::kMessageIntegrity, 20, 0)) {
        auto mac = compute_integrity_sha1(buf_.first(offset), offset, key);
        std::copy(mac.begin(), mac.end(), p);
    }
}

void MessageWriter::add_message_integrity_sha256(std::span<const std::uint8_t> key) noexcept {
    auto offset = size_;
    if (auto* p = reserve(attr::kMessageIntegritySha256, 32, 0)) {
        auto mac = compute_integrity_sha256(buf_.first(offset), offset, key);
        std::copy(mac.begin(), mac.end(), p);
    }
}

void MessageWriter::add_fingerprint() noexcept {
    auto offset = size_;
    if (auto* p = reserve(attr::kFingerprint, 4, 0)) {
        store_u32be(p, compute_fingerprint(buf_.first(offset), offset));
    }
}

} // namespace strowger::stun
