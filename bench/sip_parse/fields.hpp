#pragma once
// The routing fields each parser reads in every iteration, and the hooks each parser's own
// translation unit provides to main.cpp (one .cpp per parser, so no third-party header is seen
// by another parser's code).

#include <cstdint>
#include <string_view>

#include "messages.hpp"

namespace sipbench {

// Views into the parser's own storage: valid only until that parser frees its message.
struct Fields {
    std::string_view via_branch;
    std::string_view call_id;      // the whole Call-ID, or (oSIP) the part before '@'
    std::string_view call_id_host; // oSIP only: the part after '@'
    std::uint32_t cseq_number = 0;
    std::string_view cseq_method;
    std::string_view from_tag;
    std::string_view to_tag;
    std::string_view ruri_user;
    std::string_view ruri_host;
    int status = 0;
    std::string_view route_host;
};

// A C string from a parser as a view; NULL becomes the empty view ("absent").
inline std::string_view view(const char* s) { return s == nullptr ? std::string_view{} : s; }

// Compares what a parser read with what the message holds; prints every mismatch to stderr.
bool check_fields(std::string_view parser, const Case& c, const Fields& f);

// Per parser: parse `c` once, read its fields and check them (outside any timing), and register
// the timed benchmark "<message>/<parser>".
bool verify_strowger(const Case& c);
void register_strowger(const Case& c);
bool verify_osip(const Case& c);
void register_osip(const Case& c);
bool verify_sofia(const Case& c);
void register_sofia(const Case& c);

} // namespace sipbench
