#include "signaling/ws_room.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

namespace strowger::signaling {

namespace {

constexpr std::size_t kMaxNameCharacters = 64;

// Messages relayed to another client as they are; the room does not read their payload.
constexpr std::array<std::string_view, 7> kRelayed = {"call",   "accept",    "decline", "offer",
                                                      "answer", "candidate", "hangup"};

// Empty when `name` is acceptable, else why not. The parser has already checked UTF-8.
std::string_view name_problem(std::string_view name) {
    std::size_t characters = 0;
    bool blank = true;
    for (char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
            return "a name has no control characters";
        }
        if ((c & 0xc0) != 0x80) {
            ++characters; // not a UTF-8 continuation byte
        }
        blank = blank && c == ' ';
    }
    if (characters == 0 || blank) {
        return "a name is 1 to 64 characters, not all spaces";
    }
    if (characters > kMaxNameCharacters) {
        return "a name is at most 64 characters";
    }
    return {};
}

} // namespace

WsRoom::WsRoom(core::TimerService& timers, WsLimits limits)
    : timers_(timers), limits_(limits) {}

WsRoom::ClientId WsRoom::connect(WsClient& client) {
    const auto id = next_id_++;
    clients_.emplace(id, Client{&client, {}, limits_.burst, timers_.now()});
    return id;
}

void WsRoom::disconnect(ClientId id) {
    auto it = clients_.find(id);
    if (it == clients_.end()) {
        return;
    }
    auto name = std::move(it->second.name);
    clients_.erase(it);
    if (name.empty()) {
        return;
    }
    by_name_.erase(name);
    Json left = {{"type", "peer-left"}, {"peer", {{"id", id}, {"name", name}}}};
    broadcast(id, left.dump());
}

bool WsRoom::take_token(Client& client) {
    const auto now = timers_.now();
    const std::chrono::duration<double> elapsed = now - client.refilled;
    client.refilled = now;
    client.tokens =
        std::min(limits_.burst, client.tokens + elapsed.count() * limits_.messages_per_second);
    if (client.tokens < 1) {
        return false;
    }
    client.tokens -= 1;
    return true;
}

void WsRoom::on_message(ClientId id, std::string_view text) {
    auto it = clients_.find(id);
    if (it == clients_.end()) {
        return;
    }
    auto& client = it->second;
    ++stats_.messages;
    if (text.size() > limits_.max_message) { // the transport enforces this too
        auto* socket = client.socket;
        disconnect(id);
        socket->close(kCloseTooBig, "message too big");
        return;
    }
    if (!take_token(client)) {
        if (++client.refused_in_row >= limits_.max_refused_in_row) {
            ++stats_.closed_for_abuse;
            auto* socket = client.socket;
            disconnect(id);
            socket->close(kClosePolicy, "rate limit exceeded");
            return;
        }
        error(client, "rate-limited", "too many messages; this one was dropped");
        return;
    }
    client.refused_in_row = 0;
    handle(id, client, text);
}

void WsRoom::handle(ClientId id, Client& client, std::string_view text) {
    auto message = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded() || !message.is_object()) {
        ++stats_.malformed;
        error(client, "bad-json", "a message is one JSON object");
        return;
    }
    auto type_it = message.find("type");
    if (type_it == message.end() || !type_it->is_string()) {
        ++stats_.malformed;
        error(client, "bad-message", "a message needs a string \"type\"");
        return;
    }
    const auto type = type_it->get<std::string>();
    if (type == "hello") {
        hello(id, client, message);
        return;
    }
    if (client.name.empty()) {
        error(client, "not-announced", "say hello with a name first", type);
        return;
    }
    if (type == "list") {
        Json list = {{"type", "peers"}, {"peers", peers(id)}};
        client.socket->send(list.dump());
    } else if (type == "ping") {
        client.socket->send(R"({"type":"pong"})");
    } else if (std::find(kRelayed.begin(), kRelayed.end(), type) != kRelayed.end()) {
        relay(id, client, type, message);
    } else {
        error(client, "unknown-type", "no message type \"" + type + "\"", type);
    }
}

void WsRoom::hello(ClientId id, Client& client, const Json& message) {
    if (!client.name.empty()) {
        error(client, "already-announced", "this connection is already online as " + client.name,
              "hello");
        return;
    }
    auto name_it = message.find("name");
    if (name_it == message.end() || !name_it->is_string()) {
        ++stats_.malformed;
        error(client, "bad-message", "hello needs a string \"name\"", "hello");
        return;
    }
    auto name = name_it->get<std::string>();
    if (auto problem = name_problem(name); !problem.empty()) {
        error(client, "bad-name", problem, "hello");
        return;
    }
    if (by_name_.contains(name)) {
        error(client, "name-taken", "someone online is already called " + name, "hello");
        return;
    }
    Json welcome = {{"type", "welcome"}, {"id", id}, {"name", name}, {"peers", peers(id)}};
    client.socket->send(welcome.dump());
    Json joined = {{"type", "peer-joined"}, {"peer", {{"id", id}, {"name", name}}}};
    broadcast(id, joined.dump());
    client.name = name;
    by_name_.emplace(std::move(name), id);
}

void WsRoom::relay(ClientId id, Client& client, const std::string& type, Json& message) {
    auto to_it = message.find("to");
    if (to_it == message.end() || !to_it->is_number_unsigned()) {
        ++stats_.malformed;
        error(client, "bad-message", type + " needs \"to\", the id of a peer", type);
        return;
    }
    const auto to = to_it->get<ClientId>();
    auto target = clients_.find(to);
    if (target == clients_.end() || target->second.name.empty() || to == id) {
        error(client, "unknown-peer", "peer " + std::to_string(to) + " is not online", type);
        return;
    }
    message.erase("to");
    message["from"] = id;
    message["fromName"] = client.name;
    ++stats_.relayed;
    target->second.socket->send(message.dump());
}

void WsRoom::error(Client& client, std::string_view code, std::string_view message,
                   std::string_view ref) {
    ++stats_.refused;
    Json error = {{"type", "error"}, {"code", code}, {"message", message}};
    if (!ref.empty()) {
        error["ref"] = ref;
    }
    client.socket->send(error.dump());
}

void WsRoom::broadcast(ClientId except, const std::string& text) {
    for (auto& [id, client] : clients_) {
        if (id != except && !client.name.empty()) {
            client.socket->send(text);
        }
    }
}

WsRoom::Json WsRoom::peers(ClientId except) const {
    auto peers = Json::array();
    for (const auto& [id, client] : clients_) {
        if (id != except && !client.name.empty()) {
            peers.push_back({{"id", id}, {"name", client.name}});
        }
    }
    return peers;
}

} // namespace strowger::signaling
