#pragma once
// The server's configuration: a TOML file (optional) plus `--set KEY=VALUE` overrides, checked
// against the known keys. Every key has a default, so an empty configuration runs.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/listen_spec.hpp"

namespace strowger::app {

struct Config {
    unsigned threads = 0; // general.threads: 0 means one shard per core
    std::string data_dir = "./var";
    std::string realm = "strowger";
    std::string log_level = "info";
    std::vector<core::ListenSpec> stun_listen;

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
