// The /ws signaling room on a simulated clock: announcing, presence, relaying, every error
// code and the limits.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/simulated_timers.hpp"
#include "signaling/ws_room.hpp"

namespace strowger::signaling {
namespace {

using nlohmann::json;

struct FakeClient final : WsClient {
    std::vector<json> received;
    std::uint16_t closed_with = 0;
    void send(std::string text) override { received.push_back(json::parse(text)); }
    void close(std::uint16_t code, std::string_view) override { closed_with = code; }

    json last() const { return received.empty() ? json() : received.back(); }
    std::string last_error() const {
        auto m = last();
        return m.value("type", "") == "error" ? m.value("code", "") : "<no error>";
    }
};

class WsRoomTest : public ::testing::Test {
protected:
    WsRoom::ClientId join(FakeClient& c, const std::string& name) {
        auto id = room.connect(c);
        room.on_message(id, json{{"type", "hello"}, {"name", name}}.dump());
        return id;
    }

    core::SimulatedTimers timers;
    WsRoom room{timers};
};

TEST_F(WsRoomTest, HelloGetsWelcomeWithEveryoneElseAndOthersHearOfIt) {
    FakeClient alice;
    FakeClient bob;
    auto a = join(alice, "alice");
    ASSERT_EQ(alice.last()["type"], "welcome");
    EXPECT_EQ(alice.last()["id"], a);
    EXPECT_EQ(alice.last()["name"], "alice");
    EXPECT_TRUE(alice.last()["peers"].empty());
    auto b = join(bob, "bob");
    EXPECT_EQ(bob.last()["peers"], json::parse(R"([{"id":)" + std::to_string(a) +
                                               R"(,"name":"alice"}])"));
    EXPECT_EQ(alice.last()["type"], "peer-joined");
    EXPECT_EQ(alice.last()["peer"]["id"], b);
    EXPECT_EQ(alice.last()["peer"]["name"], "bob");
    EXPECT_EQ(room.online(), 2u);

    room.disconnect(b);
    EXPECT_EQ(alice.last()["type"], "peer-left");
    EXPECT_EQ(alice.last()["peer"]["id"], b);
    EXPECT_EQ(room.online(), 1u);
}

TEST_F(WsRoomTest, RelayReplacesToWithFromAndKeepsEverythingElse) {
    FakeClient alice;
    FakeClient bob;
    auto a = join(alice, "alice");
    auto b = join(bob, "bob");
    room.on_message(a, json{{"type", "offer"}, {"to", b}, {"sdp", "v=0\r\n"}, {"x", {1, 2}}}
                           .dump());
    auto got = bob.last();
    EXPECT_EQ(got["type"], "offer");
    EXPECT_EQ(got["from"], a);
    EXPECT_EQ(got["fromName"], "alice");
    EXPECT_EQ(got["sdp"], "v=0\r\n");
    EXPECT_EQ(got["x"], json({1, 2}));
    EXPECT_FALSE(got.contains("to"));
    for (const char* type : {"call", "accept", "decline", "answer", "candidate", "hangup"}) {
        room.on_message(b, json{{"type", type}, {"to", a}}.dump());
        EXPECT_EQ(alice.last()["type"], type);
    }
    EXPECT_EQ(room.stats().relayed, 7u);
}

TEST_F(WsRoomTest, ListAndPing) {
    FakeClient alice;
    FakeClient bob;
    auto a = join(alice, "alice");
    join(bob, "bob");
    room.on_message(a, R"({"type":"list"})");
    EXPECT_EQ(alice.last()["type"], "peers");
    EXPECT_EQ(alice.last()["peers"].size(), 1u);
    room.on_message(a, R"({"type":"ping"})");
    EXPECT_EQ(alice.last()["type"], "pong");
}

TEST_F(WsRoomTest, ErrorCodes) {
    FakeClient c;
    auto id = room.connect(c);
    room.on_message(id, "{not json");
    EXPECT_EQ(c.last_error(), "bad-json");
    room.on_message(id, "[1,2]");
    EXPECT_EQ(c.last_error(), "bad-json");
    room.on_message(id, R"({"name":"x"})");
    EXPECT_EQ(c.last_error(), "bad-message");
    room.on_message(id, R"({"type":"list"})");
    EXPECT_EQ(c.last_error(), "not-announced");
    EXPECT_EQ(c.last()["ref"], "list");
    room.on_message(id, R"({"type":"hello"})");
    EXPECT_EQ(c.last_error(), "bad-message");
    room.on_message(id, R"({"type":"hello","name":""})");
    EXPECT_EQ(c.last_error(), "bad-name");
    room.on_message(id, R"({"type":"hello","name":"   "})");
    EXPECT_EQ(c.last_error(), "bad-name");
    room.on_message(id, R"({"type":"hello","name":"a\nb"})");
    EXPECT_EQ(c.last_error(), "bad-name");
    room.on_message(id, json{{"type", "hello"}, {"name", std::string(65, 'x')}}.dump());
    EXPECT_EQ(c.last_error(), "bad-name");
    // 64 characters of two bytes each are fine: the limit counts characters.
    std::string wide;
    for (int i = 0; i < 64; ++i) {
        wide += "\xc3\xa9";
    }
    room.on_message(id, json{{"type", "hello"}, {"name", wide}}.dump());
    EXPECT_EQ(c.last()["type"], "welcome");
    room.on_message(id, R"({"type":"hello","name":"again"})");
    EXPECT_EQ(c.last_error(), "already-announced");
    room.on_message(id, R"({"type":"dance"})");
    EXPECT_EQ(c.last_error(), "unknown-type");
    room.on_message(id, R"({"type":"offer","to":"bob"})");
    EXPECT_EQ(c.last_error(), "bad-message");
    room.on_message(id, R"({"type":"offer","to":999})");
    EXPECT_EQ(c.last_error(), "unknown-peer");
    room.on_message(id, json{{"type", "offer"}, {"to", id}}.dump());
    EXPECT_EQ(c.last_error(), "unknown-peer");
    EXPECT_EQ(c.closed_with, 0);
}

TEST_F(WsRoomTest, NamesAreUniqueAmongThoseOnline) {
    FakeClient a;
    FakeClient b;
    auto first = join(a, "alice");
    join(b, "alice");
    EXPECT_EQ(b.last_error(), "name-taken");
    room.disconnect(first);
    join(b, "alice");
    EXPECT_EQ(b.last()["type"], "welcome");
}

TEST_F(WsRoomTest, MessagesToAPeerThatHasNotSaidHelloAreRefused) {
    FakeClient alice;
    FakeClient silent;
    auto a = join(alice, "alice");
    auto s = room.connect(silent);
    room.on_message(a, json{{"type", "offer"}, {"to", s}}.dump());
    EXPECT_EQ(alice.last_error(), "unknown-peer");
    EXPECT_TRUE(silent.received.empty());
}

TEST_F(WsRoomTest, BurstThenRateLimitThenClose) {
    FakeClient c;
    auto id = join(c, "flood");
    c.received.clear();
    // The burst is 200 messages (the hello took one token).
    for (int i = 0; i < 199; ++i) {
        room.on_message(id, R"({"type":"ping"})");
    }
    EXPECT_EQ(c.last()["type"], "pong");
    room.on_message(id, R"({"type":"ping"})");
    EXPECT_EQ(c.last_error(), "rate-limited");
    // A second later 50 more are allowed.
    timers.run_for(std::chrono::seconds(1));
    for (int i = 0; i < 50; ++i) {
        room.on_message(id, R"({"type":"ping"})");
        ASSERT_EQ(c.last()["type"], "pong") << i;
    }
    for (int i = 0; i < 99; ++i) {
        room.on_message(id, R"({"type":"ping"})");
    }
    EXPECT_EQ(c.closed_with, 0);
    room.on_message(id, R"({"type":"ping"})");
    EXPECT_EQ(c.closed_with, kClosePolicy);
    EXPECT_EQ(room.connections(), 0u);
    EXPECT_EQ(room.online(), 0u);
}

TEST_F(WsRoomTest, OversizedMessageCloses) {
    FakeClient c;
    auto id = join(c, "big");
    room.on_message(id, std::string(64 * 1024 + 1, ' '));
    EXPECT_EQ(c.closed_with, kCloseTooBig);
    EXPECT_EQ(room.online(), 0u);
}

} // namespace
} // namespace strowger::signaling
