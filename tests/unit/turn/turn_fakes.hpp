#pragma once
// In-memory stand-ins for what the sans-IO TURN server needs from the outside: a user store
// and the network (TurnIo). The fake network records everything it is asked to send and opens
// relays with incrementing ids and even ports; failures are switched on per test.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ip_endpoint.hpp"
#include "core/result.hpp"
#include "stun/integrity.hpp"
#include "turn/credentials.hpp"
#include "turn/turn_io.hpp"

namespace strowger::turn::test {

inline core::IpEndpoint endpoint(std::string_view address, std::uint16_t port) {
    auto ep = core::IpEndpoint::from_address(address, port);
    if (!ep) {
        ADD_FAILURE() << "bad test address " << address;
        return {};
    }
    return *ep;
}

inline UserKeys keys_for(std::string_view user, std::string_view realm, std::string_view password) {
    UserKeys k;
    k.md5 = stun::long_term_key_md5(user, realm, password);
    k.sha256 = stun::long_term_key_sha256(user, realm, password);
    return k;
}

class FakeCredentialStore final : public CredentialStore {
public:
    void add(const std::string& user, const std::string& realm, std::string_view password) {
        users_[{user, realm}] = keys_for(user, realm, password);
    }
    std::optional<UserKeys> find_user(std::string_view username, std::string_view realm) override {
        ++lookups;
        auto it = users_.find({std::string(username), std::string(realm)});
        if (it == users_.end()) {
            return std::nullopt;
        }
        return it->second;
    }
    int lookups = 0;

private:
    std::map<std::pair<std::string, std::string>, UserKeys> users_;
};

struct ToClient {
    ClientFlow flow;
    std::vector<std::uint8_t> bytes;
};

struct ToPeer {
    std::uint32_t relay = 0;
    core::IpEndpoint peer;
    std::vector<std::uint8_t> data;
    bool dont_fragment = false;
};

class FakeTurnIo final : public TurnIo {
public:
    core::Result<RelayOpened, RelayError> open_relay(const RelayRequest& request) override {
        requests.push_back(request);
        if (fail) {
            return core::unexpected(*fail);
        }
        const auto& base = request.ipv6 ? relay_v6 : relay_v4;
        if (!base) {
            return core::unexpected(RelayError::FamilyUnsupported);
        }
        if (request.token) {
            auto it = std::find(tokens.begin(), tokens.end(), *request.token);
            if (it == tokens.end()) {
                return core::unexpected(RelayError::BadToken);
            }
            tokens.erase(it);
        }
        if (ports_left == 0) {
            return core::unexpected(RelayError::NoCapacity);
        }
        --ports_left;
        RelayOpened out;
        out.relay = next_relay++;
        out.local = *base;
        out.local.port = next_port;
        next_port = static_cast<std::uint16_t>(next_port + 2);
        if (request.reserve_next) {
            out.reservation = next_token++;
            tokens.push_back(*out.reservation);
        }
        opened.push_back(out);
        open.push_back(out);
        return out;
    }
    void close_relay(std::uint32_t relay) override {
        closed.push_back(relay);
        std::erase_if(open, [relay](const RelayOpened& r) { return r.relay == relay; });
    }
    void send_to_peer(std::uint32_t relay, const core::IpEndpoint& peer,
                      std::span<const std::uint8_t> data, bool dont_fragment) override {
        to_peer.push_back({relay, peer, {data.begin(), data.end()}, dont_fragment});
    }
    void send_to_client(const ClientFlow& flow, std::span<const std::uint8_t> data) override {
        to_client.push_back({flow, {data.begin(), data.end()}});
    }
    // Listed endpoints, and every relay currently open.
    [[nodiscard]] bool is_relay_endpoint(const core::IpEndpoint& address) const override {
        if (std::find(relay_endpoints.begin(), relay_endpoints.end(), address) !=
            relay_endpoints.end()) {
            return true;
        }
        return std::any_of(open.begin(), open.end(),
                           [&](const RelayOpened& r) { return r.local == address; });
    }

    [[nodiscard]] bool is_open(std::uint32_t relay) const {
        return std::any_of(open.begin(), open.end(),
                           [relay](const RelayOpened& r) { return r.relay == relay; });
    }

    // Configuration.
    std::optional<core::IpEndpoint> relay_v4 = endpoint("203.0.113.10", 0);
    std::optional<core::IpEndpoint> relay_v6;       // none: an IPv4-only server
    std::optional<RelayError> fail;                 // every open_relay fails so
    std::size_t ports_left = std::numeric_limits<std::size_t>::max();
    std::vector<core::IpEndpoint> relay_endpoints;  // besides the open relays
    std::uint32_t next_relay = 1;
    std::uint16_t next_port = 49152;
    std::uint64_t next_token = 0x1122334455667700ULL;

    // Records. Deques, so that parsed messages viewing them stay valid as more arrive.
    std::vector<RelayRequest> requests;
    std::vector<RelayOpened> opened;
    std::vector<RelayOpened> open;
    std::vector<std::uint32_t> closed;
    std::vector<std::uint64_t> tokens; // reserved, not yet used
    std::deque<ToClient> to_client;
    std::deque<ToPeer> to_peer;
};

} // namespace strowger::turn::test
