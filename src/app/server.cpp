#include "app/server.hpp"

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "app/cert_command.hpp"
#include "app/sip_service.hpp"
#include "app/sip_setup.hpp"
#include "app/turn_service.hpp"
#include "app/turn_setup.hpp"
#include "app/version.hpp"
#include "app/web_service.hpp"
#include "net/shard.hpp"
#include "net/socket_options.hpp"
#include "net/self_signed.hpp"
#include "net/tcp_listener.hpp"
#include "net/tls_context.hpp"
#include "net/tls_stream.hpp"
#include "net/udp_endpoint.hpp"
#include "store/location_sqlite.hpp"
#include "store/user_sqlite.hpp"

namespace strowger::app {

// What one shard runs. Members are destroyed in reverse order, so the sockets go before the
// shard's io_context, and the service outlives the sockets that call it.
struct Server::ShardServices {
    ShardServices(unsigned index, SipShared& sip_shared, TurnShared& turn_shared)
        : shard(index),
          turn(shard, turn_shared, std::string("strowger/") + kVersion),
          sip(shard, sip_shared) {}

    net::Shard shard;
    TurnService turn; // STUN Binding and TURN on the stun.listen addresses
    SipService sip;
    std::unique_ptr<net::TlsStreamHandler> turn_tls; // TURN over TLS, when listened on
    std::unique_ptr<net::TlsStreamHandler> sip_tls;  // SIP over TLS, when listened on
    std::vector<std::unique_ptr<net::UdpEndpoint>> udp;
    std::vector<std::unique_ptr<net::TcpListener>> tcp;
};

struct Server::SipState {
    SipShared shared;
    std::unique_ptr<sip::AuthLedger> auth_ledger;
};

struct Server::TurnState {
    TurnShared shared;
};

namespace {

// How often expired bindings are dropped from memory and disk.
constexpr std::chrono::seconds kPruneInterval{60};

// Every signaling client, TCP flow and relay holds a descriptor; the usual soft limit of 1024
// would cap the server far below what it serves, so it takes all the hard limit allows.
void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        spdlog::info("file descriptors: up to {}", static_cast<std::uint64_t>(limit.rlim_cur));
    }
}

} // namespace

int open_listen_socket(const char* key, const core::ListenSpec& spec) {
    std::error_code ec;
    int fd = net::open_reuseport_socket(spec, ec);
    if (fd < 0) {
        throw StartupError(std::string(key) + ": cannot open " + spec.to_string() + ": " +
                           ec.message());
    }
    return fd;
}

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
    check("http.listen", config_.http_listen);
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
    try {
        users_ = std::make_unique<store::SqliteUserStore>(path);
    } catch (const std::exception& e) {
        throw StartupError(std::string("general.data_dir: ") + e.what());
    }
    turn_ = std::make_unique<TurnState>(TurnState{make_turn_shared(config_, users_.get())});
    // An account that is not registered anywhere is "temporarily unavailable", not unknown.
    shared.config.is_account = [users = users_.get(), realm = config_.realm](std::string_view user) {
        return users->find_user(user, realm).has_value();
    };
    sip_->auth_ledger = std::make_unique<sip::AuthLedger>(config_.sip.nonce_lifetime);
    shared.config.accounts = users_.get();
    shared.config.ledger = sip_->auth_ledger.get();
    shared.config.nonce_key = load_nonce_key(config_.data_dir);
    const bool open = config_.sip.auth == "off" || (config_.sip.auth == "auto" && !users_->any());
    if (open) {
        spdlog::warn("sip.auth = \"{}\"{}: any phone may register as any user; add users "
                     "with `strowger user add` (or set sip.auth = \"required\")",
                     config_.sip.auth, config_.sip.auth == "auto" ? " and no users yet" : "");
    } else {
        spdlog::info("sip: digest authentication {} (realm {})",
                     config_.sip.auth == "auto" ? "on, as the user store holds users" : "required",
                     config_.realm);
    }
}

