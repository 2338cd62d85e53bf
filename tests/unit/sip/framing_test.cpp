#include <gtest/gtest.h>

#include <string>

#include "sip/framing.hpp"
#include "sip/message.hpp"

namespace strowger::sip {
namespace {

const std::string kRegister =
    "REGISTER sip:example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 192.0.2.4:5060;branch=z9hG4bKnashds7\r\n"
    "To: <sip:bob@example.com>\r\n"
    "From: <sip:bob@example.com>;tag=456248\r\n"
    "Call-ID: 843817637684230@998sdasdh09\r\n"
    "CSeq: 1826 REGISTER\r\n"
    "l: 4\r\n"
    "\r\n"
    "body";

TEST(StreamFraming, WaitsForTheWholeMessageByteByByte) {
    for (std::size_t n = 0; n < kRegister.size(); ++n) {
        auto f = frame_stream(std::string_view(kRegister).substr(0, n), 65535);
        ASSERT_EQ(f.kind, StreamFrame::Kind::NeedMore) << n;
    }
    auto f = frame_stream(kRegister, 65535);
    ASSERT_EQ(f.kind, StreamFrame::Kind::Complete);
    EXPECT_EQ(f.size, kRegister.size());
    EXPECT_EQ(f.consumed(), kRegister.size());
}

TEST(StreamFraming, KeepAlivesAndPipelinedMessages) {
    auto stream = "\r\n\r\n\r\n" + kRegister + kRegister;
    auto f = frame_stream(stream, 65535);
    ASSERT_EQ(f.kind, StreamFrame::Kind::Complete);
    EXPECT_EQ(f.skipped, 6U);
    EXPECT_EQ(f.pings, 1U);
    auto first = parse_message(std::string_view(stream).substr(f.skipped, f.size),
                               Framing::Stream);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first.message->body(), "body");
    auto g = frame_stream(std::string_view(stream).substr(f.consumed()), 65535);
    ASSERT_EQ(g.kind, StreamFrame::Kind::Complete);
    EXPECT_EQ(g.size, kRegister.size());
    auto only_pings = frame_stream("\r\n\r\n\r\n\r\n", 65535);
    EXPECT_EQ(only_pings.kind, StreamFrame::Kind::NeedMore);
    EXPECT_EQ(only_pings.pings, 2U);
    EXPECT_EQ(only_pings.consumed(), 8U);
}

TEST(StreamFraming, RefusesWhatCannotBeFramed) {
    auto without_length = std::string("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n");
    EXPECT_EQ(frame_stream(without_length, 65535).error, SipError::MissingContentLength);
    auto two = std::string("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\nl: 0\r\n\r\n");
    EXPECT_EQ(frame_stream(two, 65535).error, SipError::MultipleContentLength);
    auto negative = std::string("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -999\r\n\r\n");
    EXPECT_EQ(frame_stream(negative, 65535).error, SipError::BadContentLength);
    EXPECT_EQ(frame_stream(kRegister, 100).error, SipError::TooLarge);
    std::string endless(200, 'x');
    EXPECT_EQ(frame_stream(endless, 100).error, SipError::TooLarge);
    EXPECT_EQ(frame_stream(endless, 1000).kind, StreamFrame::Kind::NeedMore);
}

TEST(DatagramParse, LimitsAndKeepAlives) {
    EXPECT_EQ(parse_message("\r\n\r\n").error, SipError::Empty);
    EXPECT_EQ(parse_message(kRegister, Framing::Datagram, 50).error, SipError::TooLarge);
    auto no_length = std::string("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\nxyz");
    EXPECT_EQ(parse_message(no_length, Framing::Stream).error, SipError::MissingContentLength);
    auto udp = parse_message(no_length, Framing::Datagram);
    ASSERT_TRUE(udp.message);
    EXPECT_EQ(udp.message->body(), "xyz"); // a datagram's body is the rest of it
}

} // namespace
} // namespace strowger::sip
