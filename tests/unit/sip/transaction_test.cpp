// The transaction layer (RFC 3261 §17, RFC 6026) in simulated time: every timer runs on a fake
// clock, so a 32 s Timer H takes microseconds, and every assertion is about what went out on
// the wire and when.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/simulated_timers.hpp"
#include "sip/headers.hpp"
#include "sip/transaction.hpp"
#include "sip/writer.hpp"

namespace strowger::sip {
namespace {

using namespace std::chrono_literals;
using core::TimerService;

using FakeTimers = core::SimulatedTimers;

struct Sent {
    long long at_ms;
    Flow to;
    std::string bytes;
};

class RecordingWire final : public Transmitter {
public:
    explicit RecordingWire(const FakeTimers& clock) : clock_(clock) {}
    bool send(const Flow& to, std::string_view bytes) override {
        sent.push_back({clock_.elapsed_ms(), to, std::string(bytes)});
        return flow_open;
    }
    std::vector<Sent> sent;
    bool flow_open = true; // false: every send fails, as on a closed connection

private:
    const FakeTimers& clock_;
};

// Records what the layer passes up; answers new requests with `answer` when one is set.
class RecordingUser final : public TransactionUser {
public:
    void on_request(ServerTransaction& txn) override {
        ++requests;
        if (answer) {
            answer(txn);
        }
    }
    void on_ack(Message&& ack, const Flow&) override { acks.emplace_back(ack.raw()); }
    void on_response(ClientTransaction&, const Message& response) override {
        responses.push_back(response.status_code());
    }
    void on_client_failure(ClientTransaction&, int status) override {
        failures.push_back(status);
    }
    void on_stray_response(Message&& response, const Flow&) override {
        strays.push_back(response.status_code());
    }
    void on_terminated(ServerTransaction&) override { ++servers_terminated; }
    void on_terminated(ClientTransaction&) override { ++clients_terminated; }

    std::function<void(ServerTransaction&)> answer;
    int requests = 0;
    std::vector<std::string> acks;
    std::vector<int> responses;
    std::vector<int> failures;
    std::vector<int> strays;
    int servers_terminated = 0;
    int clients_terminated = 0;
};

Message parse(std::string_view bytes) {
    auto outcome = parse_message(bytes);
    EXPECT_TRUE(outcome.ok()) << name(outcome.error) << "\n" << bytes;
    return std::move(*outcome.message);
}

std::string request_text(std::string_view method, std::string_view via, std::uint32_t cseq = 1,
                         std::string_view cseq_method = {}) {
    std::string out;
    out.append(method).append(" sip:bob@192.0.2.20:5060 SIP/2.0\r\n");
    out.append("Via: ").append(via).append("\r\n");
    out.append("Max-Forwards: 70\r\n");
    out.append("From: <sip:alice@example.com>;tag=alice1\r\n");
    out.append("To: <sip:bob@example.com>\r\n");
    out.append("Call-ID: call-1@192.0.2.10\r\n");
    out.append("CSeq: ").append(std::to_string(cseq)).append(" ");
    out.append(cseq_method.empty() ? method : cseq_method).append("\r\n");
    out.append("Content-Length: 0\r\n\r\n");
    return out;
}

// A view into `msg`, which must outlive it.
std::string_view top_via_of(const Message& msg) {
    return split_first_item(msg.value(HeaderId::Via)).item;
}

Flow udp(std::array<std::uint8_t, 4> address, std::uint16_t port) {
    return Flow{core::Transport::Udp, core::IpEndpoint::v4(address, port), 0};
}
Flow tcp(std::array<std::uint8_t, 4> address, std::uint16_t port, std::uint64_t connection) {
    return Flow{core::Transport::Tcp, core::IpEndpoint::v4(address, port), connection};
}

const Flow kCaller = udp({192, 0, 2, 10}, 40000);
const Flow kCallee = udp({192, 0, 2, 20}, 5060);
constexpr std::string_view kCallerVia = "SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKcaller1";
constexpr std::string_view kClientBranch = "z9hG4bK-client-1";
constexpr std::string_view kClientVia = "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-client-1";

class TransactionFixture : public ::testing::Test {
protected:
    FakeTimers timers;
    RecordingWire wire{timers};
    RecordingUser user;
    TransactionLayer layer{timers, wire, user, TimerConfig{}}; // T1 500 ms, T2 4 s, T4 5 s

