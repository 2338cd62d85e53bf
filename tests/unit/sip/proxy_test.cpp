// The proxy core (RFC 3261 §16, with the registrar of §10) fed bytes as the transport would
// deliver them, in simulated time. Every assertion reads what the proxy put on the wire: to
// which flow, and the message parsed back.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/simulated_timers.hpp"
#include "sip/header_list.hpp"
#include "sip/headers.hpp"
#include "sip/proxy.hpp"
#include "sip/writer.hpp"

namespace strowger::sip {
namespace {

using namespace std::chrono_literals;
using core::TimerService;

using FakeTimers = core::SimulatedTimers;

struct Sent {
    Flow to;
    std::string bytes;
};

class RecordingWire final : public Transmitter {
public:
    bool send(const Flow& to, std::string_view bytes) override {
        sent.push_back({to, std::string(bytes)});
        return true;
    }
    std::vector<Sent> sent;
};

// The LocationStore contract in a map: expired bindings are left out of every answer.
class MemoryLocationStore final : public LocationStore {
public:
    Bindings update(std::string_view aor, std::int64_t now,
                    const std::function<bool(Bindings&)>& change) override {
        Bindings current = lookup(aor, now);
        if (change(current)) {
            by_aor_[std::string(aor)] = current;
        }
        return current;
    }
    [[nodiscard]] Bindings lookup(std::string_view aor, std::int64_t now) const override {
        Bindings out;
        if (auto it = by_aor_.find(aor); it != by_aor_.end()) {
            std::copy_if(it->second.begin(), it->second.end(), std::back_inserter(out),
                         [&](const Binding& b) { return b.expires_at > now; });
        }
        return out;
    }
    [[nodiscard]] std::size_t binding_count(std::int64_t now) const override {
        std::size_t n = 0;
        for (const auto& entry : by_aor_) {
            n += lookup(entry.first, now).size();
        }
        return n;
    }

private:
    std::map<std::string, Bindings, std::less<>> by_aor_;
};

struct HandedOff {
    unsigned shard;
    std::string bytes;
    Flow from;
};

Flow udp(std::array<std::uint8_t, 4> address, std::uint16_t port) {
    return Flow{core::Transport::Udp, core::IpEndpoint::v4(address, port), 0};
}

Message parse(std::string_view bytes) {
    auto outcome = parse_message(bytes);
    EXPECT_TRUE(outcome.ok()) << name(outcome.error) << "\n" << bytes;
    return outcome.message ? std::move(*outcome.message) : Message{};
}

std::vector<std::string> values(const Message& msg, HeaderId id) {
    std::vector<std::string> out;
    for_each_value(msg, id, [&](std::string_view v) {
        out.emplace_back(v);
        return true;
    });
    return out;
}

std::string top_branch(const Message& msg) {
    auto via = parse_via(split_first_item(msg.value(HeaderId::Via)).item);
    return via && via->branch() ? std::string(*via->branch()) : std::string{};
}

std::string to_tag(const Message& msg) {
    auto to = parse_name_addr(msg.value(HeaderId::To), SipError::BadTo);
    return to && to->tag() ? std::string(*to->tag()) : std::string{};
}

// Alice calls from a public address; Bob's phones register from behind NAT, so their Contact
// names a private address and the proxy must reach them at the flow they registered from.
const Flow kAlice = udp({192, 0, 2, 10}, 5060);
const Flow kBob = udp({198, 51, 100, 7}, 34567);
const Flow kBobDesk = udp({198, 51, 100, 8}, 5060);
constexpr std::string_view kBobContact = "sip:bob@10.0.0.7:5060";
constexpr std::string_view kBobDeskContact = "sip:bob@10.0.0.8:5060";
constexpr std::int64_t kNow = 1'700'000'000;

std::string alice_request(std::string_view method, std::string_view uri,
                          std::string_view extra_headers = {},
                          std::string_view branch = "z9hG4bKalice1", std::uint32_t cseq = 1,
                          std::string_view to = "<sip:bob@example.com>") {
    std::string out;
    out.append(method).append(" ").append(uri).append(" SIP/2.0\r\n");
    out.append("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=").append(branch).append(";rport\r\n");
    out.append("Max-Forwards: 70\r\n");
    out.append("From: \"Alice\" <sip:alice@example.com>;tag=alice-tag\r\n");
    out.append("To: ").append(to).append("\r\n");
    out.append("Call-ID: call-1@192.0.2.10\r\n");
    out.append("CSeq: ").append(std::to_string(cseq)).append(" ").append(method).append("\r\n");
    out.append("Contact: <sip:alice@192.0.2.10:5060>\r\n");
    out.append(extra_headers);
    out.append("Content-Length: 0\r\n\r\n");
    return out;
}

std::string invite_for_bob(std::string_view extra_headers = {}) {
    return alice_request("INVITE", "sip:bob@example.com", extra_headers);
}

class ProxyFixture : public ::testing::Test {
protected:
    FakeTimers timers;
    RecordingWire wire;
    MemoryLocationStore store;
    std::int64_t wall_clock = kNow;
    std::vector<HandedOff> handoffs;
    ProxyConfig config; // change before the first use of proxy()

