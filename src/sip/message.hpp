#pragma once
// A SIP message (RFC 3261 §7), parsed in place. The message owns its bytes; every view it hands
// out points into them and stays valid while the message lives (moving it keeps them valid).
//
// Parsing is one pass that splits the start line and indexes each header field (name, id,
// value, and where its line sits, for splicing). Header values are decoded only when asked:
// typed views (Via, name-addr, CSeq, ...) live in their own headers and take a value.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "sip/error.hpp"
#include "sip/header_id.hpp"

namespace strowger::sip {

struct HeaderField {
    HeaderId id = HeaderId::Unknown;
    std::string_view name;  // as written
    std::string_view value; // LWS-trimmed; may contain folding (CRLF SP)
    std::uint32_t line_begin = 0; // offset of the field's first byte in the message
    std::uint32_t line_end = 0;   // offset just past its line terminator
};

enum class Framing : std::uint8_t {
    Datagram, // UDP: one datagram, one message; octets past Content-Length are discarded
    Stream,   // TCP/TLS: Content-Length is mandatory (RFC 3261 §18.3)
};

class Message {
public:
    static constexpr std::size_t kDefaultMaxSize = 65535;

    Message() = default;
    // Move-only: a copy's views would point into the original's bytes. clone() re-parses.
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;
    Message(Message&&) noexcept = default;
    Message& operator=(Message&&) noexcept = default;

    [[nodiscard]] bool is_request() const noexcept { return request_; }
    [[nodiscard]] bool is_response() const noexcept { return !request_; }

    // Request line (empty for responses).
    [[nodiscard]] std::string_view method() const noexcept { return method_; }
    [[nodiscard]] std::string_view request_uri() const noexcept { return request_uri_; }
    // Status line (0 / empty for requests).
    [[nodiscard]] int status_code() const noexcept { return status_; }
    [[nodiscard]] std::string_view reason_phrase() const noexcept { return reason_; }
    [[nodiscard]] std::string_view version() const noexcept { return version_; }
    [[nodiscard]] std::string_view start_line() const noexcept { return start_line_; }

    [[nodiscard]] std::span<const HeaderField> headers() const noexcept {
        return {fields_, field_count_};
    }
    [[nodiscard]] const HeaderField* first(HeaderId id) const noexcept;
    [[nodiscard]] std::size_t count(HeaderId id) const noexcept;
    // The first field of a header that must appear once (Call-ID, CSeq, From, To, ...).
    [[nodiscard]] std::string_view value(HeaderId id) const noexcept;

    [[nodiscard]] std::string_view body() const noexcept { return body_; }
    // The whole message as framed: start line to the end of the body.
    [[nodiscard]] std::string_view raw() const noexcept {
        return {reinterpret_cast<const char*>(storage_.get()), message_size_};
    }
    // Offset of the empty line that ends the header section.
    [[nodiscard]] std::size_t header_end() const noexcept { return header_end_; }

    // Content-Length as written, when present.
    [[nodiscard]] std::optional<std::uint32_t> content_length() const noexcept {
        return content_length_;
    }

    friend struct ParseOutcome parse_message(std::string_view bytes, Framing framing,
                                             std::size_t max_size);

private:
    // One allocation holds the message bytes and, after them, room for kInlineFields header
    // fields; a message with more fields moves its index to spill_.
    static constexpr std::size_t kInlineFields = 32;
    void add_field(const HeaderField& field);

    std::unique_ptr<std::byte[]> storage_;
    HeaderField* fields_ = nullptr;
    std::size_t field_count_ = 0;
    std::vector<HeaderField> spill_;
    std::size_t message_size_ = 0;
    std::size_t header_end_ = 0;
    bool request_ = true;
    std::string_view start_line_;
    std::string_view method_;
    std::string_view request_uri_;
    std::string_view version_;
    int status_ = 0;
    std::string_view reason_;
    std::string_view body_;
    std::optional<std::uint32_t> content_length_;
};

struct ParseOutcome {
    // Present whenever the header section could be indexed, even with an error in the start
    // line or the framing: a 400 can often still be built from it.
    std::optional<Message> message;
    SipError error = SipError::None;

    [[nodiscard]] bool ok() const noexcept { return message && error == SipError::None; }
};

// Copies `bytes` into a new message and parses it. For a datagram the message ends at
// Content-Length (or at the end of the datagram without one).
ParseOutcome parse_message(std::string_view bytes, Framing framing = Framing::Datagram,
                           std::size_t max_size = Message::kDefaultMaxSize);

} // namespace strowger::sip