void Server::open_tls() {
    auto has_tls = [](const std::vector<core::ListenSpec>& specs) {
        return std::any_of(specs.begin(), specs.end(), [](const core::ListenSpec& s) {
            return s.transport == core::Transport::Tls || s.transport == core::Transport::Wss;
        });
    };
    if (!has_tls(config_.stun_listen) && !has_tls(config_.http_listen) &&
        !has_tls(config_.sip.listen)) {
        return;
    }
    // The configured certificate, else the one `strowger cert` keeps in the data directory,
    // made now (self-signed) when there is none yet, so that a fresh install serves TLS.
    auto cert = config_.tls.cert_file;
    auto private_key = config_.tls.key_file;
    if (cert.empty()) {
        cert = (std::filesystem::path(config_.data_dir) / "cert.pem").string();
        private_key = (std::filesystem::path(config_.data_dir) / "key.pem").string();
        if (!std::filesystem::exists(cert) || !std::filesystem::exists(private_key)) {
            const auto name = default_certificate_name();
            try {
                net::make_self_signed_certificate(cert, private_key, name,
                                                  CertCommand{}.days);
            } catch (const std::exception& e) {
                throw StartupError(std::string("tls: cannot make a self-signed certificate in ") +
                                   config_.data_dir + ": " + e.what());
            }
            spdlog::warn("tls: no tls.cert_file set, made a self-signed certificate for {} in {} "
                         "(clients must be told to trust it; set tls.cert_file/tls.key_file "
                         "for a real one)", name, cert);
        }
    }
    try {
        tls_ = std::make_unique<net::TlsContext>(cert, private_key);
    } catch (const std::exception& e) {
        throw StartupError(std::string("tls.cert_file/tls.key_file: ") + e.what());
    }
    spdlog::info("tls: certificate {}", cert);
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
        auto services = std::make_unique<ShardServices>(i, sip_->shared, turn_->shared);
        sip_->shared.shards.push_back(&services->sip);
        for (const auto& spec : config_.sip.listen) {
            if (spec.transport == core::Transport::Ws || spec.transport == core::Transport::Wss) {
                continue; // served by the web shard (open_web)
            }
            int fd = open_listen_socket("sip.listen", spec);
            if (spec.transport == core::Transport::Udp) {
                auto& udp = *services->udp.emplace_back(std::make_unique<net::UdpEndpoint>(
                    services->shard, spec, fd, services->sip, config_.sip.max_message_bytes, 16));
                services->sip.attach(udp);
            } else if (spec.transport == core::Transport::Tls) {
                if (!services->sip_tls) {
                    services->sip_tls = std::make_unique<net::TlsStreamHandler>(
                        *tls_, services->sip.stream_handler(core::Transport::Tls));
                }
                // A handshake that never completes is idle too: dropped after the timeout.
                services->tcp.push_back(std::make_unique<net::TcpListener>(
                    services->shard, spec, fd, *services->sip_tls,
                    std::chrono::seconds(config_.sip.tcp_idle_timeout)));
            } else {
                auto& tcp = *services->tcp.emplace_back(std::make_unique<net::TcpListener>(
                    services->shard, spec, fd,
                    services->sip.stream_handler(core::Transport::Tcp),
                    std::chrono::seconds(config_.sip.tcp_idle_timeout)));
                services->sip.attach(tcp);
            }
        }
        std::size_t turn_udp = 0;
        for (const auto& spec : config_.stun_listen) {
            int fd = open_listen_socket("stun.listen", spec);
            auto& turn = services->turn;
            if (spec.transport == core::Transport::Udp) {
                // A ChannelData or Send carries a whole relayed datagram, up to 64 KiB.
                auto listener = turn_udp++;
                auto& udp = *services->udp.emplace_back(std::make_unique<net::UdpEndpoint>(
                    services->shard, spec, fd, turn.udp_handler(listener), 65536 + 64,
                    stun::BindingService::kMaxResponse));
                turn.attach(listener, udp);
            } else if (spec.transport == core::Transport::Tls) {
                if (!services->turn_tls) {
                    services->turn_tls = std::make_unique<net::TlsStreamHandler>(*tls_, turn);
                }
                services->tcp.push_back(std::make_unique<net::TcpListener>(
                    services->shard, spec, fd, *services->turn_tls));
            } else {
                services->tcp.push_back(
                    std::make_unique<net::TcpListener>(services->shard, spec, fd, turn));
            }
        }
        shards_.push_back(std::move(services));
    }
}

void Server::open_web() {
    web_ = std::make_unique<WebService>(
        static_cast<unsigned>(shards_.size()), config_, turn_->shared.rest_secret,
        [this](std::function<void(MetricsSnapshot)> done) { collect_metrics(std::move(done)); });
    web_->open(config_.http_listen, tls_.get());
    web_->open_sip(sip_->shared, config_.sip.listen, tls_.get(), config_.sip.max_message_bytes,
                   std::chrono::seconds(config_.sip.tcp_idle_timeout));
}

