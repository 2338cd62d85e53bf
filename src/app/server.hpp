#pragma once
// `strowger serve`: opens every configured listener on every shard, runs until SIGINT or
// SIGTERM, then closes the listeners and reports what each shard handled.

#include <memory>
#include <stdexcept>
#include <vector>

#include "app/config.hpp"

namespace strowger::store {
class SqliteLocationStore;
}

namespace strowger::app {

// The server could not start (a port is taken, the data directory cannot be made).
class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

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

    void check_ports();
    void open_store();
    void prune_bindings();
    void open_listeners();
    void stop();

    Config config_;
    std::unique_ptr<store::SqliteLocationStore> location_;
    std::unique_ptr<SipState> sip_;
    std::vector<std::unique_ptr<ShardServices>> shards_;
};

} // namespace strowger::app
