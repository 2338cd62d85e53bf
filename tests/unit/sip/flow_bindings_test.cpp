// Bindings registered over a connection the server cannot open again go when it closes; those
// of other connections, and of UDP and TCP (which the server can reach again), stay.

#include <gtest/gtest.h>

#include "core/connection_id.hpp"
#include "sip/flow_bindings.hpp"
#include "sip/location_memory.hpp"
#include "sip/transport_name.hpp"

namespace strowger::sip {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

Binding over(core::Transport transport, std::uint64_t connection, std::string contact) {
    Binding b;
    b.contact = std::move(contact);
    b.expires_at = kNow + 600;
    b.flow = Flow{transport, core::IpEndpoint::v4({192, 0, 2, 1}, 40000), connection};
    return b;
}

TEST(FlowBindings, ClosingAWebSocketOrTlsFlowRemovesItsBindingsOnly) {
    MemoryLocationStore location;
    FlowBindings flows;
    const auto ws = core::make_connection_id(2, 7);
    const auto tls = core::make_connection_id(0, 8);
    const auto tcp = core::make_connection_id(0, 9);
    const Binding browser = over(core::Transport::Wss, ws, "sip:a@x.invalid;transport=ws");
    const Binding desk = over(core::Transport::Tls, tls, "sip:alice@192.0.2.1;transport=tls");
    const Binding tcp_phone = over(core::Transport::Tcp, tcp, "sip:alice@192.0.2.1;transport=tcp");
    location.update("sip:alice@example.test", kNow, [&](Bindings& b) {
        b = {browser, desk, tcp_phone};
        return true;
    });
    for (const auto& b : {browser, desk, tcp_phone}) {
        flows.remember(b.flow, "sip:alice@example.test");
    }
    EXPECT_EQ(flows.size(), 2U); // TCP can be opened again: not tracked

    flows.close(ws, location, kNow);
    EXPECT_EQ(location.lookup("sip:alice@example.test", kNow), (Bindings{desk, tcp_phone}));
    flows.close(tcp, location, kNow); // nothing to do for TCP
    EXPECT_EQ(location.lookup("sip:alice@example.test", kNow).size(), 2U);
    flows.close(tls, location, kNow);
    EXPECT_EQ(location.lookup("sip:alice@example.test", kNow), Bindings{tcp_phone});
    EXPECT_EQ(flows.size(), 0U);
}

TEST(TransportName, ViaAndUriForms) {
    EXPECT_EQ(transport_named("wss"), core::Transport::Wss);
    EXPECT_EQ(transport_named("TLS"), core::Transport::Tls);
    EXPECT_FALSE(transport_named("SCTP"));
    EXPECT_EQ(via_transport(core::Transport::Ws), "WS");
    EXPECT_EQ(uri_transport(core::Transport::Wss), "ws"); // RFC 7118 §5.2
    EXPECT_TRUE(is_secure(core::Transport::Wss));
    EXPECT_FALSE(is_secure(core::Transport::Ws));
}

} // namespace
} // namespace strowger::sip
