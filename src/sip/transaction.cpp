#include "sip/transaction.hpp"

#include <algorithm>

#include "sip/headers.hpp"
#include "sip/syntax.hpp"
#include "sip/writer.hpp"

namespace strowger::sip {
namespace {

using Duration = core::TimerService::Duration;

bool reliable(const Flow& flow) { return core::is_stream(flow.transport); }

std::string_view top_via_item(const Message& msg) {
    const auto* via = msg.first(HeaderId::Via);
    return via == nullptr ? std::string_view{} : split_first_item(via->value).item;
}

std::string_view cseq_method(const Message& msg) {
    auto cseq = parse_cseq(msg.value(HeaderId::CSeq));
    return cseq ? cseq->method : std::string_view{};
}

// Where to insert "=value" for a parameter written without one (";rport"): the offset just
// past its name.
std::optional<std::size_t> find_valueless_param(std::string_view item, std::string_view name) {
    for (std::size_t semi = item.find(';'); semi != std::string_view::npos;
         semi = item.find(';', semi + 1)) {
        std::size_t at = semi + 1;
        while (at < item.size() && is_lws_char(item[at])) {
            ++at;
        }
        if (item.size() - at >= name.size() && iequals(item.substr(at, name.size()), name)) {
            std::size_t end = at + name.size();
            if (end == item.size() || item[end] == ';' || is_lws_char(item[end])) {
                return end;
            }
        }
    }
    return std::nullopt;
}

Duration ms(std::chrono::milliseconds d) { return std::chrono::duration_cast<Duration>(d); }

} // namespace

std::optional<StampedVia> stamp_top_via(std::string_view item, const Flow& from) {
    auto via = parse_via(item);
    if (!via) {
        return std::nullopt;
    }
    StampedVia out{std::string(item), from};
    auto source = from.remote.address_string();
    auto host = via->host;
    if (!host.empty() && host.front() == '[') {
        host = host.substr(1, host.size() - 2);
    }
    if (via->has_rport() && via->rport_param->empty()) {
        // ";rport" asks for the source port: fill in its value where it stands.
        if (auto at = find_valueless_param(item, "rport")) {
            out.via.insert(*at, "=" + std::to_string(from.remote.port));
        }
    }
    if (!via->received() && (via->has_rport() || !iequals(host, source))) {
        out.via += ";received=" + source;
    }
    if (!reliable(from) && !via->has_rport()) {
        // §18.2.2: over UDP, to the source address at the sent-by port.
        out.response_flow.remote.port = via->port.value_or(5060);
    }
    return out;
}

std::string server_transaction_key(const Message& request, std::string_view method) {
    auto item = top_via_item(request);
    auto via = parse_via(item);
    if (!via) {
        return {};
    }
    std::string key;
    if (via->has_rfc3261_branch()) {
        key.reserve(via->branch()->size() + via->sent_by.size() + method.size() + 2);
        key.append(*via->branch());
        key.push_back('|');
        key.append(via->sent_by);
        key.push_back('|');
        key.append(method);
        return key;
    }
    // RFC 2543 peers: the ACK's To tag differs from the INVITE's, so it is left out.
    auto from = parse_name_addr(request.value(HeaderId::From), SipError::BadFrom);
    auto cseq = parse_cseq(request.value(HeaderId::CSeq));
    key.append("2543|");
    key.append(request.request_uri());
    key.push_back('|');
    key.append(from && from->tag() ? *from->tag() : std::string_view{});
    key.push_back('|');
    key.append(request.value(HeaderId::CallId));
    key.push_back('|');
    key.append(std::to_string(cseq ? cseq->number : 0));
    key.push_back('|');
    key.append(via->sent_by);
    key.push_back('|');
    key.append(method);
    return key;
}

// ---- server transactions ----------------------------------------------------------------

ServerTransaction::ServerTransaction(TransactionLayer& layer, std::string key, Message&& request,
                                     const Flow& source, const Flow& response_flow,
                                     std::string top_via)
    : layer_(layer), key_(std::move(key)), request_(std::move(request)), source_(source),
      response_flow_(response_flow), top_via_(std::move(top_via)),
      invite_(request_.method() == "INVITE"), reliable_(reliable(source)),
      state_(invite_ ? State::Proceeding : State::Trying) {}

ServerTransaction::~ServerTransaction() {
    layer_.timers_.cancel(retransmit_timer_);
    layer_.timers_.cancel(end_timer_);
}

void ServerTransaction::send_last() { layer_.transmitter_.send(response_flow_, last_response_); }

void ServerTransaction::respond(int status, std::string bytes) {
    auto& timers = layer_.timers_;
    const auto& cfg = layer_.config_;
    if (state_ == State::Completed || state_ == State::Confirmed) {
        return;
    }
    if (state_ == State::Accepted) {
        if (status >= 200 && status < 300) {
            layer_.transmitter_.send(response_flow_, bytes); // RFC 6026 §7.1
        }
        return;
    }
    last_status_ = status;
    last_response_ = std::move(bytes);
    send_last();
    if (status < 200) {
        state_ = State::Proceeding;
        return;
    }
    if (invite_ && status < 300) {
        // RFC 6026: Accepted absorbs INVITE retransmissions while the 2xx is retransmitted
        // end to end; Timer L ends it.
        state_ = State::Accepted;
        end_timer_ = timers.schedule_after(64 * ms(cfg.t1), [this] { layer_.destroy(*this); });
        return;
    }
    state_ = State::Completed;
    if (invite_) {
        if (!reliable_) {
            retransmit_interval_ = ms(cfg.t1);
            retransmit_timer_ =
                timers.schedule_after(retransmit_interval_, [this] { retransmit_final(); });
        }
        end_timer_ = timers.schedule_after(64 * ms(cfg.t1), [this] { // Timer H
            ++layer_.stats_.timeouts;
            layer_.destroy(*this);
        });
    } else if (reliable_) {
        layer_.terminate_later(*this); // Timer J is zero on reliable transports
    } else {
        end_timer_ = timers.schedule_after(64 * ms(cfg.t1), [this] { layer_.destroy(*this); });
        // For Timer J's 32 s only the final response is needed again: a registrar answering
        // thousands of REGISTERs a second should not hold every request that long.
        request_ = Message{};
        top_via_ = std::string{};
    }
}

void ServerTransaction::retransmit_final() {
    ++layer_.stats_.retransmissions_sent;
    send_last();
    retransmit_interval_ = std::min(2 * retransmit_interval_, ms(layer_.config_.t2));
    retransmit_timer_ =
        layer_.timers_.schedule_after(retransmit_interval_, [this] { retransmit_final(); });
}

void ServerTransaction::on_retransmission() {
    ++layer_.stats_.retransmissions_absorbed;
    if ((state_ == State::Proceeding || state_ == State::Completed) && !last_response_.empty()) {
        send_last();
    }
}

void ServerTransaction::on_ack() {
    if (state_ != State::Completed) {
        return;
    }
    state_ = State::Confirmed;
    layer_.timers_.cancel(retransmit_timer_);
    layer_.timers_.cancel(end_timer_);
    if (reliable_) {
        layer_.terminate_later(*this);
    } else { // Timer I absorbs ACK retransmissions
        end_timer_ = layer_.timers_.schedule_after(ms(layer_.config_.t4),
                                                   [this] { layer_.destroy(*this); });
    }
}

// ---- client transactions ----------------------------------------------------------------

ClientTransaction::ClientTransaction(TransactionLayer& layer, std::string key, std::string branch,
                                     Message&& request, const Flow& destination)
    : layer_(layer), key_(std::move(key)), branch_(std::move(branch)),
      request_(std::move(request)), destination_(destination),
      invite_(request_.method() == "INVITE"), reliable_(reliable(destination)),
      state_(invite_ ? State::Calling : State::Trying) {}

ClientTransaction::~ClientTransaction() {
    layer_.timers_.cancel(retransmit_timer_);
    layer_.timers_.cancel(end_timer_);
}

void ClientTransaction::start() {
    const auto& cfg = layer_.config_;
    if (!reliable_) {
        retransmit_interval_ = ms(cfg.t1);
        retransmit_timer_ =
            layer_.timers_.schedule_after(retransmit_interval_, [this] { retransmit(); });
    }
    end_timer_ = layer_.timers_.schedule_after(64 * ms(cfg.t1), [this] { time_out(); });
    if (!layer_.transmitter_.send(destination_, request_.raw())) {
        // §17.1.4: a transport error is a 503. Told from a timer, not from inside the TU's
        // own start_client() call.
        layer_.timers_.cancel(retransmit_timer_);
        layer_.timers_.cancel(end_timer_);
        end_timer_ = layer_.timers_.schedule_after(Duration::zero(), [this] { fail(503); });
    }
}

void ClientTransaction::fail(int status) {
    layer_.timers_.cancel(retransmit_timer_);
    state_ = State::Completed;
    layer_.tu_.on_client_failure(*this, status);
    layer_.destroy(*this);
}

void ClientTransaction::retransmit() {
    ++layer_.stats_.retransmissions_sent;
    layer_.transmitter_.send(destination_, request_.raw());
    // Timer A doubles without limit (Timer B ends it); Timer E stops at T2, and in Proceeding
    // it is T2 from the start (§17.1.2.2).
    auto next = 2 * retransmit_interval_;
    if (!invite_) {
        next = state_ == State::Proceeding ? ms(layer_.config_.t2)
                                           : std::min(next, ms(layer_.config_.t2));
    }
    retransmit_interval_ = next;
    retransmit_timer_ =
        layer_.timers_.schedule_after(retransmit_interval_, [this] { retransmit(); });
}

void ClientTransaction::time_out() {
    ++layer_.stats_.timeouts;
    fail(408);
}

void ClientTransaction::on_response(const Message& response) {
    auto& timers = layer_.timers_;
    const auto& cfg = layer_.config_;
    const int code = response.status_code();
    switch (state_) {
    case State::Calling:
    case State::Trying:
    case State::Proceeding:
        break;
    case State::Accepted:
        if (code >= 200 && code < 300) {
            layer_.tu_.on_response(*this, response); // RFC 6026 §8.4
        } else {
            ++layer_.stats_.retransmissions_absorbed;
        }
        return;
    case State::Completed:
        ++layer_.stats_.retransmissions_absorbed;
        if (invite_ && code >= 300 && !ack_.empty()) {
            layer_.transmitter_.send(destination_, ack_); // the ACK was lost: send it again
        }
        return;
    }

    status_ = std::max(status_, code);
    if (code < 200) {
        if (invite_) {
            // Proceeding: no more retransmissions, and Timer B no longer applies (the proxy's
            // Timer C takes over, §16.8).
            timers.cancel(retransmit_timer_);
            timers.cancel(end_timer_);
        }
        state_ = State::Proceeding;
        layer_.tu_.on_response(*this, response);
        return;
    }
    timers.cancel(retransmit_timer_);
    timers.cancel(end_timer_);
    if (invite_ && code < 300) {
        state_ = State::Accepted;
        end_timer_ = timers.schedule_after(64 * ms(cfg.t1), [this] { layer_.destroy(*this); });
        layer_.tu_.on_response(*this, response);
        return;
    }
    state_ = State::Completed;
    if (invite_) {
        ack_ = make_ack_for_failure(request_, response);
        layer_.transmitter_.send(destination_, ack_);
    }
    layer_.tu_.on_response(*this, response);
    if (reliable_) {
        layer_.terminate_later(*this); // Timers D and K are zero on reliable transports
    } else {
        auto linger = invite_ ? Duration(std::chrono::seconds(32)) : ms(cfg.t4); // D, K
        end_timer_ = timers.schedule_after(linger, [this] { layer_.destroy(*this); });
    }
}

// ---- the layer ---------------------------------------------------------------------------

TransactionLayer::TransactionLayer(core::TimerService& timers, Transmitter& transmitter,
                                   TransactionUser& tu, TimerConfig config)
    : timers_(timers), transmitter_(transmitter), tu_(tu), config_(config) {}

TransactionLayer::~TransactionLayer() {
    // Transactions cancel their own timers; the TU is going away too, so it is not told.
    clients_.clear();
    servers_.clear();
}

void TransactionLayer::receive(Message&& message, const Flow& from) {
    if (message.is_request()) {
        receive_request(std::move(message), from);
    } else {
        receive_response(std::move(message), from);
    }
}

void TransactionLayer::receive_request(Message&& request, const Flow& from) {
    const bool ack = request.method() == "ACK";
    auto key = server_transaction_key(request, ack ? std::string_view("INVITE")
                                                   : request.method());
    if (key.empty()) {
        return; // validate() refuses requests without a usable Via before this
    }
    if (auto it = servers_.find(key); it != servers_.end()) {
        auto& txn = *it->second;
        if (!ack) {
            txn.on_retransmission();
        } else if (txn.state() == ServerTransaction::State::Completed ||
                   txn.state() == ServerTransaction::State::Confirmed) {
            txn.on_ack(); // the ACK for our non-2xx final: hop by hop, absorbed here
        } else {
            tu_.on_ack(std::move(request), from); // RFC 6026: ACK for a 2xx in Accepted
        }
        return;
    }
    if (ack) {
        tu_.on_ack(std::move(request), from);
        return;
    }
    auto stamped = stamp_top_via(top_via_item(request), from);
    if (!stamped) {
        return;
    }
    ++stats_.server_created;
    auto* txn = new ServerTransaction(*this, key, std::move(request), from,
                                      stamped->response_flow, std::move(stamped->via));
    servers_.emplace(std::move(key), std::unique_ptr<ServerTransaction>(txn));
    if (txn->is_invite()) {
        // §17.2.1 / §16.2: answer at once so the caller stops retransmitting.
        txn->respond(100, make_response(txn->request(), 100, "Trying",
                                        {.top_via = txn->top_via()}));
    }
    tu_.on_request(*txn);
}

void TransactionLayer::receive_response(Message&& response, const Flow& from) {
    auto via = parse_via(top_via_item(response));
    if (via && via->branch()) {
        std::string key;
        auto method = cseq_method(response);
        key.reserve(via->branch()->size() + method.size() + 1);
        key.append(*via->branch());
        key.push_back('|');
        key.append(method);
        if (auto it = clients_.find(key); it != clients_.end()) {
            it->second->on_response(response);
            return;
        }
    }
    tu_.on_stray_response(std::move(response), from);
}

ClientTransaction& TransactionLayer::start_client(std::string_view branch, Message&& request,
                                                  const Flow& destination) {
    std::string key;
    auto method = cseq_method(request);
    key.reserve(branch.size() + method.size() + 1);
    key.append(branch);
    key.push_back('|');
    key.append(method);
    ++stats_.client_created;
    auto* txn = new ClientTransaction(*this, key, std::string(branch), std::move(request),
                                      destination);
    clients_.insert_or_assign(std::move(key), std::unique_ptr<ClientTransaction>(txn));
    txn->start();
    return *txn;
}

ServerTransaction* TransactionLayer::find_invite_for_cancel(const Message& cancel) const {
    auto it = servers_.find(server_transaction_key(cancel, "INVITE"));
    return it == servers_.end() ? nullptr : it->second.get();
}

void TransactionLayer::terminate_later(ServerTransaction& txn) {
    timers_.cancel(txn.end_timer_);
    txn.end_timer_ = timers_.schedule_after(Duration::zero(), [this, &txn] { destroy(txn); });
}

void TransactionLayer::terminate_later(ClientTransaction& txn) {
    timers_.cancel(txn.end_timer_);
    txn.end_timer_ = timers_.schedule_after(Duration::zero(), [this, &txn] { destroy(txn); });
}

void TransactionLayer::destroy(ServerTransaction& txn) {
    tu_.on_terminated(txn);
    servers_.erase(servers_.find(txn.key_)); // destroys txn
}

void TransactionLayer::destroy(ClientTransaction& txn) {
    tu_.on_terminated(txn);
    clients_.erase(clients_.find(txn.key_));
}

} // namespace strowger::sip
