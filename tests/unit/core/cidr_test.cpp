// Address prefixes as configuration writes them (turn.allowed_peers and the like).

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/cidr.hpp"

namespace strowger::core {
namespace {

IpEndpoint ip(std::string_view text) { return IpEndpoint::from_address(text, 0).value_or(IpEndpoint{}); }

TEST(Cidr, ParsesPrefixes) {
    std::string error;
    auto c = parse_cidr("10.0.0.0/8", &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->prefix, 8U);
    EXPECT_EQ(c->to_string(), "10.0.0.0/8");
    EXPECT_TRUE(c->contains(ip("10.255.1.2")));
    EXPECT_FALSE(c->contains(ip("11.0.0.0")));

    auto v6 = parse_cidr("fc00::/7", &error);
    ASSERT_TRUE(v6) << error;
    EXPECT_EQ(v6->prefix, 7U);
    EXPECT_EQ(v6->to_string(), "fc00::/7");
    EXPECT_TRUE(v6->contains(ip("fdff::1")));
    EXPECT_FALSE(v6->contains(ip("fe00::1")));

    auto odd = parse_cidr("100.64.0.0/10", nullptr);
    ASSERT_TRUE(odd);
    EXPECT_TRUE(odd->contains(ip("100.127.255.255")));
    EXPECT_FALSE(odd->contains(ip("100.128.0.0")));
    EXPECT_FALSE(odd->contains(ip("100.63.255.255")));
}

TEST(Cidr, BareAddressIsOneHost) {
    auto v4 = parse_cidr("192.0.2.1", nullptr);
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->prefix, 32U);
    EXPECT_TRUE(v4->contains(ip("192.0.2.1")));
    EXPECT_FALSE(v4->contains(ip("192.0.2.2")));
    auto v6 = parse_cidr("2001:db8::1", nullptr);
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->prefix, 128U);
    EXPECT_TRUE(v6->contains(ip("2001:db8::1")));
    EXPECT_FALSE(v6->contains(ip("2001:db8::2")));
}

TEST(Cidr, WholeSpaceAndFamilies) {
    auto all4 = parse_cidr("0.0.0.0/0", nullptr);
    ASSERT_TRUE(all4);
    EXPECT_TRUE(all4->contains(ip("255.255.255.255")));
    EXPECT_FALSE(all4->contains(ip("::1"))); // families never mix
    auto all6 = parse_cidr("::/0", nullptr);
    ASSERT_TRUE(all6);
    EXPECT_TRUE(all6->contains(ip("ffff::1")));
    EXPECT_FALSE(all6->contains(ip("1.2.3.4")));
    auto host = parse_cidr("10.0.0.1/32", nullptr);
    ASSERT_TRUE(host);
    EXPECT_TRUE(host->contains(ip("10.0.0.1")));
    auto host6 = parse_cidr("::1/128", nullptr);
    ASSERT_TRUE(host6);
    EXPECT_TRUE(host6->contains(ip("::1")));
}

TEST(Cidr, InvalidPrefixIsRefused) {
    for (std::string_view text : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1",
                                  "10.0.0.0/8x", "10.0.0.0/ 8", "10.0.0.0/8/8", "10.0.0.0/08a"}) {
        std::string error;
        EXPECT_FALSE(parse_cidr(text, &error)) << text;
        EXPECT_FALSE(error.empty()) << text;
    }
    std::string error;
    EXPECT_FALSE(parse_cidr("10.0.0.0/33", &error));
    EXPECT_NE(error.find("prefix length must be 0..32"), std::string::npos) << error;
}

TEST(Cidr, HostBitsSetIsRefused) {
    std::string error;
    EXPECT_FALSE(parse_cidr("10.0.0.1/8", &error));
    EXPECT_NE(error.find("bits set beyond the /8"), std::string::npos) << error;
    EXPECT_FALSE(parse_cidr("fc00::1/7", &error));
    EXPECT_FALSE(parse_cidr("fd00::/7", &error)); // fd = 1111 1101: bit 7 set
    EXPECT_TRUE(parse_cidr("fe00::/7", &error));  // fe = 1111 1110: fine
    EXPECT_FALSE(parse_cidr("192.168.1.0/16", &error));
    EXPECT_TRUE(parse_cidr("192.168.0.0/16", &error));
}

TEST(Cidr, NotAnAddressIsRefused) {
    for (std::string_view text : {"", "/8", "foo/8", "10.0.0/8", "[::1]/128", "10.0.0.0.0/8",
                                  "localhost"}) {
        std::string error;
        EXPECT_FALSE(parse_cidr(text, &error)) << text;
        EXPECT_NE(error.find("not an IP address"), std::string::npos) << text << ": " << error;
    }
    EXPECT_FALSE(parse_cidr("nope", nullptr)); // no error string wanted
}

} // namespace
} // namespace strowger::core
