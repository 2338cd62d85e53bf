// Fuzz target: SIP/SIPS/TEL/absolute URIs and name-addr values. Every accepted URI must be
// equivalent to itself and to a second parse of its own text.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/headers.hpp"
#include "sip/uri.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace strowger::sip;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto uri = parse_uri(text)) {
        auto again = parse_uri(uri->text);
        if (!again || !uri_equivalent(*uri, *again) || !uri_equivalent(*again, *uri)) {
            __builtin_trap();
        }
        uri->params.for_each([](const Param& p) { return !p.name.empty(); });
        (void)uri->param("transport");
        (void)uri->port_or_default();
    }
    if (auto na = parse_name_addr(text, SipError::BadContact)) {
        (void)na->tag();
        (void)unquote(na->display_name);
    }
    return 0;
}
