#pragma once
// Finds the long-term key for a USERNAME (RFC 8489 §9.2): accounts from the user store, and
// TURN REST API ephemeral credentials (coturn's `use-auth-secret`), always on:
//   username = "<expiry unix time>:<user>"   (or "<user>:<expiry>", as some clients send it)
//   password = base64(HMAC-SHA1(secret, username))
// A REST username names no account: anyone holding the secret (a web server handing out
// credentials) can mint it, and it stops working at its expiry.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "turn/credentials.hpp"

namespace strowger::turn {

struct Credential {
    UserKeys keys;
    // Whose allocations count against the per-user quota: the account, or for REST
    // credentials the user part, so that a fresh expiry does not grant a fresh quota.
    std::string quota_owner;
};

class Authenticator {
public:
    // `users` may be null (REST credentials only). `rest_secret` empty disables REST.
    Authenticator(CredentialStore* users, std::string rest_secret);

    [[nodiscard]] std::optional<Credential> find(std::string_view username, std::string_view realm,
                                                 std::int64_t now) const;

    // The password a REST username gets from `secret` (also what /api/ice-servers hands out).
    static std::string rest_password(std::string_view secret, std::string_view username);

private:
    CredentialStore* users_;
    std::string rest_secret_;
};

} // namespace strowger::turn
