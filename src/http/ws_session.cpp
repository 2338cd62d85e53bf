// A WebSocket connection at /ws, carrying the browser signaling protocol between one client
// and the room (signaling/ws_room.hpp).

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include "http/web_shared.hpp"
#include "http/ws_outbox.hpp"
#include "signaling/ws_room.hpp"

namespace strowger::http {

namespace {

namespace websocket = beast::websocket;

// Output queued for a client that does not read beyond this closes it: the room never blocks
// on one slow page.
constexpr std::size_t kMaxQueuedBytes = 4 << 20;

template <class Stream>
class WsSession final : public Session,
                        public signaling::WsClient,
                        public std::enable_shared_from_this<WsSession<Stream>> {
public:
    WsSession(Stream stream, std::shared_ptr<WebShared> shared)
        : ws_(std::move(stream)), shared_(std::move(shared)) {
        shared_->sessions.insert(this);
    }
    ~WsSession() override { shared_->sessions.erase(this); }

    void start(Request request) {
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.set_option(websocket::stream_base::decorator(
            [server = shared_->server_header](websocket::response_type& response) {
                response.set(bhttp::field::server, server);
            }));
        ws_.read_message_max(signaling::WsLimits{}.max_message);
        ws_.async_accept(request, [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) {
                ++self->shared_->stats.ws_malformed;
                spdlog::debug("ws: handshake refused: {}", ec.message());
                return;
            }
            self->id_ = self->shared_->ws.connect(*self);
            self->in_room_ = true;
            self->read();
        });
    }

    void shutdown() override {
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

    // signaling::WsClient
    void send(std::string text) override {
        if (outbox_.closing() || overflowed_) {
            return;
        }
        if (outbox_.queued_bytes() + text.size() > kMaxQueuedBytes) {
            // Called from inside the room (maybe while it walks its clients): leave later.
            overflowed_ = true;
            asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
                self->leave_room();
                self->close(signaling::kClosePolicy, "not reading its messages");
            });
            return;
        }
        outbox_.push(std::move(text), true, this->shared_from_this());
    }

    void close(std::uint16_t code, std::string_view reason) override {
        in_room_ = false; // the room has forgotten this client
        outbox_.close(websocket::close_reason(static_cast<websocket::close_code>(code),
                                              std::string(reason)),
                      this->shared_from_this());
    }

private:
    void read() {
        ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec,
                                                                  std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            if (ec != websocket::error::closed && ec != asio::error::eof &&
                ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
                ec != beast::error::timeout) {
                ++shared_->stats.ws_malformed; // e.g. too big (closed with 1009), bad framing
                spdlog::debug("ws: client {} dropped: {}", id_, ec.message());
            }
            leave_room();
            return;
        }
        if (!ws_.got_text()) {
            ++shared_->stats.ws_malformed;
            leave_room();
            close(static_cast<std::uint16_t>(websocket::close_code::unknown_data),
              "send text frames of JSON");
            return;
        }
        auto data = buffer_.cdata();
        shared_->ws.on_message(
            id_, std::string_view(static_cast<const char*>(data.data()), data.size()));
        buffer_.consume(buffer_.size());
        if (!outbox_.closing()) {
            read();
        }
    }

    void leave_room() {
        if (in_room_) {
            in_room_ = false;
            shared_->ws.disconnect(id_);
        }
    }

    websocket::stream<Stream> ws_;
    WsOutbox<websocket::stream<Stream>> outbox_{ws_};
    std::shared_ptr<WebShared> shared_;
    beast::flat_buffer buffer_;
    signaling::WsRoom::ClientId id_ = 0;
    bool in_room_ = false;
    bool overflowed_ = false;
};

} // namespace

template <class Stream>
void run_websocket(Stream stream, Request request, std::shared_ptr<WebShared> shared) {
    std::make_shared<WsSession<Stream>>(std::move(stream), std::move(shared))
        ->start(std::move(request));
}

template void run_websocket<PlainStream>(PlainStream, Request, std::shared_ptr<WebShared>);
template void run_websocket<TlsStream>(TlsStream, Request, std::shared_ptr<WebShared>);

} // namespace strowger::http
