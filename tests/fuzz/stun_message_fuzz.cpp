// Fuzz target: the STUN codec and Binding service. Any answer must itself parse as STUN and
// carry the request's transaction id.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "stun/binding_service.hpp"
#include "stun/integrity.hpp"
#include "stun/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace strowger;
    std::span<const std::uint8_t> bytes(data, size);
    (void)stun::frame_length(bytes);
    if (auto msg = stun::parse_message(bytes)) {
        (void)stun::verify_fingerprint(*msg);
        const std::array<std::uint8_t, 4> key = {1, 2, 3, 4};
        (void)stun::verify_message_integrity(*msg, key);
        (void)stun::verify_message_integrity_sha256(*msg, key);
        for (const auto& a : msg->attributes()) {
            (void)stun::decode_xor_address(a.value, msg->cookie_and_transaction_id());
        }
    }
    static stun::BindingService service("fuzz");
    std::array<std::uint8_t, stun::BindingService::kMaxResponse> out{};
    auto from = core::IpEndpoint::v4({192, 0, 2, 1}, 4242);
    auto response = service.handle(bytes, from, out);
    if (!response.empty()) {
        auto parsed = stun::parse_message(response);
        if (!parsed || !std::equal(parsed->cookie_and_transaction_id().begin(),
                                   parsed->cookie_and_transaction_id().end(), data + 4)) {
            __builtin_trap();
        }
    }
    return 0;
}
