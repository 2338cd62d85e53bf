#include "app/ice_servers.hpp"

#include <nlohmann/json.hpp>

#include "turn/authenticator.hpp"

namespace strowger::app {

std::string ice_servers_json(const IceServersConfig& config, std::string_view host,
                             std::int64_t now, std::string_view user) {
    std::string advertised(host);
    if (!config.external_address.empty()) {
        advertised = config.external_address.find(':') != std::string::npos
                         ? "[" + config.external_address + "]"
                         : config.external_address;
    }
    auto urls = nlohmann::ordered_json::array();
    auto add = [&](std::string_view scheme, std::uint16_t port, std::string_view transport) {
        std::string url(scheme);
        url.append(":").append(advertised).append(":").append(std::to_string(port));
        if (!transport.empty()) {
            url.append("?transport=").append(transport);
        }
        if (std::find(urls.begin(), urls.end(), url) == urls.end()) { // several listen
            urls.push_back(url);                                       // addresses, one port
        }
    };
    for (const auto& spec : config.stun_listen) {
        const auto port = spec.endpoint.port;
        switch (spec.transport) {
        case core::Transport::Udp:
            add("stun", port, "");
            add("turn", port, "udp");
            break;
        case core::Transport::Tcp:
            add("turn", port, "tcp");
            break;
        case core::Transport::Tls:
            add("turns", port, "tcp");
            break;
        default:
            break;
        }
    }
    const auto username =
        std::to_string(now + static_cast<std::int64_t>(config.lifetime)) + ":" + std::string(user);
    nlohmann::ordered_json server = {{"urls", urls},
                             {"username", username},
                             {"credential", turn::Authenticator::rest_password(config.secret,
                                                                               username)}};
    nlohmann::ordered_json body = {{"iceServers", nlohmann::ordered_json::array({server})}};
    return body.dump();
}

} // namespace strowger::app
