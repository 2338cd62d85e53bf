#pragma once
// The exchange's SIP element, sans-IO: a transaction-stateful proxy (RFC 3261 §16) with the
// registrar (§10) for the domains it serves, answering itself only what is addressed to it
// (OPTIONS, and 405 for the rest). One instance per shard, fed with bytes and the flow they
// came on; it sends through a Transmitter and keeps time with a TimerService.
//
// Routing, in the order §16.3-§16.6 give it: validation (400/505), URI scheme (416),
// Max-Forwards (483), loop detection (482), Proxy-Require (420); then our own Route entries
// are removed (loose routing) and the request goes to the next Route, or for an initial
// request to the registrar, to the bindings of the address-of-record (forking in parallel),
// to ourselves, or nowhere (403 for foreign domains unless sip.forward_foreign).

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/timer_service.hpp"
#include "sip/authenticator.hpp"
#include "sip/flow.hpp"
#include "sip/flow_bindings.hpp"
#include "sip/flow_token.hpp"
#include "sip/location.hpp"
#include "sip/message.hpp"
#include "sip/registrar.hpp"
#include "sip/transaction.hpp"
#include "sip/uri.hpp"

namespace strowger::sip {

// Who this server is on the wire.
struct LocalIdentity {
    struct Listener {
        core::Transport transport = core::Transport::Udp;
        std::string host; // what goes in Via and Record-Route (an address or a name)
        std::uint16_t port = 5060;
    };
    std::vector<Listener> listeners;
    // Every host (address literal or name, lowercase, IPv6 in brackets) that means "us".
    std::vector<std::string> hosts;

    [[nodiscard]] const Listener* listener_for(core::Transport transport) const;
    // The URI names this server: one of our hosts at one of our ports (5060 when absent).
    [[nodiscard]] bool is_own(const Uri& uri) const;
    [[nodiscard]] bool is_own_sent_by(std::string_view host, std::uint16_t port) const;
};

struct ProxyConfig {
    std::vector<std::string> domains; // lowercase; empty: every domain
    bool forward_foreign = false;
    std::chrono::seconds timer_c{180};
    TimerConfig timers;
    RegistrarConfig registrar;
    std::size_t max_message_bytes = 65535;
    // Whether a user name is an account of this server. A request for an account with no
    // registered contact gets 480 (the user exists but cannot be reached now) instead of 404.
    // Unset: every unregistered user is 404.
    std::function<bool(std::string_view user)> is_account;
    // Digest authentication (sip.auth). `accounts` and `ledger` are shared by every shard;
    // without a ledger the proxy keeps one of its own (tests, a single shard).
    AuthConfig auth;
    AccountKeys* accounts = nullptr;
    AuthLedger* ledger = nullptr;
    DigestNonces::Key nonce_key{};
};

// The methods counted one by one in ProxyStats; any other counts as the last, "other".
inline constexpr std::array<std::string_view, 14> kCountedMethods = {
    "INVITE", "ACK",    "BYE",     "CANCEL",    "REGISTER", "OPTIONS", "INFO",
    "UPDATE", "PRACK",  "REFER",   "SUBSCRIBE", "NOTIFY",   "MESSAGE", "PUBLISH"};
std::size_t counted_method_index(std::string_view method);

struct ProxyStats {
    std::uint64_t requests = 0;
    std::uint64_t responses = 0;
    std::uint64_t malformed = 0;     // answered 400/505, or dropped when unanswerable
    std::uint64_t keepalives = 0;    // UDP keep-alive datagrams and stream pings
    std::uint64_t registrations = 0; // REGISTERs answered 200
    std::uint64_t forwarded = 0;     // requests sent on to a next hop (per branch)
    std::uint64_t stateless = 0;     // ACKs and stray responses forwarded statelessly
    std::uint64_t local_replies = 0; // final responses generated here
    std::uint64_t calls_answered = 0; // INVITEs whose first 2xx went upstream
    std::uint64_t calls_ended = 0;    // BYEs whose first 2xx went upstream
    // Well-formed messages received: requests by counted_method_index(), responses by code.
    std::array<std::uint64_t, kCountedMethods.size() + 1> requests_by_method{};
    std::array<std::uint64_t, 600> responses_by_code{}; // index: status - 100
};

class Proxy final : public TransactionUser {
public:
    // Hands a response that belongs to another shard's client transaction to that shard.
    using Handoff = std::function<void(unsigned shard, Message&& message, const Flow& from)>;
    // Wall-clock seconds (binding expiry is absolute so that it survives a restart).
    using WallClock = std::function<std::int64_t()>;

