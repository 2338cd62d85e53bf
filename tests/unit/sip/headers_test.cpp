#include <gtest/gtest.h>

#include <vector>

#include "sip/header_list.hpp"
#include "sip/headers.hpp"

namespace strowger::sip {
namespace {

std::vector<std::string> split(std::string_view value, SipError expected = SipError::None) {
    std::vector<std::string> items;
    EXPECT_EQ(split_list(value,
                         [&](std::string_view item) {
                             items.emplace_back(item);
                             return true;
                         }),
              expected)
        << value;
    return items;
}

TEST(HeaderList, SplitsOutsideQuotesAndBrackets) {
    EXPECT_EQ(split(R"("Doe, John" <sip:j@x;a=1,2>;q=0.5 , <sip:k@y>)"),
              (std::vector<std::string>{R"("Doe, John" <sip:j@x;a=1,2>;q=0.5)", "<sip:k@y>"}));
    EXPECT_EQ(split("INVITE, ACK,BYE"), (std::vector<std::string>{"INVITE", "ACK", "BYE"}));
    split("a,,b", SipError::EmptyListItem);
    // An unclosed bracket ends with the value (this once looped forever; found by fuzzing).
    EXPECT_EQ(split("<sip:a@b, <sip:c@d"), (std::vector<std::string>{"<sip:a@b, <sip:c@d"}));
    split(R"("open, <sip:x@y>)", SipError::UnterminatedQuote);
}

TEST(Via, FieldsAndParameters) {
    auto v = parse_via("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3;rport;received=[2001:db8::9:255];ttl=16");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->transport, "UDP");
    EXPECT_EQ(v->host, "[2001:db8::9:1]");
    EXPECT_EQ(v->port, 6050);
    EXPECT_EQ(v->sent_by, "[2001:db8::9:1]:6050");
    EXPECT_EQ(v->branch(), "z9hG4bKas3");
    EXPECT_TRUE(v->has_rport());
    EXPECT_EQ(v->received(), "[2001:db8::9:255]");
    EXPECT_EQ(v->ttl(), "16");
    EXPECT_TRUE(v->has_rfc3261_branch());
    auto ws = parse_via("SIP / 2.0 / WSS df7jal23ls0d.invalid;branch=z9hG4bK5a;rport=5060");
    ASSERT_TRUE(ws);
    EXPECT_EQ(ws->transport, "WSS");
    EXPECT_FALSE(ws->port);
    for (const auto* bad : {"SIP/2.0 host", "SIP/2.0/UDP", "SIP/2.0/UDP host:70000",
                            "SIP/2.0/UDP host;branch", "SIP/2.0/UDP host;;x",
                            "SIP/2.0/UDP host;ttl=300", "SIP/2.0/UDPhost"}) {
        EXPECT_FALSE(parse_via(bad)) << bad;
    }
}

TEST(FirstValue, ViaAndRouteStopAtTheirComma) {
    auto v = parse_first_via("SIP/2.0/UDP a.example.com;branch=z9hG4bK1;rport , SIP/2.0/TCP b");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->host, "a.example.com");
    EXPECT_EQ(v->branch(), "z9hG4bK1");
    EXPECT_TRUE(v->has_rport());
    EXPECT_FALSE(parse_via("SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b"));
    auto only = parse_first_via("SIP/2.0/UDP a.example.com;branch=z9hG4bK1");
    ASSERT_TRUE(only);
    EXPECT_EQ(only->branch(), "z9hG4bK1");

    auto r = parse_first_name_addr("<sip:p1.example.com;lr>;x=1, <sip:p2.example.com;lr>",
                                   SipError::BadRoute);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->uri.host, "p1.example.com");
    EXPECT_EQ(r->params.get("x"), "1");
    auto bare = parse_first_name_addr("sip:p1.example.com;lr, sip:p2.example.com",
                                      SipError::BadRoute);
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->uri.text, "sip:p1.example.com");
    auto quoted = parse_first_name_addr(R"("a, b" <sip:x@y>, <sip:z@w>)", SipError::BadRoute);
    ASSERT_TRUE(quoted);
    EXPECT_EQ(quoted->uri.host, "y");
}

TEST(NameAddr, Forms) {
    auto q = parse_name_addr(R"("Alice \"A\" Liddell" <sip:alice@example.com;transport=tcp>;tag=88sja8x)", SipError::BadFrom);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->display_name, R"("Alice \"A\" Liddell")");
    EXPECT_EQ(unquote(q->display_name), R"(Alice \"A\" Liddell)");
    EXPECT_EQ(q->tag(), "88sja8x");
    EXPECT_EQ(q->uri.param("transport"), "tcp");
    auto t = parse_name_addr("Bob Smith <sip:bob@example.com>", SipError::BadTo);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->display_name, "Bob Smith");
    auto bare = parse_name_addr("sip:bob@example.com;tag=1", SipError::BadTo);
    ASSERT_TRUE(bare);
    EXPECT_FALSE(bare->bracketed);
    EXPECT_EQ(bare->tag(), "1");
    EXPECT_FALSE(bare->uri.has_param("tag"));
    EXPECT_EQ(parse_name_addr("sip:a@b?x=y", SipError::BadTo).error(),
              SipError::AddrSpecNeedsBrackets);
    EXPECT_EQ(parse_name_addr("<sip:a@b", SipError::BadTo).error(), SipError::BadTo);
    EXPECT_EQ(parse_name_addr("<sip:a@b>;tag=1;", SipError::BadTo).error(),
              SipError::EmptyParameter);
}

