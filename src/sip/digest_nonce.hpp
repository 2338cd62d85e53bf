#pragma once
// Stateless digest nonces (RFC 7616 §3.3 leaves their form to the server): a nonce carries the
// time it was issued, a value unique to it, and a MAC over both under a key kept in
// general.data_dir, so that any shard can check any nonce, and a nonce survives a restart.
//
//   8 hex digits    issue time, Unix seconds (compared modulo 2^32)
//   16 hex digits   unique: the issuing shard and a counter, mixed with a per-process seed
//   32 hex digits   HMAC-SHA256(key, the 24 digits before), truncated to 128 bits

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_mac_ctx_st; // OpenSSL's EVP_MAC_CTX

namespace strowger::sip {

class DigestNonces {
public:
    using Key = std::array<std::uint8_t, 32>;
    static constexpr std::size_t kLength = 8 + 16 + 32;

    DigestNonces(const Key& key, std::int64_t lifetime_s);
    ~DigestNonces();
    DigestNonces(const DigestNonces&) = delete;
    DigestNonces& operator=(const DigestNonces&) = delete;

    // `unique` must differ between any two calls made in the same second, server-wide.
    [[nodiscard]] std::string issue(std::int64_t now, std::uint64_t unique) const;

    enum class State : std::uint8_t { Valid, Stale, Invalid };
    struct Check {
        State state = State::Invalid;
        std::int64_t issued = 0; // when Valid or Stale
    };
    // Invalid: not made with our key (or garbled). Stale: ours, but older than the lifetime.
    [[nodiscard]] Check check(std::string_view nonce, std::int64_t now) const;

    [[nodiscard]] std::int64_t lifetime() const noexcept { return lifetime_s_; }

private:
    [[nodiscard]] std::string mac(std::string_view text) const;

    Key key_;
    std::int64_t lifetime_s_;
    // HMAC-SHA256 keyed once; each MAC works on a copy (EVP_MAC_CTX_dup), which is far
    // cheaper than fetching and keying anew.
    evp_mac_ctx_st* keyed_ = nullptr;
};

} // namespace strowger::sip
