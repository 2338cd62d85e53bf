#include "http/web_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <array>
#include <optional>
#include <vector>

#include "http/web_assets.hpp"
#include "http/web_shared.hpp"
#include "net/shard.hpp"
#include "net/tls_context.hpp"
#include "signaling/long_poll_room.hpp"

namespace strowger::http {

namespace {

using tcp = asio::ip::tcp;

constexpr auto kRequestTimeout = std::chrono::seconds(30); // also the keep-alive idle time
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxHeader = 16 * 1024;
constexpr std::size_t kMaxBody = 1024 * 1024; // an SDP with every candidate fits many times

// The host part of a Host header ("example.org:8080", "[::1]:8443"), or empty when it is not
// a plain host name or address (it goes into URLs handed to browsers).
std::string host_of(std::string_view header) {
    std::string_view host = header;
    if (header.starts_with('[')) {
        auto end = header.find(']');
        host = end == std::string_view::npos ? std::string_view{} : header.substr(0, end + 1);
    } else if (auto colon = header.find(':'); colon != std::string_view::npos) {
        host = header.substr(0, colon);
    }
    for (char c : host) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
        if (!ok) {
            return {};
        }
    }
    return std::string(host);
}

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

std::string address_for_url(const tcp::endpoint& local) {
    auto address = local.address().to_string();
    return local.address().is_v6() ? "[" + address + "]" : address;
}

template <class Stream>
class HttpSession final : public Session,
                          public signaling::LongPollWaiter,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
public:
    HttpSession(Stream stream, std::shared_ptr<WebShared> shared, ListenerRole role)
        : stream_(std::move(stream)), shared_(std::move(shared)), role_(role) {
        shared_->sessions.insert(this);
    }
    ~HttpSession() override { shared_->sessions.erase(this); }

    void start() {
        if constexpr (kIsTls<Stream>) {
            beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
            stream_.async_handshake(asio::ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code ec) {
                                        if (ec) {
                                            ++self->shared_->stats.malformed;
                                            spdlog::debug("http: TLS handshake failed: {}",
                                                          ec.message());
                                            return;
                                        }
                                        self->read_request();
                                    });
        } else {
            read_request();
        }
    }

    void shutdown() override {
        beast::error_code ignored;
        beast::get_lowest_layer(stream_).socket().close(ignored);
    }

    // signaling::LongPollWaiter
    void deliver(std::string response) override {
        parked_ = false;
        write_raw(std::move(response));
    }
    void abandon() override {
        parked_ = false;
        shutdown();
    }

