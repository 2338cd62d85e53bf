// Fuzz target: Digest credentials (Authorization / Proxy-Authorization values) and the
// authenticator that judges them. A value the parser accepts must carry every required
// parameter, a known algorithm, a response of that algorithm's length and, with qop, an
// 8-digit nonce-count; the authenticator must answer it (or a REGISTER carrying it) with a
// challenge, a refusal or a pass, and never pass it for a user whose password it lacks.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sip/authenticator.hpp"
#include "sip/digest.hpp"
#include "sip/message.hpp"

namespace {

using namespace strowger;

class OneAccount final : public sip::AccountKeys {
public:
    std::optional<sip::DigestKeys> find(std::string_view user, std::string_view realm) override {
        if (user != "alice") {
            return std::nullopt;
        }
        return sip::DigestKeys{sip::digest_hash(sip::DigestHash::Md5, "alice:" + std::string(realm) + ":pw"),
                               sip::digest_hash(sip::DigestHash::Sha256, "alice:" + std::string(realm) + ":pw")};
    }
    bool any() override { return true; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static OneAccount accounts;
    static sip::AuthLedger ledger(300, {.max_nonces = 64, .max_addresses = 16});
    static sip::Authenticator auth(0, {.mode = sip::AuthMode::Required, .realm = "example.test"},
                                   &accounts, ledger, sip::DigestNonces::Key{7});
    static std::int64_t now = 1'800'000'000;
    std::string_view text(reinterpret_cast<const char*>(data), size);

    auto parsed = sip::parse_digest_credentials(text);
    if (parsed.credentials) {
        const auto& c = *parsed.credentials;
        const std::size_t length = c.algorithm.hash == sip::DigestHash::Md5 ? 32 : 64;
        if (c.response.size() != length || (!c.qop.empty() && c.nc.size() != 8) ||
            parsed.error != sip::DigestParseError::None) {
            __builtin_trap();
        }
    } else if (parsed.error == sip::DigestParseError::None) {
        __builtin_trap();
    }

    // The same value as the credentials of a REGISTER, from a few source addresses so that
    // lockouts come and go.
    if (text.find('\r') == std::string_view::npos && text.find('\n') == std::string_view::npos) {
        std::string request = "REGISTER sip:example.test SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKf\r\n"
                              "From: <sip:alice@example.test>;tag=1\r\nTo: <sip:alice@example.test>\r\n"
                              "Call-ID: f\r\nCSeq: 1 REGISTER\r\nAuthorization: ";
        request.append(text);
        request.append("\r\nContent-Length: 0\r\n\r\n");
        auto message = sip::parse_message(request, sip::Framing::Datagram);
        if (message.message) {
            auto source = core::IpEndpoint::v4({192, 0, 2, static_cast<std::uint8_t>(size % 4)}, 5060);
            auto d = auth.check(*message.message, sip::Authenticator::Kind::Register, "alice",
                                source, now);
            if (d.status == 0 && d.user != "alice") {
                __builtin_trap();
            }
            if (d.status != 0 && d.status != 400 && d.status != 401 && d.status != 403) {
                __builtin_trap();
            }
        }
    }
    now += static_cast<std::int64_t>(size % 7); // time moves on: nonces go stale, lockouts end
    return 0;
}
