#pragma once
// Bounds-checked big-endian reading over a byte span. A read past the end sets a sticky failure
// flag and returns zeros, so a parser checks ok() once after a group of reads instead of after
// each one, and can never touch memory outside the input.

#include <cstddef>
#include <cstdint>
#include <span>

namespace strowger::core {

class ByteReader {
public:
    explicit ByteReader(std::span<const std::uint8_t> data) noexcept : data_(data) {}

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }

    std::uint8_t u8() noexcept {
        auto b = take(1);
        return b.empty() ? 0 : b[0];
    }
    std::uint16_t u16be() noexcept {
        auto b = take(2);
        return b.empty() ? 0 : static_cast<std::uint16_t>((b[0] << 8) | b[1]);
    }
    std::uint32_t u32be() noexcept {
        auto b = take(4);
        if (b.empty()) {
            return 0;
        }
        return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
               (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    }
    // A view into the input, not a copy; empty on failure.
    std::span<const std::uint8_t> take(std::size_t n) noexcept {
        if (!ok_ || n > remaining()) {
            ok_ = false;
            return {};
        }
        auto out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    void skip(std::size_t n) noexcept { (void)take(n); }

private:
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

inline void store_u16be(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

inline void store_u32be(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

inline std::uint16_t load_u16be(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

inline std::uint32_t load_u32be(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

} // namespace strowger::core
