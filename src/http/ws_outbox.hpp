#pragma once
// The sending half of a WebSocket session (/ws signaling, SIP over WebSocket): messages are
// queued and written one at a time, as Beast allows one write in flight, and a close asked
// for goes out after what is being written. Only the HTTP service's .cpp files include this.

#include <boost/beast/websocket.hpp>

#include <deque>
#include <memory>
#include <string>
#include <utility>

namespace strowger::http {

template <class Ws>
class WsOutbox {
public:
    explicit WsOutbox(Ws& ws) : ws_(ws) {}

    [[nodiscard]] std::size_t queued_bytes() const noexcept { return queued_bytes_; }
    [[nodiscard]] bool closing() const noexcept { return closing_; }

    // `owner` keeps the session (and so this outbox) alive until the write completes.
    void push(std::string message, bool text, std::shared_ptr<void> owner) {
        if (closing_) {
            return;
        }
        queued_bytes_ += message.size();
        out_.emplace_back(std::move(message), text);
        if (!writing_) {
            write_next(std::move(owner));
        }
    }

    // Sends the close frame once the write in flight (if any) is done; what is still queued
    // behind it is dropped.
    void close(boost::beast::websocket::close_reason reason, std::shared_ptr<void> owner) {
        if (closing_) {
            return;
        }
        closing_ = true;
        reason_ = std::move(reason);
        if (!writing_) {
            send_close(std::move(owner));
        }
    }

private:
    void write_next(std::shared_ptr<void> owner) {
        writing_ = true;
        ws_.text(out_.front().second);
        ws_.async_write(boost::asio::buffer(out_.front().first),
                        [this, owner](boost::beast::error_code ec, std::size_t) mutable {
                            on_written(ec, std::move(owner));
                        });
    }

    void on_written(boost::beast::error_code ec, std::shared_ptr<void> owner) {
        writing_ = false;
        if (ec) {
            return; // the read side sees the connection go
        }
        queued_bytes_ -= out_.front().first.size();
        out_.pop_front();
        if (closing_) {
            send_close(std::move(owner));
        } else if (!out_.empty()) {
            write_next(std::move(owner));
        }
    }

    void send_close(std::shared_ptr<void> owner) {
        out_.clear();
        queued_bytes_ = 0;
        ws_.async_close(reason_, [owner](boost::beast::error_code) {});
    }

    Ws& ws_;
    std::deque<std::pair<std::string, bool>> out_; // message, sent as text
    std::size_t queued_bytes_ = 0;
    boost::beast::websocket::close_reason reason_;
    bool writing_ = false;
    bool closing_ = false;
};

} // namespace strowger::http
