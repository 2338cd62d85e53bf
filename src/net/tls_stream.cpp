#include "net/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <climits>

#include "net/tls_context.hpp"

namespace strowger::net {

namespace {

// Plaintext kept for a connection shrinks back to this once a large message is through.
constexpr std::size_t kKeptPlaintext = 4096;
// What SSL_read returns at most: one record.
constexpr std::size_t kRecordPlaintext = 16384;

} // namespace

// One connection's TLS state, and the connection as the inner handler sees it. Owned by the
// handler's map from the first bytes until the connection closes; a call of ours that is
// still running (`busy`) when the connection closes under it defers the free to its end.
class TlsWriter final : public StreamWriter {
public:
    TlsWriter(TlsStreamHandler& handler, StreamWriter& connection, SSL* session)
        : owner(handler),
          lower(&connection),
          ssl(session),
          read_bio(SSL_get_rbio(session)),
          write_bio(SSL_get_wbio(session)),
          id(connection.connection_id()),
          remote(connection.peer()) {}
    TlsWriter(const TlsWriter&) = delete;
    TlsWriter& operator=(const TlsWriter&) = delete;
    ~TlsWriter() override { SSL_free(ssl); } // and both BIOs

    void write(std::span<const std::uint8_t> bytes) override;
    [[nodiscard]] std::uint64_t connection_id() const override { return id; }
    [[nodiscard]] const core::IpEndpoint& peer() const override { return remote; }

    // Sends what OpenSSL has written (records, alerts, tickets) down the connection.
    void flush();

    TlsStreamHandler& owner;
    StreamWriter* lower; // the connection; valid until `closed`
    SSL* ssl;
    BIO* read_bio;  // ciphertext from the peer, for OpenSSL to read
    BIO* write_bio; // ciphertext from OpenSSL, for the peer
    std::uint64_t id;
    core::IpEndpoint remote;
    std::vector<std::uint8_t> plaintext; // received, not yet framed by the inner handler
    int busy = 0;
    bool introduced = false; // the inner handler has been given this writer
    bool closed = false;     // on_stream_closed came: nothing more goes out, free when not busy
    bool failed = false;     // fatal: nothing more goes in or out, the connection is closing
    bool shut_down = false;  // the peer's close_notify came and ours is sent
};

namespace {

// Marks a connection in use for the length of a scope, so that a close arriving meanwhile
// (a write down the connection may close it) does not free it under the caller.
class Busy {
public:
    explicit Busy(TlsWriter& c) : c_(c) { ++c_.busy; }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;
    ~Busy() { --c_.busy; }

private:
    TlsWriter& c_;
};

} // namespace

void TlsWriter::write(std::span<const std::uint8_t> bytes) {
    // Before the handshake is through the inner handler has not seen this connection, so a
    // write then can only be a write on one that has failed or closed: dropped either way.
    if (closed || failed || shut_down || bytes.empty() || SSL_is_init_finished(ssl) == 0) {
        return;
    }
    {
        Busy busy_scope(*this);
        while (!bytes.empty() && !failed) {
            // A memory BIO takes everything, so SSL_write writes all it is given or fails.
            const auto chunk = std::min<std::size_t>(bytes.size(), INT_MAX);
            ERR_clear_error();
            if (SSL_write(ssl, bytes.data(), static_cast<int>(chunk)) <= 0) {
                failed = true;
                ++owner.stats_.fatal_errors;
                spdlog::debug("tls {}: write failed: {}", remote.to_string(),
                              take_openssl_errors());
            }
            bytes = bytes.subspan(chunk);
        }
        flush();
    }
    owner.release_if_done(*this); // may free this: nothing after it
}

void TlsWriter::flush() {
    std::array<std::uint8_t, 16384> buffer; // filled before use
    while (!closed) {
        const int n = BIO_read(write_bio, buffer.data(), static_cast<int>(buffer.size()));
        if (n <= 0) {
            break;
        }
        lower->write({buffer.data(), static_cast<std::size_t>(n)});
    }
}

TlsStreamHandler::TlsStreamHandler(TlsContext& context, StreamHandler& inner)
    : context_(context), inner_(inner), scratch_(kRecordPlaintext) {}

TlsStreamHandler::~TlsStreamHandler() = default;

TlsWriter* TlsStreamHandler::connection_for(StreamWriter& out) {
    auto it = connections_.find(out.connection_id());
    if (it != connections_.end()) {
        return it->second.get();
    }
    ERR_clear_error();
    SSL* ssl = SSL_new(context_.native_handle());
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out_bio = BIO_new(BIO_s_mem());
    if (ssl == nullptr || in == nullptr || out_bio == nullptr) {
        spdlog::warn("tls {}: cannot set up a connection: {}", out.peer().to_string(),
                     take_openssl_errors());
        SSL_free(ssl);
        BIO_free(in);
        BIO_free(out_bio);
        return nullptr;
    }
    // An empty memory BIO reads as "try again later", not end of file: more may arrive.
    BIO_set_mem_eof_return(in, -1);
    BIO_set_mem_eof_return(out_bio, -1);
    SSL_set_bio(ssl, in, out_bio); // the SSL owns both from here
    SSL_set_accept_state(ssl);
    ++stats_.connections;
    auto c = std::make_unique<TlsWriter>(*this, out, ssl);
    auto* raw = c.get();
    connections_.emplace(raw->id, std::move(c));
    return raw;
}

std::optional<std::size_t> TlsStreamHandler::on_stream_data(std::span<const std::uint8_t> data,
                                                            const core::IpEndpoint& peer,
                                                            StreamWriter& out) {
    auto* c = connection_for(out);
    if (c == nullptr) {
        return std::nullopt;
    }
    std::optional<std::size_t> result;
    {
        Busy busy_scope(*c);
        c->lower = &out;
        result = receive(*c, data, peer);
    }
    const bool closed_under_us = c->closed;
    release_if_done(*c);
    // When the connection closed while we were at it, it knows; saying so again would only
    // make it log a reason that is not the one.
    return closed_under_us ? std::optional<std::size_t>(data.size()) : result;
}

std::optional<std::size_t> TlsStreamHandler::receive(TlsWriter& c,
                                                     std::span<const std::uint8_t> data,
                                                     const core::IpEndpoint& peer) {
    if (c.failed) {
        return std::nullopt;
    }
    if (c.shut_down) {
        return data.size(); // nothing follows a close_notify; the peer closes next
    }
    for (auto rest = data; !rest.empty();) {
        const auto chunk = std::min<std::size_t>(rest.size(), INT_MAX);
        const int length = static_cast<int>(chunk);
        if (BIO_write(c.read_bio, rest.data(), length) != length) {
            c.failed = true;
            ++stats_.fatal_errors;
            spdlog::warn("tls {}: out of memory buffering a record", peer.to_string());
            return std::nullopt;
        }
        rest = rest.subspan(chunk);
    }
    bool ok = true;
    if (SSL_is_init_finished(c.ssl) == 0) {
        ok = handshake(c, peer);
    }
    // The handshake may be done and application data already behind it (TLS 1.3 clients send
    // right after their Finished), so read on in the same call.
    if (ok && !c.closed && SSL_is_init_finished(c.ssl) != 0) {
        ok = read_plaintext(c, peer);
    }
    // Handshake messages, tickets, alerts, our close_notify: whatever OpenSSL has to say.
    c.flush();
    if (!ok) {
        c.failed = true;
        return std::nullopt;
    }
    return data.size();
}

bool TlsStreamHandler::handshake(TlsWriter& c, const core::IpEndpoint& peer) {
    ERR_clear_error();
    const int r = SSL_do_handshake(c.ssl);
    if (r == 1) {
        ++stats_.handshakes;
        return true;
    }
    const int error = SSL_get_error(c.ssl, r);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        return true; // the rest of the peer's flight is still on its way
    }
    ++stats_.handshake_failures;
    spdlog::debug("tls {}: handshake failed: {}", peer.to_string(), take_openssl_errors());
    return false;
}

