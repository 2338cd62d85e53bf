#pragma once
// `strowger serve`: opens every configured listener on every shard, runs until SIGINT or
// SIGTERM, then closes the listeners and reports what each shard handled.

#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "app/config.hpp"

namespace strowger::store {
class SqliteLocationStore;
class SqliteUserStore;
} // namespace strowger::store

namespace strowger::net {
class TlsContext;
}

namespace strowger::app {

struct MetricsSnapshot;
class WebService;

// The server could not start (a port is taken, the data directory cannot be made).
class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A bound, listening (for streams) SO_REUSEPORT socket for one entry of the list `key`
// (net::open_reuseport_socket); throws StartupError naming the key and entry.
int open_listen_socket(const char* key, const core::ListenSpec& spec);

class Server {
public:
    explicit Server(Config config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Blocks until a stop signal; throws StartupError if the server cannot start.
    void run();

private:
    struct ShardServices;
    struct SipState;
    struct TurnState;

    void check_ports();
    void open_store();
    void open_tls();
    void prune_bindings();
    void open_listeners();
    void open_web();
    // From the web shard: copies every shard's counters, then calls `done` there.
    void collect_metrics(std::function<void(MetricsSnapshot)> done);
    void stop();

    Config config_;
    std::unique_ptr<store::SqliteLocationStore> location_;
    std::unique_ptr<SipState> sip_;
    std::unique_ptr<store::SqliteUserStore> users_;
    std::unique_ptr<TurnState> turn_;
    std::unique_ptr<net::TlsContext> tls_;
    std::vector<std::unique_ptr<ShardServices>> shards_;
    std::unique_ptr<WebService> web_; // HTTP and signaling, on a shard of its own
};

} // namespace strowger::app
