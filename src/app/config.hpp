#pragma once
// The server's configuration: a TOML file (optional) plus `--set KEY=VALUE` overrides, checked
// against the known keys. Every key has a default, so an empty configuration runs.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cidr.hpp"
#include "core/listen_spec.hpp"

namespace strowger::app {

struct Config {
    unsigned threads = 0; // general.threads: 0 means one shard per core
    std::string data_dir = "./var";
    std::string realm = "strowger";
    std::string log_level = "info";
    std::vector<core::ListenSpec> stun_listen;
    std::vector<core::ListenSpec> http_listen; // tcp: HTTP, tls: HTTPS (8080, 8443)

    // SIP (RFC 3261): transports, served domains and the transaction timers.
    struct Sip {
        std::vector<core::ListenSpec> listen;
        std::vector<std::string> domains;  // empty: serve every domain
        bool forward_foreign = false;      // relay requests for domains we do not serve
        std::string advertise;             // host for Via/Record-Route; empty: from listen
        unsigned timer_c = 180;            // seconds an INVITE branch may go without a final
        unsigned t1_ms = 500;
        unsigned t2_ms = 4000;
        unsigned t4_ms = 5000;
        unsigned min_expires = 60;
        unsigned max_expires = 3600;
        unsigned max_message_bytes = 65535;
        unsigned tcp_idle_timeout = 300; // seconds
        // Digest authentication: "auto" (required once the user store holds a user),
        // "required" or "off".
        std::string auth = "auto";
        unsigned nonce_lifetime = 300; // seconds a digest nonce may be used
        // Challenges offered, in this order ("SHA-256", "MD5"): see AuthConfig::algorithms.
        std::vector<std::string> auth_algorithms{"SHA-256", "MD5"};
    } sip;

    // TURN (RFC 8656) on the STUN listeners.
    struct Turn {
        std::string realm;            // empty: general.realm
        std::string auth_secret;      // REST secret; empty: <data_dir>/turn_secret, generated
        std::string relay_address;    // empty: the first non-loopback address, else 127.0.0.1
        std::string external_address; // advertised instead of relay_address (behind a NAT)
        unsigned relay_port_min = 49152;
        unsigned relay_port_max = 65535;
        std::vector<core::Cidr> allowed_peers; // override the denied ranges
        unsigned user_quota = 100;    // allocations per user; 0: unlimited
        unsigned total_quota = 0;     // allocations in all; 0: as many as relay ports
        std::uint64_t max_bytes_per_second = 0; // per allocation; 0: unlimited
        unsigned max_lifetime = 3600; // seconds
        unsigned rest_lifetime = 86400; // seconds the credentials of /api/ice-servers last
    } turn;

    // Certificate for the tls: listeners (TURN, HTTPS).
    struct Tls {
        std::string cert_file;
        std::string key_file;
    } tls;

    // The realm TURN uses.
    [[nodiscard]] const std::string& turn_realm() const {
        return turn.realm.empty() ? realm : turn.realm;
    }

    // Shards to run: `threads`, or the number of cores when it is 0.
    [[nodiscard]] unsigned shard_count() const;
};

// A refused configuration. what() names the key (or the file position) and the problem.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Reads `file` if given, applies each "KEY=VALUE" override in order, and validates the result.
// VALUE is read as a TOML value and, when that fails, as a plain string, so that both
// `stun.listen=["udp:127.0.0.1:3478"]` and `general.data_dir=/tmp/x` work.
Config load_config(const std::optional<std::string>& file,
                   const std::vector<std::string>& overrides);

} // namespace strowger::app
