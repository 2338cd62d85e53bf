#pragma once
// The SIP transaction layer (RFC 3261 §17, with the Accepted states of RFC 6026), sans-IO:
// messages come in through receive(), bytes go out through a Transmitter, and every timer
// (A-K, L, M) runs on a TimerService. It absorbs retransmitted requests and responses,
// regenerates its own (requests and final responses over UDP, ACK for non-2xx finals), and
// tells the transaction user (the proxy core) only what it must act on.
//
// Single-threaded: one layer per shard. Transactions are destroyed only by the layer, from a
// timer or after a TU callback has returned, never inside a call the TU made; the TU is told
// through on_terminated() first, so it can drop its pointers.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/timer_service.hpp"
#include "sip/flow.hpp"
#include "sip/message.hpp"

namespace strowger::sip {

struct TimerConfig {
    std::chrono::milliseconds t1{500};  // RTT estimate
    std::chrono::milliseconds t2{4000}; // longest retransmit interval for non-INVITE
    std::chrono::milliseconds t4{5000}; // longest time a message stays in the network
};

// Sends bytes. Returns false when the flow is gone (a closed connection), which fails the
// transaction with 503 (§17.1.4); a UDP datagram the kernel accepts counts as sent.
class Transmitter {
public:
    virtual ~Transmitter() = default;
    virtual bool send(const Flow& to, std::string_view bytes) = 0;
};

class TransactionLayer;
class ServerTransaction;
class ClientTransaction;

class TransactionUser {
public:
    virtual ~TransactionUser() = default;
    // A new request (not ACK) created a server transaction; answer through txn.respond().
    virtual void on_request(ServerTransaction& txn) = 0;
    // An ACK that belongs to no INVITE server transaction in Completed state: the ACK for a
    // 2xx, which is end-to-end and forwarded like a new request (§13.2.2.4, RFC 6026).
    virtual void on_ack(Message&& ack, const Flow& from) = 0;
    // A response for a client transaction. Retransmitted provisionals and failures are
    // absorbed; every 2xx is passed on (RFC 6026 §8.4: a proxy forwards them all).
    virtual void on_response(ClientTransaction& txn, const Message& response) = 0;
    // No final response will come: Timer B/F fired (408) or the transport failed (503).
    virtual void on_client_failure(ClientTransaction& txn, int status) = 0;
    // A response that matches no client transaction (§16.7: proxied statelessly).
    virtual void on_stray_response(Message&& response, const Flow& from) = 0;
    virtual void on_terminated(ServerTransaction& txn) = 0;
    virtual void on_terminated(ClientTransaction& txn) = 0;
};

class ServerTransaction {
public:
    enum class State : std::uint8_t { Trying, Proceeding, Completed, Confirmed, Accepted };

    // The request; empty once a non-INVITE transaction over UDP has sent its final response
    // (Timer J then only needs that response).
    [[nodiscard]] const Message& request() const noexcept { return request_; }
    // Where responses go: the request's connection, or over UDP the source address at the
    // sent-by (or rport) port (§18.2.2, RFC 3581).
    [[nodiscard]] const Flow& response_flow() const noexcept { return response_flow_; }
    // The flow the request arrived on.
    [[nodiscard]] const Flow& source() const noexcept { return source_; }
    // The first Via value as stamped on receipt with received/rport (§18.2.1, RFC 3581);
    // responses and forwarded requests carry this one instead of the original.
    [[nodiscard]] std::string_view top_via() const noexcept { return top_via_; }
    [[nodiscard]] bool is_invite() const noexcept { return invite_; }
    [[nodiscard]] State state() const noexcept { return state_; }
    // The status of the last response sent (0: none yet; 100 counts).
    [[nodiscard]] int last_status() const noexcept { return last_status_; }
    [[nodiscard]] bool final_sent() const noexcept { return last_status_ >= 200; }

    // Sends a response (a whole message) and moves the state machine. A second final response
    // is ignored, except further 2xx for an INVITE (RFC 6026 Accepted state).
    void respond(int status, std::string bytes);

    // Whatever the TU keeps with the transaction (the proxy's response context).
    void* user = nullptr;

    ~ServerTransaction();
    ServerTransaction(const ServerTransaction&) = delete;
    ServerTransaction& operator=(const ServerTransaction&) = delete;

private:
    friend class TransactionLayer;
    ServerTransaction(TransactionLayer& layer, std::string key, Message&& request,
                      const Flow& source, const Flow& response_flow, std::string top_via);
    void on_retransmission();
    void on_ack();
    void retransmit_final(); // Timer G
    void send_last();

    TransactionLayer& layer_;
    std::string key_;
    Message request_;
    Flow source_;
    Flow response_flow_;
    std::string top_via_;
    std::string last_response_;
    int last_status_ = 0;
    bool invite_ = false;
    bool reliable_ = false;
    State state_ = State::Trying;
    core::TimerService::Duration retransmit_interval_{};
    core::TimerService::TimerId retransmit_timer_; // G
    core::TimerService::TimerId end_timer_;        // H, I, J, L
};

class ClientTransaction {
public:
    enum class State : std::uint8_t { Calling, Trying, Proceeding, Completed, Accepted };