    Proxy& proxy() {
        if (!proxy_) {
            LocalIdentity identity;
            identity.listeners = {{core::Transport::Udp, "127.0.0.1", 5060},
                                  {core::Transport::Tcp, "127.0.0.1", 5060}};
            identity.hosts = {"127.0.0.1"};
            FlowTokens::Key key{};
            key.fill(0x5A);
            proxy_ = std::make_unique<Proxy>(
                0, timers, wire, store, identity, config, key, [this] { return wall_clock; },
                [this](unsigned shard, Message&& msg, const Flow& from) {
                    handoffs.push_back({shard, std::string(msg.raw()), from});
                });
        }
        return *proxy_;
    }

    void from(const Flow& flow, std::string_view bytes) {
        proxy().on_bytes(bytes, Framing::Datagram, flow);
    }

    // Everything sent since the last call.
    std::vector<Sent> take() {
        auto out = std::move(wire.sent);
        wire.sent.clear();
        return out;
    }

    // The one message sent to `to` that starts with `start` among `sent`, parsed.
    static Message one(const std::vector<Sent>& sent, const Flow& to, std::string_view start) {
        const Sent* found = nullptr;
        int matches = 0;
        for (const auto& s : sent) {
            if (s.to == to && std::string_view(s.bytes).starts_with(start)) {
                found = &s;
                ++matches;
            }
        }
        EXPECT_EQ(matches, 1) << "messages to " << to.remote.to_string() << " starting with '"
                              << start << "'";
        return found != nullptr ? parse(found->bytes) : Message{};
    }
    static int count(const std::vector<Sent>& sent, std::string_view start) {
        return static_cast<int>(std::count_if(sent.begin(), sent.end(), [&](const Sent& s) {
            return std::string_view(s.bytes).starts_with(start);
        }));
    }

    void register_phone(std::string_view contact, const Flow& flow, std::string_view call_id) {
        std::string text = "REGISTER sip:example.com SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKreg";
        text.append(std::to_string(++registrations_)).append(";rport\r\n");
        text.append("Max-Forwards: 70\r\n"
                    "From: <sip:bob@example.com>;tag=bob-reg\r\n"
                    "To: <sip:bob@example.com>\r\n");
        text.append("Call-ID: ").append(call_id).append("\r\n");
        text.append("CSeq: 1 REGISTER\r\n");
        text.append("Contact: <").append(contact).append(">\r\n");
        text.append("Content-Length: 0\r\n\r\n");
        from(flow, text);
        auto sent = take();
        ASSERT_EQ(sent.size(), 1U);
        EXPECT_EQ(parse(sent[0].bytes).status_code(), 200) << sent[0].bytes;
        EXPECT_EQ(sent[0].to, flow); // rport: back to where it came from (RFC 3581)
    }

    // Bob's phone answers `request` (as it received it) from `flow`. A dialog-creating answer
    // echoes the Record-Route values and names its Contact (§12.1.1).
    void answer(const Message& request, const Flow& flow, int status, std::string_view reason,
                std::string_view tag = "bob-tag", std::string_view contact = kBobContact) {
        std::string extra;
        if (request.method() == "INVITE" && status > 100 && status < 300) {
            for (const auto& rr : values(request, HeaderId::RecordRoute)) {
                extra.append("Record-Route: ").append(rr).append("\r\n");
            }
            extra.append("Contact: <").append(contact).append(">\r\n");
        }
        from(flow, make_response(request, status, reason, {.to_tag = tag, .extra_headers = extra}));
    }

    // Registers Bob's phone, sends Alice's INVITE and returns the INVITE as Bob received it.
    Message call_bob() {
        register_phone(kBobContact, kBob, "reg-bob@10.0.0.7");
        from(kAlice, invite_for_bob());
        auto sent = take();
        one(sent, kAlice, "SIP/2.0 100 ");
        return one(sent, kBob, "INVITE ");
    }