bool TlsStreamHandler::read_plaintext(TlsWriter& c, const core::IpEndpoint& peer) {
    while (!c.closed) {
        ERR_clear_error();
        const int n = SSL_read(c.ssl, scratch_.data(), static_cast<int>(scratch_.size()));
        if (n > 0) {
            c.plaintext.insert(c.plaintext.end(), scratch_.begin(), scratch_.begin() + n);
            // Framed a record at a time, so that unframed plaintext never exceeds the inner
            // handler's limit by more than one record.
            if (!deliver(c, peer)) {
                return false;
            }
            continue;
        }
        switch (SSL_get_error(c.ssl, n)) {
        case SSL_ERROR_WANT_READ:
            return true; // all records read; the next is not complete yet
        case SSL_ERROR_ZERO_RETURN:
            // The peer is done: answer with our close_notify and let it close the connection
            // (closing now would discard the answer along with what is still queued for it).
            c.shut_down = true;
            SSL_shutdown(c.ssl);
            return true;
        default:
            ++stats_.fatal_errors;
            spdlog::debug("tls {}: fatal error: {}", peer.to_string(), take_openssl_errors());
            return false;
        }
    }
    return true;
}

bool TlsStreamHandler::deliver(TlsWriter& c, const core::IpEndpoint& peer) {
    std::size_t offset = 0;
    while (offset < c.plaintext.size() && !c.closed) {
        const std::span<const std::uint8_t> rest{c.plaintext.data() + offset,
                                                 c.plaintext.size() - offset};
        c.introduced = true;
        auto consumed = inner_.on_stream_data(rest, peer, c);
        if (!consumed || *consumed > rest.size()) {
            return false; // the connection logs that the stream could not be framed
        }
        if (*consumed == 0) {
            break;
        }
        offset += *consumed;
    }
    if (c.closed) {
        return true; // the inner handler's write closed the connection; nothing more to do
    }
    c.plaintext.erase(c.plaintext.begin(),
                      c.plaintext.begin() + static_cast<std::ptrdiff_t>(offset));
    if (c.plaintext.size() > inner_.max_message_size()) {
        ++stats_.fatal_errors;
        spdlog::debug("tls {}: message larger than {} bytes, closing", peer.to_string(),
                      inner_.max_message_size());
        return false;
    }
    if (c.plaintext.empty() && c.plaintext.capacity() > kKeptPlaintext) {
        c.plaintext.shrink_to_fit(); // a burst of large messages is over
    }
    return true;
}

void TlsStreamHandler::on_stream_closed(StreamWriter& writer) {
    auto it = connections_.find(writer.connection_id());
    if (it == connections_.end()) {
        return; // closed before sending anything: the inner handler never saw it
    }
    auto& c = *it->second;
    if (c.closed) {
        return;
    }
    c.closed = true;
    if (c.introduced) {
        Busy busy_scope(c);
        inner_.on_stream_closed(c);
    }
    release_if_done(c);
}

void TlsStreamHandler::release_if_done(TlsWriter& c) {
    if (c.closed && c.busy == 0) {
        connections_.erase(c.id);
    }
}

} // namespace strowger::net
