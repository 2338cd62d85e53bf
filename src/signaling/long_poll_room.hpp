#pragma once
// The room of libwebrtc's peerconnection_server protocol (sign_in, wait, message, sign_out),
// sans-IO: the HTTP layer hands in parsed requests and gets back complete responses, already
// framed the way the native client parses them. Each member has one FIFO of responses and at
// most one parked /wait; whatever is queued while it has none waits in order for its next one.
// A member with no parked /wait for `kIdleTimeout` is timed out and announced as gone.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/timer_service.hpp"

namespace strowger::signaling {

// A parked /wait: the connection the next response for its member goes to.
class LongPollWaiter {
public:
    virtual ~LongPollWaiter() = default;
    // The response for the parked request; the waiter is no longer parked.
    virtual void deliver(std::string response) = 0;
    // The member is gone (signed out, or another /wait replaced this one): close without an
    // answer, as the reference server does when it drops a member.
    virtual void abandon() = 0;
};

struct LongPollRequest {
    std::string_view method; // GET, POST, OPTIONS
    std::string_view path;   // "/sign_in"
    std::string_view query;  // after '?', verbatim
    std::string_view content_type;
    std::string_view body;
};

struct LongPollStats {
    std::uint64_t sign_ins = 0;
    std::uint64_t sign_outs = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t messages = 0;     // relayed from one member to another
    std::uint64_t refused = 0;      // 400 and 500 answers
};

class LongPollRoom {
public:
    static constexpr auto kIdleTimeout = std::chrono::seconds(30);
    static constexpr std::size_t kMaxNameLength = 512;
    // Responses queued for a member that never collects them; beyond this it is dropped.
    static constexpr std::size_t kMaxQueued = 1000;

    LongPollRoom(core::TimerService& timers, std::string server_header);
    ~LongPollRoom();
    LongPollRoom(const LongPollRoom&) = delete;
    LongPollRoom& operator=(const LongPollRoom&) = delete;

    // Whether `path` is one of the protocol's endpoints.
    static bool serves(std::string_view path);

    // The response to send now, or nothing when the request is a /wait that was parked on
    // `waiter` (which then gets deliver() or abandon() later, unless cancelled).
    std::optional<std::string> handle(const LongPollRequest& request, LongPollWaiter& waiter);
    // The parked connection closed: un-park it, and the member's idle clock starts.
    void cancel_wait(LongPollWaiter& waiter);

    // Stops the idle sweep and abandons every parked /wait.
    void close();

    [[nodiscard]] std::size_t member_count() const noexcept { return members_.size(); }
    [[nodiscard]] const LongPollStats& stats() const noexcept { return stats_; }

private:
    struct Member {
        std::string name;
        std::deque<std::string> queue;
        LongPollWaiter* parked = nullptr;
        core::TimerService::TimePoint idle_since;
        bool overflowed = false; // queued kMaxQueued responses nobody collected
    };

    std::string sign_in(std::string_view query);
    std::optional<std::string> wait(std::string_view query, LongPollWaiter& waiter);
    std::string message(const LongPollRequest& request);
    std::string sign_out(std::string_view query);
    void push(Member& member, std::string response);
    void announce(unsigned id, const Member& member, bool online);
    void remove(std::map<unsigned, Member>::iterator it);
    void sweep();
    std::string response(std::string_view status, std::string_view content_type,
                         std::string_view body, std::optional<unsigned> pragma = {}) const;
    std::string sorry();
    std::string bad_request(std::string_view reason);

    core::TimerService& timers_;
    std::string server_header_;
    std::map<unsigned, Member> members_; // by id: sign-in order, the order peer lists use
    std::map<LongPollWaiter*, unsigned> parked_;
    unsigned next_id_ = 1;
    core::TimerService::TimerId sweep_timer_{};
    bool closed_ = false;
    LongPollStats stats_;
};

} // namespace strowger::signaling
