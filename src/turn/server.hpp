#pragma once
// The TURN server (RFC 8656) for one shard, sans-IO: it takes a client's STUN message or
// ChannelData, or a datagram a peer sent to a relay, and says through TurnIo what to send.
// Allocations live on the shard whose socket or connection the client uses, so nothing here
// is shared across threads except what is passed in already thread-safe (quota, credentials,
// nonce checks, the relay-endpoint test).
//
// Binding requests on the same port are answered by stun::BindingService, not here.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/timer_service.hpp"
#include "stun/message.hpp"
#include "turn/allocation.hpp"
#include "turn/authenticator.hpp"
#include "turn/client_flow.hpp"
#include "turn/nonce.hpp"
#include "turn/peer_policy.hpp"
#include "turn/quota.hpp"
#include "turn/turn_io.hpp"

namespace strowger::turn {

struct TurnConfig {
    std::string realm = "strowger";
    std::string software;                      // SOFTWARE attribute; empty: none
    std::chrono::seconds max_lifetime{3600};
    // Advertised in XOR-RELAYED-ADDRESS instead of the relay socket's address (behind a NAT).
    std::optional<core::IpEndpoint> external_address;
    std::uint64_t max_bytes_per_second = 0;    // per allocation, both directions; 0: unlimited
    std::size_t max_permissions = 128;         // per allocation
    std::size_t max_channels = 128;            // per allocation
};

struct TurnStats {
    std::uint64_t requests = 0;
    std::uint64_t allocations_created = 0;
    std::uint64_t allocations_expired = 0;
    std::uint64_t allocations_deleted = 0;     // by Refresh 0 or the client's connection closing
    std::uint64_t challenges = 0;              // 401 to a request without credentials
    std::uint64_t auth_failures = 0;           // 401 for wrong credentials
    std::uint64_t stale_nonces = 0;            // 438
    std::uint64_t forbidden_peers = 0;         // 403
    std::uint64_t error_responses = 0;         // every error response, the above included
    std::uint64_t packets_to_peer = 0;
    std::uint64_t bytes_to_peer = 0;
    std::uint64_t packets_to_client = 0;
    std::uint64_t bytes_to_client = 0;
    std::uint64_t dropped = 0;                 // no allocation, permission or channel; rate
    std::uint64_t malformed = 0;
};

struct TurnDependencies {
    TurnIo& io;
    core::TimerService& timers;
    const Authenticator& authenticator;
    const NonceIssuer& nonces;
    AllocationQuota& quota;
    const PeerPolicy& policy;
    std::function<std::int64_t()> unix_now; // wall clock, for nonces and REST expiry
};

class TurnServer {
public:
    TurnServer(TurnConfig config, TurnDependencies deps);
    ~TurnServer();
    TurnServer(const TurnServer&) = delete;
    TurnServer& operator=(const TurnServer&) = delete;

    // One STUN message or ChannelData from a client: a whole datagram, or one frame cut by
    // frame_length() from a stream. Never throws; bad input is answered or dropped and counted.
    void on_client_message(std::span<const std::uint8_t> bytes, const ClientFlow& flow) noexcept;
    // A datagram a peer sent to a relay socket.
    void on_peer_data(std::uint32_t relay, const core::IpEndpoint& peer,
                      std::span<const std::uint8_t> data) noexcept;
    // The client's stream connection closed: its allocation goes with it (§3.1).
    void on_connection_closed(std::uint64_t connection) noexcept;

    // Stream framing (§12.5): a STUN message, or ChannelData padded to a multiple of 4.
    // Returns the size of the frame at the front (0: need more bytes), or nothing when the
    // bytes are neither and the connection should close.
    static std::optional<std::size_t> frame_length(std::span<const std::uint8_t> bytes);

    [[nodiscard]] std::size_t allocation_count() const noexcept { return by_flow_.size(); }
    [[nodiscard]] const TurnStats& stats() const noexcept { return stats_; }
    [[nodiscard]] const TurnConfig& config() const noexcept { return config_; }

private:
    struct Auth;
    class Reply;

    void on_request(const stun::Message& m, const ClientFlow& flow);
    void on_send_indication(const stun::Message& m, const ClientFlow& flow);
    void on_channel_data(std::span<const std::uint8_t> bytes, const ClientFlow& flow);

    std::optional<Auth> authenticate(const stun::Message& m, const ClientFlow& flow);
    void allocate(const stun::Message& m, const ClientFlow& flow, const Auth& auth);
    void refresh(const stun::Message& m, const ClientFlow& flow, const Auth& auth);
    void create_permission(const stun::Message& m, Allocation& a, const ClientFlow& flow,
                           const Auth& auth);
    void channel_bind(const stun::Message& m, Allocation& a, const ClientFlow& flow,
                      const Auth& auth);

    void send_error(const stun::Message& m, const ClientFlow& flow, int code,
                    std::string_view reason, const Auth* auth);
    void send_challenge(const stun::Message& m, const ClientFlow& flow, int code,
                        std::string_view reason);
    void send_allocate_success(const stun::Message& m, const Allocation& a, const Auth& auth);

    // The verdict on a peer for this allocation, with the relay-to-relay exception.
    PeerVerdict check_peer(const core::IpEndpoint& peer) const;
    bool may_send(const Allocation& a, const core::IpEndpoint& peer, TimePoint now);
    void relay_to_peer(Allocation& a, const core::IpEndpoint& peer,
                       std::span<const std::uint8_t> data, bool dont_fragment, TimePoint now);

    Allocation* find(const ClientFlow& flow);
    void arm_expiry(Allocation& a, std::chrono::seconds lifetime);
    void remove(Allocation& a);

    TurnConfig config_;
    TurnDependencies deps_;
    std::unordered_map<ClientFlow, std::unique_ptr<Allocation>, ClientFlowHash> by_flow_;
    std::unordered_map<std::uint32_t, Allocation*> by_relay_;
    std::unordered_map<std::uint64_t, Allocation*> by_connection_;
    std::vector<std::uint8_t> reply_;  // one STUN response at a time
    std::vector<std::uint8_t> data_;   // one Data indication or ChannelData at a time
    std::uint64_t next_indication_ = 0;
    TurnStats stats_;
};

} // namespace strowger::turn