    Proxy(unsigned shard, core::TimerService& timers, Transmitter& transmitter,
          LocationStore& location, LocalIdentity identity, ProxyConfig config,
          const FlowTokens::Key& flow_key, WallClock wall_clock, Handoff handoff);
    ~Proxy() override;
    Proxy(const Proxy&) = delete;
    Proxy& operator=(const Proxy&) = delete;

    // One datagram (UDP) or one framed message (streams) from `from`.
    void on_bytes(std::string_view bytes, Framing framing, const Flow& from);
    // A response another shard received for one of our transactions.
    void on_handed_over(Message&& message, const Flow& from);
    // A connection the server cannot open again (TLS, WebSocket) closed: the bindings
    // registered over it go (flow_bindings.hpp).
    void on_flow_closed(std::uint64_t connection_id);

    [[nodiscard]] const ProxyStats& stats() const noexcept { return stats_; }
    [[nodiscard]] const TransactionLayer& transactions() const noexcept { return layer_; }
    [[nodiscard]] const AuthStats& auth_stats() const noexcept { return auth_.stats(); }

private:
    struct Branch;
    struct Context;
    struct Route;

    // TransactionUser
    void on_request(ServerTransaction& txn) override;
    void on_ack(Message&& ack, const Flow& from) override;
    void on_response(ClientTransaction& txn, const Message& response) override;
    void on_client_failure(ClientTransaction& txn, int status) override;
    void on_stray_response(Message&& response, const Flow& from) override;
    void on_terminated(ServerTransaction& txn) override;
    void on_terminated(ClientTransaction& txn) override;

    void answer_invalid(const Message& msg, SipError error, const Flow& from);
    // What the §16.3 checks learnt about a request, kept for routing it.
    struct Checked {
        Uri uri;                     // the Request-URI
        std::uint32_t loop_hash = 0; // see loop_hash()
    };
    // §16.3 steps 2-5; a refusal status, or 0 to go on.
    int check_request(const Message& request, Checked& out, std::string* extra_headers);
    bool route(const Message& request, Route& route);
    // §22: whether the request may go on; false when it was answered (401/407/403/400).
    bool authorize(ServerTransaction& txn, const Uri& uri, bool served);
    void handle_locally(ServerTransaction& txn);
    void handle_cancel(ServerTransaction& txn);
    void fork(ServerTransaction& txn, const Route& route);
    bool forward_stateless(const Message& request, const Route& route);
    void forward_statelessly(const Message& response);

    void reply(ServerTransaction& txn, int status, std::string_view reason,
               std::string_view extra_headers = {});
    void start_branch(Context& ctx, const Route& route, std::string request_uri,
                      const Flow& destination, std::string_view push_routes);
    void cancel_branches(Context& ctx, std::string_view reason);
    void send_cancel(Branch& branch);
    void branch_finished(Branch& branch, int status, const Message* response);
    void finish_if_complete(Context& ctx);
    void forward_response(Context& ctx, int status, std::string bytes);
    void on_timer_c(Branch& branch);
    void release(Branch& branch);
    void abandon(Branch& branch);

    [[nodiscard]] bool serves_domain(const Uri& uri) const;
    [[nodiscard]] std::optional<Flow> resolve(const Uri& uri) const;
    [[nodiscard]] std::string via_for(core::Transport transport, std::string_view branch) const;
    [[nodiscard]] std::string record_route_for(const Flow& flow) const;
    [[nodiscard]] std::string new_tag();
    [[nodiscard]] std::uint32_t loop_hash(const Message& request) const;

    unsigned shard_;
    core::TimerService& timers_;
    LocationStore& location_;
    LocalIdentity identity_;
    ProxyConfig config_;
    FlowTokens flow_tokens_;
    WallClock wall_clock_;
    Handoff handoff_;
    Registrar registrar_;
    std::unique_ptr<AuthLedger> own_ledger_;
    Authenticator auth_;
    TransactionLayer layer_;
    // Declared after layer_ so they are destroyed first: a context outlives no transaction.
    std::unordered_map<const ServerTransaction*, std::unique_ptr<Context>> contexts_;
    FlowBindings flow_bindings_; // for on_flow_closed
    std::uint64_t counter_ = 0;
    std::uint64_t tag_seed_;
    ProxyStats stats_;
};

} // namespace strowger::sip
