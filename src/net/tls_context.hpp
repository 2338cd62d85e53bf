#pragma once
// The server side of TLS: one certificate chain and its private key, loaded once at startup.
// One TlsContext serves every shard (an SSL_CTX may be shared across threads once configured);
// each shard's TlsStreamHandler makes its per-connection state from it.

#include <filesystem>
#include <string>

struct ssl_ctx_st; // SSL_CTX, so that OpenSSL's headers stay out of ours

namespace strowger::net {

class TlsContext {
public:
    // `cert_file`: PEM, the server certificate first, then any intermediates. `key_file`: PEM,
    // its unencrypted private key. TLS 1.2 at least. Throws std::runtime_error naming the file
    // and OpenSSL's reason when either cannot be read or parsed, or the key does not match.
    TlsContext(const std::filesystem::path& cert_file, const std::filesystem::path& key_file);
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    ~TlsContext();

    [[nodiscard]] ssl_ctx_st* native_handle() const noexcept { return ctx_; }

private:
    ssl_ctx_st* ctx_;
};

// Empties this thread's OpenSSL error queue into one line ("unknown error" when it is empty),
// for messages: OpenSSL reports why a call failed only there.
std::string take_openssl_errors();

} // namespace strowger::net
