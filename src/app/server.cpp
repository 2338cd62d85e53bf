#include "app/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <ctime>
#include <filesystem>

#include "app/sip_service.hpp"
#include "app/sip_setup.hpp"
#include "app/stun_service.hpp"
#include "app/version.hpp"
#include "net/shard.hpp"
#include "net/socket_options.hpp"
#include "net/tcp_listener.hpp"
#include "net/udp_endpoint.hpp"
#include "store/location_sqlite.hpp"

namespace strowger::app {

// What one shard runs. Members are destroyed in reverse order, so the sockets go before the
// shard's io_context, and the service outlives the sockets that call it.
struct Server::ShardServices {
    ShardServices(unsigned index, SipShared& sip_shared)
        : shard(index), stun(std::string("strowger/") + kVersion), sip(shard, sip_shared) {}

    net::Shard shard;
    StunService stun;
    SipService sip;
    std::vector<std::unique_ptr<net::UdpEndpoint>> udp;
    std::vector<std::unique_ptr<net::TcpListener>> tcp;
};

struct Server::SipState {
    SipShared shared;
};

namespace {

// How often expired bindings are dropped from memory and disk.
constexpr std::chrono::seconds kPruneInterval{60};

} // namespace

Server::Server(Config config) : config_(std::move(config)) {}

Server::~Server() = default;

void Server::check_ports() {
    // Port 0 is resolved here, in place, to the port the kernel chose.
    auto check = [](const char* key, std::vector<core::ListenSpec>& specs) {
        for (auto& spec : specs) {
            if (auto ec = net::probe_bind(spec)) {
                throw StartupError(std::string(key) + ": cannot use " + spec.to_string() + ": " +
                                   ec.message() +
                                   (ec == std::errc::address_in_use
                                        ? " (another process holds this port)"
                                        : ""));
            }
        }
    };
    check("stun.listen", config_.stun_listen);
    check("sip.listen", config_.sip.listen);
}

void Server::open_store() {
    auto path = (std::filesystem::path(config_.data_dir) / "strowger.db").string();
    try {
        location_ = std::make_unique<store::SqliteLocationStore>(
            path, static_cast<std::int64_t>(std::time(nullptr)));
    } catch (const std::exception& e) {
        throw StartupError(std::string("general.data_dir: ") + e.what());
    }
    sip_ = std::make_unique<SipState>();
    auto& shared = sip_->shared;
    shared.location = location_.get();
    shared.identity = make_sip_identity(config_);
    shared.config = make_proxy_config(config_);
    shared.flow_key = load_flow_key(config_.data_dir);
    spdlog::info("location store {}: {} bindings", path,
                 location_->binding_count(static_cast<std::int64_t>(std::time(nullptr))));
}

void Server::prune_bindings() {
    auto& shard0 = shards_.front()->shard;
    shard0.schedule_after(kPruneInterval, [this] {
        // Cheap (memory, under short locks); the disk work goes to the store's writer thread.
        location_->prune(static_cast<std::int64_t>(std::time(nullptr)));
        prune_bindings();
    });
}

void Server::open_listeners() {
    for (unsigned i = 0; i < config_.shard_count(); ++i) {
        auto services = std::make_unique<ShardServices>(i, sip_->shared);
        sip_->shared.shards.push_back(&services->sip);
        for (const auto& spec : config_.sip.listen) {
            std::error_code ec;
            int fd = net::open_reuseport_socket(spec, ec);
            if (fd < 0) {
                throw StartupError("sip.listen: shard " + std::to_string(i) + " cannot open " +
                                   spec.to_string() + ": " + ec.message());
            }
            if (spec.transport == core::Transport::Udp) {
                auto& udp = *services->udp.emplace_back(std::make_unique<net::UdpEndpoint>(
                    services->shard, spec, fd, services->sip, config_.sip.max_message_bytes, 16));
                services->sip.attach(udp);
            } else {
                auto& tcp = *services->tcp.emplace_back(std::make_unique<net::TcpListener>(
                    services->shard, spec, fd, services->sip,
                    std::chrono::seconds(config_.sip.tcp_idle_timeout)));
                services->sip.attach(tcp);
            }
        }
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
    open_store();
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
    shards_.front()->shard.post([this] { prune_bindings(); });
    auto list = [](const std::vector<core::ListenSpec>& specs) {
        std::string out;
        for (const auto& spec : specs) {
            out += " " + spec.to_string();
        }
        return out;
    };
    spdlog::info("strowger {} serving with {} shards; sip on{}; stun on{}", kVersion,
                 shards_.size(), list(config_.sip.listen), list(config_.stun_listen));

    main_loop.run();
    bool failed = false;
    for (const auto& s : shards_) {
        failed = failed || s->shard.failed();
    }
    stop();
    if (failed) {
        throw std::runtime_error("a shard stopped on an internal error (logged above)");
    }
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
        const auto& sp = s->sip.proxy().stats();
        const auto& tx = s->sip.proxy().transactions().stats();
        spdlog::info("shard {} sip: requests={} responses={} malformed={} keepalives={} "
                     "registrations={} forwarded={} stateless={} local_replies={}; "
                     "transactions server={} client={} retransmitted={} absorbed={} timeouts={}",
                     s->shard.index(), sp.requests, sp.responses, sp.malformed, sp.keepalives,
                     sp.registrations, sp.forwarded, sp.stateless, sp.local_replies,
                     tx.server_created, tx.client_created, tx.retransmissions_sent,
                     tx.retransmissions_absorbed, tx.timeouts);
    }
    shards_.clear();
    location_.reset(); // flushes what is still queued for disk
    spdlog::info("stopped");
}

} // namespace strowger::app
