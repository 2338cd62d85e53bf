// The peerconnection_server room on a simulated clock: peer lists, queueing, delivery to a
// parked /wait, notifications, errors and the 30 s liveness timeout.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/simulated_timers.hpp"
#include "signaling/long_poll_response.hpp"
#include "signaling/long_poll_room.hpp"

namespace strowger::signaling {
namespace {

struct FakeWaiter final : LongPollWaiter {
    std::vector<std::string> delivered;
    int abandoned = 0;
    void deliver(std::string response) override { delivered.push_back(std::move(response)); }
    void abandon() override { ++abandoned; }
};

// The body of a framed response.
std::string body_of(const std::string& response) {
    return response.substr(response.find("\r\n\r\n") + 4);
}

std::string status_of(const std::string& response) {
    return response.substr(9, response.find("\r\n") - 9);
}

std::string header(const std::string& response, const std::string& name) {
    auto at = response.find("\r\n" + name + ": ");
    if (at == std::string::npos) {
        return "<none>";
    }
    at += name.size() + 4;
    return response.substr(at, response.find("\r\n", at) - at);
}

class LongPollRoomTest : public ::testing::Test {
protected:
    std::string get(const std::string& path, const std::string& query, FakeWaiter& w) {
        auto out = room.handle({"GET", path, query, "", ""}, w);
        return out ? *out : "<parked>";
    }
    std::string get(const std::string& path, const std::string& query) {
        return get(path, query, spare);
    }
    std::string post(const std::string& query, const std::string& body,
                     const std::string& type = "text/plain") {
        auto out = room.handle({"POST", "/message", query, type, body}, spare);
        return out ? *out : "<parked>";
    }

