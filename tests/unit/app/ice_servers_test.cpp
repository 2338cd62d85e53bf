// GET /api/ice-servers' body: URLs from stun.listen, the host, and REST credentials that the
// TURN authenticator accepts.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/ice_servers.hpp"
#include "turn/authenticator.hpp"

namespace strowger::app {
namespace {

core::ListenSpec spec(const char* text) {
    std::string error;
    return *core::parse_listen_spec(text, &error);
}

TEST(IceServers, UrlsPerListenEntryAndTransport) {
    IceServersConfig config{{spec("udp:0.0.0.0:3478"), spec("tcp:0.0.0.0:3478"),
                             spec("udp:[::]:3478"), spec("tls:0.0.0.0:5349")},
                            "",
                            "secret",
                            86400};
    auto body = nlohmann::json::parse(ice_servers_json(config, "pbx.example", 1000, "web-1"));
    ASSERT_EQ(body["iceServers"].size(), 1u);
    const auto& server = body["iceServers"][0];
    EXPECT_EQ(server["urls"], nlohmann::json({"stun:pbx.example:3478",
                                              "turn:pbx.example:3478?transport=udp",
                                              "turn:pbx.example:3478?transport=tcp",
                                              "turns:pbx.example:5349?transport=tcp"}));
    EXPECT_EQ(server["username"], "87400:web-1");
    // The coturn REST scheme: base64(HMAC-SHA1(secret, username)); checked with
    // `printf 87400:web-1 | openssl dgst -sha1 -hmac secret -binary | base64`.
    EXPECT_EQ(server["credential"], turn::Authenticator::rest_password("secret", "87400:web-1"));
    EXPECT_EQ(server["credential"], "fWmYZiDSbUoAqDnakdI9od6ioZg=");
}

TEST(IceServers, ExternalAddressWinsOverTheRequestHost) {
    IceServersConfig config{{spec("udp:0.0.0.0:3478")}, "2001:db8::5", "s", 60};
    auto body = nlohmann::json::parse(ice_servers_json(config, "10.0.0.1", 0, "u"));
    EXPECT_EQ(body["iceServers"][0]["urls"][0], "stun:[2001:db8::5]:3478");
    EXPECT_EQ(body["iceServers"][0]["username"], "60:u");
}

} // namespace
} // namespace strowger::app
