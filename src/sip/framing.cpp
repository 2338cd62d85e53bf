#include "sip/framing.hpp"

#include "sip/syntax.hpp"

namespace strowger::sip {
namespace {

// Content-Length in a header section (full or compact name, any case, LWS before the colon).
// Returns the error, or None with `length` set.
SipError find_content_length(std::string_view headers, std::size_t& length) {
    bool found = false;
    std::size_t pos = 0;
    while (pos < headers.size()) {
        auto nl = headers.find('\n', pos);
        auto line = headers.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
        pos = nl == std::string_view::npos ? headers.size() : nl + 1;
        auto colon = line.find(':');
        if (colon == std::string_view::npos || line.empty() || is_wsp(line[0])) {
            continue;
        }
        auto name = line.substr(0, colon);
        while (!name.empty() && is_wsp(name.back())) {
            name.remove_suffix(1);
        }
        if (!iequals(name, "Content-Length") && !iequals(name, "l")) {
            continue;
        }
        if (found) {
            return SipError::MultipleContentLength;
        }
        found = true;
        // A folded Content-Length value is legal but absurd; the first line must hold it.
        auto value = parse_decimal(trim_lws(line.substr(colon + 1)), UINT32_MAX);
        if (!value) {
            return SipError::BadContentLength;
        }
        length = static_cast<std::size_t>(*value);
    }
    return found ? SipError::None : SipError::MissingContentLength;
}

} // namespace

StreamFrame frame_stream(std::string_view buffer, std::size_t max_size) {
    StreamFrame f;
    // Keep-alives: count each CRLFCRLF as a ping; a lone CRLF (a pong) is skipped silently.
    while (f.skipped < buffer.size() && (buffer[f.skipped] == '\r' || buffer[f.skipped] == '\n')) {
        if (buffer.substr(f.skipped, 4) == "\r\n\r\n") {
            ++f.pings;
            f.skipped += 4;
        } else {
            ++f.skipped;
        }
    }
    auto rest = buffer.substr(f.skipped);
    if (rest.empty()) {
        return f;
    }
    auto end = rest.find("\r\n\r\n");
    std::size_t terminator = 4;
    if (auto lf = rest.find("\n\n"); lf != std::string_view::npos && lf < end) {
        end = lf; // bare LF line ends, tolerated as by the parser
        terminator = 2;
    }
    if (end == std::string_view::npos) {
        if (rest.size() > max_size) {
            f.kind = StreamFrame::Kind::Malformed;
            f.error = SipError::TooLarge;
        }
        return f;
    }
    std::size_t body = 0;
    if (auto e = find_content_length(rest.substr(0, end + terminator / 2), body);
        e != SipError::None) {
        f.kind = StreamFrame::Kind::Malformed;
        f.error = e;
        return f;
    }
    auto total = end + terminator + body;
    if (total > max_size) {
        f.kind = StreamFrame::Kind::Malformed;
        f.error = SipError::TooLarge;
        return f;
    }
    if (rest.size() < total) {
        return f;
    }
    f.kind = StreamFrame::Kind::Complete;
    f.size = total;
    return f;
}

} // namespace strowger::sip
