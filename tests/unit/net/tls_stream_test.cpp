// TLS termination as a stream handler decorator: a real OpenSSL client, over memory BIOs,
// talks to a TlsStreamHandler wrapping a small echo service, the way a TcpConnection would
// drive it; and TlsContext says which file is wrong when one is.

#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "temp_dir.hpp"
#include "net/self_signed.hpp"
#include "net/tls_context.hpp"
#include "net/tls_stream.hpp"

namespace strowger::net {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

const core::IpEndpoint kPeer = core::IpEndpoint::v4({192, 0, 2, 7}, 40000);

using test::TempDir;

// The TCP connection underneath, as far as the handler can tell.
class FakeConnection final : public StreamWriter {
public:
    explicit FakeConnection(std::uint64_t id) : id_(id) {}
    void write(std::span<const std::uint8_t> bytes) override {
        sent.insert(sent.end(), bytes.begin(), bytes.end());
        if (on_write) {
            on_write();
        }
    }
    [[nodiscard]] std::uint64_t connection_id() const override { return id_; }
    [[nodiscard]] const core::IpEndpoint& peer() const override { return kPeer; }

    Bytes sent;
    std::function<void()> on_write;

private:
    std::uint64_t id_;
};

Bytes frame(const std::string& text) {
    const auto n = static_cast<std::uint32_t>(text.size());
    Bytes out(4 + text.size());
    out[0] = static_cast<std::uint8_t>(n >> 24);
    out[1] = static_cast<std::uint8_t>(n >> 16);
    out[2] = static_cast<std::uint8_t>(n >> 8);
    out[3] = static_cast<std::uint8_t>(n);
    std::copy(text.begin(), text.end(), out.begin() + 4);
    return out;
}

// Frames 4-byte big-endian length-prefixed messages and echoes each one back whole.
class EchoService final : public StreamHandler {
public:
    std::optional<std::size_t> on_stream_data(std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& peer,
                                              StreamWriter& out) override {
        EXPECT_EQ(peer, kPeer);
        if (refuse) {
            return std::nullopt;
        }
        writer = &out;
        ++calls;
        if (data.size() < 4) {
            return 0;
        }
        const std::size_t length = (std::size_t{data[0]} << 24) | (std::size_t{data[1]} << 16) |
                                   (std::size_t{data[2]} << 8) | std::size_t{data[3]};
        if (data.size() < 4 + length) {
            return 0;
        }
        out.write(data.first(4 + length));
        ++messages;
        return 4 + length;
    }
    std::size_t max_message_size() const override { return 1024; }
    void on_stream_closed(StreamWriter& w) override { closed.push_back(&w); }

    StreamWriter* writer = nullptr;
    std::vector<StreamWriter*> closed;
    int calls = 0;
    int messages = 0;
    bool refuse = false;
};

// An OpenSSL client over memory BIOs that trusts the test's self-signed certificate.
class TlsClient {
public:
    TlsClient(const fs::path& ca, int max_version) {
        ctx_ = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_max_proto_version(ctx_, max_version);
        EXPECT_EQ(SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr), 1);
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        ssl_ = SSL_new(ctx_);
        EXPECT_EQ(SSL_set1_host(ssl_, "localhost"), 1);
        in_ = BIO_new(BIO_s_mem());
        out_ = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(in_, -1);
        SSL_set_bio(ssl_, in_, out_);
        SSL_set_connect_state(ssl_);
    }
    TlsClient(const TlsClient&) = delete;
    TlsClient& operator=(const TlsClient&) = delete;
    ~TlsClient() {
        SSL_free(ssl_);
        SSL_CTX_free(ctx_);
    }

    void step() {
        if (SSL_is_init_finished(ssl_) == 0) {
            const int r = SSL_do_handshake(ssl_);
            if (r != 1) {
                const int e = SSL_get_error(ssl_, r);
                EXPECT_TRUE(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    << "client handshake: " << take_openssl_errors();
            }
        }
    }
    [[nodiscard]] bool connected() const { return SSL_is_init_finished(ssl_) != 0; }
    [[nodiscard]] int version() const { return SSL_version(ssl_); }
    Bytes take_output() {
        Bytes out;
        std::array<std::uint8_t, 4096> buf{};
        int n = 0;
        while ((n = BIO_read(out_, buf.data(), static_cast<int>(buf.size()))) > 0) {
            out.insert(out.end(), buf.begin(), buf.begin() + n);
        }
        return out;
    }
    void give_input(const Bytes& bytes) {
        if (!bytes.empty()) {
            ASSERT_EQ(BIO_write(in_, bytes.data(), static_cast<int>(bytes.size())),
                      static_cast<int>(bytes.size()));
        }
    }
    void write(const Bytes& plaintext) {
        ASSERT_EQ(SSL_write(ssl_, plaintext.data(), static_cast<int>(plaintext.size())),
                  static_cast<int>(plaintext.size()));
    }
    // Everything decryptable so far; sets `peer_closed` on the server's close_notify.
    Bytes read() {
        Bytes out;
        std::array<std::uint8_t, 4096> buf{};
        for (;;) {
            const int n = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
            if (n > 0) {
                out.insert(out.end(), buf.begin(), buf.begin() + n);
                continue;
            }
            const int e = SSL_get_error(ssl_, n);
            if (e == SSL_ERROR_ZERO_RETURN) {
                peer_closed = true;
            } else {
                EXPECT_EQ(e, SSL_ERROR_WANT_READ) << take_openssl_errors();
            }
            return out;
        }
    }
    void shutdown() { SSL_shutdown(ssl_); }

    bool peer_closed = false;

private:
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    BIO* in_ = nullptr;
    BIO* out_ = nullptr;
};

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(no exception)";
}

