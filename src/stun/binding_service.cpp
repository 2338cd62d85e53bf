#include "stun/binding_service.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "core/byte_reader.hpp"
#include "stun/integrity.hpp"
#include "stun/message_writer.hpp"

namespace strowger::stun {
namespace {

// Comprehension-required attributes a Binding request may carry that this server understands.
// MESSAGE-INTEGRITY and USERNAME come with ICE checks and are not used: a public Binding
// service answers everyone (§12 note: no authentication is required for Binding).
bool understood(std::uint16_t type) {
    switch (type) {
    case attr::kMappedAddress:
    case attr::kChangeRequest:
    case attr::kUsername:
    case attr::kMessageIntegrity:
    case attr::kErrorCode:
    case attr::kUnknownAttributes:
    case attr::kRealm:
    case attr::kNonce:
    case attr::kMessageIntegritySha256:
    case attr::kPasswordAlgorithm:
    case attr::kUserhash:
    case attr::kXorMappedAddress:
    case attr::kPriority:
    case attr::kUseCandidate:
    case attr::kPadding:
        return true;
    default:
        return false;
    }
}

// RFC 5780 §7.2: flag bits of CHANGE-REQUEST.
constexpr std::uint32_t kChangeIp = 0x4;
constexpr std::uint32_t kChangePort = 0x2;

} // namespace

BindingService::BindingService(std::string software) : software_(std::move(software)) {}

std::span<const std::uint8_t> BindingService::handle(std::span<const std::uint8_t> request,
                                                     const core::IpEndpoint& from,
                                                     std::span<std::uint8_t> out) noexcept {
    auto msg = parse_message(request);
    if (!msg) {
        ++stats_.malformed;
        return {};
    }
    // §7.3: a FINGERPRINT that does not match means this is not a STUN message for us.
    if (msg->fingerprint() != nullptr && !verify_fingerprint(*msg)) {
        ++stats_.bad_fingerprint;
        return {};
    }
    if (msg->message_class() != MessageClass::Request) {
        // §6.3.2: indications get no response; a Binding indication is a keep-alive.
        bool keepalive = msg->message_class() == MessageClass::Indication &&
                         msg->method() == method::kBinding;
        ++(keepalive ? stats_.indications : stats_.ignored);
        return {};
    }
    if (msg->method() != method::kBinding) {
        ++stats_.errors;
        return error(*msg, error::kBadRequest, "Unsupported method", {}, out);
    }
    ++stats_.requests;

    // §6.3.1: refuse unknown comprehension-required attributes with 420, listing them.
    // §14.5: attributes after MESSAGE-INTEGRITY are ignored, except the two that may follow it.
    std::array<std::uint16_t, Message::kMaxAttributes> unknown{};
    std::size_t unknown_count = 0;
    bool after_integrity = false;
    for (const auto& a : msg->attributes()) {
        if (after_integrity && a.type != attr::kMessageIntegritySha256 &&
            a.type != attr::kFingerprint) {
            continue;
        }
        after_integrity = after_integrity || a.type == attr::kMessageIntegrity;
        if (attr::is_comprehension_required(a.type) && !understood(a.type)) {
            unknown[unknown_count++] = a.type;
        }
    }
    if (unknown_count > 0) {
        ++stats_.errors;
        return error(*msg, error::kUnknownAttribute, "Unknown Attribute",
                     std::span(unknown.data(), unknown_count), out);
    }

    // RFC 5780 §7.2: a server without an alternate address cannot change IP or port and says
    // so with 420. With no flags set (what RFC 3489 clients always send) it is a plain Binding.
    if (const auto* change = msg->find(attr::kChangeRequest)) {
        core::ByteReader r{change->value};
        auto flags = r.u32be();
        if (!r.ok() || change->value.size() != 4) {
            ++stats_.errors;
            return error(*msg, error::kBadRequest, "Malformed CHANGE-REQUEST", {}, out);
        }
        if ((flags & (kChangeIp | kChangePort)) != 0) {
            ++stats_.errors;
            const std::uint16_t change_request[] = {attr::kChangeRequest};
            return error(*msg, error::kUnknownAttribute, "No alternate address", change_request,
                         out);
        }
    }
    ++stats_.success;
    return success(*msg, from, out);
}

std::span<const std::uint8_t> BindingService::success(const Message& request,
                                                      const core::IpEndpoint& from,
                                                      std::span<std::uint8_t> out) noexcept {
    MessageWriter w{out};
    w.begin(message_type(method::kBinding, MessageClass::SuccessResponse),
            request.cookie_and_transaction_id());
    if (request.has_magic_cookie()) {
        w.add_xor_address(attr::kXorMappedAddress, from);
        w.add_string(attr::kSoftware, software_);
        w.add_fingerprint();
    } else {
        // RFC 8489 §12.2: an RFC 3489 client gets MAPPED-ADDRESS and none of the newer
        // attributes it would not understand.
        w.add_address(attr::kMappedAddress, from);
    }
    return w.bytes();
}

std::span<const std::uint8_t> BindingService::error(const Message& request, int code,
                                                    std::string_view reason,
                                                    std::span<const std::uint16_t> unknown,
                                                    std::span<std::uint8_t> out) noexcept {
    MessageWriter w{out};
    w.begin(message_type(request.method(), MessageClass::ErrorResponse),
            request.cookie_and_transaction_id());
    w.add_error_code(code, reason);
    if (!unknown.empty()) {
        if (!request.has_magic_cookie() && unknown.size() % 2 == 1) {
            // RFC 3489 §11.2.3: classic clients expect an odd list to repeat one attribute so
            // that its length is a multiple of 4 (RFC 8489 pads instead).
            std::array<std::uint16_t, Message::kMaxAttributes + 1> even{};
            std::copy(unknown.begin(), unknown.end(), even.begin());
            even[unknown.size()] = unknown.back();
            w.add_unknown_attributes(std::span(even.data(), unknown.size() + 1));
        } else {
            w.add_unknown_attributes(unknown);
        }
    }
    if (request.has_magic_cookie()) {
        w.add_string(attr::kSoftware, software_);
        w.add_fingerprint();
    }
    return w.bytes();
}

} // namespace strowger::stun
