#include "sip/message.hpp"

#include <cstring>

#include "sip/syntax.hpp"

namespace strowger::sip {
namespace {

constexpr std::size_t kMaxHeaders = 256;

// Returns the end of the line starting at `pos` (the index of its '\n'), or npos.
std::size_t line_end(std::string_view text, std::size_t pos) {
    const void* nl = std::memchr(text.data() + pos, '\n', text.size() - pos);
    return nl == nullptr ? std::string_view::npos
                         : static_cast<std::size_t>(static_cast<const char*>(nl) - text.data());
}

// The line's content, without its CR LF (or bare LF, tolerated).
std::string_view line_content(std::string_view text, std::size_t begin, std::size_t nl) {
    auto end = nl;
    if (end > begin && text[end - 1] == '\r') {
        --end;
    }
    return text.substr(begin, end - begin);
}

bool is_sip_version(std::string_view v) { return iequals(v, "SIP/2.0"); }

// "SIP/" 1*DIGIT "." 1*DIGIT
bool looks_like_version(std::string_view v) {
    if (v.size() < 7 || !iequals(v.substr(0, 4), "SIP/")) {
        return false;
    }
    auto dot = v.find('.', 4);
    return dot != std::string_view::npos && dot > 4 && dot + 1 < v.size();
}

} // namespace

void Message::add_field(const HeaderField& field) {
    if (spill_.empty() && field_count_ < kInlineFields) {
        std::construct_at(fields_ + field_count_, field);
    } else {
        if (spill_.empty()) {
            spill_.assign(fields_, fields_ + field_count_);
        }
        spill_.push_back(field);
        fields_ = spill_.data();
    }
    ++field_count_;
}

const HeaderField* Message::first(HeaderId id) const noexcept {
    for (const auto& h : headers()) {
        if (h.id == id) {
            return &h;
        }
    }
    return nullptr;
}

std::size_t Message::count(HeaderId id) const noexcept {
    std::size_t n = 0;
    for (const auto& h : headers()) {
        n += h.id == id ? 1 : 0;
    }
    return n;
}

std::string_view Message::value(HeaderId id) const noexcept {
    const auto* h = first(id);
    return h == nullptr ? std::string_view{} : h->value;
}

namespace {

// RFC 3261 §7.1: Request-Line = Method SP Request-URI SP SIP-Version CRLF; exactly one SP.
SipError parse_request_line(std::string_view line, std::string_view& method,
                            std::string_view& uri, std::string_view& version) {
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) {
        return SipError::BadStartLine;
    }
    method = line.substr(0, sp1);
    if (!is_token(method)) {
        return SipError::BadMethod;
    }
    if (line.back() == ' ' || line.back() == '\t' || line[sp1 + 1] == ' ' ||
        line[sp1 + 1] == '\t') {
        return SipError::ExtraWhitespaceInStartLine;
    }
    auto sp2 = line.rfind(' ');
    if (sp2 == sp1) {
        return SipError::BadStartLine; // no version
    }
    version = line.substr(sp2 + 1);
    uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (!looks_like_version(version)) {
        return SipError::BadStartLine;
    }
    for (char c : uri) {
        if (is_wsp(c)) {
            return uri.back() == ' ' ? SipError::ExtraWhitespaceInStartLine
                                     : SipError::WhitespaceInRequestUri;
        }
    }
    if (uri.front() == '<') {
        return SipError::BracketedRequestUri;
    }
    if (!is_sip_version(version)) {
        return SipError::UnsupportedVersion;
    }
    return SipError::None;
}

// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
SipError parse_status_line(std::string_view line, std::string_view& version, int& status,
                           std::string_view& reason) {
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) {
        return SipError::BadStartLine;
    }
    version = line.substr(0, sp1);
    auto rest = line.substr(sp1 + 1);
    auto sp2 = rest.find(' ');
    auto code = rest.substr(0, sp2);
    reason = sp2 == std::string_view::npos ? std::string_view{} : rest.substr(sp2 + 1);
    if (code.size() != 3 || !is_digit(code[0]) || !is_digit(code[1]) || !is_digit(code[2]) ||
        code[0] < '1' || code[0] > '6') {
        return SipError::BadStatusCode;
    }
    status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    if (!is_sip_version(version)) {
        return looks_like_version(version) ? SipError::UnsupportedVersion
                                           : SipError::BadStartLine;
    }
    return SipError::None;
}

} // namespace