    // The dialog's Route set as Alice holds it: the Record-Route values reversed (§12.1.2).
    static std::string alice_route_set(const Message& two_hundred) {
        auto rr = values(two_hundred, HeaderId::RecordRoute);
        std::reverse(rr.begin(), rr.end());
        std::string route = "Route: ";
        for (std::size_t i = 0; i < rr.size(); ++i) {
            route.append(i == 0 ? "" : ", ").append(rr[i]);
        }
        return route + "\r\n";
    }

private:
    std::unique_ptr<Proxy> proxy_;
    int registrations_ = 0;
};

// ---- forwarding ---------------------------------------------------------------------------

using ProxyForwarding = ProxyFixture;

// §16.5-§16.6: the INVITE goes to the registered contact (reached over the flow the phone
// registered from), Max-Forwards one lower, our Via on top with a branch that names shard 0,
// and two Record-Route values (one per side, each a loose router).
TEST_F(ProxyForwarding, InviteGoesToTheRegisteredContact) {
    auto invite = call_bob();

    EXPECT_EQ(invite.request_uri(), kBobContact);
    EXPECT_EQ(invite.value(HeaderId::MaxForwards), "69");
    auto vias = values(invite, HeaderId::Via);
    ASSERT_EQ(vias.size(), 2U);
    auto ours = parse_via(vias[0]);
    ASSERT_TRUE(ours);
    EXPECT_EQ(ours->sent_by, "127.0.0.1:5060");
    EXPECT_TRUE(ours->branch()->starts_with("z9hG4bK-s0-")) << *ours->branch();
    auto alices = parse_via(vias[1]);
    ASSERT_TRUE(alices);
    EXPECT_EQ(alices->branch(), "z9hG4bKalice1");
    EXPECT_EQ(alices->rport_param, "5060"); // stamped on receipt (RFC 3581 §4)
    EXPECT_EQ(alices->received(), "192.0.2.10");

    auto rr = values(invite, HeaderId::RecordRoute);
    ASSERT_EQ(rr.size(), 2U);
    for (const auto& value : rr) {
        auto na = parse_name_addr(value, SipError::BadRoute);
        ASSERT_TRUE(na) << value;
        EXPECT_EQ(na->uri.host, "127.0.0.1");
        EXPECT_EQ(na->uri.port, 5060);
        EXPECT_TRUE(na->uri.has_param("lr")) << value;
    }
    EXPECT_EQ(invite.value(HeaderId::CallId), "call-1@192.0.2.10");
    EXPECT_EQ(proxy().stats().forwarded, 1U);
}

// §16.6: one branch per binding, each with its own branch parameter, sent in parallel.
TEST_F(ProxyForwarding, TwoContactsMakeTwoBranches) {
    register_phone(kBobContact, kBob, "reg-bob@10.0.0.7");
    register_phone(kBobDeskContact, kBobDesk, "reg-desk@10.0.0.8");
    from(kAlice, invite_for_bob());
    auto sent = take();

    auto to_phone = one(sent, kBob, "INVITE ");
    auto to_desk = one(sent, kBobDesk, "INVITE ");
    EXPECT_EQ(to_phone.request_uri(), kBobContact);
    EXPECT_EQ(to_desk.request_uri(), kBobDeskContact);
    EXPECT_NE(top_branch(to_phone), top_branch(to_desk));
    EXPECT_EQ(proxy().stats().forwarded, 2U);
}

// §16.7 steps 3 and 9: a provisional goes upstream at once, without our Via.
TEST_F(ProxyForwarding, ProvisionalIsPassedUpstreamWithoutOurVia) {
    auto invite = call_bob();
    answer(invite, kBob, 180, "Ringing");
    auto sent = take();

    auto ringing = one(sent, kAlice, "SIP/2.0 180 ");
    auto vias = values(ringing, HeaderId::Via);
    ASSERT_EQ(vias.size(), 1U);
    EXPECT_EQ(parse_via(vias[0])->branch(), "z9hG4bKalice1");
    EXPECT_EQ(to_tag(ringing), "bob-tag");
    EXPECT_EQ(sent.size(), 1U);
}

// §16.7 step 6: with a single branch, its failure is the best response and goes upstream; the
// client transaction acknowledges it downstream (§17.1.1.3).
TEST_F(ProxyForwarding, BusyFromTheOnlyBranchGoesUpstream) {
    auto invite = call_bob();
    answer(invite, kBob, 486, "Busy Here");
    auto sent = take();

    auto ack = one(sent, kBob, "ACK ");
    EXPECT_EQ(top_branch(ack), top_branch(invite));
    auto busy = one(sent, kAlice, "SIP/2.0 486 ");
    EXPECT_EQ(values(busy, HeaderId::Via).size(), 1U);
    EXPECT_EQ(to_tag(busy), "bob-tag");

    // Alice's ACK for the 486 ends at our server transaction (§17.2.1).
    from(kAlice, alice_request("ACK", "sip:bob@example.com", {}, "z9hG4bKalice1", 1,
                               "<sip:bob@example.com>;tag=bob-tag"));
    EXPECT_TRUE(take().empty());
}

// §16.7 step 5, §16.10: the first 2xx goes upstream at once; branches still ringing get a
// CANCEL (RFC 3326 Reason says why); a branch that has sent nothing gets its CANCEL only once
// it sends a provisional (§9.1).
TEST_F(ProxyForwarding, TwoHundredCancelsTheOtherBranches) {
    register_phone(kBobContact, kBob, "reg-bob@10.0.0.7");
    register_phone(kBobDeskContact, kBobDesk, "reg-desk@10.0.0.8");
    register_phone("sip:bob@10.0.0.9:5060", udp({198, 51, 100, 9}, 5060), "reg-soft@10.0.0.9");
    const Flow kBobSoft = udp({198, 51, 100, 9}, 5060);
    from(kAlice, invite_for_bob());
    auto sent = take();
    auto to_phone = one(sent, kBob, "INVITE ");
    auto to_desk = one(sent, kBobDesk, "INVITE ");
    auto to_soft = one(sent, kBobSoft, "INVITE ");

    answer(to_desk, kBobDesk, 180, "Ringing", "desk-tag", kBobDeskContact);
    take();
    answer(to_phone, kBob, 200, "OK");
    sent = take();

    auto ok = one(sent, kAlice, "SIP/2.0 200 ");
    EXPECT_EQ(to_tag(ok), "bob-tag");
    auto cancel = one(sent, kBobDesk, "CANCEL ");
    EXPECT_EQ(cancel.request_uri(), to_desk.request_uri());
    EXPECT_EQ(top_branch(cancel), top_branch(to_desk));
    EXPECT_EQ(cancel.value(HeaderId::CSeq), "1 CANCEL");
    EXPECT_EQ(cancel.value(HeaderId::Reason), "SIP;cause=200;text=\"Call completed elsewhere\"");
    EXPECT_EQ(count(sent, "CANCEL "), 1); // none yet for the silent soft phone

    answer(to_soft, kBobSoft, 180, "Ringing", "soft-tag");
    sent = take();
    auto soft_cancel = one(sent, kBobSoft, "CANCEL ");
    EXPECT_EQ(top_branch(soft_cancel), top_branch(to_soft));
    EXPECT_EQ(count(sent, "SIP/2.0 180"), 0); // nothing more goes upstream after the 200

    // The cancelled branches end with 487s, acknowledged downstream and not passed up.
    answer(to_desk, kBobDesk, 487, "Request Terminated", "desk-tag");
    sent = take();
    one(sent, kBobDesk, "ACK ");
    EXPECT_EQ(count(sent, "SIP/2.0 487"), 0);
}

// §16.10: Alice's CANCEL is answered 200 by the proxy itself and forwarded to the ringing
// branch; Bob's 487 is acknowledged and becomes the INVITE's final response upstream.
TEST_F(ProxyForwarding, CallerCancelReachesTheCallee) {
    auto invite = call_bob();
    answer(invite, kBob, 180, "Ringing");
    take();

    from(kAlice, alice_request("CANCEL", "sip:bob@example.com"));
    auto sent = take();
    auto cancel_ok = one(sent, kAlice, "SIP/2.0 200 ");
    EXPECT_EQ(cancel_ok.value(HeaderId::CSeq), "1 CANCEL");
    auto cancel = one(sent, kBob, "CANCEL ");
    EXPECT_EQ(top_branch(cancel), top_branch(invite));
    EXPECT_EQ(cancel.request_uri(), kBobContact);

    answer(cancel, kBob, 200, "OK");
    EXPECT_TRUE(take().empty()); // the 200 to our CANCEL stops here
    answer(invite, kBob, 487, "Request Terminated");
    sent = take();
    one(sent, kBob, "ACK ");
    auto terminated = one(sent, kAlice, "SIP/2.0 487 ");
    EXPECT_EQ(terminated.value(HeaderId::CSeq), "1 INVITE");
    EXPECT_EQ(values(terminated, HeaderId::Via).size(), 1U);
}

// §16.8: Timer C fires on a branch that rang but never answered: the proxy cancels it and,
// once the 487 comes, answers 408 upstream.
TEST_F(ProxyForwarding, TimerCCancelsAndAnswers408) {
    config.timer_c = 3s;
    auto invite = call_bob();
    answer(invite, kBob, 180, "Ringing");
    take();

    timers.run_for(2990ms);
    EXPECT_EQ(count(take(), "CANCEL "), 0);
    timers.run_for(10ms);
    auto sent = take();
    auto cancel = one(sent, kBob, "CANCEL ");
    EXPECT_EQ(top_branch(cancel), top_branch(invite));

    answer(cancel, kBob, 200, "OK");
    answer(invite, kBob, 487, "Request Terminated");
    sent = take();
    one(sent, kBob, "ACK ");
    EXPECT_EQ(count(sent, "SIP/2.0 487"), 0);
    auto timeout = one(sent, kAlice, "SIP/2.0 408 ");
    EXPECT_EQ(timeout.value(HeaderId::CSeq), "1 INVITE");
}

// §9.1: a callee that never answers the CANCEL with a final response: 64*T1 after the CANCEL
// the branch is given up (408 upstream) and its INVITE client transaction destroyed.
// (In Proceeding the transaction has no timer of its own: the proxy must end it.)
TEST_F(ProxyForwarding, BranchWhoseCalleeIgnoresTheCancelIsDestroyed) {
    config.timer_c = 3s;
    auto invite = call_bob();
    answer(invite, kBob, 180, "Ringing");
    timers.run_for(3s);
    auto cancel = one(take(), kBob, "CANCEL ");
    answer(cancel, kBob, 200, "OK");
    take();

    timers.run_for(32s);
    one(take(), kAlice, "SIP/2.0 408 ");
    timers.run_for(10min);
    EXPECT_EQ(proxy().transactions().server_count(), 0U);
    EXPECT_EQ(proxy().transactions().client_count(), 0U);
}

// §16.8: Timer C on a branch with no provisional counts as a 408 at once. A callee that starts
// ringing afterwards rings for a call that is over: it gets a CANCEL (§9.1 allowed it only
// now), and its 487 ends the INVITE client transaction.
TEST_F(ProxyForwarding, CalleeRingingAfterTimerCIsCancelled) {
    config.timer_c = 3s;
    auto invite = call_bob();
    timers.run_for(3s);
    one(take(), kAlice, "SIP/2.0 408 ");

    answer(invite, kBob, 180, "Ringing");
    auto sent = take();
    EXPECT_EQ(count(sent, "SIP/2.0 180"), 0);
    auto cancel = one(sent, kBob, "CANCEL ");
    EXPECT_EQ(top_branch(cancel), top_branch(invite));

    answer(cancel, kBob, 200, "OK");
    answer(invite, kBob, 487, "Request Terminated");
    one(take(), kBob, "ACK ");
    timers.run_for(10min);
    EXPECT_EQ(proxy().transactions().client_count(), 0U);
}

// §16.7 step 2: each provisional other than 100 restarts Timer C.
TEST_F(ProxyForwarding, ProvisionalRestartsTimerC) {
    config.timer_c = 3s;
    auto invite = call_bob();
    answer(invite, kBob, 180, "Ringing");
    timers.run_for(2s);
    answer(invite, kBob, 183, "Session Progress");
    timers.run_for(2s);
    EXPECT_EQ(count(take(), "CANCEL "), 0);
    timers.run_for(1s);
    EXPECT_EQ(count(take(), "CANCEL "), 1);
}

// §16.12 (loose routing, RFC 3261 §12.2): a BYE in the dialog carries the Record-Route values
// as Route; the proxy removes its own and sends the BYE to Bob over the flow its Record-Route
// value named.
TEST_F(ProxyForwarding, InDialogByeFollowsTheRecordRoute) {
    auto invite = call_bob();
    answer(invite, kBob, 200, "OK");
    auto ok = one(take(), kAlice, "SIP/2.0 200 ");
    const auto route = alice_route_set(ok);
    ASSERT_EQ(values(ok, HeaderId::RecordRoute).size(), 2U);

    from(kAlice, alice_request("BYE", kBobContact, route, "z9hG4bKbye1", 2,
                               "<sip:bob@example.com>;tag=bob-tag"));
    auto sent = take();
    auto bye = one(sent, kBob, "BYE ");
    EXPECT_EQ(bye.request_uri(), kBobContact);
    EXPECT_EQ(bye.count(HeaderId::Route), 0U);
    EXPECT_EQ(bye.count(HeaderId::RecordRoute), 0U);
    EXPECT_EQ(values(bye, HeaderId::Via).size(), 2U);

    answer(bye, kBob, 200, "OK");
    auto bye_ok = one(take(), kAlice, "SIP/2.0 200 ");
    EXPECT_EQ(bye_ok.value(HeaderId::CSeq), "2 BYE");
}

// The other direction: Bob's BYE, with the Record-Route values in order (§12.1.1), reaches
// Alice at the flow her INVITE came from.
TEST_F(ProxyForwarding, InDialogByeFromTheCalleeReachesTheCaller) {
    auto invite = call_bob();
    auto rr = values(invite, HeaderId::RecordRoute);
    ASSERT_EQ(rr.size(), 2U);
    answer(invite, kBob, 200, "OK");
    take();

    std::string bye = "BYE sip:alice@192.0.2.10:5060 SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKbobbye;rport\r\n"
                      "Max-Forwards: 70\r\n"
                      "Route: " + rr[0] + ", " + rr[1] + "\r\n"
                      "From: <sip:bob@example.com>;tag=bob-tag\r\n"
                      "To: \"Alice\" <sip:alice@example.com>;tag=alice-tag\r\n"
                      "Call-ID: call-1@192.0.2.10\r\n"
                      "CSeq: 1 BYE\r\n"
                      "Content-Length: 0\r\n\r\n";
    from(kBob, bye);
    auto forwarded = one(take(), kAlice, "BYE ");
    EXPECT_EQ(forwarded.request_uri(), "sip:alice@192.0.2.10:5060");
    EXPECT_EQ(forwarded.count(HeaderId::Route), 0U);
}

// §16.11, §13.2.2.4: the ACK for a 2xx is its own transaction-less request: forwarded along
// the Route set and never answered.
TEST_F(ProxyForwarding, AckForTheTwoHundredIsForwardedStatelessly) {
    auto invite = call_bob();
    answer(invite, kBob, 200, "OK");
    auto ok = one(take(), kAlice, "SIP/2.0 200 ");

    from(kAlice, alice_request("ACK", kBobContact, alice_route_set(ok), "z9hG4bKack1", 1,
                               "<sip:bob@example.com>;tag=bob-tag"));
    auto sent = take();
    ASSERT_EQ(sent.size(), 1U);
    auto ack = one(sent, kBob, "ACK ");
    EXPECT_EQ(ack.request_uri(), kBobContact);
    EXPECT_EQ(ack.count(HeaderId::Route), 0U);
    EXPECT_EQ(values(ack, HeaderId::Via).size(), 2U);
    EXPECT_EQ(proxy().stats().stateless, 1U);

    timers.run_for(40s);
    EXPECT_EQ(count(take(), "SIP/2.0"), 0);
}

// §16.7 step 5: after the INVITE's 2xx, Bob's retransmitted 2xx (his UAS core resends it
// until the ACK, §13.3.1.4) still goes upstream.
TEST_F(ProxyForwarding, RetransmittedTwoHundredIsPassedUpstream) {
    auto invite = call_bob();
    answer(invite, kBob, 200, "OK");
    take();
    timers.run_for(500ms);
    answer(invite, kBob, 200, "OK");
    one(take(), kAlice, "SIP/2.0 200 ");
}

// §16.10, §9.1: a CANCEL for a branch that has not answered yet waits for its provisional.
TEST_F(ProxyForwarding, CallerCancelWaitsForTheCalleesProvisional) {
    auto invite = call_bob();
    from(kAlice, alice_request("CANCEL", "sip:bob@example.com"));
    auto sent = take();
    one(sent, kAlice, "SIP/2.0 200 ");
    EXPECT_EQ(count(sent, "CANCEL "), 0);

    answer(invite, kBob, 180, "Ringing");
    one(take(), kBob, "CANCEL ");
}

// §16.10: a CANCEL that matches no INVITE is answered 481.
TEST_F(ProxyForwarding, CancelForNoInviteIs481) {
    from(kAlice, alice_request("CANCEL", "sip:bob@example.com", {}, "z9hG4bKnothing"));
    auto sent = take();
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(parse(sent[0].bytes).status_code(), 481);
}

// §16.7, §18.2.2: a 2xx retransmitted after both transactions ended matches nothing; it is
// ours by its top Via and goes statelessly to the next Via, at its received/rport address.
TEST_F(ProxyForwarding, LateTwoHundredIsForwardedStatelessly) {
    auto invite = call_bob();
    answer(invite, kBob, 200, "OK");
    take();
    timers.run_for(40s); // Timers L and M are long gone
    EXPECT_EQ(proxy().transactions().server_count(), 0U);
    EXPECT_EQ(proxy().transactions().client_count(), 0U);

    answer(invite, kBob, 200, "OK");
    auto ok = one(take(), kAlice, "SIP/2.0 200 ");
    EXPECT_EQ(values(ok, HeaderId::Via).size(), 1U);
    EXPECT_EQ(proxy().stats().stateless, 1U);
}

// RFC 5626 §5.2-style flow tokens: a caller on TCP is answered over her connection, the
// Record-Route value facing her says transport=tcp, and the callee's in-dialog BYE reaches her
// over that same connection.
TEST_F(ProxyForwarding, CallerOnTcpIsReachedOverHerConnection) {
    const Flow alice_tcp{core::Transport::Tcp, core::IpEndpoint::v4({192, 0, 2, 10}, 49152), 42};
    register_phone(kBobContact, kBob, "reg-bob@10.0.0.7");
    auto text = invite_for_bob();
    text.replace(text.find("SIP/2.0/UDP 192.0.2.10:5060"), 27, "SIP/2.0/TCP 192.0.2.10:5060");
    proxy().on_bytes(text, Framing::Stream, alice_tcp);
    auto sent = take();
    one(sent, alice_tcp, "SIP/2.0 100 ");
    auto invite = one(sent, kBob, "INVITE ");
    auto rr = values(invite, HeaderId::RecordRoute);
    ASSERT_EQ(rr.size(), 2U);
    EXPECT_EQ(rr[0].find("transport=tcp"), std::string::npos) << rr[0]; // faces Bob: UDP
    EXPECT_NE(rr[1].find("transport=tcp"), std::string::npos) << rr[1]; // faces Alice: TCP

    answer(invite, kBob, 200, "OK");
    one(take(), alice_tcp, "SIP/2.0 200 ");

    std::string bye = "BYE sip:alice@192.0.2.10:5060;transport=tcp SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKbobbye2;rport\r\n"
                      "Max-Forwards: 70\r\n"
                      "Route: " + rr[0] + ", " + rr[1] + "\r\n"
                      "From: <sip:bob@example.com>;tag=bob-tag\r\n"
                      "To: \"Alice\" <sip:alice@example.com>;tag=alice-tag\r\n"
                      "Call-ID: call-1@192.0.2.10\r\n"
                      "CSeq: 1 BYE\r\n"
                      "Content-Length: 0\r\n\r\n";
    from(kBob, bye);
    auto forwarded = one(take(), alice_tcp, "BYE ");
    auto via = parse_via(split_first_item(forwarded.value(HeaderId::Via)).item);
    ASSERT_TRUE(via);
    EXPECT_EQ(via->transport, "TCP");
}

// ---- answered by the proxy itself ---------------------------------------------------------

using ProxyLocalReplies = ProxyFixture;

// The final response among `sent`, which must have gone to Alice.
Message final_to_alice(const std::vector<Sent>& sent) {
    for (const auto& s : sent) {
        auto msg = parse(s.bytes);
        if (msg.is_response() && msg.status_code() >= 200) {
            EXPECT_EQ(s.to, kAlice);
            return msg;
        }
    }
    ADD_FAILURE() << "no final response";
    return Message{};
}

// §16.5: no binding for the user: 404.
TEST_F(ProxyLocalReplies, UnknownUserIsNotFound) {
    from(kAlice, invite_for_bob());
    auto sent = take();
    one(sent, kAlice, "SIP/2.0 100 ");
    auto not_found = final_to_alice(sent);
    EXPECT_EQ(not_found.status_code(), 404);
    EXPECT_FALSE(to_tag(not_found).empty()); // §8.2.6.2
}

// An account of this server with no registered contact exists but cannot be reached: 480.
TEST_F(ProxyLocalReplies, AccountWithoutBindingIsTemporarilyUnavailable) {
    config.is_account = [](std::string_view user) { return user == "bob"; };
    from(kAlice, invite_for_bob());
    auto sent = take();
    auto unavailable = final_to_alice(sent);
    EXPECT_EQ(unavailable.status_code(), 480);
}

// §16.3 step 3: Max-Forwards 0 on a request to forward: 483.
TEST_F(ProxyLocalReplies, MaxForwardsZeroIsTooManyHops) {
    register_phone(kBobContact, kBob, "reg-bob@10.0.0.7");
    auto text = invite_for_bob();
    text.replace(text.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
    from(kAlice, text);
    auto sent = take();
    EXPECT_EQ(final_to_alice(sent).status_code(), 483);
    EXPECT_EQ(count(sent, "INVITE "), 0);
}

// §16.3 step 2: a Request-URI scheme the proxy cannot route: 416.
TEST_F(ProxyLocalReplies, UnsupportedUriSchemeIs416) {
    for (std::string_view uri : {"tel:+15550100", "xmpp:bob@example.com"}) {
        from(kAlice, alice_request("MESSAGE", uri, {}, std::string("z9hG4bK") +
                                                         std::string(uri.substr(0, 3))));
        auto sent = take();
        ASSERT_EQ(sent.size(), 1U) << uri;
        EXPECT_EQ(parse(sent[0].bytes).status_code(), 416) << uri;
    }
}

// §16.3 step 5: every option tag in Proxy-Require that the proxy does not support is listed
// in Unsupported of a 420.
TEST_F(ProxyLocalReplies, ProxyRequireIsRefusedWith420) {
    register_phone(kBobContact, kBob, "reg-bob@10.0.0.7");
    from(kAlice, invite_for_bob("Proxy-Require: foo\r\n"));
    auto sent = take();
    auto refused = final_to_alice(sent);
    EXPECT_EQ(refused.status_code(), 420);
    EXPECT_EQ(refused.value(HeaderId::Unsupported), "foo");
    EXPECT_EQ(count(sent, "INVITE "), 0);
}

// §11.2: OPTIONS addressed to the server itself is answered 200 with Allow.
TEST_F(ProxyLocalReplies, OptionsToTheServerIsAnsweredWithAllow) {
    from(kAlice, alice_request("OPTIONS", "sip:127.0.0.1", {}, "z9hG4bKopt1", 1,
                               "<sip:127.0.0.1>"));
    auto sent = take();
    ASSERT_EQ(sent.size(), 1U);
    auto ok = parse(sent[0].bytes);
    EXPECT_EQ(ok.status_code(), 200);
    auto allow = values(ok, HeaderId::Allow);
    EXPECT_NE(std::find(allow.begin(), allow.end(), "INVITE"), allow.end());
    EXPECT_NE(std::find(allow.begin(), allow.end(), "OPTIONS"), allow.end());
}

// §8.2.1: a method the server does not accept as a UA gets 405 and the Allow it does accept.
TEST_F(ProxyLocalReplies, InviteToTheServerIsMethodNotAllowed) {
    from(kAlice, alice_request("INVITE", "sip:127.0.0.1", {}, "z9hG4bKinv1", 1,
                               "<sip:127.0.0.1>"));
    auto refused = final_to_alice(take());
    EXPECT_EQ(refused.status_code(), 405);
    auto allow = values(refused, HeaderId::Allow);
    EXPECT_FALSE(allow.empty());
    EXPECT_EQ(std::find(allow.begin(), allow.end(), "INVITE"), allow.end());
}

// §16.3 step 3: an OPTIONS for the proxy itself may be answered even with Max-Forwards 0.
TEST_F(ProxyLocalReplies, OptionsToTheServerWithMaxForwardsZeroIsAnswered) {
    auto text = alice_request("OPTIONS", "sip:127.0.0.1", {}, "z9hG4bKopt0", 1,
                              "<sip:127.0.0.1>");
    text.replace(text.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
    from(kAlice, text);
    auto sent = take();
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(parse(sent[0].bytes).status_code(), 200);
}

// §16.5: with a list of served domains, a request for another one is not relayed: 403.
TEST_F(ProxyLocalReplies, ForeignDomainIsForbidden) {
    config.domains = {"example.com"};
    from(kAlice, alice_request("INVITE", "sip:bob@other.org", {}, "z9hG4bKforeign", 1,
                               "<sip:bob@other.org>"));
    auto sent = take();
    EXPECT_EQ(final_to_alice(sent).status_code(), 403);
    EXPECT_EQ(count(sent, "INVITE "), 0);
}

// §16.3 step 1, §21.4.1: a malformed request that can still be answered gets 400 with a
// reason phrase naming the defect.
TEST_F(ProxyLocalReplies, MalformedRequestGets400NamingTheDefect) {
    auto text = invite_for_bob("Via: SIP/2.0/UDP 192.0.2.99:5060;;branch=z9hG4bKold\r\n");
    from(kAlice, text);
    auto sent = take();
    ASSERT_EQ(sent.size(), 1U);
    auto bad = parse(sent[0].bytes);
    EXPECT_EQ(bad.status_code(), 400);
    EXPECT_NE(bad.reason_phrase().find("parameter"), std::string_view::npos)
        << bad.reason_phrase();
    EXPECT_EQ(sent[0].to, kAlice);
    EXPECT_EQ(proxy().stats().malformed, 1U);
    EXPECT_EQ(proxy().transactions().server_count(), 0U);
}

// §16.3 step 1, §21.4.1: the same defect in the top Via. Over UDP the source address and port
// are still a usable destination (as with rport), so the 400 reaches the sender.
TEST_F(ProxyLocalReplies, MalformedTopViaIsStillAnsweredAtTheSource) {
    auto text = invite_for_bob();
    text.replace(text.find(";rport"), 6, ";;rport");
    from(kAlice, text);
    auto sent = take();
    ASSERT_EQ(sent.size(), 1U);
    auto bad = parse(sent[0].bytes);
    EXPECT_EQ(bad.status_code(), 400);
    EXPECT_NE(bad.reason_phrase().find("parameter"), std::string_view::npos)
        << bad.reason_phrase();
    EXPECT_EQ(sent[0].to, kAlice);
}

// RFC 3581 §4: the 400 for a malformed request carries the source port in the rport the
// sender asked for, like every other response.
TEST_F(ProxyLocalReplies, MalformedRequestAnswerFillsInRport) {
    from(kAlice, invite_for_bob("Via: SIP/2.0/UDP 192.0.2.99:5060;;branch=z9hG4bKold\r\n"));
    auto sent = take();
    ASSERT_EQ(sent.size(), 1U);
    auto bad = parse(sent[0].bytes);
    auto top = values(bad, HeaderId::Via).at(0);
    auto via = parse_via(top);
    ASSERT_TRUE(via) << top;
    EXPECT_EQ(via->rport_param, "5060") << top;
    EXPECT_EQ(via->received(), "192.0.2.10") << top;
}

// RFC 5626 §4.4.1 / §3.5.1: short datagrams are NAT keep-alives, silently dropped.
TEST_F(ProxyLocalReplies, ShortDatagramsAreKeepAlives) {
    from(kAlice, "\r\n\r\n");
    from(kAlice, std::string_view("\0\0\0\0", 4));
    from(kAlice, "jaK");
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(proxy().stats().keepalives, 3U);
    EXPECT_EQ(proxy().stats().malformed, 0U);
}

// ---- responses without a transaction ------------------------------------------------------

using ProxyStrayResponses = ProxyFixture;

// A response for a client transaction of another shard (its branch names the shard) is
// handed to that shard, not forwarded from here.
TEST_F(ProxyStrayResponses, ResponseForAnotherShardIsHandedOff) {
    std::string response = "SIP/2.0 180 Ringing\r\n"
                           "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-s1-1a2b-7\r\n"
                           "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKalice1;rport=5060;"
                           "received=192.0.2.10\r\n"
                           "From: <sip:alice@example.com>;tag=alice-tag\r\n"
                           "To: <sip:bob@example.com>;tag=bob-tag\r\n"
                           "Call-ID: call-1@192.0.2.10\r\n"
                           "CSeq: 1 INVITE\r\n"
                           "Content-Length: 0\r\n\r\n";
    from(kBob, response);

    ASSERT_EQ(handoffs.size(), 1U);
    EXPECT_EQ(handoffs[0].shard, 1U);
    EXPECT_EQ(handoffs[0].from, kBob);
    EXPECT_EQ(handoffs[0].bytes, response);
    EXPECT_TRUE(take().empty());
}

// §18.1.2: a response whose top Via is not ours is discarded.
TEST_F(ProxyStrayResponses, ResponseNotSentByUsIsDiscarded) {
    from(kBob, "SIP/2.0 200 OK\r\n"
               "Via: SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bK-s0-1-1\r\n"
               "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKalice1\r\n"
               "From: <sip:alice@example.com>;tag=alice-tag\r\n"
               "To: <sip:bob@example.com>;tag=bob-tag\r\n"
               "Call-ID: call-1@192.0.2.10\r\n"
               "CSeq: 1 INVITE\r\n"
               "Content-Length: 0\r\n\r\n");
    EXPECT_TRUE(take().empty());
    EXPECT_TRUE(handoffs.empty());
}

} // namespace
} // namespace strowger::sip