    [[nodiscard]] const Message& request() const noexcept { return request_; }
    [[nodiscard]] const Flow& destination() const noexcept { return destination_; }
    [[nodiscard]] bool is_invite() const noexcept { return invite_; }
    [[nodiscard]] State state() const noexcept { return state_; }
    // Highest status received so far (0: none).
    [[nodiscard]] int status() const noexcept { return status_; }
    [[nodiscard]] std::string_view branch() const noexcept { return branch_; }

    void* user = nullptr;

    ~ClientTransaction();
    ClientTransaction(const ClientTransaction&) = delete;
    ClientTransaction& operator=(const ClientTransaction&) = delete;

private:
    friend class TransactionLayer;
    ClientTransaction(TransactionLayer& layer, std::string key, std::string branch,
                      Message&& request, const Flow& destination);
    void start();
    void on_response(const Message& response);
    void retransmit(); // Timer A / E
    void time_out();   // Timer B / F
    void fail(int status);

    TransactionLayer& layer_;
    std::string key_;
    std::string branch_;
    Message request_;
    Flow destination_;
    std::string ack_; // for a non-2xx final (INVITE), resent when the final is retransmitted
    bool invite_ = false;
    bool reliable_ = false;
    State state_ = State::Trying;
    int status_ = 0;
    core::TimerService::Duration retransmit_interval_{};
    core::TimerService::TimerId retransmit_timer_; // A, E
    core::TimerService::TimerId end_timer_;        // B, D, F, K, M
};

struct TransactionStats {
    std::uint64_t server_created = 0;
    std::uint64_t client_created = 0;
    std::uint64_t retransmissions_absorbed = 0; // requests and responses we had seen
    std::uint64_t retransmissions_sent = 0;     // Timers A, E, G
    std::uint64_t timeouts = 0;                 // Timers B, F, H
};

class TransactionLayer {
public:
    TransactionLayer(core::TimerService& timers, Transmitter& transmitter, TransactionUser& tu,
                     TimerConfig config);
    ~TransactionLayer();
    TransactionLayer(const TransactionLayer&) = delete;
    TransactionLayer& operator=(const TransactionLayer&) = delete;

    // A parsed, valid message from the transport.
    void receive(Message&& message, const Flow& from);

    // Sends `request` (whose top Via carries `branch`, unique and minted by the TU) to
    // `destination` as a new client transaction. The reference stays valid until the TU's
    // on_terminated() for it.
    ClientTransaction& start_client(std::string_view branch, Message&& request,
                                    const Flow& destination);

    // Ends a client transaction the TU has given up on (§9.1: no final response 64*T1 after
    // its CANCEL). The TU hears on_terminated() for it, from a timer.
    void abandon(ClientTransaction& txn) { terminate_later(txn); }

    // The INVITE server transaction a CANCEL targets (§9.2), if it is still here.
    [[nodiscard]] ServerTransaction* find_invite_for_cancel(const Message& cancel) const;

    // Responses a TU sends outside any transaction (stateless proxying, §16.11).
    bool send(const Flow& to, std::string_view bytes) { return transmitter_.send(to, bytes); }

    [[nodiscard]] const TimerConfig& config() const noexcept { return config_; }
    [[nodiscard]] const TransactionStats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::size_t server_count() const noexcept { return servers_.size(); }
    [[nodiscard]] std::size_t client_count() const noexcept { return clients_.size(); }

private:
    friend class ServerTransaction;
    friend class ClientTransaction;

    void receive_request(Message&& request, const Flow& from);
    void receive_response(Message&& response, const Flow& from);
    // Destroys the transaction once the current call stack has unwound (a zero-delay timer).
    void terminate_later(ServerTransaction& txn);
    void terminate_later(ClientTransaction& txn);
    void destroy(ServerTransaction& txn);
    void destroy(ClientTransaction& txn);

    core::TimerService& timers_;
    Transmitter& transmitter_;
    TransactionUser& tu_;
    TimerConfig config_;
    std::unordered_map<std::string, std::unique_ptr<ServerTransaction>> servers_;
    std::unordered_map<std::string, std::unique_ptr<ClientTransaction>> clients_;
    TransactionStats stats_;
};

// The top Via value as the transport stamps it on receipt (§18.2.1, RFC 3581 §4): received=
// when the source address differs from sent-by (always when rport was asked for), and
// rport=<source port>; and where responses go (§18.2.2). Nothing when the value is malformed.
struct StampedVia {
    std::string via;
    Flow response_flow;
};
std::optional<StampedVia> stamp_top_via(std::string_view via_value, const Flow& from);

// RFC 3261 §17.2.3 key of a request's server transaction: top Via branch, sent-by and method
// (ACK and CANCEL-target lookups use INVITE). Requests without an RFC 3261 branch get an
// RFC 2543 key from Request-URI, From tag, Call-ID, CSeq number and top Via (§17.2.3).
// Empty when the request has no usable Via.
std::string server_transaction_key(const Message& request, std::string_view method);

} // namespace strowger::sip
