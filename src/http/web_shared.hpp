#pragma once
// Inside the HTTP service: the Beast types its sessions use and what they share. Only the
// service's own .cpp files include this (it brings in Beast).

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "http/web_server.hpp"

namespace strowger::net {
class Shard;
}

namespace strowger::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Request = bhttp::request<bhttp::string_body>;

template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// A live connection, so that closing the server can close it.
class Session {
public:
    virtual ~Session() = default;
    virtual void shutdown() = 0;
};

// A SIP over WebSocket connection, as the server reaches it to send or close.
class SipWsConnection {
public:
    virtual ~SipWsConnection() = default;
    virtual void send(std::string message) = 0;
    virtual void close() = 0;
};

// What every connection of one server reaches. Sessions hold it by shared_ptr, so the session
// set outlives the server while Asio still owns sessions; nothing else here is touched by a
// session's destructor.
struct WebShared {
    WebShared(WebApi& api_, signaling::LongPollRoom& long_poll_, signaling::WsRoom& ws_,
              std::string server_header_)
        : api(api_), long_poll(long_poll_), ws(ws_), server_header(std::move(server_header_)) {}

    WebApi& api;
    signaling::LongPollRoom& long_poll;
    signaling::WsRoom& ws;
    std::string server_header;
    WebStats stats;
    std::unordered_set<Session*> sessions;
    bool closed = false;
    // SIP over WebSocket.
    net::Shard* shard = nullptr; // mints the connection ids
    SipWsGateway* sip_gateway = nullptr;
    std::size_t sip_max_message = 65535;
    std::chrono::seconds sip_idle_timeout{300};
    std::unordered_map<std::uint64_t, SipWsConnection*> sip_connections;
};

// Hands an HTTP connection whose request asked for a WebSocket to the /ws signaling room.
template <class Stream>
void run_websocket(Stream stream, Request request, std::shared_ptr<WebShared> shared);
extern template void run_websocket<PlainStream>(PlainStream, Request, std::shared_ptr<WebShared>);
extern template void run_websocket<TlsStream>(TlsStream, Request, std::shared_ptr<WebShared>);

// Hands a connection whose request asked for a WebSocket with the "sip" subprotocol to the
// SIP gateway (RFC 7118). A request without that subprotocol gets 400 and is closed.
template <class Stream>
void run_sip_websocket(Stream stream, Request request, std::shared_ptr<WebShared> shared);
extern template void run_sip_websocket<PlainStream>(PlainStream, Request,
                                                    std::shared_ptr<WebShared>);
extern template void run_sip_websocket<TlsStream>(TlsStream, Request, std::shared_ptr<WebShared>);

} // namespace strowger::http
