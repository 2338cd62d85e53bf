#pragma once
// TLS termination for a stream service, as a decorator: a TcpListener whose handler is a
// TlsStreamHandler wrapping the service's own handler serves that service over TLS, and the
// connection underneath stays plain TCP. The service sees plaintext and writes plaintext to a
// TlsWriter, its connection as far as it can tell. One instance per shard, like the handler it
// wraps; all of them may share one TlsContext.
//
// OpenSSL runs over two memory BIOs per connection, so the socket stays Asio's and TLS is just
// a transformation of bytes: ciphertext in, plaintext to the service, ciphertext out.

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "net/handlers.hpp"

namespace strowger::net {

class TlsContext;
class TlsWriter;

struct TlsStats {
    std::uint64_t connections = 0;        // connections that sent anything
    std::uint64_t handshakes = 0;         // completed
    std::uint64_t handshake_failures = 0; // not TLS, no common version or cipher, ...
    std::uint64_t fatal_errors = 0;       // after the handshake: bad record, oversized message
};

class TlsStreamHandler final : public StreamHandler {
public:
    // Both outlive this handler; `inner` frames and serves the plaintext.
    TlsStreamHandler(TlsContext& context, StreamHandler& inner);
    TlsStreamHandler(const TlsStreamHandler&) = delete;
    TlsStreamHandler& operator=(const TlsStreamHandler&) = delete;
    // Frees what connections are left without telling `inner`, which may be gone by then:
    // connections report their close (TcpListener::close) before their handler goes.
    ~TlsStreamHandler() override;

    // Consumes all of `data` (ciphertext): buffering partial records is OpenSSL's job, and the
    // plaintext the service has not framed yet is buffered here. Nothing (close) on a failed
    // handshake, a fatal TLS error, a service that cannot frame its plaintext, or unframed
    // plaintext beyond the service's max_message_size().
    std::optional<std::size_t> on_stream_data(std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& peer,
                                              StreamWriter& out) override;
    // Every call consumes everything it is given, so this bounds only how much the connection
    // may buffer of a read (it never needs to grow past its first buffer): one maximal TLS
    // record, header and expansion included.
    std::size_t max_message_size() const override { return kMaxRecord; }
    // Tells the inner handler, with the TlsWriter it was given, if it was given one (not when
    // the handshake never completed), and frees the connection's state.
    void on_stream_closed(StreamWriter& writer) override;

    [[nodiscard]] const TlsStats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::size_t connection_count() const noexcept { return connections_.size(); }

    // RFC 5246 §6.2.3: 2^14 bytes of plaintext plus up to 2048 of expansion, and the header.
    static constexpr std::size_t kMaxRecord = 5 + 16384 + 2048;

private:
    friend class TlsWriter;
    TlsWriter* connection_for(StreamWriter& out);
    std::optional<std::size_t> receive(TlsWriter& c, std::span<const std::uint8_t> data,
                                       const core::IpEndpoint& peer);
    // Each false: close the connection.
    bool handshake(TlsWriter& c, const core::IpEndpoint& peer);
    bool read_plaintext(TlsWriter& c, const core::IpEndpoint& peer);
    bool deliver(TlsWriter& c, const core::IpEndpoint& peer);
    // Frees `c` if it is closed and no call of ours is still using it.
    void release_if_done(TlsWriter& c);

    TlsContext& context_;
    StreamHandler& inner_;
    std::unordered_map<std::uint64_t, std::unique_ptr<TlsWriter>> connections_;
    TlsStats stats_;
    std::vector<std::uint8_t> scratch_; // one record's plaintext, on its way to a connection
};

} // namespace strowger::net
