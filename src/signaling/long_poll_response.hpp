#pragma once
// The response framing of libwebrtc's peerconnection_server, which its native client parses
// literally (it searches for "\r\nContent-Length: " and "\r\nPragma: "), so the header block
// is fixed in content and order.

#include <optional>
#include <string>
#include <string_view>

namespace strowger::signaling {

// "HTTP/1.1 <status>" followed by the fixed header block naming `server`; no Content-Type
// line when `content_type` is empty, a Pragma line when `pragma` is set.
std::string long_poll_response(std::string_view server, std::string_view status,
                               std::string_view content_type, std::string_view body,
                               std::optional<unsigned> pragma = {});

} // namespace strowger::signaling
