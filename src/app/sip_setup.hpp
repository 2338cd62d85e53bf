#pragma once
// Turns the configuration into what the SIP services share: who the server is on the wire,
// the proxy's settings, and the key that authenticates its flow tokens.

#include <string>

#include "app/config.hpp"
#include "sip/flow_token.hpp"
#include "sip/proxy.hpp"

namespace strowger::app {

// Hosts for Via and Record-Route: sip.advertise, else each listen address, else (for a
// wildcard address) the first non-loopback interface address of its family. Every address
// of the machine counts as "us" when a wildcard is listened on.
sip::LocalIdentity make_sip_identity(const Config& config);

sip::ProxyConfig make_proxy_config(const Config& config);

// Read from general.data_dir, or made and saved there (mode 0600) on first start, so that
// dialogs set up before a restart still route afterwards. Throws StartupError.
sip::FlowTokens::Key load_flow_key(const std::string& data_dir);

// The key of the stateless digest nonces, kept like the flow-token key, so that a nonce
// handed out before a restart is still good after it.
sip::DigestNonces::Key load_nonce_key(const std::string& data_dir);

} // namespace strowger::app