private:
    void read_request() {
        parser_.emplace();
        parser_->header_limit(kMaxHeader);
        parser_->body_limit(kMaxBody);
        beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
        bhttp::async_read(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_request(ec);
                          });
    }

    void on_request(beast::error_code ec) {
        if (ec) {
            if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
                ++shared_->stats.malformed;
                spdlog::debug("http: bad request from {}: {}", remote(), ec.message());
                auto status = ec == bhttp::error::body_limit ? bhttp::status::payload_too_large
                                                              : bhttp::status::bad_request;
                respond(status, "text/plain", "bad request: " + ec.message() + "\n", false);
            }
            return; // the peer went away, or was too slow
        }
        ++shared_->stats.requests;
        auto& request = parser_->get();
        std::string_view target = view(request.target());
        auto question = target.find('?');
        path_ = std::string(target.substr(0, question));
        query_ = question == std::string_view::npos ? std::string{}
                                                    : std::string(target.substr(question + 1));
        keep_alive_ = request.keep_alive();
        head_only_ = request.method() == bhttp::verb::head;

        if (role_ == ListenerRole::Sip) {
            // A sip.listen ws:/wss: listener: SIP over WebSocket at any path, nothing else.
            if (!beast::websocket::is_upgrade(request)) {
                ++shared_->stats.sip_ws_refused;
                respond(bhttp::status::bad_request, "text/plain",
                        "this port carries SIP over WebSocket only (RFC 7118)\n", false);
                return;
            }
            beast::get_lowest_layer(stream_).expires_never();
            run_sip_websocket(std::move(stream_), parser_->release(), shared_);
            return;
        }
        if (beast::websocket::is_upgrade(request)) {
            if (path_ == "/sip") {
                beast::get_lowest_layer(stream_).expires_never();
                run_sip_websocket(std::move(stream_), parser_->release(), shared_);
                return;
            }
            if (path_ != "/ws") {
                respond(bhttp::status::not_found, "text/plain",
                        "WebSocket is served at /ws (signaling) and /sip (SIP)\n");
                return;
            }
            ++shared_->stats.websockets;
            beast::get_lowest_layer(stream_).expires_never();
            run_websocket(std::move(stream_), parser_->release(), shared_);
            return;
        }
        if (request.method() == bhttp::verb::options ||
            signaling::LongPollRoom::serves(path_)) {
            long_poll(request);
            return;
        }
        if (request.method() != bhttp::verb::get && request.method() != bhttp::verb::head) {
            respond(bhttp::status::method_not_allowed, "text/plain",
                    std::string(request.method_string()) + " is not served for " + path_ + "\n");
            return;
        }
        get(request);
    }

    void long_poll(const Request& request) {
        signaling::LongPollRequest lp{view(request.method_string()), path_, query_,
                                      view(request[bhttp::field::content_type]), request.body()};
        auto answer = shared_->long_poll.handle(lp, *this);
        if (!answer) {
            park();
            return;
        }
        write_raw(std::move(*answer));
    }

    // A /wait with nothing queued: hold the connection. A read stays pending meanwhile, so
    // that the client closing its hanging get is seen at once (its member's 30 s clock starts).
    void park() {
        parked_ = true;
        beast::get_lowest_layer(stream_).expires_never();
        stream_.async_read_some(asio::buffer(probe_),
                                [self = this->shared_from_this()](beast::error_code, std::size_t) {
                                    if (self->parked_) {
                                        self->parked_ = false;
                                        self->shared_->long_poll.cancel_wait(*self);
                                        self->shutdown();
                                    }
                                });
    }

    void get(const Request& request) {
        if (path_ == "/") {
            redirect("/call/");
        } else if (path_ == "/api/ice-servers") {
            std::string host = host_of(view(request[bhttp::field::host]));
            if (host.empty()) { // HTTP/1.0 without Host: the address the client reached
                beast::error_code ec;
                auto local = beast::get_lowest_layer(stream_).socket().local_endpoint(ec);
                host = ec ? "127.0.0.1" : address_for_url(local);
            }
            respond(bhttp::status::ok, "application/json", shared_->api.ice_servers(host));
        } else if (path_ == "/metrics") {
            shared_->api.metrics([self = this->shared_from_this()](std::string text) {
                self->respond(bhttp::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                              std::move(text));
            });
        } else if (const auto* asset = find_web_asset(path_)) {
            respond(bhttp::status::ok, asset->content_type,
                    std::string(reinterpret_cast<const char*>(asset->data.data()),
                                asset->data.size()));
        } else if (is_web_directory(path_)) {
            redirect(path_ + "/" + (query_.empty() ? "" : "?" + query_)); // keep ?relay=1
        } else {
            respond(bhttp::status::not_found, "text/plain", "not found: " + path_ + "\n");
        }
    }

    void redirect(const std::string& location) {
        response_ = bhttp::response<bhttp::string_body>(bhttp::status::moved_permanently, 11);
        response_.set(bhttp::field::location, location);
        send_response("text/plain", "moved to " + location + "\n", keep_alive_);
    }

    void respond(bhttp::status status, std::string_view content_type, std::string body) {
        respond(status, content_type, std::move(body), keep_alive_);
    }

    void respond(bhttp::status status, std::string_view content_type, std::string body,
                 bool keep_alive) {
        // HTTP/1.1 whatever the request's version (RFC 9110 §6.2: the highest version the
        // server conforms to), as the long-poll answers are; keep_alive() then writes
        // "Connection: close" for a 1.0 client.
        response_ = bhttp::response<bhttp::string_body>(status, 11);
        send_response(content_type, std::move(body), keep_alive);
    }

    void send_response(std::string_view content_type, std::string body, bool keep_alive) {
        response_.set(bhttp::field::server, shared_->server_header);
        response_.set(bhttp::field::content_type,
                      beast::string_view(content_type.data(), content_type.size()));
        response_.set(bhttp::field::cache_control, "no-cache");
        response_.set(bhttp::field::access_control_allow_origin, "*");
        response_.keep_alive(keep_alive);
        const auto length = body.size();
        if (!head_only_) {
            response_.body() = std::move(body);
        }
        response_.prepare_payload();
        if (head_only_) {
            response_.content_length(length);
        }
        beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
        bhttp::async_write(stream_, response_,
                           [self = this->shared_from_this(), keep_alive](beast::error_code ec,
                                                                         std::size_t) {
                               if (ec) {
                                   return;
                               }
                               if (keep_alive) {
                                   self->read_request();
                               } else {
                                   self->finish();
                               }
                           });
    }

    // A long-poll response: framed by the room, and always the connection's last.
    void write_raw(std::string bytes) {
        raw_ = std::move(bytes);
        beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
        asio::async_write(stream_, asio::buffer(raw_),
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) {
                                  self->finish();
                              }
                          });
    }

    // After the last response: the peer reads it to the end, then sees the connection close.
    void finish() {
        if constexpr (kIsTls<Stream>) {
            beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
                self->shutdown();
            });
        } else {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            shutdown();
        }
    }

    std::string remote() {
        beast::error_code ec;
        auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
        return ec ? std::string("?") : address_for_url(peer) + ":" + std::to_string(peer.port());
    }

    Stream stream_;
    std::shared_ptr<WebShared> shared_;
    ListenerRole role_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    bhttp::response<bhttp::string_body> response_;
    std::string raw_;
    std::string path_;
    std::string query_;
    bool keep_alive_ = false;
    bool head_only_ = false;
    bool parked_ = false;
    std::array<char, 1> probe_{};
};

} // namespace

