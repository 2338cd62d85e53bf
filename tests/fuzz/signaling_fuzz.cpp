// Fuzz target: the signaling rooms, driven by a script of records [op][client][len:2][payload]:
// WebSocket connects, messages and disconnects of four clients, long-poll requests
// ("METHOD /path?query\ncontent-type\nbody"), closed waits and clock jumps. Every WebSocket
// message the room sends must be a JSON object with a "type", every long-poll response must
// be framed with a Content-Length that matches its body, and a closed connection must never
// be written to.

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/simulated_timers.hpp"
#include "signaling/long_poll_room.hpp"
#include "signaling/ws_room.hpp"

namespace {

using namespace strowger;

[[noreturn]] void fail() { __builtin_trap(); }

// What comes before the first `separator` and what after it (empty when there is none).
std::pair<std::string_view, std::string_view> split_at(std::string_view text, char separator) {
    auto at = text.find(separator);
    if (at == std::string_view::npos) {
        return {text, {}};
    }
    return {text.substr(0, at), text.substr(at + 1)};
}

void check_long_poll(const std::string& response) {
    if (!response.starts_with("HTTP/1.1 ")) {
        fail();
    }
    auto head_end = response.find("\r\n\r\n");
    auto length_at = response.find("\r\nContent-Length: ");
    if (head_end == std::string::npos || length_at == std::string::npos || length_at > head_end) {
        fail();
    }
    auto length = std::stoul(response.substr(length_at + 18));
    if (length != response.size() - head_end - 4) {
        fail();
    }
}

struct Client final : signaling::WsClient {
    bool open = false;
    signaling::WsRoom::ClientId id = 0;
    void send(std::string text) override {
        if (!open) {
            fail();
        }
        auto message = nlohmann::json::parse(text, nullptr, false);
        if (message.is_discarded() || !message.is_object() || !message.contains("type")) {
            fail();
        }
    }
    void close(std::uint16_t, std::string_view) override { open = false; }
};

struct Waiter final : signaling::LongPollWaiter {
    bool parked = false;
    void deliver(std::string response) override {
        if (!parked) {
            fail();
        }
        parked = false;
        check_long_poll(response);
    }
    void abandon() override {
        if (!parked) {
            fail();
        }
        parked = false;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    core::SimulatedTimers timers;
    signaling::WsRoom ws(timers);
    signaling::LongPollRoom long_poll(timers, "Strowger/fuzz");
    std::array<Client, 4> clients;
    std::array<Waiter, 4> waiters;

    std::string_view input(reinterpret_cast<const char*>(data), size);
    while (input.size() >= 4) {
        const auto op = static_cast<unsigned char>(input[0]) % 6;
        const auto who = static_cast<unsigned char>(input[1]) % 4;
        const std::size_t length = (static_cast<unsigned char>(input[2]) << 8) |
                                   static_cast<unsigned char>(input[3]);
        input.remove_prefix(4);
        auto payload = input.substr(0, length);
        input.remove_prefix(payload.size());
        auto& client = clients[who];
        auto& waiter = waiters[who];
        switch (op) {
        case 0:
            if (!client.open) {
                client.open = true;
                client.id = ws.connect(client);
            }
            break;
        case 1:
            if (client.open) {
                ws.on_message(client.id, payload);
            }
            break;
        case 2:
            if (client.open) {
                client.open = false;
                ws.disconnect(client.id);
            }
            break;
        case 3: {
            // "METHOD /path?query\ncontent-type\nbody"
            auto [line, rest] = split_at(payload, '\n');
            auto [content_type, body] = split_at(rest, '\n');
            auto [method, target] = split_at(line, ' ');
            auto [path, query] = split_at(target, '?');
            if (waiter.parked) {
                break; // one request at a time per connection
            }
            waiter.parked = true;
            auto answer = long_poll.handle({method, path, query, content_type, body}, waiter);
            if (answer) {
                waiter.parked = false;
                check_long_poll(*answer);
            }
            break;
        }
        case 4:
            if (waiter.parked) {
                waiter.parked = false;
                long_poll.cancel_wait(waiter);
            }
            break;
        default:
            // Up to a minute: past the 30 s long-poll timeout, without thousands of sweeps.
            timers.skip_for(std::chrono::milliseconds((payload.size() % 128) * 500));
            break;
        }
    }
    long_poll.close();
    return 0;
}
