#pragma once
// Digest authentication of the exchange's own users (RFC 3261 §22, RFC 7616, RFC 8760),
// sans-IO, one instance per shard. The proxy asks it about every request that must come from
// a known user: REGISTERs for the domains it serves (401, WWW-Authenticate) and requests that
// start something outside a dialog on behalf of a user of those domains (407,
// Proxy-Authenticate). ACK, CANCEL and in-dialog requests are never challenged (§22.1).
//
// Challenges offer SHA-256 first and MD5 last by default, both qop="auth": RFC 8760's order
// (the preferred first), and the browser libraries, which know only MD5, keep only the last
// challenge of a response (see AuthConfig::algorithms). Nonces are stateless
// (digest_nonce.hpp); the nonce-count of each is remembered server-wide so that a replayed
// response is refused, and failures are counted per source address (auth_ledger.hpp).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_endpoint.hpp"
#include "sip/auth_ledger.hpp"
#include "sip/digest.hpp"
#include "sip/digest_nonce.hpp"
#include "sip/message.hpp"
#include "sip/uri.hpp"

namespace strowger::sip {

// The keys the user store keeps for a user of a realm: HA1 = H(user:realm:password).
struct DigestKeys {
    std::string md5_hex;
    std::string sha256_hex;
};

// Where the keys come from. store/ implements it (app/ adapts the user table); calls come
// from any shard thread and must not wait on disk writers.
class AccountKeys {
public:
    virtual ~AccountKeys() = default;
    [[nodiscard]] virtual std::optional<DigestKeys> find(std::string_view user,
                                                         std::string_view realm) = 0;
    // Whether there is any account at all (sip.auth = "auto" asks this).
    [[nodiscard]] virtual bool any() = 0;
};

enum class AuthMode : std::uint8_t { Auto, Required, Off };

struct AuthConfig {
    AuthMode mode = AuthMode::Auto;
    std::string realm = "strowger";
    std::int64_t nonce_lifetime_s = 300;
    // One challenge each, in this order (sip.auth_algorithms). Clients read them differently:
    // SIP.js 0.21 and JsSIP 3.13 keep only the last WWW-/Proxy-Authenticate of a response
    // (their parsers replace the header) and know only MD5, so MD5 must be last; sipp and
    // some desk phones read only the first and know only MD5, so they need MD5 first; libre
    // before 2.0 (baresip 1.0) gives up on any challenge it does not know, so it needs MD5
    // alone. RFC 8760 clients take the strongest they know, wherever it is.
    std::vector<DigestAlgorithm> algorithms{{DigestHash::Sha256, false}, {DigestHash::Md5, false}};
};

struct AuthStats {
    std::uint64_t challenges = 0;     // 401/407 sent, stale ones included
    std::uint64_t stale = 0;          // of which stale=true
    std::uint64_t successes = 0;      // requests let through with valid credentials
    std::uint64_t failures = 0;       // wrong response, unknown user, replay, wrong identity
    std::uint64_t replays = 0;        // of the failures: a nonce-count not above the last
    std::uint64_t lockouts = 0;       // addresses locked out
    std::uint64_t locked_refusals = 0; // requests refused because their address is locked out
    std::uint64_t malformed = 0;      // credentials that could not be read (400)
};

class Authenticator {
public:
    // `accounts` and `ledger` are shared by every shard and outlive this.
    Authenticator(unsigned shard, AuthConfig config, AccountKeys* accounts, AuthLedger& ledger,
                  const DigestNonces::Key& nonce_key);

    enum class Kind : std::uint8_t {
        Register, // the user is the To user; 401 + WWW-Authenticate
        Request,  // the user is the From user; 407 + Proxy-Authenticate
    };

    struct Decision {
        int status = 0;       // 0: go on; otherwise answer this status
        std::string reason;   // the reason phrase
        std::string headers;  // header lines (CRLF-terminated) to add to the answer
        std::string user;     // the authenticated user, when status is 0 and auth ran
    };

    // Whether authentication applies now (sip.auth, and for "auto" whether there are users).
    [[nodiscard]] bool enabled(std::int64_t now);

    // The policy (RFC 3261 §22.1, §22.3): whether `request` must come from one of our users,
    // and if so, whether it does. Not challenged: requests inside a dialog (To tag), REGISTERs
    // for domains not `served`, OPTIONS to the server itself, and requests whose From is
    // not of a served domain (another domain calling our users); ACK and CANCEL never reach
    // this. `serves(uri)` says whether a URI's domain is served here.
    Decision screen(const Message& request, const Uri& request_uri, bool served,
                    const std::function<bool(const Uri&)>& serves,
                    const core::IpEndpoint& source, std::int64_t now);

    // `identity` is the To (Register) or From (Request) user the credentials must belong to.
    Decision check(const Message& request, Kind kind, std::string_view identity,
                   const core::IpEndpoint& source, std::int64_t now);

    [[nodiscard]] const AuthStats& stats() const noexcept { return stats_; }
    [[nodiscard]] const AuthConfig& config() const noexcept { return config_; }

private:
    Decision challenge(Kind kind, std::int64_t now, bool stale);
    // A new challenge after counting a failure; `why` goes to the log.
    Decision fail(Kind kind, const core::IpEndpoint& source, std::int64_t now,
                  std::string_view why);
    void count_failure(const core::IpEndpoint& source, std::int64_t now, std::string_view why);
    Decision refuse(int status, std::string reason);

    unsigned shard_;
    AuthConfig config_;
    AccountKeys* accounts_;
    AuthLedger& ledger_;
    DigestNonces nonces_;
    std::uint64_t unique_seed_;
    std::uint64_t counter_ = 0;
    // sip.auth = "auto": whether users exist, asked of the store at most once a second.
    std::int64_t any_checked_at_ = -1;
    bool any_accounts_ = false;
    AuthStats stats_;
};

} // namespace strowger::sip
