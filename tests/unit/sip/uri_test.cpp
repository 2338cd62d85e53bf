#include <gtest/gtest.h>

#include "sip/uri.hpp"

namespace strowger::sip {
namespace {

Uri uri(std::string_view text) {
    auto u = parse_uri(text);
    EXPECT_TRUE(u) << text << ": " << name(u.error());
    return u.value_or(Uri{});
}

TEST(Uri, SipUriParts) {
    auto u = uri("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&x=y");
    EXPECT_EQ(u.scheme, Uri::Scheme::Sips);
    EXPECT_EQ(u.user, "alice");
    EXPECT_EQ(u.password, "secret");
    EXPECT_EQ(u.host, "[2001:db8::1]");
    EXPECT_TRUE(u.host_is_ipv6());
    EXPECT_EQ(u.port, 5061);
    EXPECT_EQ(u.param("transport"), "tcp");
    EXPECT_TRUE(u.has_param("lr"));
    EXPECT_EQ(u.headers, "subject=hi&x=y");
    EXPECT_EQ(uri("sip:example.com").port_or_default(), 5060);
    EXPECT_EQ(uri("sips:example.com").port_or_default(), 5061);
}

TEST(Uri, TelAndOtherSchemes) {
    auto t = uri("tel:+1-201-555-0123;phone-context=example.com");
    EXPECT_EQ(t.scheme, Uri::Scheme::Tel);
    EXPECT_EQ(t.opaque, "+1-201-555-0123");
    EXPECT_EQ(t.param("phone-context"), "example.com");
    auto m = uri("mailto:someone@example.com");
    EXPECT_EQ(m.scheme, Uri::Scheme::Other);
    EXPECT_EQ(m.opaque, "someone@example.com");
}

TEST(Uri, Refused) {
    for (const auto* bad : {"", "sip", ":foo", "sip:", "sip:@example.com", "sip:user@",
                            "sip:user@host:99999", "sip:user@host:", "sip:2001:db8::10",
                            "sip:[2001:db8::1", "sip:user@host;;lr", "sip:user@host;=x",
                            "sip:us er@host", "sip:user@ho st", "sip:user@host?",
                            "sip:user@host%zz", "sip:user%4@host", "1sip:host", "tel:",
                            "sip:user@-host", "sip:user@host\x01"}) {
        EXPECT_FALSE(parse_uri(bad)) << bad;
    }
    EXPECT_EQ(parse_uri("sip:user@host name").error(), SipError::WhitespaceInUri);
}

// RFC 3261 §19.1.4, the examples.
TEST(Uri, EquivalentPerRfc3261) {
    const std::pair<const char*, const char*> same[] = {
        {"sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"},
        {"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"},
        {"sip:carol@chicago.com", "sip:carol@chicago.com;security=on"},
        {"sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"},
        {"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
         "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"},
        {"sip:alice@atlanta.com?subject=project%20x&priority=urgent",
         "sip:alice@atlanta.com?priority=urgent&subject=project%20x"},
    };
    for (auto [a, b] : same) {
        EXPECT_TRUE(uri_equivalent(uri(a), uri(b))) << a << " vs " << b;
        EXPECT_TRUE(uri_equivalent(uri(b), uri(a))) << b << " vs " << a;
    }
}

TEST(Uri, NotEquivalentPerRfc3261) {
    const std::pair<const char*, const char*> different[] = {
        {"SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"},
        {"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"},
        {"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"},
        {"sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"},
        {"sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"},
        {"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"},
        {"sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"},
        {"sip:alice@atlanta.com", "sips:alice@atlanta.com"},
        {"sip:alice:pw@atlanta.com", "sip:alice@atlanta.com"},
    };
    for (auto [a, b] : different) {
        EXPECT_FALSE(uri_equivalent(uri(a), uri(b))) << a << " vs " << b;
        EXPECT_FALSE(uri_equivalent(uri(b), uri(a))) << b << " vs " << a;
    }
}

} // namespace
} // namespace strowger::sip
