// The peer policy on its own (RFC 8656 §21.3.1): which peer addresses a relay refuses, how
// IPv4-mapped and NAT64 addresses are judged, and the order of the decision.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "turn/peer_policy.hpp"
#include "turn_fakes.hpp"

namespace strowger::turn {
namespace {

using test::endpoint;

const core::IpEndpoint kOwn = endpoint("203.0.113.10", 3478);

PeerPolicy default_policy() { return PeerPolicy({}, {kOwn}); }

core::Cidr cidr(std::string_view text) {
    std::string error;
    auto c = core::parse_cidr(text, &error);
    EXPECT_TRUE(c) << error;
    return c.value_or(core::Cidr{});
}

TEST(PeerPolicy, DeniedIpv4Ranges) {
    auto policy = default_policy();
    for (std::string_view address :
         {"0.0.0.0", "0.1.2.3", "10.0.0.0", "10.255.255.255", "100.64.0.1", "100.127.255.255",
          "127.0.0.1", "127.255.255.254", "169.254.169.254", "172.16.0.1", "172.31.255.255",
          "192.168.0.1", "192.168.255.255", "224.0.0.1", "239.255.255.250", "240.0.0.1",
          "255.255.255.255"}) {
        EXPECT_EQ(policy.check_address(endpoint(address, 80)), PeerVerdict::DeniedRange)
            << address;
    }
}

TEST(PeerPolicy, DeniedIpv6Ranges) {
    auto policy = default_policy();
    for (std::string_view address :
         {"::", "::1", "::10.0.0.1", "fc00::1", "fd00::1", "fdff:ffff::1", "fe80::1",
          "febf::1", "fec0::1", "ff02::1", "ff0e::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
          "::ffff:192.168.1.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
          "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe"}) {
        EXPECT_EQ(policy.check_address(endpoint(address, 80)), PeerVerdict::DeniedRange)
            << address;
    }
}

TEST(PeerPolicy, PublicAddressesAreAllowed) {
    auto policy = default_policy();
    for (std::string_view address :
         {"198.51.100.7", "192.0.2.1", "8.8.8.8", "1.1.1.1", "9.255.255.255", "11.0.0.0",
          "100.63.255.255", "100.128.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255",
          "172.15.255.255", "172.32.0.0", "192.167.255.255", "192.169.0.0", "223.255.255.255",
          "2001:db8::7", "2a00:1450:4001::1", "::ffff:198.51.100.7", "64:ff9b::c633:6407",
          "fbff::1"}) {
        EXPECT_EQ(policy.check_address(endpoint(address, 80)), PeerVerdict::Allowed) << address;
    }
    EXPECT_EQ(policy.check_address(endpoint("::2:0:0", 80)), PeerVerdict::Allowed); // past ::/96
}

TEST(PeerPolicy, OwnAddressesAnyPortAnyForm) {
    auto policy = default_policy();
    EXPECT_EQ(policy.check_address(endpoint("203.0.113.10", 3478)), PeerVerdict::OwnAddress);
    EXPECT_EQ(policy.check_address(endpoint("203.0.113.10", 22)), PeerVerdict::OwnAddress);
    EXPECT_EQ(policy.check_address(endpoint("::ffff:203.0.113.10", 22)), PeerVerdict::OwnAddress);
    EXPECT_EQ(policy.check_address(endpoint("64:ff9b::cb00:710a", 22)), PeerVerdict::OwnAddress);
    EXPECT_EQ(policy.check_address(endpoint("203.0.113.11", 22)), PeerVerdict::Allowed);

    // Own addresses given in mapped form are judged by the IPv4 address too.
    PeerPolicy mapped({}, {endpoint("::ffff:203.0.113.20", 0), endpoint("2001:db8::1", 0)});
    EXPECT_EQ(mapped.check_address(endpoint("203.0.113.20", 1)), PeerVerdict::OwnAddress);
    EXPECT_EQ(mapped.check_address(endpoint("2001:db8::1", 1)), PeerVerdict::OwnAddress);
    EXPECT_EQ(mapped.check_address(endpoint("2001:db8::2", 1)), PeerVerdict::Allowed);
}

TEST(PeerPolicy, RelayEndpointsAreAskedOnlyWhenRefused) {
    auto policy = default_policy();
    int asked = 0;
    auto yes = [&asked](const core::IpEndpoint&) {
        ++asked;
        return true;
    };
    auto no = [&asked](const core::IpEndpoint&) {
        ++asked;
        return false;
    };
    EXPECT_EQ(policy.check(endpoint("198.51.100.7", 1), yes), PeerVerdict::Allowed);
    EXPECT_EQ(asked, 0);
    EXPECT_EQ(policy.check(endpoint("203.0.113.10", 50000), yes), PeerVerdict::OwnRelay);
    EXPECT_EQ(policy.check(endpoint("203.0.113.10", 5060), no), PeerVerdict::OwnAddress);
    EXPECT_EQ(policy.check(endpoint("10.0.0.5", 50000), yes), PeerVerdict::OwnRelay);
    EXPECT_EQ(policy.check(endpoint("10.0.0.5", 22), no), PeerVerdict::DeniedRange);
    EXPECT_EQ(asked, 4);

    // The relay test sees the peer as given, port included.
    core::IpEndpoint seen;
    policy.check(endpoint("127.0.0.1", 1234), [&seen](const core::IpEndpoint& p) {
        seen = p;
        return false;
    });
    EXPECT_EQ(seen, endpoint("127.0.0.1", 1234));
}

TEST(PeerPolicy, AllowedRangesWin) {
    PeerPolicy policy({cidr("127.0.0.0/8"), cidr("10.1.0.0/16"), cidr("203.0.113.10/32"),
                       cidr("fd00::/8")},
                      {kOwn});
    EXPECT_EQ(policy.check_address(endpoint("127.0.0.1", 1)), PeerVerdict::Allowed);
    EXPECT_EQ(policy.check_address(endpoint("::ffff:127.0.0.1", 1)), PeerVerdict::Allowed);
    EXPECT_EQ(policy.check_address(endpoint("10.1.2.3", 1)), PeerVerdict::Allowed);
    EXPECT_EQ(policy.check_address(endpoint("10.2.0.1", 1)), PeerVerdict::DeniedRange);
    EXPECT_EQ(policy.check_address(endpoint("203.0.113.10", 1)), PeerVerdict::Allowed);
    EXPECT_EQ(policy.check_address(endpoint("fd00::1", 1)), PeerVerdict::Allowed);
    EXPECT_EQ(policy.check_address(endpoint("fc00::1", 1)), PeerVerdict::DeniedRange);

    // A range written in the mapped form matches the mapped peer as given.
    PeerPolicy mapped({cidr("::ffff:127.0.0.0/104")}, {});
    EXPECT_EQ(mapped.check_address(endpoint("::ffff:127.0.0.1", 1)), PeerVerdict::Allowed);
    EXPECT_EQ(mapped.check_address(endpoint("127.0.0.1", 1)), PeerVerdict::DeniedRange);
}

TEST(PeerPolicy, IsAllowed) {
    EXPECT_TRUE(is_allowed(PeerVerdict::Allowed));
    EXPECT_TRUE(is_allowed(PeerVerdict::OwnRelay));
    EXPECT_FALSE(is_allowed(PeerVerdict::DeniedRange));
    EXPECT_FALSE(is_allowed(PeerVerdict::OwnAddress));
}

TEST(PeerPolicy, DeniedRangesParse) {
    auto ranges = PeerPolicy::denied_ranges();
    ASSERT_EQ(ranges.size(), 14U);
    EXPECT_EQ(ranges.front().to_string(), "0.0.0.0/8");
    EXPECT_EQ(ranges.back().to_string(), "ff00::/8");
}

TEST(PeerPolicy, EffectiveAddress) {
    auto mapped = effective_address(endpoint("::ffff:1.2.3.4", 99));
    EXPECT_FALSE(mapped.is_v6());
    EXPECT_EQ(mapped, core::IpEndpoint::v4({1, 2, 3, 4}, 99));
    EXPECT_EQ(effective_address(endpoint("64:ff9b::102:304", 7)),
              core::IpEndpoint::v4({1, 2, 3, 4}, 7));
    EXPECT_EQ(effective_address(endpoint("2001:db8::1", 5)), endpoint("2001:db8::1", 5));
    EXPECT_EQ(effective_address(endpoint("1.2.3.4", 5)), endpoint("1.2.3.4", 5));
    // Not the well-known NAT64 prefix: 64:ff9b:1::/48 and other lookalikes stay IPv6.
    EXPECT_TRUE(effective_address(endpoint("64:ff9b:1::102:304", 7)).is_v6());
    EXPECT_TRUE(effective_address(endpoint("::fffe:1.2.3.4", 7)).is_v6());
}

} // namespace
} // namespace strowger::turn
