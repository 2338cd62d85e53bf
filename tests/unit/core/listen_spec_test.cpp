#include <gtest/gtest.h>

#include "core/listen_spec.hpp"

namespace strowger::core {
namespace {

TEST(ListenSpec, ParsesIpv4AndBracketedIpv6) {
    auto udp = parse_listen_spec("udp:0.0.0.0:3478", nullptr);
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->transport, Transport::Udp);
    EXPECT_EQ(udp->endpoint.port, 3478);
    EXPECT_EQ(udp->to_string(), "udp:0.0.0.0:3478");

    auto tls = parse_listen_spec("tls:[::1]:5061", nullptr);
    ASSERT_TRUE(tls);
    EXPECT_EQ(tls->transport, Transport::Tls);
    EXPECT_TRUE(tls->endpoint.is_v6());
    EXPECT_EQ(tls->to_string(), "tls:[::1]:5061");

    for (const auto* ok : {"tcp:127.0.0.1:0", "ws:[2001:db8::1]:8080", "wss:10.0.0.1:443"}) {
        EXPECT_TRUE(parse_listen_spec(ok, nullptr)) << ok;
    }
}

TEST(ListenSpec, RefusesWithAReason) {
    struct Case {
        const char* text;
        const char* reason;
    };
    for (auto [text, reason] : {Case{"sctp:0.0.0.0:1", "unknown transport"},
                                Case{"udp:0.0.0.0", "missing port"},
                                Case{"udp0.0.0.0:1", "unknown transport"},
                                Case{"udp:0.0.0.0:65536", "invalid port"},
                                Case{"udp:0.0.0.0:34x", "invalid port"},
                                Case{"udp:::1:3478", "brackets"},
                                Case{"udp:[::1:3478", "expected [IPv6]:port"},
                                Case{"udp:example.org:3478", "invalid IP address"},
                                Case{"udp", "expected transport:address:port"}}) {
        std::string why;
        EXPECT_FALSE(parse_listen_spec(text, &why)) << text;
        EXPECT_NE(why.find(reason), std::string::npos) << text << " -> " << why;
    }
}

} // namespace
} // namespace strowger::core