    void receive(std::string_view bytes, const Flow& from) { layer.receive(parse(bytes), from); }

    // Makes the TU answer every new request with `status` at once.
    void answer_with(int status, std::string_view reason) {
        user.answer = [status, reason = std::string(reason)](ServerTransaction& txn) {
            txn.respond(status, make_response(txn.request(), status, reason,
                                              {.to_tag = "tu1", .top_via = txn.top_via()}));
        };
    }

    // When each message that starts with `start_line` went out, in ms of simulated time.
    [[nodiscard]] std::vector<long long> send_times(std::string_view start_line) const {
        std::vector<long long> out;
        for (const auto& s : wire.sent) {
            if (std::string_view(s.bytes).starts_with(start_line)) {
                out.push_back(s.at_ms);
            }
        }
        return out;
    }

    ClientTransaction& start_client(std::string_view method, const Flow& to) {
        return layer.start_client(kClientBranch, parse(request_text(method, kClientVia)), to);
    }
    // A response from the callee to the request of the client transaction.
    void respond_to_client(const ClientTransaction& txn, int status, std::string_view reason) {
        receive(make_response(txn.request(), status, reason, {.to_tag = "callee1"}), kCallee);
    }
};

// ---- INVITE server ------------------------------------------------------------------------

using TransactionInviteServer = TransactionFixture;

// §17.2.1: the server transaction answers 100 Trying itself, at once. RFC 3581 §4: with
// ";rport" the response goes to the source address and port, and the Via says which.
TEST_F(TransactionInviteServer, Sends100AtOnceToTheSourcePortWhenViaAsksForRport) {
    receive(request_text("INVITE", "SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKnat1;rport"),
            kCaller);

    ASSERT_EQ(wire.sent.size(), 1U);
    EXPECT_EQ(wire.sent[0].at_ms, 0);
    EXPECT_EQ(wire.sent[0].to, kCaller);
    auto trying = parse(wire.sent[0].bytes);
    EXPECT_EQ(trying.status_code(), 100);
    auto via = parse_via(top_via_of(trying));
    ASSERT_TRUE(via);
    EXPECT_EQ(via->rport_param, "40000");
    EXPECT_EQ(via->received(), "192.0.2.10");
    EXPECT_EQ(via->branch(), "z9hG4bKnat1");
    EXPECT_EQ(user.requests, 1);
}

// §18.2.2: without rport, a UDP response goes to the source address at the sent-by port.
TEST_F(TransactionInviteServer, Sends100ToTheSentByPortWithoutRport) {
    receive(request_text("INVITE", kCallerVia), kCaller);

    ASSERT_EQ(wire.sent.size(), 1U);
    EXPECT_EQ(wire.sent[0].to, udp({192, 0, 2, 10}, 5070));
    auto trying = parse(wire.sent[0].bytes);
    auto via = parse_via(top_via_of(trying));
    ASSERT_TRUE(via);
    EXPECT_FALSE(via->has_rport());
    EXPECT_FALSE(via->received()); // sent-by already names the source address
}

// §17.2.1: a retransmitted INVITE in Proceeding gets the last provisional again and does not
// reach the TU.
TEST_F(TransactionInviteServer, RetransmittedInviteResendsTheLastProvisionalOnly) {
    user.answer = [](ServerTransaction& txn) {
        txn.respond(180, make_response(txn.request(), 180, "Ringing",
                                       {.to_tag = "tu1", .top_via = txn.top_via()}));
    };
    receive(request_text("INVITE", kCallerVia), kCaller);
    ASSERT_EQ(wire.sent.size(), 2U); // 100, 180

    timers.run_for(200ms);
    receive(request_text("INVITE", kCallerVia), kCaller);

    ASSERT_EQ(wire.sent.size(), 3U);
    EXPECT_EQ(parse(wire.sent[2].bytes).status_code(), 180);
    EXPECT_EQ(wire.sent[2].bytes, wire.sent[1].bytes);
    EXPECT_EQ(user.requests, 1);
    EXPECT_EQ(layer.server_count(), 1U);
    EXPECT_EQ(layer.stats().retransmissions_absorbed, 1U);
}

// §17.2.1: Timer G retransmits a non-2xx final at T1, 2T1, 4T1 ... capped at T2 until the ACK;
// the ACK is absorbed; Timer I (T4) then ends the transaction.
TEST_F(TransactionInviteServer, TimerGRetransmitsTheFailureUntilTheAckThenTimerIEndsIt) {
    answer_with(486, "Busy Here");
    receive(request_text("INVITE", kCallerVia), kCaller);

    timers.run_for(12s);
    EXPECT_EQ(send_times("SIP/2.0 486"),
              (std::vector<long long>{0, 500, 1500, 3500, 7500, 11500}));

    receive(request_text("ACK", kCallerVia), kCaller); // same branch: the ACK for our 486
    EXPECT_TRUE(user.acks.empty());
    const auto sent_at_ack = wire.sent.size();

    timers.run_for(4990ms);
    EXPECT_EQ(wire.sent.size(), sent_at_ack);
    EXPECT_EQ(layer.server_count(), 1U);
    EXPECT_EQ(user.servers_terminated, 0);

    timers.run_for(10ms);
    EXPECT_EQ(layer.server_count(), 0U);
    EXPECT_EQ(user.servers_terminated, 1);
    EXPECT_EQ(timers.pending(), 0U);
    EXPECT_EQ(layer.stats().timeouts, 0U);
}

// §17.2.1: an INVITE retransmitted while Completed gets the final response again.
TEST_F(TransactionInviteServer, RetransmittedInviteInCompletedResendsTheFinal) {
    answer_with(486, "Busy Here");
    receive(request_text("INVITE", kCallerVia), kCaller);
    timers.run_for(100ms);
    receive(request_text("INVITE", kCallerVia), kCaller);

    EXPECT_EQ(send_times("SIP/2.0 486"), (std::vector<long long>{0, 100}));
    EXPECT_EQ(user.requests, 1);
}

// §17.2.1: without an ACK, Timer H (64*T1) ends the transaction and the retransmissions.
TEST_F(TransactionInviteServer, TimerHEndsTheTransactionWithoutAck) {
    answer_with(486, "Busy Here");
    receive(request_text("INVITE", kCallerVia), kCaller);

    timers.run_for(31990ms);
    EXPECT_EQ(layer.server_count(), 1U);
    EXPECT_EQ(layer.stats().timeouts, 0U);

    timers.run_for(10ms); // 32 s = 64*T1
    EXPECT_EQ(layer.server_count(), 0U);
    EXPECT_EQ(user.servers_terminated, 1);
    EXPECT_EQ(layer.stats().timeouts, 1U);
    const auto last = send_times("SIP/2.0 486").back();
    EXPECT_EQ(last, 31500); // ... 23.5, 27.5, 31.5 s: every 4 s once capped at T2

    timers.run_for(60s);
    EXPECT_EQ(send_times("SIP/2.0 486").back(), last);
    EXPECT_EQ(timers.pending(), 0U);
}

// RFC 6026 §7.1: after a 2xx the transaction is Accepted: a retransmitted INVITE is absorbed
// (the TU retransmits the 2xx end to end), and Timer L (64*T1) ends it.
TEST_F(TransactionInviteServer, TwoHundredMovesToAcceptedWhichAbsorbsRetransmissions) {
    answer_with(200, "OK");
    receive(request_text("INVITE", kCallerVia), kCaller);
    ASSERT_EQ(wire.sent.size(), 2U); // 100, 200

    timers.run_for(1s);
    receive(request_text("INVITE", kCallerVia), kCaller);
    EXPECT_EQ(wire.sent.size(), 2U);
    EXPECT_EQ(user.requests, 1);

    timers.run_for(30s); // no retransmission of the 2xx by the transaction (§13.3.1.4 is the TU's)
    EXPECT_EQ(wire.sent.size(), 2U);
    EXPECT_EQ(layer.server_count(), 1U);

    timers.run_for(1s); // 32 s after the 200
    EXPECT_EQ(layer.server_count(), 0U);
    EXPECT_EQ(user.servers_terminated, 1);
    EXPECT_EQ(layer.stats().timeouts, 0U);
}

// RFC 6026 §7.1: an ACK for the 2xx is end to end: it goes to the TU, not absorbed.
TEST_F(TransactionInviteServer, AckForTheTwoHundredReachesTheTu) {
    answer_with(200, "OK");
    receive(request_text("INVITE", kCallerVia), kCaller);
    receive(request_text("ACK", "SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKack2"), kCaller);

    EXPECT_EQ(user.acks.size(), 1U);
    EXPECT_EQ(wire.sent.size(), 2U);
}

// RFC 6026 §7.1: further 2xx for the INVITE (other forks) are sent while Accepted.
TEST_F(TransactionInviteServer, FurtherTwoHundredsAreSentWhileAccepted) {
    ServerTransaction* txn = nullptr;
    user.answer = [&](ServerTransaction& t) { txn = &t; };
    receive(request_text("INVITE", kCallerVia), kCaller);
    ASSERT_NE(txn, nullptr);
    txn->respond(200, make_response(txn->request(), 200, "OK", {.to_tag = "fork1"}));
    txn->respond(200, make_response(txn->request(), 200, "OK", {.to_tag = "fork2"}));
    txn->respond(486, make_response(txn->request(), 486, "Busy Here", {.to_tag = "fork3"}));

    EXPECT_EQ(send_times("SIP/2.0 200"), (std::vector<long long>{0, 0}));
    EXPECT_TRUE(send_times("SIP/2.0 486").empty());
}

// ---- non-INVITE server --------------------------------------------------------------------

using TransactionNonInviteServer = TransactionFixture;

// §17.2.2: no 100 from the transaction itself; a retransmission in Completed gets the final
// again; Timer J (64*T1 over UDP) ends it.
TEST_F(TransactionNonInviteServer, AbsorbsRetransmissionsUntilTimerJ) {
    const std::string options =
        request_text("OPTIONS", "SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKopt1");
    answer_with(200, "OK");
    receive(options, kCaller);
    EXPECT_EQ(send_times("SIP/2.0 100"), std::vector<long long>{});
    timers.run_for(2s);
    receive(options, kCaller);

    EXPECT_EQ(send_times("SIP/2.0 200"), (std::vector<long long>{0, 2000}));
    EXPECT_EQ(user.requests, 1);

    timers.run_for(30s); // 32 s
    EXPECT_EQ(layer.server_count(), 0U);
    EXPECT_EQ(send_times("SIP/2.0 200").size(), 2U); // a final is never retransmitted unasked
}

// ---- non-INVITE client --------------------------------------------------------------------

using TransactionNonInviteClient = TransactionFixture;

// §17.1.2.2: Timer E starts at T1 and doubles up to T2; Timer F (64*T1) fails the transaction
// with a timeout, reported once.
TEST_F(TransactionNonInviteClient, TimerEDoublesUpToT2AndTimerFTimesOut) {
    start_client("OPTIONS", kCallee);

    timers.run_for(31990ms);
    EXPECT_EQ(send_times("OPTIONS"),
              (std::vector<long long>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500,
                                      27500, 31500}));
    for (const auto& s : wire.sent) {
        EXPECT_EQ(s.to, kCallee);
    }
    EXPECT_TRUE(user.failures.empty());

