#pragma once
// `strowger cert`: a self-signed certificate for trying HTTPS and TURN over TLS on a LAN
// (browsers use cameras only on secure pages, so a phone on the LAN needs https://). Writes
// <general.data_dir>/cert.pem and key.pem, which the tls: listeners use when tls.cert_file and
// tls.key_file are not set.

#include <string>

#include "app/config.hpp"

namespace strowger::app {

struct CertCommand {
    std::string name; // subject and subjectAltName; empty: this machine's host name
    int days = 825;   // the longest validity Apple's clients accept
    bool force = false;
};

// The name a certificate is made for when none is given: this machine's host name.
std::string default_certificate_name();

// Returns the exit code: 0 written, 1 refused (files exist without --force) or failed.
int run_cert_command(const CertCommand& command, const Config& config);

} // namespace strowger::app