// One listening socket.
struct Listener {
    Listener(net::Shard& shard, const core::ListenSpec& spec_, int fd, ListenerRole role_)
        : spec(spec_), role(role_), acceptor(shard.io()), retry(shard.io()) {
        acceptor.assign(spec.endpoint.is_v6() ? tcp::v6() : tcp::v4(), fd);
    }

    core::ListenSpec spec;
    ListenerRole role;
    tcp::acceptor acceptor;
    asio::steady_timer retry;
    std::unique_ptr<asio::ssl::context> tls; // for a tls: listener
};

struct WebServer::Impl {
    net::Shard& shard;
    std::shared_ptr<WebShared> shared;
    std::vector<std::unique_ptr<Listener>> listeners;

    void accept(Listener& listener) {
        listener.acceptor.async_accept([this, &listener](beast::error_code ec, tcp::socket s) {
            if (shared->closed) {
                return;
            }
            if (ec) {
                if (ec == asio::error::operation_aborted) {
                    return;
                }
                // Out of descriptors, most likely: pause rather than spin on the error.
                spdlog::warn("http {}: accept failed: {}", listener.spec.to_string(),
                             ec.message());
                listener.retry.expires_after(std::chrono::milliseconds(100));
                listener.retry.async_wait([this, &listener](beast::error_code wait_ec) {
                    if (!wait_ec && !shared->closed) {
                        accept(listener);
                    }
                });
                return;
            }
            ++shared->stats.accepted;
            beast::error_code ignored;
            s.set_option(tcp::no_delay(true), ignored);
            if (listener.tls) {
                std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(s), *listener.tls),
                                                         shared, listener.role)
                    ->start();
            } else {
                std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(s)), shared,
                                                           listener.role)
                    ->start();
            }
            accept(listener);
        });
    }
};

WebServer::WebServer(net::Shard& shard, WebApi& api, signaling::LongPollRoom& long_poll,
                     signaling::WsRoom& ws, std::string server_header)
    : impl_(std::make_unique<Impl>(Impl{
          shard,
          std::make_shared<WebShared>(api, long_poll, ws, std::move(server_header)),
          {}})) {
    impl_->shared->shard = &shard;
}

WebServer::~WebServer() = default;

void WebServer::listen(const core::ListenSpec& spec, int fd, const net::TlsContext* tls,
                       ListenerRole role) {
    auto listener = std::make_unique<Listener>(impl_->shard, spec, fd, role);
    if (tls != nullptr) {
        // Asio's context takes ownership of an SSL_CTX; it gets its own reference to ours.
        SSL_CTX_up_ref(tls->native_handle());
        listener->tls = std::make_unique<asio::ssl::context>(tls->native_handle());
    }
    impl_->listeners.push_back(std::move(listener));
}

void WebServer::start() {
    for (auto& listener : impl_->listeners) {
        impl_->accept(*listener);
    }
}

void WebServer::set_sip_gateway(SipWsGateway* gateway, std::size_t max_message_bytes,
                                std::chrono::seconds idle_timeout) {
    impl_->shared->sip_gateway = gateway;
    impl_->shared->sip_max_message = max_message_bytes;
    impl_->shared->sip_idle_timeout = idle_timeout;
}

void WebServer::sip_send(std::uint64_t id, std::string message) {
    auto& connections = impl_->shared->sip_connections;
    if (auto it = connections.find(id); it != connections.end()) {
        it->second->send(std::move(message));
    }
}

void WebServer::sip_close(std::uint64_t id) {
    auto& connections = impl_->shared->sip_connections;
    if (auto it = connections.find(id); it != connections.end()) {
        it->second->close();
    }
}

void WebServer::close() {
    impl_->shared->closed = true;
    impl_->shared->sip_gateway = nullptr; // it may be gone before the sessions are
    for (auto& listener : impl_->listeners) {
        beast::error_code ignored;
        listener->acceptor.close(ignored);
        listener->retry.cancel();
    }
    // Closing cancels each session's pending operations; Asio then releases the sessions.
    std::vector<Session*> sessions(impl_->shared->sessions.begin(),
                                   impl_->shared->sessions.end());
    for (auto* session : sessions) {
        session->shutdown();
    }
}

const WebStats& WebServer::stats() const noexcept { return impl_->shared->stats; }

std::size_t WebServer::connection_count() const noexcept {
    return impl_->shared->sessions.size();
}

} // namespace strowger::http