TEST(Contact, StarExpiresAndQ) {
    auto star = parse_contact(" * ");
    ASSERT_TRUE(star);
    EXPECT_TRUE(star->star);
    auto c = parse_contact(R"(<sip:a@192.0.2.4>;expires=3600;q=0.7;+sip.instance="<urn:uuid:0001>")");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->expires(), "3600");
    EXPECT_EQ(c->address.params.get("q"), "0.7");
    EXPECT_EQ(c->address.params.get("+sip.instance"), R"("<urn:uuid:0001>")");
    EXPECT_EQ(parse_contact("<sip:a@b>;expires=99999999999").error(), SipError::BadContact);
}

TEST(Scalars, CSeqMaxForwardsExpiresCallIdDate) {
    auto cseq = parse_cseq(" 0009 \r\n  INVITE ");
    ASSERT_TRUE(cseq);
    EXPECT_EQ(cseq->number, 9U);
    EXPECT_EQ(cseq->method, "INVITE");
    EXPECT_EQ(parse_cseq("4294967295 ACK")->number, 4294967295U);
    for (const auto* bad : {"4294967296 ACK", "1", "-1 INVITE", "1 INVITE x", "INVITE 1"}) {
        EXPECT_FALSE(parse_cseq(bad)) << bad;
    }
    EXPECT_EQ(*parse_max_forwards("0068"), 68);
    EXPECT_FALSE(parse_max_forwards("256"));
    EXPECT_EQ(*parse_delta_seconds("3600", SipError::BadExpires), 3600U);
    EXPECT_FALSE(parse_delta_seconds("4294967296", SipError::BadExpires));
    EXPECT_TRUE(parse_call_id("f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com"));
    EXPECT_FALSE(parse_call_id("a@b@c"));
    EXPECT_FALSE(parse_call_id("with space"));
    EXPECT_TRUE(parse_date("Sat, 13 Nov 2010 23:29:00 GMT"));
    EXPECT_FALSE(parse_date("Fri, 01 Jan 2010 16:00:00 EST"));
}

TEST(Auth, DigestParameters) {
    auto a = parse_auth(R"(Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41")");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->scheme, "Digest");
    EXPECT_EQ(a->param("realm"), "biloxi.com");
    EXPECT_EQ(a->param("qop"), "auth");
    EXPECT_EQ(a->param("nc"), "00000001");
    EXPECT_EQ(a->param("opaque"), "5ccc069c403ebaf9f0171e9517f40e41");
    EXPECT_FALSE(a->param("algorithm"));
    EXPECT_FALSE(parse_auth(R"(Digest realm="open)"));
    EXPECT_FALSE(parse_auth("Digest realm"));
}

TEST(OtherHeaders, TokenLists) {
    // RFC 4475 §3.3.5 (bext01): option tags to refuse with 420 are read this way.
    std::vector<std::string> tags;
    for (const auto& item : split("newfeature, 100rel , timer")) {
        auto t = parse_token_item(item);
        ASSERT_TRUE(t) << item;
        tags.emplace_back(*t);
    }
    EXPECT_EQ(tags, (std::vector<std::string>{"newfeature", "100rel", "timer"}));
    EXPECT_FALSE(parse_token_item("not a token"));
    EXPECT_FALSE(parse_token_item("<x>"));
}

TEST(OtherHeaders, ReasonReplacesEventMediaType) {
    auto r = parse_reason(R"(SIP ;cause=200 ;text="Call completed elsewhere")");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->protocol, "SIP");
    EXPECT_EQ(r->cause(), "200");
    EXPECT_EQ(unquote(*r->text()), "Call completed elsewhere");
    auto rep = parse_replaces("425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only");
    ASSERT_TRUE(rep);
    EXPECT_EQ(rep->call_id, "425928@bobster.example.org");
    EXPECT_EQ(rep->to_tag(), "7743");
    EXPECT_EQ(rep->from_tag(), "6472");
    EXPECT_TRUE(rep->early_only());
    auto ev = parse_token_with_params("refer;id=93809824", SipError::BadHeaderValue);
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->token, "refer");
    EXPECT_EQ(ev->params.get("id"), "93809824");
    auto ss = parse_token_with_params("terminated;reason=noresource", SipError::BadHeaderValue);
    ASSERT_TRUE(ss);
    EXPECT_EQ(ss->params.get("reason"), "noresource");
    auto mt = parse_media_type("multipart/mixed;boundary=unique-boundary-1");
    ASSERT_TRUE(mt);
    EXPECT_EQ(mt->subtype, "mixed");
    EXPECT_EQ(mt->params.get("boundary"), "unique-boundary-1");
    auto refer = parse_name_addr("<sip:bob@biloxi.example.net?Replaces=12345%40192.0.2.1%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>", SipError::BadHeaderValue);
    ASSERT_TRUE(refer);
    EXPECT_EQ(refer->uri.headers.substr(0, 9), "Replaces=");
}

} // namespace
} // namespace strowger::sip
