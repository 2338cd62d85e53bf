#pragma once
// What digest authentication must remember across shards, because a client's requests may
// land on any of them: the highest nonce-count used with each nonce (RFC 7616 §3.4: a count
// not above the last is a replay), and the failures per source address, so that guessing
// passwords from one address stops after a few tries. Thread-safe (one short lock per call),
// bounded in memory, and sans-IO: time comes in as an argument.

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/ip_endpoint.hpp"

namespace strowger::sip {

struct AuthLedgerLimits {
    std::size_t max_nonces = 200000;     // nonces in use tracked at once
    std::size_t max_addresses = 65536;   // source addresses with recent failures
    unsigned max_failures = 10;          // within `failure_window_s` locks the address out
    std::int64_t failure_window_s = 60;
    std::int64_t lockout_s = 300;
};

class AuthLedger {
public:
    explicit AuthLedger(std::int64_t nonce_lifetime_s, AuthLedgerLimits limits = {})
        : nonce_lifetime_s_(nonce_lifetime_s), limits_(limits) {}

    enum class Count : std::uint8_t {
        Fresh,    // above every count seen with this nonce: accepted and remembered
        Replayed, // not above the last one
        Forgotten // the nonce is older than what the ledger still tracks: challenge anew
    };
    // `nc` is the nonce-count's value, 0 for a response without qop (usable once).
    Count use_nonce(std::string_view nonce, std::uint32_t nc, std::int64_t issued,
                    std::int64_t now);

    // Counts a failure; true when it locks the address out (it was not locked before).
    bool record_failure(const core::IpEndpoint& source, std::int64_t now);
    [[nodiscard]] bool locked_out(const core::IpEndpoint& source, std::int64_t now) const;
    [[nodiscard]] std::size_t locked_count(std::int64_t now) const;
    [[nodiscard]] const AuthLedgerLimits& limits() const noexcept { return limits_; }

private:
    struct NonceUse {
        std::uint32_t nc = 0;
        bool used_without_qop = false;
    };
    struct Failures {
        std::int64_t window_start = 0;
        unsigned count = 0;
        std::int64_t locked_until = 0;
    };
    void forget_old_nonces(std::int64_t now);
    static std::string address_key(const core::IpEndpoint& ep);

    const std::int64_t nonce_lifetime_s_;
    const AuthLedgerLimits limits_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, NonceUse> nonces_;
    std::deque<std::pair<std::int64_t, std::string>> nonce_order_; // (issued, nonce), oldest first
    std::int64_t forgotten_before_ = 0; // nonces issued before this are no longer tracked
    std::unordered_map<std::string, Failures> failures_;
};

} // namespace strowger::sip
