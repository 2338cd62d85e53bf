// SIP over WebSocket (RFC 7118): one connection carrying SIP messages between a browser (or
// any WebSocket SIP client) and the SIP gateway, one message per WebSocket message.
//
// The upgrade must offer the "sip" subprotocol, and the answer names it, or browsers abort
// (§4.1); without it the request gets 400. Text and binary messages are both taken; messages
// are sent as text, or as binary when they are not UTF-8 (§4.2). Beast answers pings, refuses
// unmasked client frames (close 1002) and messages over the limit (close 1009); it also pings
// an idle client and drops one that does not answer.

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include "core/text.hpp"
#include "http/web_shared.hpp"
#include "http/ws_outbox.hpp"
#include "net/shard.hpp"

namespace strowger::http {

namespace {

namespace websocket = beast::websocket;

// Output queued for a client that does not read beyond this closes it.
constexpr std::size_t kMaxQueuedBytes = 4 << 20;

// Whether a Sec-WebSocket-Protocol list offers "sip".
bool offers_sip(std::string_view list) {
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
            item.remove_prefix(1);
        }
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
            item.remove_suffix(1);
        }
        if (item.size() == 3 && (item[0] | 0x20) == 's' && (item[1] | 0x20) == 'i' &&
            (item[2] | 0x20) == 'p') {
            return true;
        }
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    return false;
}

core::IpEndpoint endpoint_of(const asio::ip::tcp::endpoint& ep) {
    auto address = ep.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    return core::IpEndpoint::from_address(address.to_string(), ep.port())
        .value_or(core::IpEndpoint{});
}

template <class Stream>
class SipWsSession final : public Session,
                           public SipWsConnection,
                           public std::enable_shared_from_this<SipWsSession<Stream>> {
public:
    SipWsSession(Stream stream, std::shared_ptr<WebShared> shared)
        : ws_(std::move(stream)), shared_(std::move(shared)) {
        shared_->sessions.insert(this);
    }
    ~SipWsSession() override {
        shared_->sessions.erase(this);
        leave();
    }

    void start(Request request) {
        auto offered = request[bhttp::field::sec_websocket_protocol];
        if (!offers_sip(std::string_view(offered.data(), offered.size()))) {
            ++shared_->stats.sip_ws_refused;
            refuse(std::move(request));
            return;
        }
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = std::chrono::seconds(30);
        timeouts.idle_timeout = shared_->sip_idle_timeout;
        timeouts.keep_alive_pings = true; // a silent client is pinged before it is dropped
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator(
            [server = shared_->server_header](websocket::response_type& response) {
                response.set(bhttp::field::server, server);
                response.set(bhttp::field::sec_websocket_protocol, "sip");
            }));
        ws_.read_message_max(shared_->sip_max_message);
        ws_.auto_fragment(false); // one frame per message: some clients expect it
        ws_.async_accept(request, [self = this->shared_from_this()](beast::error_code ec) {
            self->on_accepted(ec);
        });
    }

    void shutdown() override {
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

    // SipWsConnection
    void send(std::string message) override {
        if (outbox_.closing()) {
            return;
        }
        if (outbox_.queued_bytes() + message.size() > kMaxQueuedBytes) {
            spdlog::info("sip ws {}: not reading what it is sent; closing", id_);
            ++shared_->stats.sip_ws_errors;
            close_with(websocket::close_code::policy_error, "not reading its messages");
            return;
        }
        const bool text = core::is_utf8(message); // else a binary frame (RFC 7118 §4.2)
        outbox_.push(std::move(message), text, this->shared_from_this());
    }

    void close() override { close_with(websocket::close_code::normal, ""); }

private:
    void refuse(Request request) {
        // A plain HTTP answer on the stream the upgrade came on, then the end of it.
        auto response = std::make_shared<bhttp::response<bhttp::string_body>>(
            bhttp::status::bad_request, request.version());
        response->set(bhttp::field::server, shared_->server_header);
        response->set(bhttp::field::content_type, "text/plain");
        response->body() = "SIP over WebSocket needs the subprotocol \"sip\" "
                           "(Sec-WebSocket-Protocol: sip, RFC 7118)\n";
        response->keep_alive(false);
        response->prepare_payload();
        spdlog::debug("sip ws: upgrade without the sip subprotocol refused");
        bhttp::async_write(ws_.next_layer(), *response,
                           [self = this->shared_from_this(), response](beast::error_code,
                                                                       std::size_t) {
                               self->shutdown();
                           });
    }

    void on_accepted(beast::error_code ec) {
        if (ec) {
            ++shared_->stats.sip_ws_refused;
            spdlog::debug("sip ws: handshake refused: {}", ec.message());
            return;
        }
        if (shared_->sip_gateway == nullptr || shared_->closed) {
            close();
            return;
        }
        ++shared_->stats.sip_websockets;
        id_ = shared_->shard->next_connection_id();
        shared_->sip_connections.emplace(id_, this);
        beast::error_code peer_ec;
        auto peer = beast::get_lowest_layer(ws_).socket().remote_endpoint(peer_ec);
        shared_->sip_gateway->sip_opened(id_, peer_ec ? core::IpEndpoint{} : endpoint_of(peer),
                                         kIsTls<Stream>);
        read();
    }

    void read() {
        ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec,
                                                                  std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            if (ec != websocket::error::closed && ec != asio::error::eof &&
                ec != asio::error::operation_aborted && ec != asio::error::connection_reset) {
                // Too big (closed with 1009), unmasked (1002), bad framing, or no answer to
                // our pings: each closes only this connection.
                ++shared_->stats.sip_ws_errors;
                spdlog::info("sip ws {}: closed: {}", id_, ec.message());
            }
            leave();
            return;
        }
        auto data = buffer_.cdata();
        if (shared_->sip_gateway != nullptr && in_gateway_ && !outbox_.closing()) {
            shared_->sip_gateway->sip_message(
                id_, std::string_view(static_cast<const char*>(data.data()), data.size()));
        }
        buffer_.consume(buffer_.size());
        if (!outbox_.closing()) {
            read();
        }
    }

    // Tells the gateway, once, that this flow is gone (its bindings go with it).
    void leave() {
        if (in_gateway_ && id_ != 0) {
            in_gateway_ = false;
            shared_->sip_connections.erase(id_);
            if (shared_->sip_gateway != nullptr) {
                shared_->sip_gateway->sip_closed(id_);
            }
        }
    }

    void close_with(websocket::close_code code, std::string_view reason) {
        leave();
        outbox_.close(websocket::close_reason(code, std::string(reason)),
                      this->shared_from_this());
    }

    websocket::stream<Stream> ws_;
    WsOutbox<websocket::stream<Stream>> outbox_{ws_};
    std::shared_ptr<WebShared> shared_;
    beast::flat_buffer buffer_;
    std::uint64_t id_ = 0;
    bool in_gateway_ = true;
};

} // namespace

template <class Stream>
void run_sip_websocket(Stream stream, Request request, std::shared_ptr<WebShared> shared) {
    std::make_shared<SipWsSession<Stream>>(std::move(stream), std::move(shared))
        ->start(std::move(request));
}

template void run_sip_websocket<PlainStream>(PlainStream, Request, std::shared_ptr<WebShared>);
template void run_sip_websocket<TlsStream>(TlsStream, Request, std::shared_ptr<WebShared>);

} // namespace strowger::http
