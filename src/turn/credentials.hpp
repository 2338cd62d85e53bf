#pragma once
// Where the TURN server finds the long-term credentials of its users (RFC 8489 §9.2). Declared
// here, implemented by store/ (SQLite) and wired by app/, so the protocol core never touches a
// database.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace strowger::turn {

// The two keys kept for a user of one realm; the password itself is never stored.
//   md5    = MD5(user ":" realm ":" password): the STUN long-term key (PASSWORD-ALGORITHM MD5,
//            the default) and, at once, the SIP digest HA1 (RFC 2617/7616 MD5).
//   sha256 = SHA-256(user ":" realm ":" password): the key for PASSWORD-ALGORITHM SHA-256
//            (RFC 8489 §18.5.1) and the SIP digest HA1 for SHA-256 (RFC 7616).
struct UserKeys {
    std::array<std::uint8_t, 16> md5{};
    std::array<std::uint8_t, 32> sha256{};
};

class CredentialStore {
public:
    virtual ~CredentialStore() = default;
    // The keys of `username` in `realm`, or nothing when there is no such user (or the user's
    // keys were made for another realm). Called from any shard thread, so implementations are
    // thread-safe; it is a point read that must not wait on writers.
    virtual std::optional<UserKeys> find_user(std::string_view username,
                                              std::string_view realm) = 0;
};

} // namespace strowger::turn