    timers.run_for(10ms);
    EXPECT_EQ(user.failures, std::vector<int>{408});
    EXPECT_EQ(layer.client_count(), 0U);
    EXPECT_EQ(user.clients_terminated, 1);
    EXPECT_EQ(layer.stats().timeouts, 1U);

    timers.run_for(60s);
    EXPECT_EQ(user.failures.size(), 1U);
    EXPECT_EQ(send_times("OPTIONS").size(), 11U);
    EXPECT_EQ(timers.pending(), 0U);
}

// §17.1.2.2: in Proceeding, Timer E fires every T2.
TEST_F(TransactionNonInviteClient, AProvisionalMakesTheIntervalT2) {
    auto& txn = start_client("OPTIONS", kCallee);
    timers.run_for(700ms);
    respond_to_client(txn, 100, "Trying");
    EXPECT_EQ(user.responses, std::vector<int>{100});

    timers.run_for(9s); // to 9.7 s
    // The timer armed before the 1xx still fires at 1.5 s; from then on, every T2.
    EXPECT_EQ(send_times("OPTIONS"), (std::vector<long long>{0, 500, 1500, 5500, 9500}));
}

// §17.1.2.2: a final ends retransmissions; Timer K (T4 over UDP) absorbs its retransmissions.
TEST_F(TransactionNonInviteClient, FinalStopsRetransmissionsAndTimerKEndsIt) {
    auto& txn = start_client("OPTIONS", kCallee);
    timers.run_for(600ms);
    respond_to_client(txn, 200, "OK");
    respond_to_client(txn, 200, "OK");

    EXPECT_EQ(user.responses, std::vector<int>{200});
    timers.run_for(4990ms); // just before T4 after the 200
    EXPECT_EQ(send_times("OPTIONS"), (std::vector<long long>{0, 500}));
    EXPECT_EQ(layer.client_count(), 1U);
    timers.run_for(10ms);
    EXPECT_EQ(layer.client_count(), 0U);
    EXPECT_TRUE(user.failures.empty());
}

// ---- INVITE client ------------------------------------------------------------------------

using TransactionInviteClient = TransactionFixture;

// §17.1.1.2: Timer A starts at T1 and doubles without a cap; Timer B (64*T1) times out.
TEST_F(TransactionInviteClient, TimerADoublesAndTimerBTimesOut) {
    start_client("INVITE", kCallee);
    timers.run_for(32s);

    EXPECT_EQ(send_times("INVITE"),
              (std::vector<long long>{0, 500, 1500, 3500, 7500, 15500, 31500}));
    EXPECT_EQ(user.failures, std::vector<int>{408});
    EXPECT_EQ(layer.client_count(), 0U);
}

// §17.1.1.2: a provisional moves the transaction to Proceeding, which retransmits nothing.
TEST_F(TransactionInviteClient, ProvisionalStopsRetransmissions) {
    auto& txn = start_client("INVITE", kCallee);
    timers.run_for(2s);
    respond_to_client(txn, 180, "Ringing");
    timers.run_for(60s);

    EXPECT_EQ(send_times("INVITE"), (std::vector<long long>{0, 500, 1500}));
    EXPECT_EQ(user.responses, std::vector<int>{180});
    EXPECT_TRUE(user.failures.empty()); // Timer C belongs to the proxy, not Timer B
}

// §17.1.1.3: a non-2xx final is acknowledged by the transaction itself: same branch, To from
// the response, CSeq number of the INVITE with method ACK, the INVITE's Request-URI. A
// retransmitted final gets the ACK again and does not reach the TU.
TEST_F(TransactionInviteClient, FailureIsAcknowledgedHopByHop) {
    auto& txn = start_client("INVITE", kCallee);
    respond_to_client(txn, 180, "Ringing");
    timers.run_for(1s);
    respond_to_client(txn, 486, "Busy Here");

    EXPECT_EQ(user.responses, (std::vector<int>{180, 486}));
    ASSERT_EQ(send_times("ACK").size(), 1U);
    const Sent ack_sent = wire.sent.back();
    EXPECT_EQ(ack_sent.to, kCallee);
    auto ack = parse(ack_sent.bytes);
    EXPECT_EQ(ack.method(), "ACK");
    EXPECT_EQ(ack.request_uri(), "sip:bob@192.0.2.20:5060");
    auto via = parse_via(top_via_of(ack));
    ASSERT_TRUE(via);
    EXPECT_EQ(via->branch(), kClientBranch);
    auto to = parse_name_addr(ack.value(HeaderId::To), SipError::BadTo);
    ASSERT_TRUE(to);
    EXPECT_EQ(to->tag(), "callee1");
    auto cseq = parse_cseq(ack.value(HeaderId::CSeq));
    ASSERT_TRUE(cseq);
    EXPECT_EQ(cseq->number, 1U);
    EXPECT_EQ(cseq->method, "ACK");
    EXPECT_EQ(ack.value(HeaderId::CallId), "call-1@192.0.2.10");

    timers.run_for(1s);
    respond_to_client(txn, 486, "Busy Here");
    EXPECT_EQ(send_times("ACK"), (std::vector<long long>{1000, 2000}));
    EXPECT_EQ(wire.sent.back().bytes, ack_sent.bytes);
    EXPECT_EQ(user.responses, (std::vector<int>{180, 486}));

    timers.run_for(32s); // Timer D: at least 32 s over UDP
    EXPECT_EQ(layer.client_count(), 0U);
    EXPECT_EQ(user.clients_terminated, 1);
}

// RFC 6026 §8.4: after a 2xx the client transaction is Accepted and passes every further 2xx
// (each may come from another fork) to the TU; it sends no ACK itself.
TEST_F(TransactionInviteClient, EveryTwoHundredReachesTheTuAndNoAckIsSent) {
    auto& txn = start_client("INVITE", kCallee);
    respond_to_client(txn, 200, "OK");
    respond_to_client(txn, 200, "OK");

    EXPECT_EQ(user.responses, (std::vector<int>{200, 200}));
    EXPECT_TRUE(send_times("ACK").empty());
    timers.run_for(32s); // Timer M
    EXPECT_EQ(layer.client_count(), 0U);
}

// ---- reliable transports ------------------------------------------------------------------

using TransactionOverTcp = TransactionFixture;

const Flow kTcpCaller = tcp({192, 0, 2, 10}, 40001, 7);
const Flow kTcpCallee = tcp({192, 0, 2, 20}, 5060, 8);
constexpr std::string_view kTcpCallerVia = "SIP/2.0/TCP 192.0.2.10:5070;branch=z9hG4bKtcp1";

// §17.2.2, §18.2.2: over TCP the response uses the request's connection, the final is not
// retransmitted, and Timer J is zero.
TEST_F(TransactionOverTcp, NonInviteServerEndsRightAfterTheFinal) {
    answer_with(200, "OK");
    receive(request_text("OPTIONS", kTcpCallerVia), kTcpCaller);
    ASSERT_EQ(wire.sent.size(), 1U);
    EXPECT_EQ(wire.sent[0].to, kTcpCaller);

    timers.run_for(10ms);
    EXPECT_EQ(layer.server_count(), 0U);
    EXPECT_EQ(user.servers_terminated, 1);
    EXPECT_EQ(timers.pending(), 0U);
}

// §17.2.1: no Timer G over TCP; after the ACK, Timer I is zero.
TEST_F(TransactionOverTcp, InviteServerSendsTheFailureOnceAndEndsAtTheAck) {
    answer_with(486, "Busy Here");
    receive(request_text("INVITE", kTcpCallerVia), kTcpCaller);
    timers.run_for(10s);
    EXPECT_EQ(send_times("SIP/2.0 486"), std::vector<long long>{0});

    receive(request_text("ACK", kTcpCallerVia), kTcpCaller);
    timers.run_for(10ms);
    EXPECT_EQ(layer.server_count(), 0U);
    EXPECT_EQ(timers.pending(), 0U);
    EXPECT_TRUE(user.acks.empty());
}

// §17.1.2.2: no Timer E over TCP; after the final, Timer K is zero.
TEST_F(TransactionOverTcp, NonInviteClientSendsOnceAndEndsRightAfterTheFinal) {
    auto& txn = start_client("OPTIONS", kTcpCallee);
    timers.run_for(10s);
    EXPECT_EQ(send_times("OPTIONS"), std::vector<long long>{0});

    respond_to_client(txn, 200, "OK");
    timers.run_for(10ms);
    EXPECT_EQ(layer.client_count(), 0U);
    EXPECT_EQ(timers.pending(), 0U);
    EXPECT_EQ(user.responses, std::vector<int>{200});
}

// §17.1.1.2: no Timer A over TCP; after the failure and its ACK, Timer D is zero.
TEST_F(TransactionOverTcp, InviteClientSendsOnceAndEndsRightAfterTheFailure) {
    auto& txn = start_client("INVITE", kTcpCallee);
    timers.run_for(10s);
    EXPECT_EQ(send_times("INVITE"), std::vector<long long>{0});

    respond_to_client(txn, 603, "Decline");
    EXPECT_EQ(send_times("ACK"), std::vector<long long>{10000});
    timers.run_for(10ms);
    EXPECT_EQ(layer.client_count(), 0U);
    EXPECT_EQ(timers.pending(), 0U);
}

// Timers B and F still apply over TCP (§17.1.1.2, §17.1.2.2): a silent peer times out.
TEST_F(TransactionOverTcp, SilentPeerStillTimesOut) {
    start_client("OPTIONS", kTcpCallee);
    timers.run_for(32s);
    EXPECT_EQ(user.failures, std::vector<int>{408});
    EXPECT_EQ(send_times("OPTIONS").size(), 1U);
}

// §17.1.4: a transport error fails the client transaction with 503, told from a timer on
// the next tick rather than from inside the TU's own start_client() call.
TEST_F(TransactionOverTcp, ClosedConnectionFailsTheClientWith503) {
    wire.flow_open = false;
    start_client("INVITE", kTcpCallee);
    EXPECT_TRUE(user.failures.empty());

    timers.run_for(10ms);
    EXPECT_EQ(user.failures, std::vector<int>{503});
    EXPECT_EQ(layer.client_count(), 0U);
    EXPECT_EQ(timers.pending(), 0U);
    EXPECT_EQ(layer.stats().timeouts, 0U);
}

// ---- matching -----------------------------------------------------------------------------

using TransactionMatching = TransactionFixture;

// §17.1.3: a response matches by top Via branch and CSeq method; one that matches nothing goes
// to the TU as stray (§16.7 for a proxy).
TEST_F(TransactionMatching, ResponseForNoClientTransactionIsStray) {
    auto& txn = start_client("INVITE", kCallee);
    auto other = parse(request_text("INVITE", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKother"));
    receive(make_response(other, 200, "OK", {.to_tag = "x"}), kCallee);
    // Same branch, other method: not this transaction either.
    receive(make_response(parse(request_text("CANCEL", kClientVia)), 200, "OK"), kCallee);

    EXPECT_EQ(user.strays, (std::vector<int>{200, 200}));
    EXPECT_TRUE(user.responses.empty());
    EXPECT_EQ(txn.state(), ClientTransaction::State::Calling);
}

// §9.2: the CANCEL has its own server transaction, and finds the INVITE it targets.
TEST_F(TransactionMatching, CancelFindsItsInviteButIsItsOwnTransaction) {
    receive(request_text("INVITE", kCallerVia), kCaller);
    auto cancel = parse(request_text("CANCEL", kCallerVia));
    auto* invite = layer.find_invite_for_cancel(cancel);
    ASSERT_NE(invite, nullptr);
    EXPECT_TRUE(invite->is_invite());

    layer.receive(std::move(cancel), kCaller);
    EXPECT_EQ(user.requests, 2);
    EXPECT_EQ(layer.server_count(), 2U);
}

} // namespace
} // namespace strowger::sip