ParseOutcome parse_message(std::string_view bytes, Framing framing, std::size_t max_size) {
    ParseOutcome out;
    auto fail = [&out](SipError e) {
        if (out.error == SipError::None) {
            out.error = e;
        }
    };

    // RFC 3261 §7.5: ignore CRLFs before the start line (keep-alives, or stray ones on UDP).
    while (!bytes.empty() && (bytes.front() == '\r' || bytes.front() == '\n')) {
        bytes.remove_prefix(1);
    }
    if (bytes.empty()) {
        out.error = SipError::Empty;
        return out;
    }
    if (bytes.size() > max_size) {
        out.error = SipError::TooLarge;
        return out;
    }

    Message msg;
    auto index_offset = (bytes.size() + alignof(HeaderField) - 1) / alignof(HeaderField) *
                        alignof(HeaderField);
    // Uninitialised on purpose: the bytes are copied in and fields constructed as found.
    msg.storage_.reset(new std::byte[index_offset + Message::kInlineFields * sizeof(HeaderField)]);
    std::memcpy(msg.storage_.get(), bytes.data(), bytes.size());
    msg.fields_ = reinterpret_cast<HeaderField*>(msg.storage_.get() + index_offset);
    std::string_view text(reinterpret_cast<const char*>(msg.storage_.get()), bytes.size());

    auto nl = line_end(text, 0);
    if (nl == std::string_view::npos) {
        out.error = SipError::HeadersNotTerminated;
        return out;
    }
    msg.start_line_ = line_content(text, 0, nl);
    if (msg.start_line_.substr(0, 4) == "SIP/") {
        msg.request_ = false;
        fail(parse_status_line(msg.start_line_, msg.version_, msg.status_, msg.reason_));
    } else {
        fail(parse_request_line(msg.start_line_, msg.method_, msg.request_uri_, msg.version_));
    }

    // Header fields, until the empty line. A line starting with SP/HT continues the previous
    // field (folding, RFC 3261 §7.3.1).
    std::size_t pos = nl + 1;
    bool terminated = false;
    while (pos < text.size()) {
        auto end = line_end(text, pos);
        if (end == std::string_view::npos) {
            break;
        }
        auto line = line_content(text, pos, end);
        if (line.empty()) {
            msg.header_end_ = pos;
            pos = end + 1;
            terminated = true;
            break;
        }
        if (is_wsp(line.front())) {
            if (msg.field_count_ == 0) {
                fail(SipError::BadHeaderLine);
            } else {
                auto& h = msg.fields_[msg.field_count_ - 1];
                auto value_start = static_cast<std::size_t>(h.value.data() - text.data());
                if (h.value.empty()) {
                    value_start = pos; // value began on this continuation line
                }
                h.value = trim_lws(text.substr(value_start, pos + line.size() - value_start));
                h.line_end = static_cast<std::uint32_t>(end + 1);
            }
            pos = end + 1;
            continue;
        }
        // field-name HCOLON: a token, optional white space (RFC 4475 §3.1.1.7), a colon. One
        // scan checks the token and finds the colon.
        HeaderField field;
        field.line_begin = static_cast<std::uint32_t>(pos);
        field.line_end = static_cast<std::uint32_t>(end + 1);
        std::size_t i = 0;
        while (i < line.size() && is_token_char(line[i])) {
            ++i;
        }
        auto name = line.substr(0, i);
        while (i < line.size() && is_wsp(line[i])) {
            ++i;
        }
        if (name.empty() || i == line.size() || line[i] != ':') {
            fail(SipError::BadHeaderLine);
            pos = end + 1;
            continue;
        }
        field.name = name;
        field.id = header_id(name, header_name_key(name));
        field.value = trim_lws(line.substr(i + 1));
        if (field.value.empty()) {
            // Point an empty value at the line so a continuation can extend it.
            field.value = text.substr(pos + line.size(), 0);
        }
        if (msg.field_count_ == kMaxHeaders) {
            fail(SipError::TooManyHeaders);
            break;
        }
        msg.add_field(field);
        pos = end + 1;
    }
    if (!terminated) {
        out.error = SipError::HeadersNotTerminated;
        return out; // the header section may be cut anywhere: nothing to answer from
    }

    // Body framing (RFC 3261 §18.3, §20.14).
    std::size_t available = text.size() - pos;
    std::size_t body_size = available;
    const HeaderField* cl = nullptr;
    for (const auto& h : msg.headers()) {
        if (h.id == HeaderId::ContentLength) {
            if (cl != nullptr) {
                fail(SipError::MultipleContentLength);
                break;
            }
            cl = &h;
        }
    }
    if (cl != nullptr) {
        auto value = parse_decimal(cl->value, UINT32_MAX);
        if (!value) {
            fail(SipError::BadContentLength);
        } else {
            msg.content_length_ = static_cast<std::uint32_t>(*value);
            if (*value > available) {
                fail(SipError::BodyTooShort);
            } else {
                body_size = *value; // a datagram's extra octets are discarded
            }
        }
    } else if (framing == Framing::Stream) {
        fail(SipError::MissingContentLength);
    }
    msg.body_ = text.substr(pos, body_size);
    msg.message_size_ = pos + body_size;
    out.message = std::move(msg);
    return out;
}

} // namespace strowger::sip
