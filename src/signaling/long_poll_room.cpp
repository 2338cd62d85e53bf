#include "signaling/long_poll_room.hpp"

#include <charconv>

#include "signaling/long_poll_response.hpp"

namespace strowger::signaling {

namespace {

constexpr auto kSweepInterval = std::chrono::seconds(1);

// The number after `key` in a query, the way the reference server reads it: `peer_id=`
// anywhere in the query, `to=` only at its start or after '&'. 0 (never an id) when absent.
unsigned query_number(std::string_view query, std::string_view key, bool anywhere) {
    std::size_t at = 0;
    while ((at = query.find(key, at)) != std::string_view::npos) {
        if (anywhere || at == 0 || query[at - 1] == '&') {
            unsigned value = 0;
            auto digits = query.substr(at + key.size());
            std::from_chars(digits.data(), digits.data() + digits.size(), value);
            return value;
        }
        at += key.size();
    }
    return 0;
}

unsigned peer_id_of(std::string_view query) { return query_number(query, "peer_id=", true); }

std::string peer_line(std::string_view name, unsigned id, bool online) {
    std::string line(name);
    line.append(",").append(std::to_string(id)).append(online ? ",1\n" : ",0\n");
    return line;
}

} // namespace

LongPollRoom::LongPollRoom(core::TimerService& timers, std::string server_header)
    : timers_(timers), server_header_(std::move(server_header)) {
    sweep_timer_ = timers_.schedule_after(kSweepInterval, [this] { sweep(); });
}

// Parked waiters are not touched here: by now their connections may be gone.
LongPollRoom::~LongPollRoom() {
    if (!closed_) {
        timers_.cancel(sweep_timer_);
    }
}

bool LongPollRoom::serves(std::string_view path) {
    return path == "/sign_in" || path == "/wait" || path == "/message" || path == "/sign_out";
}

std::string LongPollRoom::response(std::string_view status, std::string_view content_type,
                                   std::string_view body, std::optional<unsigned> pragma) const {
    return long_poll_response(server_header_, status, content_type, body, pragma);
}

std::string LongPollRoom::sorry() {
    ++stats_.refused;
    return response("500 Sorry", "text/html",
                    "<html><body>Sorry, not yet implemented</body></html>");
}

std::string LongPollRoom::bad_request(std::string_view reason) {
    ++stats_.refused;
    std::string body(reason);
    body += '\n';
    return response("400 Bad Request", "text/plain", body);
}

std::optional<std::string> LongPollRoom::handle(const LongPollRequest& request,
                                                LongPollWaiter& waiter) {
    if (request.method == "OPTIONS") { // CORS preflight, for pages on other origins
        return response("200 OK", "", "");
    }
    if (request.path == "/message") {
        return message(request);
    }
    if (request.method != "GET") {
        return bad_request(std::string(request.path) + " takes GET");
    }
    if (request.path == "/sign_in") {
        return sign_in(request.query);
    }
    if (request.path == "/wait") {
        return wait(request.query, waiter);
    }
    if (request.path == "/sign_out") {
        return sign_out(request.query);
    }
    return sorry();
}

std::string LongPollRoom::sign_in(std::string_view query) {
    // The whole query is the name, verbatim; commas would break the peer list's lines.
    std::string name(query.substr(0, kMaxNameLength));
    for (auto& c : name) {
        if (c == ',') {
            c = '_';
        }
    }
    const unsigned id = next_id_++;
    if (name.empty()) {
        name = "peer_" + std::to_string(id);
    }
    ++stats_.sign_ins;
    std::string list = peer_line(name, id, true);
    for (auto& [other_id, other] : members_) {
        list += peer_line(other.name, other_id, true);
        push(other, response("200 OK", "text/plain", peer_line(name, id, true), other_id));
    }
    Member member;
    member.name = std::move(name);
    member.idle_since = timers_.now();
    members_.emplace(id, std::move(member));
    return response("200 Added", "text/plain", list, id);
}

std::optional<std::string> LongPollRoom::wait(std::string_view query, LongPollWaiter& waiter) {
    auto it = members_.find(peer_id_of(query));
    if (it == members_.end()) {
        return sorry();
    }
    auto& member = it->second;
    member.idle_since = timers_.now(); // a member collecting its backlog is alive
    if (!member.queue.empty()) {
        auto next = std::move(member.queue.front());
        member.queue.pop_front();
        return next;
    }
    if (member.parked != nullptr) {
        // One hanging get per member: the newer connection is the live one.
        auto* old = member.parked;
        parked_.erase(old);
        old->abandon();
    }
    member.parked = &waiter;
    parked_.emplace(&waiter, it->first);
    return std::nullopt;
}

std::string LongPollRoom::message(const LongPollRequest& request) {
    if (request.method != "POST") {
        return bad_request("/message takes POST");
    }
    // The reference server never answers these; a clear refusal is kinder to clients.
    if (request.content_type.empty()) {
        return bad_request("POST /message needs a Content-Type header");
    }
    if (request.body.empty()) {
        return bad_request("POST /message needs a body");
    }
    const unsigned from = peer_id_of(request.query);
    const unsigned to = query_number(request.query, "to=", false);
    auto sender = members_.find(from);
    auto target = members_.find(to);
    if (sender == members_.end() || target == members_.end()) {
        ++stats_.refused;
        return response("500 Error", "text/plain", "Peer most likely gone.");
    }
    auto delivered = response("200 OK", request.content_type, request.body, from);
    if (from == to) { // the reference echoes a message to oneself in the POST's answer
        return delivered;
    }
    ++stats_.messages;
    push(target->second, std::move(delivered));
    return response("200 OK", "text/plain", "");
}

std::string LongPollRoom::sign_out(std::string_view query) {
    auto it = members_.find(peer_id_of(query));
    if (it == members_.end()) {
        return sorry();
    }
    ++stats_.sign_outs;
    remove(it);
    return response("200 OK", "text/plain", "");
}

void LongPollRoom::cancel_wait(LongPollWaiter& waiter) {
    auto it = parked_.find(&waiter);
    if (it == parked_.end()) {
        return;
    }
    auto member = members_.find(it->second);
    parked_.erase(it);
    if (member != members_.end()) {
        member->second.parked = nullptr;
        member->second.idle_since = timers_.now();
    }
}

void LongPollRoom::push(Member& member, std::string response) {
    if (member.parked != nullptr) {
        auto* waiter = member.parked;
        member.parked = nullptr;
        member.idle_since = timers_.now();
        parked_.erase(waiter);
        waiter->deliver(std::move(response));
        return;
    }
    if (member.queue.size() >= kMaxQueued) {
        // Nobody collects this member's queue: it is as good as gone, and the next sweep
        // removes it (not here: push() runs inside loops over the members).
        member.overflowed = true;
        return;
    }
    member.queue.push_back(std::move(response));
}

void LongPollRoom::announce(unsigned id, const Member& member, bool online) {
    auto line = peer_line(member.name, id, online);
    for (auto& [other_id, other] : members_) {
        push(other, response("200 OK", "text/plain", line, other_id));
    }
}

void LongPollRoom::remove(std::map<unsigned, Member>::iterator it) {
    const unsigned id = it->first;
    Member gone = std::move(it->second);
    members_.erase(it);
    if (gone.parked != nullptr) {
        parked_.erase(gone.parked);
        gone.parked->abandon();
    }
    announce(id, gone, false);
}

void LongPollRoom::sweep() {
    const auto now = timers_.now();
    for (auto it = members_.begin(); it != members_.end();) {
        auto current = it++;
        const auto& member = current->second;
        if (member.overflowed ||
            (member.parked == nullptr && now - member.idle_since > kIdleTimeout)) {
            ++stats_.timeouts;
            remove(current);
        }
    }
    sweep_timer_ = timers_.schedule_after(kSweepInterval, [this] { sweep(); });
}

void LongPollRoom::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    timers_.cancel(sweep_timer_);
    auto parked = std::move(parked_);
    parked_.clear();
    for (auto& [waiter, id] : parked) {
        members_[id].parked = nullptr;
        waiter->abandon();
    }
}

} // namespace strowger::signaling