class TlsStreamTest : public testing::TestWithParam<int> {
protected:
    TlsStreamTest()
        : cert(dir.path() / "cert.pem"),
          key(dir.path() / "key.pem"),
          context(with_certificate(cert, key), key),
          tls(context, echo) {}

    static const fs::path& with_certificate(const fs::path& cert_path, const fs::path& key_path) {
        make_self_signed_certificate(cert_path, key_path, "localhost", 1);
        return cert_path;
    }

    // The client's pending output to the handler as a connection would pass it, `chunk` bytes
    // at a time; false when the handler said to close.
    bool to_server(TlsClient& client, FakeConnection& to, std::size_t chunk = 4096) {
        const auto bytes = client.take_output();
        for (std::size_t at = 0; at < bytes.size(); at += chunk) {
            const std::span<const std::uint8_t> piece{bytes.data() + at,
                                                      std::min(chunk, bytes.size() - at)};
            auto consumed = tls.on_stream_data(piece, kPeer, to);
            if (!consumed) {
                return false;
            }
            EXPECT_EQ(*consumed, piece.size()) << "a TLS handler consumes everything";
        }
        return true;
    }
    static void to_client(TlsClient& client, FakeConnection& from) {
        client.give_input(from.sent);
        from.sent.clear();
    }
    void connect(TlsClient& client, FakeConnection& over) {
        for (int round = 0; round < 5 && !client.connected(); ++round) {
            client.step();
            ASSERT_TRUE(to_server(client, over));
            to_client(client, over);
        }
        ASSERT_TRUE(client.connected());
        ASSERT_TRUE(to_server(client, over)); // the client's Finished, in TLS 1.3
        to_client(client, over);
        EXPECT_TRUE(client.read().empty()); // session tickets, if any
    }

    TempDir dir;
    fs::path cert;
    fs::path key;
    TlsContext context;
    EchoService echo;
    TlsStreamHandler tls;
    FakeConnection conn{7};
};

INSTANTIATE_TEST_SUITE_P(Versions, TlsStreamTest, testing::Values(TLS1_2_VERSION, TLS1_3_VERSION),
                         [](const testing::TestParamInfo<int>& version) {
                             return version.param == TLS1_2_VERSION ? std::string("Tls12")
                                                                    : std::string("Tls13");
                         });

TEST_P(TlsStreamTest, HandshakeThenEchoesMessagesSplitAnyhow) {
    TlsClient client(cert, GetParam());
    connect(client, conn);
    EXPECT_EQ(client.version(), GetParam());
    EXPECT_EQ(tls.stats().connections, 1u);
    EXPECT_EQ(tls.stats().handshakes, 1u);
    EXPECT_EQ(echo.calls, 0) << "the service sees nothing of the handshake";

    const auto first = frame("hello over tls");
    const auto second = frame(std::string(700, 'x') + "end");
    client.write(first);
    ASSERT_TRUE(to_server(client, conn));
    client.write(second);
    ASSERT_TRUE(to_server(client, conn, 3)); // a few bytes at a time
    EXPECT_EQ(echo.messages, 2);
    to_client(client, conn);
    Bytes expected = first;
    expected.insert(expected.end(), second.begin(), second.end());
    EXPECT_EQ(client.read(), expected);

    ASSERT_NE(echo.writer, nullptr);
    EXPECT_NE(echo.writer, &conn) << "the service writes plaintext to a TlsWriter";
    EXPECT_EQ(echo.writer->connection_id(), conn.connection_id());
    EXPECT_EQ(echo.writer->peer(), kPeer);
    EXPECT_EQ(tls.stats().handshake_failures, 0u);
    EXPECT_EQ(tls.stats().fatal_errors, 0u);
}

