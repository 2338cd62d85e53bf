#include "sip/authenticator.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <random>

#include "sip/digest.hpp"
#include "sip/headers.hpp"
#include "sip/syntax.hpp"

namespace strowger::sip {
namespace {

std::uint32_t nonce_count(std::string_view nc) {
    std::uint32_t value = 0;
    std::from_chars(nc.data(), nc.data() + nc.size(), value, 16); // 8 hex digits, checked
    return value;
}

} // namespace

Authenticator::Authenticator(unsigned shard, AuthConfig config, AccountKeys* accounts,
                             AuthLedger& ledger, const DigestNonces::Key& nonce_key)
    : shard_(shard), config_(std::move(config)), accounts_(accounts), ledger_(ledger),
      nonces_(nonce_key, config_.nonce_lifetime_s),
      unique_seed_((std::uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {}

bool Authenticator::enabled(std::int64_t now) {
    switch (config_.mode) {
    case AuthMode::Off: return false;
    case AuthMode::Required: return true;
    case AuthMode::Auto: break;
    }
    if (accounts_ == nullptr) {
        return false;
    }
    if (any_checked_at_ != now) {
        any_accounts_ = accounts_->any();
        any_checked_at_ = now;
    }
    return any_accounts_;
}

Authenticator::Decision Authenticator::challenge(Kind kind, std::int64_t now, bool stale) {
    ++stats_.challenges;
    stats_.stale += stale ? 1 : 0;
    // Unique server-wide: the shard in the top bits, then a counter, scrambled so that nonces
    // do not tell how many were issued.
    const std::uint64_t unique =
        (std::uint64_t{shard_} << 56) ^ ((++counter_ * 0x9E3779B97F4A7C15ULL) ^ unique_seed_) >> 8;
    const auto nonce = nonces_.issue(now, unique);
    const char* header = kind == Kind::Register ? "WWW-Authenticate: " : "Proxy-Authenticate: ";
    Decision d;
    d.status = kind == Kind::Register ? 401 : 407;
    d.reason = kind == Kind::Register ? "Unauthorized" : "Proxy Authentication Required";
    for (auto algorithm : config_.algorithms) {
        d.headers += header;
        d.headers += digest_challenge(config_.realm, nonce, algorithm, stale);
        d.headers += "\r\n";
    }
    return d;
}

Authenticator::Decision Authenticator::fail(Kind kind, const core::IpEndpoint& source,
                                            std::int64_t now, std::string_view why) {
    count_failure(source, now, why);
    // A new challenge, as RFC 7616 §3.3 has it: the client may have mistyped.
    return challenge(kind, now, false);
}

void Authenticator::count_failure(const core::IpEndpoint& source, std::int64_t now,
                                  std::string_view why) {
    ++stats_.failures;
    spdlog::info("sip auth: {} from {}", why, source.to_string());
    if (ledger_.record_failure(source, now)) {
        ++stats_.lockouts;
        spdlog::warn("sip auth: {} locked out for {} s after repeated failed logins",
                     source.address_string(), ledger_.limits().lockout_s);
    }
}

Authenticator::Decision Authenticator::refuse(int status, std::string reason) {
    Decision d;
    d.status = status;
    d.reason = std::move(reason);
    return d;
}

Authenticator::Decision Authenticator::screen(const Message& request, const Uri& request_uri,
                                              bool served,
                                              const std::function<bool(const Uri&)>& serves,
                                              const core::IpEndpoint& source, std::int64_t now) {
    const bool registration = request.method() == "REGISTER";
    auto to = parse_name_addr(request.value(HeaderId::To), SipError::BadTo);
    const bool in_dialog = to && to->tag();
    // OPTIONS to the server itself reveals nothing, and is what phones and monitors ping with.
    const bool ping = request.method() == "OPTIONS" && served && !request_uri.has_user();
    if (in_dialog || (registration && !served) || ping || !enabled(now)) {
        return {};
    }
    // The user the credentials must be: the address-of-record registered (To), or the one a
    // request is sent on behalf of (From).
    const auto error = registration ? SipError::BadTo : SipError::BadFrom;
    auto who = registration ? std::move(to)
                            : parse_name_addr(request.value(HeaderId::From), SipError::BadFrom);
    if (!who) {
        return refuse(400, std::string(describe(error)));
    }
    if (!registration && !serves(who->uri)) {
        return {};
    }
    return check(request, registration ? Kind::Register : Kind::Request, who->uri.user, source,
                 now);
}

Authenticator::Decision Authenticator::check(const Message& request, Kind kind,
                                             std::string_view identity,
                                             const core::IpEndpoint& source, std::int64_t now) {
    if (ledger_.locked_out(source, now)) {
        ++stats_.locked_refusals;
        return refuse(403, "Forbidden (too many failed logins from this address; wait 5 minutes)");
    }
    // The credentials for our realm; others (for a proxy further on) are not ours to read.
    const HeaderId id = kind == Kind::Register ? HeaderId::Authorization
                                               : HeaderId::ProxyAuthorization;
    std::optional<DigestCredentials> credentials;
    for (const auto& field : request.headers()) {
        if (field.id != id) {
            continue;
        }
        auto parsed = parse_digest_credentials(field.value);
        if (parsed.error == DigestParseError::NotDigest) {
            continue;
        }
        if (!parsed.credentials) {
            ++stats_.malformed;
            return refuse(400, "Bad Request (" + std::string(describe(parsed.error)) + ")");
        }
        if (parsed.credentials->realm == config_.realm) {
            credentials = std::move(parsed.credentials);
            break;
        }
    }
    if (!credentials) {
        return challenge(kind, now, false);
    }
    const auto& c = *credentials;
    const auto nonce = nonces_.check(c.nonce, now);
    if (nonce.state == DigestNonces::State::Invalid) {
        return fail(kind, source, now, "a nonce this server did not issue, user '" + c.username + "'");
    }
    std::optional<DigestKeys> keys;
    if (!c.userhash && accounts_ != nullptr) {
        keys = accounts_->find(c.username, config_.realm);
    }
    const std::string* ha1 = nullptr;
    if (keys) {
        ha1 = c.algorithm.hash == DigestHash::Md5      ? &keys->md5_hex
              : c.algorithm.hash == DigestHash::Sha256 ? &keys->sha256_hex
                                                       : nullptr; // no SHA-512-256 key kept
    }
    if (ha1 == nullptr) {
        // Answered as a wrong password is, so that names cannot be probed.
        return fail(kind, source, now, "unknown user '" + c.username + "' (or no " +
                                           digest_algorithm_name(c.algorithm) + " key)");
    }
    const auto expected = digest_response({.algorithm = c.algorithm,
                                           .ha1 = *ha1,
                                           .nonce = c.nonce,
                                           .nc = c.nc,
                                           .cnonce = c.cnonce,
                                           .qop = c.qop,
                                           .method = request.method(),
                                           .uri = c.uri,
                                           .body = request.body()});
    if (!digest_equal(expected, c.response)) {
        return fail(kind, source, now, "wrong password for '" + c.username + "'");
    }
    if (nonce.state == DigestNonces::State::Stale) {
        return challenge(kind, now, true); // the password was right: retry without asking
    }
    switch (ledger_.use_nonce(c.nonce, c.qop.empty() ? 0 : nonce_count(c.nc), nonce.issued, now)) {
    case AuthLedger::Count::Fresh: break;
    case AuthLedger::Count::Forgotten: return challenge(kind, now, true);
    case AuthLedger::Count::Replayed:
        ++stats_.replays;
        return fail(kind, source, now, "replayed nonce-count " + c.nc + " for '" + c.username + "'");
    }
    if (!unescaped_equals(identity, c.username)) {
        count_failure(source, now, "'" + c.username + "' tried to act as '" +
                                       std::string(identity) + "'");
        return refuse(403, std::string("Forbidden (authenticated as ") + c.username + ", not as " +
                               (kind == Kind::Register ? "the To user)" : "the From user)"));
    }
    ++stats_.successes;
    Decision d;
    d.user = c.username;
    return d;
}

} // namespace strowger::sip