    core::SimulatedTimers timers;
    LongPollRoom room{timers, "Strowger/test"};
    FakeWaiter spare;
};

TEST(LongPollResponse, HeaderBlockInTheReferenceOrder) {
    EXPECT_EQ(long_poll_response("S/1", "200 Added", "text/plain", "a,1,1\n", 1u),
              "HTTP/1.1 200 Added\r\n"
              "Server: S/1\r\n"
              "Cache-Control: no-cache\r\n"
              "Connection: close\r\n"
              "Content-Type: text/plain\r\n"
              "Content-Length: 6\r\n"
              "Pragma: 1\r\n"
              "Access-Control-Allow-Origin: *\r\n"
              "Access-Control-Allow-Credentials: true\r\n"
              "Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n"
              "Access-Control-Allow-Headers: Content-Type, Content-Length, Connection, "
              "Cache-Control\r\n"
              "Access-Control-Expose-Headers: Content-Length, X-Peer-Id\r\n"
              "\r\n"
              "a,1,1\n");
    // No Content-Type line at all when there is none (the OPTIONS answer).
    auto options = long_poll_response("S/1", "200 OK", "", "");
    EXPECT_EQ(options.find("\r\nContent-Type:"), std::string::npos);
    EXPECT_NE(options.find("\r\nContent-Length: 0\r\n"), std::string::npos);
}

TEST_F(LongPollRoomTest, SignInListsTheNewPeerFirstThenTheOthers) {
    auto a = get("/sign_in", "alice");
    EXPECT_EQ(status_of(a), "200 Added");
    EXPECT_EQ(header(a, "Pragma"), "1");
    EXPECT_EQ(body_of(a), "alice,1,1\n");
    auto b = get("/sign_in", "bob");
    EXPECT_EQ(header(b, "Pragma"), "2");
    EXPECT_EQ(body_of(b), "bob,2,1\nalice,1,1\n");
    EXPECT_EQ(room.member_count(), 2u);
}

TEST_F(LongPollRoomTest, NamesAreCleanedAsTheReferenceDoes) {
    EXPECT_EQ(body_of(get("/sign_in", "a,b,c")), "a_b_c,1,1\n");
    auto empty = get("/sign_in", "");
    EXPECT_EQ(body_of(empty).substr(0, 9), "peer_2,2,");
    auto long_name = std::string(600, 'x');
    auto third = body_of(get("/sign_in", long_name));
    EXPECT_EQ(third.substr(0, third.find('\n')), std::string(512, 'x') + ",3,1");
}

TEST_F(LongPollRoomTest, QueuedNotificationsComeOnePerWaitInOrder) {
    get("/sign_in", "alice");
    get("/sign_in", "bob");
    get("/sign_in", "carol");
    FakeWaiter w;
    auto first = get("/wait", "peer_id=1", w);
    EXPECT_EQ(body_of(first), "bob,2,1\n");
    EXPECT_EQ(header(first, "Pragma"), "1"); // notifications carry the receiver's id
    EXPECT_EQ(body_of(get("/wait", "peer_id=1", w)), "carol,3,1\n");
    EXPECT_EQ(get("/wait", "peer_id=1", w), "<parked>");
}

TEST_F(LongPollRoomTest, MessageGoesToAParkedWaitWithTheSendersIdAndType) {
    get("/sign_in", "alice");
    get("/sign_in", "bob");
    get("/wait", "peer_id=1"); // drains "bob joined"
    FakeWaiter bob;
    ASSERT_EQ(get("/wait", "peer_id=2", bob), "<parked>");
    auto answer = post("peer_id=1&to=2", "{\"type\":\"offer\"}", "application/json");
    EXPECT_EQ(status_of(answer), "200 OK");
    EXPECT_EQ(header(answer, "Pragma"), "<none>");
    EXPECT_EQ(body_of(answer), "");
    ASSERT_EQ(bob.delivered.size(), 1u);
    EXPECT_EQ(header(bob.delivered[0], "Pragma"), "1");
    EXPECT_EQ(header(bob.delivered[0], "Content-Type"), "application/json");
    EXPECT_EQ(body_of(bob.delivered[0]), "{\"type\":\"offer\"}");
}

TEST_F(LongPollRoomTest, MessagesWaitInOrderForTheNextWait) {
    get("/sign_in", "alice");
    get("/sign_in", "bob");
    for (int i = 0; i < 3; ++i) {
        post("peer_id=1&to=2", "m" + std::to_string(i));
    }
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(body_of(get("/wait", "peer_id=2")), "m" + std::to_string(i));
    }
}

TEST_F(LongPollRoomTest, ToMustStartTheQueryOrFollowAnAmpersand) {
    get("/sign_in", "alice");
    get("/sign_in", "bob");
    // "xto=2" is not "to=2": the target is unknown.
    EXPECT_EQ(status_of(post("peer_id=1&xto=2", "m")), "500 Error");
    EXPECT_EQ(status_of(post("to=2&peer_id=1", "m")), "200 OK");
}

TEST_F(LongPollRoomTest, Errors) {
    get("/sign_in", "alice");
    auto gone = post("peer_id=1&to=9", "m");
    EXPECT_EQ(status_of(gone), "500 Error");
    EXPECT_EQ(body_of(gone), "Peer most likely gone.");
    EXPECT_EQ(status_of(post("peer_id=9&to=1", "m")), "500 Error");
    EXPECT_EQ(status_of(get("/wait", "peer_id=9")), "500 Sorry");
    EXPECT_EQ(body_of(get("/sign_out", "peer_id=9")),
              "<html><body>Sorry, not yet implemented</body></html>");
    auto untyped = post("peer_id=1&to=1", "m", "");
    EXPECT_EQ(status_of(untyped), "400 Bad Request");
    EXPECT_NE(body_of(untyped).find("Content-Type"), std::string::npos);
    EXPECT_EQ(status_of(post("peer_id=1&to=1", "")), "400 Bad Request");
    EXPECT_EQ(room.stats().refused, 6u);
}

TEST_F(LongPollRoomTest, MessageToOneselfIsEchoedInTheAnswer) {
    get("/sign_in", "alice");
    auto echo = post("peer_id=1&to=1", "hi");
    EXPECT_EQ(header(echo, "Pragma"), "1");
    EXPECT_EQ(body_of(echo), "hi");
}

TEST_F(LongPollRoomTest, SignOutAnnouncesAndIdsAreNotReused) {
    get("/sign_in", "alice");
    get("/sign_in", "bob");
    get("/wait", "peer_id=1");
    FakeWaiter alice;
    get("/wait", "peer_id=1", alice);
    EXPECT_EQ(status_of(get("/sign_out", "peer_id=2")), "200 OK");
    ASSERT_EQ(alice.delivered.size(), 1u);
    EXPECT_EQ(body_of(alice.delivered[0]), "bob,2,0\n");
    EXPECT_EQ(header(get("/sign_in", "bob"), "Pragma"), "3");
}

TEST_F(LongPollRoomTest, SignOutAbandonsTheMembersParkedWait) {
    get("/sign_in", "alice");
    FakeWaiter w;
    get("/wait", "peer_id=1", w);
    get("/sign_out", "peer_id=1");
    EXPECT_EQ(w.abandoned, 1);
    EXPECT_TRUE(w.delivered.empty());
}

TEST_F(LongPollRoomTest, ASecondWaitReplacesTheFirst) {
    get("/sign_in", "alice");
    get("/sign_in", "bob");
    get("/wait", "peer_id=1");
    FakeWaiter old_wait;
    FakeWaiter new_wait;
    get("/wait", "peer_id=1", old_wait);
    get("/wait", "peer_id=1", new_wait);
    EXPECT_EQ(old_wait.abandoned, 1);
    post("peer_id=2&to=1", "m");
    EXPECT_TRUE(old_wait.delivered.empty());
    EXPECT_EQ(new_wait.delivered.size(), 1u);
}

TEST_F(LongPollRoomTest, AMemberWithoutAWaitForThirtySecondsIsTimedOut) {
    get("/sign_in", "alice");
    get("/sign_in", "bob");
    get("/wait", "peer_id=1");
    FakeWaiter alice;
    get("/wait", "peer_id=1", alice); // alice keeps a wait parked; bob never waits
    timers.run_for(std::chrono::seconds(29));
    EXPECT_EQ(room.member_count(), 2u);
    timers.run_for(std::chrono::seconds(3));
    EXPECT_EQ(room.member_count(), 1u);
    EXPECT_EQ(room.stats().timeouts, 1u);
    ASSERT_EQ(alice.delivered.size(), 1u);
    EXPECT_EQ(body_of(alice.delivered[0]), "bob,2,0\n");
}

TEST_F(LongPollRoomTest, AMemberCollectingABacklogIsNotTimedOut) {
    get("/sign_in", "alice");
    get("/sign_in", "bob");
    for (int i = 0; i < 40; ++i) {
        post("peer_id=2&to=1", "m");
    }
    // alice never parks: each /wait finds something queued, one a second for 40 s.
    for (int i = 0; i < 40; ++i) {
        EXPECT_EQ(status_of(get("/wait", "peer_id=1")), "200 OK") << i;
        get("/wait", "peer_id=2"); // bob stays alive too
        timers.run_for(std::chrono::seconds(1));
    }
    EXPECT_EQ(room.member_count(), 2u);
}

TEST_F(LongPollRoomTest, TheIdleClockStartsWhenTheWaitCloses) {
    get("/sign_in", "alice");
    FakeWaiter w;
    get("/wait", "peer_id=1", w);
    timers.run_for(std::chrono::seconds(100)); // parked: alive however long
    EXPECT_EQ(room.member_count(), 1u);
    room.cancel_wait(w);
    timers.run_for(std::chrono::seconds(29));
    EXPECT_EQ(room.member_count(), 1u);
    timers.run_for(std::chrono::seconds(3));
    EXPECT_EQ(room.member_count(), 0u);
}

TEST_F(LongPollRoomTest, AQueueNobodyCollectsIsDropped) {
    get("/sign_in", "alice");
    get("/sign_in", "bob");
    FakeWaiter alice;
    get("/wait", "peer_id=1");
    for (std::size_t i = 0; i < LongPollRoom::kMaxQueued + 5; ++i) {
        post("peer_id=1&to=2", "m");
        get("/wait", "peer_id=1", alice); // alice stays alive by waiting
        alice.delivered.clear();
    }
    timers.run_for(std::chrono::seconds(2));
    EXPECT_EQ(room.member_count(), 1u);
}

TEST_F(LongPollRoomTest, OptionsIsTheCorsPreflight) {
    auto out = room.handle({"OPTIONS", "/anything", "", "", ""}, spare);
    ASSERT_TRUE(out);
    EXPECT_EQ(status_of(*out), "200 OK");
    EXPECT_EQ(header(*out, "Content-Type"), "<none>");
    EXPECT_EQ(header(*out, "Access-Control-Allow-Methods"), "POST, GET, OPTIONS");
}

} // namespace
} // namespace strowger::signaling