TEST_P(TlsStreamTest, SeveralMessagesInOneRecordAndOneMessageOverSeveralRecords) {
    TlsClient client(cert, GetParam());
    connect(client, conn);
    Bytes both = frame("one");
    const auto two = frame("two");
    both.insert(both.end(), two.begin(), two.end());
    const auto three = frame("three");
    both.insert(both.end(), three.begin(), three.begin() + 2); // the start of the third
    client.write(both);
    ASSERT_TRUE(to_server(client, conn));
    EXPECT_EQ(echo.messages, 2);
    client.write(Bytes(three.begin() + 2, three.end()));
    ASSERT_TRUE(to_server(client, conn));
    EXPECT_EQ(echo.messages, 3);
    to_client(client, conn);
    Bytes expected = both;
    expected.insert(expected.end(), three.begin() + 2, three.end());
    EXPECT_EQ(client.read(), expected);
}

TEST_P(TlsStreamTest, WriteFromOutsideOnStreamDataReachesTheClient) {
    TlsClient client(cert, GetParam());
    connect(client, conn);
    client.write(frame("hi"));
    ASSERT_TRUE(to_server(client, conn));
    to_client(client, conn);
    EXPECT_EQ(client.read(), frame("hi"));

    // Relayed data for this client, say, arriving from elsewhere later.
    ASSERT_NE(echo.writer, nullptr);
    echo.writer->write(frame("pushed"));
    to_client(client, conn);
    EXPECT_EQ(client.read(), frame("pushed"));
}

TEST_P(TlsStreamTest, ConnectionsAreKeptApart) {
    TlsClient a(cert, GetParam());
    TlsClient b(cert, GetParam());
    FakeConnection conn_b{8};
    connect(a, conn);
    connect(b, conn_b);
    EXPECT_EQ(tls.connection_count(), 2u);
    a.write(frame("for a"));
    b.write(frame("for b"));
    ASSERT_TRUE(to_server(b, conn_b));
    ASSERT_TRUE(to_server(a, conn));
    to_client(a, conn);
    to_client(b, conn_b);
    EXPECT_EQ(a.read(), frame("for a"));
    EXPECT_EQ(b.read(), frame("for b"));
}

TEST_P(TlsStreamTest, ClosedReachesTheServiceWithTheWriterItSaw) {
    TlsClient client(cert, GetParam());
    connect(client, conn);
    client.write(frame("hi"));
    ASSERT_TRUE(to_server(client, conn));
    auto* seen = echo.writer;
    tls.on_stream_closed(conn);
    ASSERT_EQ(echo.closed.size(), 1u);
    EXPECT_EQ(echo.closed[0], seen);
    EXPECT_EQ(tls.connection_count(), 0u);
}

TEST_P(TlsStreamTest, ClientCloseNotifyIsAnsweredAndTheConnectionLeftToClose) {
    TlsClient client(cert, GetParam());
    connect(client, conn);
    client.shutdown();
    ASSERT_TRUE(to_server(client, conn));
    to_client(client, conn);
    EXPECT_TRUE(client.read().empty());
    EXPECT_TRUE(client.peer_closed);
    EXPECT_EQ(tls.stats().fatal_errors, 0u);
    tls.on_stream_closed(conn);
    EXPECT_EQ(tls.connection_count(), 0u);
}

TEST_P(TlsStreamTest, ServiceThatCannotFrameClosesTheConnection) {
    TlsClient client(cert, GetParam());
    connect(client, conn);
    echo.refuse = true;
    client.write(frame("hi"));
    EXPECT_FALSE(to_server(client, conn));
}

TEST_P(TlsStreamTest, PlaintextBeyondTheServiceLimitClosesTheConnection) {
    TlsClient client(cert, GetParam());
    connect(client, conn);
    auto huge = frame(std::string(5000, 'y')); // the service takes at most 1024
    huge.resize(2000);
    client.write(huge);
    EXPECT_FALSE(to_server(client, conn));
    EXPECT_EQ(tls.stats().fatal_errors, 1u);
    EXPECT_EQ(echo.messages, 0);
}

TEST_P(TlsStreamTest, ConnectionClosingDuringAWriteIsFreedOnlyAfterwards) {
    TlsClient client(cert, GetParam());
    connect(client, conn);
    // The connection closes itself inside a write (its peer stopped reading, say): the
    // handler hears of it while the echo is still on the stack.
    bool fired = false;
    conn.on_write = [this, &fired] {
        if (!fired) {
            fired = true;
            tls.on_stream_closed(conn);
        }
    };
    client.write(frame("one"));
    client.write(frame("two"));
    EXPECT_TRUE(to_server(client, conn)) << "the connection knows it closed; not a framing error";
    EXPECT_EQ(echo.messages, 1);
    ASSERT_EQ(echo.closed.size(), 1u);
    EXPECT_EQ(tls.connection_count(), 0u);
}

