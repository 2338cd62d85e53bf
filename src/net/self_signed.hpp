#pragma once
// A self-signed server certificate, for trying TLS out and for tests: not for production,
// where clients must be able to check the certificate against a CA they trust.

#include <filesystem>
#include <string>

namespace strowger::net {

// Writes a fresh EC P-256 key (PEM, PKCS #8, mode 0600) to `key_path` and a certificate for it
// (PEM, SHA-256, valid from an hour ago for `days` days) to `cert_path`, each replaced whole.
// The certificate names `common_name` as subject and, with localhost, 127.0.0.1 and ::1, in
// subjectAltName (as an IP address when it reads as one, else as a DNS name), which is what
// TLS clients check. Throws std::runtime_error on failure.
void make_self_signed_certificate(const std::filesystem::path& cert_path,
                                  const std::filesystem::path& key_path,
                                  const std::string& common_name, int days = 365);

} // namespace strowger::net
