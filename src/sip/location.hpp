#pragma once
// The location service (RFC 3261 §10): which contacts an address-of-record is reachable at.
// The registrar and the proxy see only this interface; store/ implements it (kept in memory,
// persisted in SQLite so bindings survive a restart) and app/ wires the two together.
//
// Implementations are shared by every shard and must be safe to call from any thread; a call
// never waits on disk.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/flow.hpp"

namespace strowger::sip {

struct Binding {
    std::string contact;   // the Contact URI as the phone wrote it (no <>, no header params)
    std::string path;      // Path values to route through, in order, joined by ", " (RFC 3327)
    std::string call_id;   // of the REGISTER that last refreshed it (§10.3 step 7)
    std::uint32_t cseq = 0;
    std::int64_t expires_at = 0; // Unix seconds
    std::uint16_t q = 1000;      // q-value in thousandths; 1000 when the phone gave none
    Flow flow;                   // where that REGISTER came from (RFC 3581, RFC 5626)
    std::string user_agent;
    // RFC 5626 §4.2: the instance (the +sip.instance value as written, quotes included) and
    // reg-id the phone gave; with both, they name the binding, whatever its Contact URI.
    std::string instance;
    std::uint32_t reg_id = 0; // 0: none

    friend bool operator==(const Binding&, const Binding&) = default;
};

using Bindings = std::vector<Binding>;

class LocationStore {
public:
    virtual ~LocationStore() = default;

    // Runs `change` on the address-of-record's current bindings (expired ones already left
    // out), atomically with respect to every other call for that AOR. When `change` returns
    // true its list replaces the stored one (and is persisted); when false nothing changes.
    // Returns the bindings as they are after the call.
    virtual Bindings update(std::string_view aor, std::int64_t now,
                            const std::function<bool(Bindings&)>& change) = 0;

    // The unexpired bindings of an address-of-record.
    [[nodiscard]] virtual Bindings lookup(std::string_view aor, std::int64_t now) const = 0;

    // Every address-of-record with at least one unexpired binding, and how many bindings there
    // are in all (for status pages and benchmarks).
    [[nodiscard]] virtual std::size_t binding_count(std::int64_t now) const = 0;
};

} // namespace strowger::sip
