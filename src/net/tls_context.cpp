#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace strowger::net {

namespace {

// A key file with a passphrase fails to load instead of prompting on the terminal: the server
// starts unattended.
int no_passphrase(char*, int, int, void*) { return -1; }

[[noreturn]] void fail(const char* what, const std::filesystem::path& file, const char* action) {
    throw std::runtime_error(std::string(what) + " '" + file.string() + "': " + action + ": " +
                             take_openssl_errors());
}

} // namespace

std::string take_openssl_errors() {
    std::string out;
    std::string lowered_out; // for telling repeats apart from news
    const char* data = nullptr;
    int flags = 0;
    while (auto e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
        std::string item;
        if (ERR_SYSTEM_ERROR(e)) {
            // errno, and the data says which call: the caller names the file already.
            item = std::strerror(ERR_GET_REASON(e));
        } else {
            if (const char* reason = ERR_reason_error_string(e)) {
                item = reason;
            } else {
                char buf[256];
                ERR_error_string_n(e, buf, sizeof buf);
                item = buf;
            }
            if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
                item += " (";
                item += data;
                item += ')';
            }
        }
        // OpenSSL often queues the same reason at several levels of its call chain.
        std::string lowered = item;
        std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        if (lowered_out.find(lowered) == std::string::npos) {
            out += out.empty() ? "" : "; ";
            out += item;
            lowered_out += lowered + '\n';
        }
    }
    return out.empty() ? "unknown error" : out;
}

TlsContext::TlsContext(const std::filesystem::path& cert_file,
                       const std::filesystem::path& key_file) {
    ERR_clear_error();
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                          &SSL_CTX_free);
    if (!ctx) {
        throw std::runtime_error("TLS: cannot create a context: " + take_openssl_errors());
    }
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    // Renegotiation only costs the server (a cheap way to make it do handshakes) and would
    // complicate driving TLS over memory BIOs; clients do not need it.
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    // An idle connection gives its record buffers back: servers keep many idle connections.
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);

    if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
        fail("TLS certificate file", cert_file, "cannot load a PEM certificate chain");
    }

    // Loaded here rather than with SSL_CTX_use_PrivateKey_file, which on a mismatch quietly
    // drops the certificate instead of saying that the two do not belong together.
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(key_file.c_str(), "r"),
                                                  &BIO_free);
    if (!bio) {
        fail("TLS key file", key_file, "cannot open");
    }
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, &no_passphrase, nullptr), &EVP_PKEY_free);
    if (!key) {
        fail("TLS key file", key_file, "cannot load an unencrypted PEM private key");
    }
    X509* cert = SSL_CTX_get0_certificate(ctx.get());
    if (cert == nullptr || X509_check_private_key(cert, key.get()) != 1) {
        throw std::runtime_error("TLS key file '" + key_file.string() +
                                 "' does not match the certificate in '" +
                                 cert_file.string() + "': " + take_openssl_errors());
    }
    if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
        fail("TLS key file", key_file, "cannot use the private key");
    }
    ctx_ = ctx.release();
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

} // namespace strowger::net
