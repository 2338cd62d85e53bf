#include "turn/authenticator.hpp"

#include <algorithm>
#include <charconv>

#include "stun/integrity.hpp"
#include "turn/crypto.hpp"

namespace strowger::turn {
namespace {

std::optional<std::int64_t> parse_time(std::string_view text) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < 0) {
        return std::nullopt;
    }
    return value;
}

struct RestUsername {
    std::int64_t expiry;
    std::string_view user;
};

std::optional<RestUsername> parse_rest_username(std::string_view username) {
    auto colon = username.find(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    auto first = username.substr(0, colon);
    auto rest = username.substr(colon + 1);
    if (auto t = parse_time(first)) {
        return RestUsername{*t, rest};
    }
    auto last_colon = username.rfind(':');
    if (auto t = parse_time(username.substr(last_colon + 1))) {
        return RestUsername{*t, username.substr(0, last_colon)};
    }
    return std::nullopt;
}

} // namespace

Authenticator::Authenticator(CredentialStore* users, std::string rest_secret)
    : users_(users), rest_secret_(std::move(rest_secret)) {}

std::string Authenticator::rest_password(std::string_view secret, std::string_view username) {
    return base64(hmac_sha1(stun::as_bytes(secret), username));
}

std::optional<Credential> Authenticator::find(std::string_view username, std::string_view realm,
                                              std::int64_t now) const {
    if (username.empty()) {
        return std::nullopt;
    }
    if (auto rest = parse_rest_username(username)) {
        if (rest_secret_.empty() || rest->expiry <= now) {
            return std::nullopt;
        }
        auto password = rest_password(rest_secret_, username);
        Credential c;
        c.keys.md5 = stun::long_term_key_md5(username, realm, password);
        c.keys.sha256 = stun::long_term_key_sha256(username, realm, password);
        c.quota_owner = std::string(rest->user);
        return c;
    }
    if (users_ == nullptr) {
        return std::nullopt;
    }
    auto keys = users_->find_user(username, realm);
    if (!keys) {
        return std::nullopt;
    }
    return Credential{*keys, std::string(username)};
}

} // namespace strowger::turn