void Server::collect_metrics(std::function<void(MetricsSnapshot)> done) {
    struct Scrape {
        MetricsSnapshot snapshot;
        std::size_t waiting;
        std::function<void(MetricsSnapshot)> done;
    };
    auto scrape = std::make_shared<Scrape>(Scrape{{}, shards_.size(), std::move(done)});
    scrape->snapshot.shards.resize(shards_.size());
    scrape->snapshot.sip_bindings =
        location_->binding_count(static_cast<std::int64_t>(std::time(nullptr)));
    scrape->snapshot.sip_auth_locked =
        sip_->auth_ledger->locked_count(static_cast<std::int64_t>(std::time(nullptr)));
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        auto* services = shards_[i].get();
        // Each shard copies its own counters on its thread; the web shard adds them up.
        services->shard.post([this, services, scrape, i] {
            ShardMetrics m;
            m.sip = services->sip.proxy().stats();
            m.sip_auth = services->sip.proxy().auth_stats();
            m.sip_server_transactions = services->sip.proxy().transactions().server_count();
            m.sip_client_transactions = services->sip.proxy().transactions().client_count();
            m.stun = services->turn.binding_stats();
            m.turn = services->turn.stats();
            m.turn_allocations = services->turn.allocation_count();
            web_->shard().post([scrape, i, m] {
                scrape->snapshot.shards[i] = m;
                if (--scrape->waiting == 0) {
                    scrape->done(std::move(scrape->snapshot));
                }
            });
        });
    }
}

void Server::run() {
    std::error_code ec;
    std::filesystem::create_directories(config_.data_dir, ec);
    if (ec) {
        throw StartupError("general.data_dir: cannot create '" + config_.data_dir +
                           "': " + ec.message());
    }
    raise_descriptor_limit();
    check_ports();
    open_store();
    open_tls();
    open_listeners();
    open_web();

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
    web_->start();
    auto list = [](const std::vector<core::ListenSpec>& specs) {
        std::string out;
        for (const auto& spec : specs) {
            out += " " + spec.to_string();
        }
        return out;
    };
    spdlog::info("strowger {} serving with {} shards; sip on{}; stun/turn on{}; http on{}",
                 kVersion, shards_.size(), list(config_.sip.listen), list(config_.stun_listen),
                 list(config_.http_listen));

    main_loop.run();
    bool failed = web_->shard().failed();
    for (const auto& s : shards_) {
        failed = failed || s->shard.failed();
    }
    stop();
    if (failed) {
        throw std::runtime_error("a shard stopped on an internal error (logged above)");
    }
}

void Server::stop() {
    web_->stop(); // first: a metrics scrape posts to the other shards
    for (auto& s : shards_) {
        s->shard.stop([services = s.get()] {
            for (auto& u : services->udp) {
                u->close();
            }
            for (auto& t : services->tcp) {
                t->close();
            }
            services->turn.close();
        });
    }
    // The shard threads have been joined: their counters can be read from here.
    for (const auto& s : shards_) {
        const auto& st = s->turn.binding_stats();
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
        const auto& tu = s->turn.stats();
        spdlog::info("shard {} turn: requests={} allocations_created={} expired={} deleted={} "
                     "challenges={} auth_failures={} stale_nonces={} forbidden_peers={} "
                     "error_responses={} packets_to_peer={} bytes_to_peer={} "
                     "packets_to_client={} bytes_to_client={} dropped={} malformed={}",
                     s->shard.index(), tu.requests, tu.allocations_created,
                     tu.allocations_expired, tu.allocations_deleted, tu.challenges,
                     tu.auth_failures, tu.stale_nonces, tu.forbidden_peers, tu.error_responses,
                     tu.packets_to_peer, tu.bytes_to_peer, tu.packets_to_client,
                     tu.bytes_to_client, tu.dropped, tu.malformed);
        const auto& sp = s->sip.proxy().stats();
        const auto& tx = s->sip.proxy().transactions().stats();
        spdlog::info("shard {} sip: requests={} responses={} malformed={} keepalives={} "
                     "registrations={} forwarded={} stateless={} local_replies={}; "
                     "transactions server={} client={} retransmitted={} absorbed={} timeouts={}",
                     s->shard.index(), sp.requests, sp.responses, sp.malformed, sp.keepalives,
                     sp.registrations, sp.forwarded, sp.stateless, sp.local_replies,
                     tx.server_created, tx.client_created, tx.retransmissions_sent,
                     tx.retransmissions_absorbed, tx.timeouts);
        const auto& au = s->sip.proxy().auth_stats();
        spdlog::info("shard {} sip auth: challenges={} stale={} successes={} failures={} "
                     "replays={} lockouts={} locked_refusals={} malformed={}",
                     s->shard.index(), au.challenges, au.stale, au.successes, au.failures,
                     au.replays, au.lockouts, au.locked_refusals, au.malformed);
    }
    web_.reset();
    shards_.clear();
    turn_.reset();
    users_.reset();
    location_.reset(); // flushes what is still queued for disk
    spdlog::info("stopped");
}

} // namespace strowger::app