TEST(TlsStream, GarbageFirstFlightFailsTheHandshake) {
    TempDir dir;
    make_self_signed_certificate(dir.path() / "c.pem", dir.path() / "k.pem", "localhost", 1);
    TlsContext context(dir.path() / "c.pem", dir.path() / "k.pem");
    EchoService echo;
    TlsStreamHandler tls(context, echo);
    FakeConnection conn{1};
    const std::string garbage = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    const Bytes bytes(garbage.begin(), garbage.end());
    EXPECT_FALSE(tls.on_stream_data(bytes, kPeer, conn));
    EXPECT_EQ(tls.stats().handshake_failures, 1u);
    EXPECT_EQ(tls.stats().handshakes, 0u);
    tls.on_stream_closed(conn);
    EXPECT_TRUE(echo.closed.empty()) << "the service never saw this connection";
    EXPECT_EQ(tls.connection_count(), 0u);
}

TEST(TlsStream, AConnectionBufferNeverNeedsToGrow) {
    // TcpConnection reads into 4 KiB and grows its buffer only when a handler leaves it full;
    // this one consumes everything, so its limit must only exceed a record.
    TempDir dir;
    make_self_signed_certificate(dir.path() / "c.pem", dir.path() / "k.pem", "localhost", 1);
    TlsContext context(dir.path() / "c.pem", dir.path() / "k.pem");
    EchoService echo;
    TlsStreamHandler tls(context, echo);
    EXPECT_GE(tls.max_message_size(), std::size_t{16384 + 256 + 5});
}

TEST(TlsContext, NamesTheMissingOrBrokenFile) {
    TempDir dir;
    const auto cert = dir.path() / "cert.pem";
    const auto key = dir.path() / "key.pem";
    const auto missing = dir.path() / "missing.pem";
    make_self_signed_certificate(cert, key, "localhost", 1);
    EXPECT_NO_THROW(TlsContext(cert, key));

    auto message = error_of([&] { TlsContext c(missing, key); });
    EXPECT_NE(message.find(missing.string()), std::string::npos) << message;
    EXPECT_NE(message.find("certificate"), std::string::npos) << message;

    message = error_of([&] { TlsContext c(cert, missing); });
    EXPECT_NE(message.find(missing.string()), std::string::npos) << message;
    EXPECT_NE(message.find("key"), std::string::npos) << message;

    const auto text = dir.path() / "text.pem";
    std::ofstream(text) << "not a certificate\n";
    message = error_of([&] { TlsContext c(text, key); });
    EXPECT_NE(message.find(text.string()), std::string::npos) << message;
    message = error_of([&] { TlsContext c(cert, text); });
    EXPECT_NE(message.find(text.string()), std::string::npos) << message;
    message = error_of([&] { TlsContext c(cert, cert); }); // a certificate is not a key
    EXPECT_NE(message.find("key file '" + cert.string()), std::string::npos) << message;
}

TEST(TlsContext, RejectsAKeyThatIsNotTheCertificates) {
    TempDir dir;
    const auto cert = dir.path() / "cert.pem";
    const auto key = dir.path() / "key.pem";
    make_self_signed_certificate(cert, key, "localhost", 1);
    make_self_signed_certificate(dir.path() / "other.pem", dir.path() / "other.key", "localhost",
                                 1);
    const auto message = error_of([&] { TlsContext c(cert, dir.path() / "other.key"); });
    EXPECT_NE(message.find((dir.path() / "other.key").string()), std::string::npos) << message;
    EXPECT_NE(message.find("does not match"), std::string::npos) << message;
}

TEST(TlsSelfSigned, NamesAndModes) {
    TempDir dir;
    const auto cert_path = dir.path() / "cert.pem";
    const auto key_path = dir.path() / "key.pem";
    make_self_signed_certificate(cert_path, key_path, "turn.example.com", 30);

    struct stat st {};
    ASSERT_EQ(::stat(key_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    BIO* bio = BIO_new_file(cert_path.c_str(), "r");
    ASSERT_NE(bio, nullptr);
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    ASSERT_NE(cert, nullptr);
    EXPECT_EQ(X509_check_host(cert, "turn.example.com", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
    EXPECT_EQ(X509_check_host(cert, "other.example.com", 0, 0, nullptr), 0);
    EXPECT_EQ(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);
    X509_free(cert);

    // Made again, both files are replaced and still belong together.
    make_self_signed_certificate(cert_path, key_path, "192.0.2.1", 30);
    EXPECT_NO_THROW(TlsContext(cert_path, key_path));
}

} // namespace
} // namespace strowger::net
