#include <gtest/gtest.h>

#include <array>
#include <string>

#include "sip/header_list.hpp"
#include "sip/headers.hpp"
#include "sip/validate.hpp"
#include "sip/writer.hpp"
#include "test_data.hpp"

namespace strowger::sip {
namespace {

const std::string kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds8\r\n"
    "Max-Forwards: 70\r\n"
    "Route: <sip:proxy.example.com;lr>, <sip:p2.example.com;lr>\r\n"
    "Route: <sip:p3.example.com;lr>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    "CSeq: 1 INVITE\r\n"
    "X-Weird  :  kept   exactly ;; as, written\r\n"
    "Timestamp: 54\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

Message parsed(const std::string& bytes) {
    auto outcome = parse_message(bytes);
    EXPECT_TRUE(outcome.ok()) << name(outcome.error);
    EXPECT_EQ(validate(*outcome.message), SipError::None);
    return std::move(*outcome.message);
}

std::vector<std::string> values(const Message& m, HeaderId id) {
    std::vector<std::string> out;
    for_each_value(m, id, [&](std::string_view v) {
        out.emplace_back(v);
        return true;
    });
    return out;
}

TEST(Response, CopiesWhatRfc3261SaysAndAddsTheToTag) {
    auto req = parsed(kInvite);
    auto text = make_response(req, 180, "Ringing", {.to_tag = "a6c85cf"});
    auto resp = parsed(text);
    EXPECT_EQ(resp.status_code(), 180);
    EXPECT_EQ(resp.reason_phrase(), "Ringing");
    EXPECT_EQ(values(resp, HeaderId::Via), values(req, HeaderId::Via)); // all, in order
    EXPECT_EQ(resp.value(HeaderId::From), req.value(HeaderId::From));
    EXPECT_EQ(resp.value(HeaderId::CallId), req.value(HeaderId::CallId));
    EXPECT_EQ(resp.value(HeaderId::CSeq), req.value(HeaderId::CSeq));
    auto to = parse_name_addr(resp.value(HeaderId::To), SipError::BadTo);
    ASSERT_TRUE(to);
    EXPECT_EQ(to->tag(), "a6c85cf");
    EXPECT_EQ(resp.first(HeaderId::Timestamp), nullptr); // only 100 echoes it
    EXPECT_EQ(resp.first(HeaderId::Route), nullptr);
    EXPECT_EQ(*resp.content_length(), 0U);

    auto trying = parsed(make_response(req, 100, "Trying", {.to_tag = "x"}));
    EXPECT_EQ(trying.value(HeaderId::Timestamp), "54");
    EXPECT_FALSE(parse_name_addr(trying.value(HeaderId::To), SipError::BadTo)->tag());

    auto with_body = parsed(make_response(
        req, 200, "OK",
        {.to_tag = "t", .extra_headers = "Contact: <sip:bob@192.0.2.4>\r\n", .body = "v=0\r\n",
         .content_type = "application/sdp"}));
    EXPECT_EQ(with_body.body(), "v=0\r\n");
    EXPECT_EQ(with_body.value(HeaderId::ContentType), "application/sdp");
    EXPECT_EQ(with_body.value(HeaderId::Contact), "<sip:bob@192.0.2.4>");
}

TEST(Response, ErrorResponsesNameTheDefect) {
    auto req = parsed(kInvite);
    auto bad = parsed(make_error_response(req, SipError::BadVia, "z"));
    EXPECT_EQ(bad.status_code(), 400);
    EXPECT_EQ(bad.reason_phrase(), "Malformed Via");
    auto version = parsed(make_error_response(req, SipError::UnsupportedVersion));
    EXPECT_EQ(version.status_code(), 505);
}

TEST(Response, TheTortureTestsCanBeAnswered) {
    // RFC 4475 §3.1.2 messages the transport should answer with a 400 naming the defect.
    for (const auto* file : {"badinv01", "scalar02", "quotbal", "ltgtruri", "lwsstart", "trws",
                             "escruri", "baddate", "regbadct", "badaspec", "badvers",
                             "mismatch01", "mismatch02"}) {
        auto bytes = test::read_data_file(std::string("sip/rfc4475/") + file + ".dat");
        auto outcome = parse_message(std::string_view(
            reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        ASSERT_TRUE(outcome.message) << file;
        auto error = outcome.error != SipError::None ? outcome.error
                                                     : validate(*outcome.message);
        ASSERT_NE(error, SipError::None) << file;
        if (!can_answer(*outcome.message)) {
            continue; // e.g. an unreadable Via: nowhere to send an answer
        }
        auto reply = parse_message(make_error_response(*outcome.message, error, "s1"));
        ASSERT_TRUE(reply.message) << file;
        EXPECT_GE(reply.message->status_code(), 400) << file;
    }
}

TEST(Forward, SplicesOnlyWhatChanges) {
    auto req = parsed(kInvite);
    const std::array<std::string_view, 1> rr = {"<sip:192.0.2.10;lr>"};
    auto text = forward_request(req, {.request_uri = "sip:bob@192.0.2.4:5060",
                                      .via = "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKproxy1",
                                      .record_route = rr,
                                      .pop_routes = 1});
    auto fwd = parsed(text);
    EXPECT_EQ(fwd.request_uri(), "sip:bob@192.0.2.4:5060");
    auto vias = values(fwd, HeaderId::Via);
    ASSERT_EQ(vias.size(), 3U);
    EXPECT_EQ(vias[0], "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKproxy1");
    EXPECT_EQ(*parse_max_forwards(fwd.value(HeaderId::MaxForwards)), 69);
    EXPECT_EQ(values(fwd, HeaderId::RecordRoute), (std::vector<std::string>{"<sip:192.0.2.10;lr>"}));
    EXPECT_EQ(values(fwd, HeaderId::Route),
              (std::vector<std::string>{"<sip:p2.example.com;lr>", "<sip:p3.example.com;lr>"}));
    // Untouched lines are copied byte for byte, the body too.
    EXPECT_NE(text.find("X-Weird  :  kept   exactly ;; as, written\r\n"), std::string::npos);
    EXPECT_NE(text.find("From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"),
              std::string::npos);
    EXPECT_EQ(fwd.body(), "v=0\n");
    EXPECT_EQ(text.size(), kInvite.size() + (text.size() - kInvite.size())); // sanity
}

TEST(Forward, PopsWholeRouteLinesAndAddsMaxForwardsWhenMissing) {
    std::string no_mf = kInvite;
    no_mf.erase(no_mf.find("Max-Forwards: 70\r\n"), 18);
    auto req = parsed(no_mf);
    auto fwd = parsed(forward_request(req, {.via = "SIP/2.0/TCP p;branch=z9hG4bK1",
                                            .pop_routes = 3}));
    EXPECT_EQ(fwd.first(HeaderId::Route), nullptr);
    EXPECT_EQ(fwd.value(HeaderId::MaxForwards), "70");
    EXPECT_EQ(fwd.request_uri(), req.request_uri());

    const std::array<std::string_view, 1> push = {"<sip:first.example.com;lr>"};
    auto pushed = parsed(forward_request(req, {.via = "SIP/2.0/TCP p;branch=z9hG4bK2",
                                               .push_routes = push}));
    auto routes = values(pushed, HeaderId::Route);
    ASSERT_EQ(routes.size(), 4U);
    EXPECT_EQ(routes[0], "<sip:first.example.com;lr>");
}

TEST(Forward, KeepsFoldedAndCompactHeadersOfTortureMessages) {
    auto bytes = test::read_data_file("sip/rfc4475/wsinv.dat");
    std::string original(bytes.begin(), bytes.end());
    auto req = parsed(original);
    auto text = forward_request(req, {.via = "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKw"});
    auto fwd = parsed(text);
    EXPECT_EQ(*parse_max_forwards(fwd.value(HeaderId::MaxForwards)), 67);
    // Everything after Max-Forwards in the original is still there, unchanged.
    auto mf_line_end = req.first(HeaderId::MaxForwards)->line_end;
    EXPECT_NE(text.find(original.substr(mf_line_end)), std::string::npos);
    EXPECT_EQ(fwd.body(), req.body());
}

} // namespace
} // namespace strowger::sip
