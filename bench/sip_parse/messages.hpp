#pragma once
// The SIP messages the parser benchmark feeds to every parser (CRLF line ends, documentation
// addresses and names only), and the routing fields each parser must read out of them.
// Content-Length is checked against the body at compile time (see the static_asserts below).

#include <cstdint>
#include <string_view>

namespace sipbench {

// An INVITE as a second proxy receives it: two Via, a loose Route, an SDP offer.
inline constexpr std::string_view kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP proxy1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1"
    ";received=192.0.2.10\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;received=192.0.2.101"
    ";branch=z9hG4bK776asdhds;rport=5060\r\n"
    "Max-Forwards: 69\r\n"
    "Route: <sip:proxy2.biloxi.example.com;lr>\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>\r\n"
    "Content-Type: application/sdp\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, "
    "UPDATE\r\n"
    "Supported: replaces, timer, 100rel\r\n"
    "User-Agent: Softphone/4.2.1\r\n"
    "Content-Length: 217\r\n"
    "\r\n"
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.101\r\n"
    "t=0 0\r\n"
    "m=audio 49172 RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n";

// Bob's 200 OK to that INVITE, as proxy2 receives it: same Via, Record-Route, To tag, SDP answer.
inline constexpr std::string_view kOk =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP proxy1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1"
    ";received=192.0.2.10\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;received=192.0.2.101"
    ";branch=z9hG4bK776asdhds;rport=5060\r\n"
    "Record-Route: <sip:proxy2.biloxi.example.com;lr>\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:bob@client.biloxi.example.com:5060;transport=udp>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 215\r\n"
    "\r\n"
    "v=0\r\n"
    "o=bob 2808844564 2808844564 IN IP4 client.biloxi.example.com\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.201\r\n"
    "t=0 0\r\n"
    "m=audio 3456 RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n";

// A REGISTER straight from a phone: one Via, Contact with an expires parameter, no body.
inline constexpr std::string_view kRegister =
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n"
    "Call-ID: 843817637684230@998sdasdh09\r\n"
    "CSeq: 1826 REGISTER\r\n"
    "Contact: <sip:bob@192.0.2.4:5060;transport=udp>;expires=7200\r\n"
    "Expires: 7200\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, "
    "UPDATE\r\n"
    "User-Agent: Softphone/4.2.1 (Linux x86_64)\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

// What every parser must read out of a message. An empty string means "absent": the parser
// must report nothing there (e.g. no To tag in an initial request).
struct Expected {
    std::string_view via_branch; // top Via's branch
    std::string_view call_id;
    std::uint32_t cseq_number = 0;
    std::string_view cseq_method;
    std::string_view from_tag;
    std::string_view to_tag;
    std::string_view ruri_user; // requests: Request-URI user and host
    std::string_view ruri_host;
    int status = 0;             // responses: status code
    std::string_view route_host; // first Route's URI host
};

struct Case {
    std::string_view name;
    std::string_view text;
    Expected expected;
};

inline constexpr Case kCases[] = {
    {"INVITE", kInvite,
     {"z9hG4bK2d4790.1", "a84b4c76e66710@pc33.atlanta.example.com", 314159, "INVITE",
      "1928301774", "", "bob", "biloxi.example.com", 0, "proxy2.biloxi.example.com"}},
    {"200_OK", kOk,
     {"z9hG4bK2d4790.1", "a84b4c76e66710@pc33.atlanta.example.com", 314159, "INVITE",
      "1928301774", "a6c85cf", "", "", 200, ""}},
    {"REGISTER", kRegister,
     {"z9hG4bKnashds7", "843817637684230@998sdasdh09", 1826, "REGISTER", "456248", "", "",
      "registrar.biloxi.example.com", 0, ""}},
};

// Compile-time check that "Content-Length: N" equals the number of octets after the blank line.
constexpr bool content_length_matches(std::string_view m) {
    constexpr std::string_view key = "\r\nContent-Length: ";
    auto head_end = m.find("\r\n\r\n");
    auto at = m.find(key);
    if (head_end == std::string_view::npos || at == std::string_view::npos || at > head_end) {
        return false;
    }
    std::size_t value = 0;
    for (auto i = at + key.size(); i < m.size() && m[i] >= '0' && m[i] <= '9'; ++i) {
        value = value * 10 + static_cast<std::size_t>(m[i] - '0');
    }
    return value == m.size() - (head_end + 4);
}
static_assert(content_length_matches(kInvite), "INVITE Content-Length does not match its SDP");
static_assert(content_length_matches(kOk), "200 OK Content-Length does not match its SDP");
static_assert(content_length_matches(kRegister), "REGISTER Content-Length is not 0");

} // namespace sipbench
