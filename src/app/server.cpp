#include "app/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "app/stun_service.hpp"
#include "app/version.hpp"
#include "net/shard.hpp"
#include "net/socket_options.hpp"
#include "net/tcp_listener.hpp"
#include "net/udp_endpoint.hpp"

namespace strowger::app {

// What one shard runs. Members are destroyed in reverse order, so the sockets go before the
// shard's io_context, and the service outlives the sockets that call it.
struct Server::ShardServices {
    explicit ShardServices(unsigned index)
        : shard(index), stun(std::string("strowger/") + kVersion) {}

    net::Shard shard;
    StunService stun;
    std::vector<std::unique_ptr<net::UdpEndpoint>> udp;
    std::vector<std::unique_ptr<net::TcpListener>> tcp;
};

Server::Server(Config config) : config_(std::move(config)) {}

Server::~Server() = default;

void Server::check_ports() {
    for (auto& spec : config_.stun_listen) {
        if (auto ec = net::probe_bind(spec)) {
            throw StartupError("stun.listen: cannot use " + spec.to_string() + ": " +
                               ec.message() +
                               (ec == std::errc::address_in_use
                                    ? " (another process holds this port)"
                                    : ""));
        }
    }
}

void Server::open_listeners() {
    for (unsigned i = 0; i < config_.shard_count(); ++i) {
        auto services = std::make_unique<ShardServices>(i);
        for (const auto& spec : config_.stun_listen) {
            std::error_code ec;
            int fd = net::open_reuseport_socket(spec, ec);
            if (fd < 0) {
                throw StartupError("stun.listen: shard " + std::to_string(i) + " cannot open " +
                                   spec.to_string() + ": " + ec.message());
            }
            if (spec.transport == core::Transport::Udp) {
                services->udp.push_back(std::make_unique<net::UdpEndpoint>(
                    services->shard, spec, fd, services->stun, 2048,
                    stun::BindingService::kMaxResponse));
            } else {
                services->tcp.push_back(std::make_unique<net::TcpListener>(
                    services->shard, spec, fd, services->stun));
            }
        }
        shards_.push_back(std::move(services));
    }
}

void Server::run() {
    std::error_code ec;
    std::filesystem::create_directories(config_.data_dir, ec);
    if (ec) {
        throw StartupError("general.data_dir: cannot create '" + config_.data_dir +
                           "': " + ec.message());
    }
    check_ports();
    open_listeners();

    // Signals are taken by the main thread's own loop, before the shards start.
    boost::asio::io_context main_loop;
    boost::asio::signal_set signals(main_loop, SIGINT, SIGTERM);
    signals.async_wait([](const boost::system::error_code&, int signal) {
        spdlog::info("received signal {}, stopping", signal);
    });

    for (auto& s : shards_) {
        s->shard.start();
        s->shard.post([services = s.get()] {
            for (auto& u : services->udp) {
                u->start();
            }
            for (auto& t : services->tcp) {
                t->start();
            }
        });
    }
    std::string listening;
    for (const auto& spec : config_.stun_listen) {
        listening += " " + spec.to_string();
    }
    spdlog::info("strowger {} serving with {} shards; stun on{}", kVersion, shards_.size(),
                 listening);

    main_loop.run();
    stop();
}

void Server::stop() {
    for (auto& s : shards_) {
        s->shard.stop([services = s.get()] {
            for (auto& u : services->udp) {
                u->close();
            }
            for (auto& t : services->tcp) {
                t->close();
            }
        });
    }
    // The shard threads have been joined: their counters can be read from here.
    for (const auto& s : shards_) {
        const auto& st = s->stun.stats();
        std::uint64_t udp_in = 0;
        std::uint64_t udp_out = 0;
        std::uint64_t tcp_accepted = 0;
        for (const auto& u : s->udp) {
            udp_in += u->stats().received;
            udp_out += u->stats().sent;
        }
        for (const auto& t : s->tcp) {
            tcp_accepted += t->stats().accepted;
        }
        spdlog::info("shard {}: stun requests={} success={} errors={} indications={} "
                     "malformed={} bad_fingerprint={} ignored={}; udp received={} sent={}; "
                     "tcp accepted={}",
                     s->shard.index(), st.requests, st.success, st.errors, st.indications,
                     st.malformed, st.bad_fingerprint, st.ignored, udp_in, udp_out, tcp_accepted);
    }
    shards_.clear();
    spdlog::info("stopped");
}

} // namespace strowger::app
