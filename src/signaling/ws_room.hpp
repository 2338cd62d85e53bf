#pragma once
// The room of the browser signaling protocol at /ws (docs/signaling.md), sans-IO: the HTTP
// layer hands in each text message of a WebSocket and carries the room's answers back. A
// client announces a name, sees who is online, and has call set-up messages (offer, answer,
// candidate, ...) relayed to another client without the room interpreting them.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/timer_service.hpp"

namespace strowger::signaling {

// One WebSocket, as the room sees it.
class WsClient {
public:
    virtual ~WsClient() = default;
    virtual void send(std::string text) = 0;
    // Ends the connection with a close frame; the room has already forgotten the client.
    virtual void close(std::uint16_t code, std::string_view reason) = 0;
};

// RFC 6455 §7.4.1 close codes the room uses.
inline constexpr std::uint16_t kClosePolicy = 1008;
inline constexpr std::uint16_t kCloseTooBig = 1009;

struct WsLimits {
    std::size_t max_message = 64 * 1024;
    double messages_per_second = 50;
    double burst = 200;
    // A client refused this many times in a row for its rate is closed.
    unsigned max_refused_in_row = 100;
};

struct WsStats {
    std::uint64_t messages = 0;  // received
    std::uint64_t relayed = 0;
    std::uint64_t malformed = 0; // bad-json and bad-message
    std::uint64_t refused = 0;   // every error answer
    std::uint64_t closed_for_abuse = 0;
};

class WsRoom {
public:
    using ClientId = std::uint64_t;

    explicit WsRoom(core::TimerService& timers, WsLimits limits = {});
    WsRoom(const WsRoom&) = delete;
    WsRoom& operator=(const WsRoom&) = delete;

    // A new connection; it is not online until it says hello.
    ClientId connect(WsClient& client);
    void on_message(ClientId id, std::string_view text);
    // The connection is gone; others learn it left if it was online.
    void disconnect(ClientId id);

    [[nodiscard]] std::size_t online() const noexcept { return by_name_.size(); }
    [[nodiscard]] std::size_t connections() const noexcept { return clients_.size(); }
    [[nodiscard]] const WsStats& stats() const noexcept { return stats_; }

private:
    struct Client {
        WsClient* socket;
        std::string name; // empty until hello
        double tokens;
        core::TimerService::TimePoint refilled;
        unsigned refused_in_row = 0;
    };
    using Json = nlohmann::ordered_json;

    bool take_token(Client& client);
    void handle(ClientId id, Client& client, std::string_view text);
    void hello(ClientId id, Client& client, const Json& message);
    void relay(ClientId id, Client& client, const std::string& type, Json& message);
    void error(Client& client, std::string_view code, std::string_view message,
               std::string_view ref = {});
    void broadcast(ClientId except, const std::string& text);
    Json peers(ClientId except) const; // everyone online but `except`

    core::TimerService& timers_;
    WsLimits limits_;
    std::map<ClientId, Client> clients_; // by id: join order, the order peer lists use
    std::unordered_map<std::string, ClientId> by_name_;
    ClientId next_id_ = 1;
    WsStats stats_;
};

} // namespace strowger::signaling
