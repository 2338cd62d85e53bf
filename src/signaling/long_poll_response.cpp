#include "signaling/long_poll_response.hpp"

namespace strowger::signaling {

std::string long_poll_response(std::string_view server, std::string_view status,
                               std::string_view content_type, std::string_view body,
                               std::optional<unsigned> pragma) {
    std::string out;
    out.reserve(480 + body.size());
    out.append("HTTP/1.1 ").append(status).append("\r\n");
    out.append("Server: ").append(server).append("\r\n");
    out.append("Cache-Control: no-cache\r\n");
    out.append("Connection: close\r\n");
    if (!content_type.empty()) {
        out.append("Content-Type: ").append(content_type).append("\r\n");
    }
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    if (pragma) {
        out.append("Pragma: ").append(std::to_string(*pragma)).append("\r\n");
    }
    out.append("Access-Control-Allow-Origin: *\r\n"
               "Access-Control-Allow-Credentials: true\r\n"
               "Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n"
               "Access-Control-Allow-Headers: Content-Type, Content-Length, Connection, "
               "Cache-Control\r\n"
               "Access-Control-Expose-Headers: Content-Length, X-Peer-Id\r\n"
               "\r\n");
    out.append(body);
    return out;
}

} // namespace strowger::signaling
