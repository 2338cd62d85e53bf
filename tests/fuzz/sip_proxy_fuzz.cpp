// Fuzz target: the whole SIP element behind the transport, the way a datagram or a framed
// stream message reaches it: parsing, validation, the transaction layer, the registrar and the
// proxy core (routing, forking, CANCEL, stray responses). Whatever comes in must be answered,
// forwarded or dropped without crashing, leaking or looping, with digest authentication off
// and on. After each input the fake clock jumps far ahead, so every transaction and timer it
// started runs to its end.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/simulated_timers.hpp"
#include "sip/location_memory.hpp"
#include "sip/proxy.hpp"

namespace {

using namespace strowger;

// One account, so that the element with digest on can also let requests through.
class OneAccount final : public sip::AccountKeys {
public:
    std::optional<sip::DigestKeys> find(std::string_view user, std::string_view) override {
        if (user != "alice") {
            return std::nullopt;
        }
        return sip::DigestKeys{std::string(32, 'a'), std::string(64, 'b')};
    }
    bool any() override { return true; }
};

class NullTransmitter final : public sip::Transmitter {
public:
    bool send(const sip::Flow&, std::string_view bytes) override { return !bytes.empty(); }
};

struct Element {
    core::SimulatedTimers timers;
    NullTransmitter transmitter;
    sip::MemoryLocationStore location;
    std::unique_ptr<sip::Proxy> proxy;
    sip::Flow udp{core::Transport::Udp, *core::IpEndpoint::from_address("192.0.2.7", 5060), 0};
    sip::Flow tcp{core::Transport::Tcp, *core::IpEndpoint::from_address("192.0.2.8", 40000),
                  core::make_connection_id(0, 1)};

    OneAccount accounts;

    explicit Element(bool digest) {
        sip::LocalIdentity id;
        id.listeners = {{core::Transport::Udp, "127.0.0.1", 5060},
                        {core::Transport::Tcp, "127.0.0.1", 5060}};
        id.hosts = {"127.0.0.1"};
        sip::ProxyConfig config;
        config.timer_c = std::chrono::seconds(5);
        if (digest) {
            config.auth.mode = sip::AuthMode::Required;
            config.auth.realm = "example.com";
            config.accounts = &accounts;
        }
        proxy = std::make_unique<sip::Proxy>(
            0, timers, transmitter, location, id, config, sip::FlowTokens::Key{},
            [] { return std::int64_t{1'000'000}; },
            [](unsigned, sip::Message&&, const sip::Flow&) {});
        // Two phones for one user, so INVITEs to it fork.
        for (auto contact : {"sip:bob@192.0.2.20:5060", "sip:bob@192.0.2.21:5062"}) {
            location.update("sip:bob@example.com", 0, [&](sip::Bindings& b) {
                sip::Binding binding;
                binding.contact = contact;
                binding.expires_at = 2'000'000;
                binding.flow = udp;
                b.push_back(binding);
                return true;
            });
        }
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The same input to an open element and to one that demands digest (RFC 3261 §22).
    static Element open(false);
    static Element authenticating(true);
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    for (auto* element : {&open, &authenticating}) {
        element->proxy->on_bytes(bytes, sip::Framing::Datagram, element->udp);
        element->proxy->on_bytes(bytes, sip::Framing::Stream, element->tcp);
        element->timers.skip_for(std::chrono::minutes(10));
    }
    return 0;
}
