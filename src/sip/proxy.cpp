#include "sip/proxy.hpp"

#include <algorithm>
#include <random>

#include "sip/aor.hpp"
#include "sip/branch.hpp"
#include "sip/header_list.hpp"
#include "sip/headers.hpp"
#include "sip/syntax.hpp"
#include "sip/transport_name.hpp"
#include "sip/validate.hpp"
#include "sip/writer.hpp"

namespace strowger::sip {
namespace {

// What the exchange routes, for OPTIONS (§11.2).
constexpr std::string_view kAllowRouted =
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, PRACK, REFER, "
    "NOTIFY, SUBSCRIBE, MESSAGE\r\n";
// What the server itself accepts as a UA (§8.2.1: the Allow of a 405).
constexpr std::string_view kAllowLocal = "Allow: OPTIONS, REGISTER\r\n";

// Datagrams phones send to keep a NAT binding open ("\r\n\r\n", a few NULs, "jaK"): too short
// to be a SIP message, so they are dropped without a word.
bool is_keepalive(std::string_view bytes) { return bytes.size() < 16; }

bool dialog_creating(std::string_view method) {
    return method == "INVITE" || method == "SUBSCRIBE" || method == "REFER";
}

std::string_view reason_phrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 416: return "Unsupported URI Scheme";
    case 420: return "Bad Extension";
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 487: return "Request Terminated";
    case 500: return "Server Internal Error";
    case 503: return "Service Unavailable";
    default: return status < 300 ? "OK" : "Error";
    }
}

struct Fnv {
    std::uint32_t h = 2166136261U;
    void add(std::string_view s) {
        for (char c : s) {
            h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
        }
        h = (h ^ 0xFFU) * 16777619U; // field separator
    }
};

std::optional<std::string_view> tag_of(const Message& msg, HeaderId id) {
    auto na = parse_name_addr(msg.value(id), id == HeaderId::To ? SipError::BadTo
                                                                : SipError::BadFrom);
    return na ? na->tag() : std::nullopt;
}

// A URI as a Request-URI target: without its headers part (§19.1.5 would turn them into
// header fields of the request; a Contact's headers are not for the proxy to apply).
std::string_view without_headers(std::string_view uri) {
    auto q = uri.find('?');
    return q == std::string_view::npos ? uri : uri.substr(0, q);
}

bool is_unusable_destination(const core::IpEndpoint& ep) {
    const auto& a = ep.address;
    if (ep.is_v6()) {
        return a[0] == 0xFF || std::all_of(a.begin(), a.end(), [](auto b) { return b == 0; });
    }
    bool broadcast = a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255;
    bool multicast = a[0] >= 224 && a[0] <= 239;
    bool unspecified = a[0] == 0;
    return broadcast || multicast || unspecified || ep.port == 0;
}

} // namespace

// ---- identity -----------------------------------------------------------------------------

const LocalIdentity::Listener* LocalIdentity::listener_for(core::Transport transport) const {
    for (const auto& l : listeners) {
        if (l.transport == transport) {
            return &l;
        }
    }
    return listeners.empty() ? nullptr : &listeners.front();
}

bool LocalIdentity::is_own_sent_by(std::string_view host, std::uint16_t port) const {
    bool port_ok = std::any_of(listeners.begin(), listeners.end(),
                               [&](const Listener& l) { return l.port == port; });
    return port_ok && std::any_of(hosts.begin(), hosts.end(),
                                  [&](const std::string& h) { return iequals(h, host); });
}

bool LocalIdentity::is_own(const Uri& uri) const {
    return uri.is_sip() && is_own_sent_by(uri.host, uri.port_or_default());
}

// ---- per-request state --------------------------------------------------------------------

// Where a request goes after route processing (§16.4, §16.5).
struct Proxy::Route {
    std::size_t pop = 0;            // our own Route values at the top, removed
    bool routes_left = false;       // a Route value not ours remains: it is the next hop
    std::optional<Flow> token_flow; // from the last of our Route values (in-dialog)
    std::optional<Flow> next_hop;
    std::uint32_t loop_hash = 0; // of the request as received, for our Via branches
};

struct Proxy::Branch {
    Context* ctx = nullptr;
    ClientTransaction* txn = nullptr;
    core::TimerService::TimerId timer_c;
    core::TimerService::TimerId cancel_guard;
    bool provisional = false;
    bool done = false;
    bool cancel_sent = false;
    bool cancel_wanted = false;
    bool timed_out = false; // Timer C fired: whatever final comes counts as 408 (§16.8)
};

// The response context of a forwarded request (§16.7).
struct Proxy::Context {
    ServerTransaction* server = nullptr;
    bool invite = false;
    std::vector<std::unique_ptr<Branch>> branches;
    int best_status = 0;
    std::string best_response; // as it goes upstream; empty: generate best_status here
    std::string cancel_reason; // Reason for CANCELs sent on this context's branches
};

// ---- construction -------------------------------------------------------------------------

Proxy::Proxy(unsigned shard, core::TimerService& timers, Transmitter& transmitter,
             LocationStore& location, LocalIdentity identity, ProxyConfig config,
             const FlowTokens::Key& flow_key, WallClock wall_clock, Handoff handoff)
    : shard_(shard), timers_(timers), location_(location), identity_(std::move(identity)),
      config_(std::move(config)), flow_tokens_(flow_key), wall_clock_(std::move(wall_clock)),
      handoff_(std::move(handoff)), registrar_(location, config_.registrar),
      own_ledger_(config_.ledger != nullptr
                      ? nullptr
                      : std::make_unique<AuthLedger>(config_.auth.nonce_lifetime_s)),
      auth_(shard, config_.auth, config_.accounts,
            config_.ledger != nullptr ? *config_.ledger : *own_ledger_, config_.nonce_key),
      layer_(timers, transmitter, *this, config_.timers),
      tag_seed_((std::uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {}

Proxy::~Proxy() {
    for (auto& [server, ctx] : contexts_) {
        for (auto& b : ctx->branches) {
            timers_.cancel(b->timer_c);
            timers_.cancel(b->cancel_guard);
        }
    }
}

std::size_t counted_method_index(std::string_view method) {
    for (std::size_t i = 0; i < kCountedMethods.size(); ++i) {
        if (kCountedMethods[i] == method) {
            return i;
        }
    }
    return kCountedMethods.size();
}

// ---- input --------------------------------------------------------------------------------

void Proxy::on_bytes(std::string_view bytes, Framing framing, const Flow& from) {
    if (framing == Framing::Datagram && is_keepalive(bytes)) {
        ++stats_.keepalives;
        return;
    }
    auto outcome = parse_message(bytes, framing, config_.max_message_bytes);
    if (!outcome.message) {
        ++stats_.malformed;
        return;
    }
    auto& msg = *outcome.message;
    auto error = outcome.error != SipError::None ? outcome.error : validate(msg);
    if (error != SipError::None) {
        ++stats_.malformed;
        // Responses and ACKs are never answered (§17.1.3, §17.2.3); a request is when enough
        // of it is readable (RFC 4475 §3.1.2).
        if (msg.is_request() && msg.method() != "ACK" && can_answer(msg)) {
            answer_invalid(msg, error, from);
        }
        return;
    }
    if (msg.is_request()) {
        ++stats_.requests;
        ++stats_.requests_by_method[counted_method_index(msg.method())];
    } else {
        ++stats_.responses;
        ++stats_.responses_by_code[static_cast<std::size_t>(msg.status_code() - 100)];
    }
    layer_.receive(std::move(msg), from);
}

void Proxy::on_handed_over(Message&& message, const Flow& from) {
    layer_.receive(std::move(message), from);
}

void Proxy::on_flow_closed(std::uint64_t connection_id) {
    flow_bindings_.close(connection_id, location_, wall_clock_());
}

void Proxy::answer_invalid(const Message& msg, SipError error, const Flow& from) {
    // Where §18.2.2 says when the top Via is readable (stamped as on any request), otherwise
    // back to the source, the only address known.
    Flow to = from;
    std::string top_via;
    if (const auto* via_field = msg.first(HeaderId::Via)) {
        if (auto stamped = stamp_top_via(split_first_item(via_field->value).item, from)) {
            to = stamped->response_flow;
            top_via = std::move(stamped->via);
        }
    }
    const bool version = error == SipError::UnsupportedVersion;
    ++stats_.local_replies;
    layer_.send(to, make_response(msg, version ? 505 : 400,
                                  version ? "Version Not Supported" : describe(error),
                                  {.to_tag = new_tag(), .top_via = top_via}));
}

// ---- requests -----------------------------------------------------------------------------

int Proxy::check_request(const Message& request, Checked& out, std::string* extra_headers) {
    auto uri = parse_uri(request.request_uri());
    if (!uri || !uri->is_sip()) {
        return 416; // §16.3 step 2
    }
    out.uri = *uri;
    if (const auto* h = request.first(HeaderId::MaxForwards)) {
        auto mf = parse_max_forwards(h->value);
        bool to_us = request.method() == "OPTIONS" && identity_.is_own(*uri) && !uri->has_user();
        if (mf && *mf == 0 && !to_us) {
            return 483; // step 3; an OPTIONS for us may still be answered (§16.3)
        }
    }
    // Step 4: our own Via with the branch we would compute now means the request looped.
    bool looped = false;
    const std::uint32_t hash = loop_hash(request);
    out.loop_hash = hash;
    for_each_value(request, HeaderId::Via, [&](std::string_view item) {
        auto via = parse_via(item);
        if (via && via->branch() && identity_.is_own_sent_by(via->host, via->port.value_or(5060))) {
            auto fields = parse_branch(*via->branch());
            looped = fields && fields->loop_hash == hash;
        }
        return !looped;
    });
    if (looped) {
        return 482;
    }
    // Step 5: no extension is required of this proxy that it supports, so every option tag
    // in Proxy-Require is unsupported.
    std::string unsupported;
    for_each_value(request, HeaderId::ProxyRequire, [&](std::string_view tag) {
        unsupported.append(unsupported.empty() ? "" : ", ");
        unsupported.append(tag);
        return true;
    });
    if (!unsupported.empty()) {
        *extra_headers = "Unsupported: " + unsupported + "\r\n";
        return 420;
    }
    return 0;
}

bool Proxy::route(const Message& request, Route& r) {
    bool ok = true;
    bool ours = true;
    for_each_value(request, HeaderId::Route, [&](std::string_view item) {
        auto na = parse_first_name_addr(item, SipError::BadRoute);
        if (!na) {
            ok = false;
            return false;
        }
        if (ours && identity_.is_own(na->uri)) {
            ++r.pop;
            r.token_flow = flow_tokens_.decode(na->uri.user);
            return true;
        }
        ours = false;
        r.routes_left = true;
        r.next_hop = resolve(na->uri);
        return false;
    });
    if (ok && !r.routes_left && r.pop > 0) {
        // In a dialog: the remote target is the Request-URI, reached over the flow our
        // Record-Route named when it can be (the phone may be behind NAT).
        if (r.token_flow) {
            r.next_hop = r.token_flow;
        } else if (auto uri = parse_uri(request.request_uri())) {
            r.next_hop = resolve(*uri);
        }
    }
    return ok;
}

void Proxy::on_request(ServerTransaction& txn) {
    const auto& request = txn.request();
    std::string extra;
    Checked checked;
    if (int status = check_request(request, checked, &extra); status != 0) {
        reply(txn, status, reason_phrase(status), extra);
        return;
    }
    if (checked.uri.scheme == Uri::Scheme::Sips && !is_secure(txn.source().transport)) {
        // RFC 5630 §3.1.3: a sips: request travels over TLS on every hop, the first included.
        reply(txn, 416, "Unsupported URI Scheme (sips: only over TLS)");
        return;
    }
    if (request.method() == "CANCEL") {
        handle_cancel(txn);
        return;
    }
    Route r;
    r.loop_hash = checked.loop_hash;
    if (!route(request, r)) {
        reply(txn, 400, describe(SipError::BadRoute));
        return;
    }
    const Uri* uri = &checked.uri;
    // Before routing: an initial request preloaded with a Route to us (a phone that uses us
    // as its outbound proxy) is as much a request of our user's as one without.
    const bool served = serves_domain(*uri);
    if (!authorize(txn, *uri, served)) {
        return;
    }
    if (r.pop > 0) {
        // Routed through us (a dialog's route set): on to the next Route or the target.
        if (!r.next_hop) {
            reply(txn, 503, "Service Unavailable (next hop is not an address this server can reach)");
        } else {
            fork(txn, r);
        }
        return;
    }
    // An initial request (§16.5): ours to answer, a served domain's user, or foreign. A Route
    // it arrived with (preloaded, not ours) only says where the request would go next.
    if (request.method() == "REGISTER" && served) {
        auto reg = registrar_.handle(request, txn.source(), txn.top_via(), wall_clock_(),
                                     new_tag());
        if (reg.status == 200) {
            ++stats_.registrations;
            flow_bindings_.remember(txn.source(), reg.aor);
        }
        ++stats_.local_replies;
        txn.respond(reg.status, std::move(reg.response));
        return;
    }
    if (served && !uri->has_user()) {
        handle_locally(txn);
        return;
    }
    if (!served && !config_.forward_foreign) {
        reply(txn, 403, "Forbidden (not a domain served here; relaying is off)");
        return;
    }
    Bindings bindings;
    if (served) {
        bindings = location_.lookup(canonical_aor(*uri), wall_clock_());
        if (bindings.empty()) {
            if (config_.is_account && config_.is_account(uri->user)) {
                reply(txn, 480, "Temporarily Unavailable");
            } else {
                reply(txn, 404, "Not Found");
            }
            return;
        }
    }
    if (r.routes_left && !config_.forward_foreign) {
        reply(txn, 403, "Forbidden (preloaded Route to another server; relaying is off)");
        return;
    }
    if (!served) {
        if (!r.routes_left) {
            r.next_hop = resolve(*uri);
        }
        if (!r.next_hop) {
            reply(txn, 503, "Service Unavailable (next hop is not an address this server can reach)");
            return;
        }
        fork(txn, r);
        return;
    }
    if (uri->scheme == Uri::Scheme::Sips) {
        // §26.2.2: never on to a contact reached without TLS.
        std::erase_if(bindings, [](const Binding& b) { return !is_secure(b.flow.transport); });
        if (bindings.empty()) {
            reply(txn, 480, "Temporarily Unavailable (no contact reachable over TLS)");
            return;
        }
    }
    std::sort(bindings.begin(), bindings.end(),
              [](const Binding& a, const Binding& b) { return a.q > b.q; });
    auto& ctx = *contexts_.emplace(&txn, std::make_unique<Context>()).first->second;
    ctx.server = &txn;
    ctx.invite = txn.is_invite();
    txn.user = &ctx;
    for (const auto& b : bindings) {
        // Parallel forking to every contact (§16.6), each reached over the flow it
        // registered from, or through the preloaded Route when one was allowed.
        const Flow& destination = r.routes_left && r.next_hop ? *r.next_hop : b.flow;
        start_branch(ctx, r, std::string(without_headers(b.contact)), destination, b.path);
    }
    finish_if_complete(ctx);
}

bool Proxy::authorize(ServerTransaction& txn, const Uri& uri, bool served) {
    auto decision = auth_.screen(
        txn.request(), uri, served, [this](const Uri& u) { return serves_domain(u); },
        txn.source().remote, wall_clock_());
    if (decision.status == 0) {
        return true;
    }
    reply(txn, decision.status, decision.reason, decision.headers);
    return false;
}

void Proxy::handle_locally(ServerTransaction& txn) {
    if (txn.request().method() == "OPTIONS") {
        std::string extra(kAllowRouted);
        extra.append("Accept: application/sdp\r\nSupported: path\r\n");
        reply(txn, 200, "OK", extra);
        return;
    }
    reply(txn, 405, "Method Not Allowed", kAllowLocal);
}

void Proxy::handle_cancel(ServerTransaction& txn) {
    // §16.10: the CANCEL gets its own answer at once; the INVITE's branches are cancelled and
    // their 487s make the INVITE's final response.
    auto* invite = layer_.find_invite_for_cancel(txn.request());
    if (invite == nullptr) {
        reply(txn, 481, "Call/Transaction Does Not Exist");
        return;
    }
    reply(txn, 200, "OK");
    if (invite->final_sent()) {
        return;
    }
    auto it = contexts_.find(invite);
    if (it == contexts_.end()) {
        invite->respond(487, make_response(invite->request(), 487, "Request Terminated",
                                           {.to_tag = new_tag(), .top_via = invite->top_via()}));
        return;
    }
    cancel_branches(*it->second, txn.request().value(HeaderId::Reason));
}

void Proxy::fork(ServerTransaction& txn, const Route& r) {
    auto& ctx = *contexts_.emplace(&txn, std::make_unique<Context>()).first->second;
    ctx.server = &txn;
    ctx.invite = txn.is_invite();
    txn.user = &ctx;
    start_branch(ctx, r, {}, *r.next_hop, {});
    finish_if_complete(ctx);
}

void Proxy::start_branch(Context& ctx, const Route& r, std::string request_uri,
                         const Flow& destination, std::string_view push_routes) {
    const auto& request = ctx.server->request();
    auto branch_id = mint_branch(shard_, r.loop_hash, ++counter_);
    auto via = via_for(destination.transport, branch_id);

    std::string rr_out;
    std::string rr_in;
    std::string_view rr[2];
    std::span<const std::string_view> record_route;
    if (dialog_creating(request.method()) && !tag_of(request, HeaderId::To)) {
        // Two entries, each naming the flow of the side it faces, so that requests in the
        // dialog reach each phone over its own flow whichever way they travel.
        rr_out = record_route_for(destination);
        rr_in = record_route_for(ctx.server->source());
        rr[0] = rr_out;
        rr[1] = rr_in;
        record_route = rr;
    }
    std::vector<std::string_view> routes;
    if (!push_routes.empty()) {
        split_list(push_routes, [&](std::string_view item) {
            routes.push_back(item);
            return true;
        });
    }
    ForwardEdits edits;
    if (!request_uri.empty()) {
        edits.request_uri = request_uri;
    }
    edits.via = via;
    edits.record_route = record_route;
    edits.pop_routes = r.pop;
    edits.push_routes = routes;
    edits.top_via = ctx.server->top_via();
    auto parsed = parse_message(forward_request(request, edits), Framing::Stream,
                                config_.max_message_bytes + 1024);
    if (!parsed.ok()) {
        return; // cannot happen for a request that passed validation; no branch then
    }
    auto& branch = *ctx.branches.emplace_back(std::make_unique<Branch>());
    branch.ctx = &ctx;
    branch.txn = &layer_.start_client(branch_id, std::move(*parsed.message), destination);
    branch.txn->user = &branch;
    ++stats_.forwarded;
    if (ctx.invite) {
        branch.timer_c = timers_.schedule_after(config_.timer_c, [this, &branch] {
            on_timer_c(branch);
        });
    }
}

void Proxy::on_ack(Message&& ack, const Flow& from) {
    (void)from;
    // The ACK for a 2xx is a request of its own, routed by the dialog's Route set and
    // forwarded without a transaction (§16.11); it is never answered.
    std::string ignored;
    Checked checked;
    if (check_request(ack, checked, &ignored) != 0) {
        return;
    }
    Route r;
    r.loop_hash = checked.loop_hash;
    if (!route(ack, r) || (r.pop == 0 && !r.routes_left) || !r.next_hop) {
        return; // not routed through us, or to nowhere we can reach: absorbed
    }
    forward_stateless(ack, r);
}

bool Proxy::forward_stateless(const Message& request, const Route& r) {
    // The branch must come out the same for a retransmission (§16.11): derive it from the
    // request's own top branch.
    Fnv h;
    if (const auto* via = request.first(HeaderId::Via)) {
        h.add(split_first_item(via->value).item);
    }
    auto branch = mint_branch(shard_, r.loop_hash, h.h);
    ForwardEdits edits;
    auto via = via_for(r.next_hop->transport, branch);
    edits.via = via;
    edits.pop_routes = r.pop;
    ++stats_.stateless;
    return layer_.send(*r.next_hop, forward_request(request, edits));
}

// ---- responses ----------------------------------------------------------------------------

void Proxy::on_response(ClientTransaction& txn, const Message& response) {
    const int code = response.status_code();
    auto* branch = static_cast<Branch*>(txn.user);
    if (branch == nullptr) {
        // A branch given up on: its late 2xx still goes up (§16.7 step 5). Answers to our own
        // CANCELs end here.
        if (code >= 200 && code < 300 && txn.request().method() != "CANCEL") {
            forward_statelessly(response);
        }
        return;
    }
    auto& ctx = *branch->ctx;
    if (code < 200) {
        branch->provisional = true;
        if (branch->cancel_wanted && !branch->cancel_sent) {
            send_cancel(*branch); // §9.1: a CANCEL waits for a provisional response
        }
        if (ctx.invite && code > 100 && !branch->timed_out) {
            timers_.cancel(branch->timer_c); // §16.7 step 2: Timer C restarts
            branch->timer_c = timers_.schedule_after(config_.timer_c, [this, branch] {
                on_timer_c(*branch);
            });
        }
        if (code > 100 && !ctx.server->final_sent()) {
            ctx.server->respond(code, strip_top_via(response));
        }
        return;
    }
    if (code < 300) {
        if (!ctx.server->final_sent()) { // live calls for /metrics: answered minus ended
            if (ctx.invite) {
                ++stats_.calls_answered;
            } else if (ctx.server->request().method() == "BYE") {
                ++stats_.calls_ended;
            }
        }
        branch_finished(*branch, code, &response);
        forward_response(ctx, code, strip_top_via(response));
        if (ctx.invite) {
            cancel_branches(ctx, "SIP;cause=200;text=\"Call completed elsewhere\"");
        }
        return;
    }
    if (code >= 600 && ctx.invite) {
        cancel_branches(ctx, "SIP;cause=" + std::to_string(code));
    }
    branch_finished(*branch, code, &response);
    finish_if_complete(ctx);
}

void Proxy::on_client_failure(ClientTransaction& txn, int status) {
    auto* branch = static_cast<Branch*>(txn.user);
    if (branch == nullptr) {
        return;
    }
    auto& ctx = *branch->ctx;
    branch_finished(*branch, status, nullptr);
    finish_if_complete(ctx);
}

void Proxy::on_stray_response(Message&& response, const Flow& from) {
    const auto* via_field = response.first(HeaderId::Via);
    if (via_field == nullptr) {
        return;
    }
    auto top = parse_via(split_first_item(via_field->value).item);
    if (!top || !identity_.is_own_sent_by(top->host, top->port.value_or(5060))) {
        return; // §18.1.2: not sent by us; discard
    }
    if (auto fields = top->branch() ? parse_branch(*top->branch()) : std::nullopt;
        fields && fields->shard != shard_) {
        handoff_(fields->shard, std::move(response), from);
        return;
    }
    forward_statelessly(response);
}

// §16.7: a response with no transaction (a 2xx retransmitted after ours ended) goes to the
// next Via, as §18.2.2 directs.
void Proxy::forward_statelessly(const Message& response) {
    std::string_view next_item;
    bool first = true;
    for_each_value(response, HeaderId::Via, [&](std::string_view item) {
        if (first) {
            first = false;
            return true;
        }
        next_item = item;
        return false;
    });
    auto next = parse_via(next_item);
    if (!next) {
        return;
    }
    auto transport = transport_named(next->transport);
    auto host = next->received().value_or(next->host);
    if (!host.empty() && host.front() == '[') {
        host = host.substr(1, host.size() - 2);
    }
    std::uint16_t port = next->port.value_or(5060);
    if (next->rport_param && !next->rport_param->empty()) {
        if (auto p = parse_decimal(*next->rport_param, 65535)) {
            port = static_cast<std::uint16_t>(*p);
        }
    }
    auto address = core::IpEndpoint::from_address(host, port);
    if (!transport || !address || is_unusable_destination(*address)) {
        return; // e.g. a broadcast Via (RFC 4475 §3.3.10)
    }
    ++stats_.stateless;
    layer_.send(Flow{*transport, *address, 0}, strip_top_via(response));
}

void Proxy::forward_response(Context& ctx, int status, std::string bytes) {
    auto& server = *ctx.server;
    if (!server.final_sent() ||
        (server.state() == ServerTransaction::State::Accepted && status < 300)) {
        server.respond(status, std::move(bytes));
    } else if (status < 300) {
        layer_.send(server.response_flow(), bytes); // §16.7 step 5: every 2xx goes up
    }
}

void Proxy::branch_finished(Branch& branch, int status, const Message* response) {
    if (branch.done) {
        return;
    }
    branch.done = true;
    timers_.cancel(branch.timer_c);
    timers_.cancel(branch.cancel_guard);
    if (branch.timed_out) {
        status = 408;
        response = nullptr;
    }
    if (status < 300) {
        return;
    }
    // §16.7 step 6: a 6xx beats everything, then the lowest class; the first of a class stays.
    auto rank = [](int s) { return s >= 600 ? 0 : s / 100; };
    auto& ctx = *branch.ctx;
    if (ctx.best_status == 0 || rank(status) < rank(ctx.best_status)) {
        ctx.best_status = status;
        ctx.best_response = response != nullptr ? strip_top_via(*response) : std::string{};
    }
}

void Proxy::finish_if_complete(Context& ctx) {
    if (ctx.server->final_sent()) {
        return;
    }
    for (const auto& b : ctx.branches) {
        if (!b->done) {
            return;
        }
    }
    int status = ctx.best_status == 0 ? 408 : ctx.best_status;
    if (status == 503) {
        status = 500; // §16.7 step 6: a 503 from downstream is not ours to pass on
        ctx.best_response.clear();
    }
    if (ctx.branches.empty()) {
        status = 503; // no branch could be started at all
    }
    if (!ctx.best_response.empty()) {
        ctx.server->respond(status, std::move(ctx.best_response));
    } else {
        reply(*ctx.server, status, reason_phrase(status));
    }
}

void Proxy::cancel_branches(Context& ctx, std::string_view reason) {
    if (ctx.cancel_reason.empty()) {
        ctx.cancel_reason = std::string(reason);
    }
    for (auto& b : ctx.branches) {
        if (b->done || b->cancel_sent) {
            continue;
        }
        if (b->provisional) {
            send_cancel(*b);
        } else {
            b->cancel_wanted = true;
        }
    }
}

void Proxy::send_cancel(Branch& branch) {
    if (branch.txn == nullptr || branch.cancel_sent) {
        return;
    }
    branch.cancel_sent = true;
    auto cancel = parse_message(make_cancel(branch.txn->request(), branch.ctx->cancel_reason),
                                Framing::Stream, config_.max_message_bytes + 1024);
    if (cancel.ok()) {
        layer_.start_client(branch.txn->branch(), std::move(*cancel.message),
                            branch.txn->destination());
    }
    // §9.1: without a final response 64*T1 after the CANCEL, the branch is given up.
    branch.cancel_guard = timers_.schedule_after(64 * config_.timers.t1, [this, &branch] {
        auto& ctx = *branch.ctx;
        abandon(branch);
        branch_finished(branch, 408, nullptr);
        finish_if_complete(ctx);
    });
}

void Proxy::on_timer_c(Branch& branch) {
    if (branch.done) {
        return;
    }
    // §16.8: with a provisional response, CANCEL and wait for the 487 (it counts as 408);
    // without one, the branch is over now, as if it had answered 408.
    branch.timed_out = true;
    if (branch.provisional) {
        if (branch.ctx->cancel_reason.empty()) {
            branch.ctx->cancel_reason = "SIP;cause=408;text=\"No answer\"";
        }
        send_cancel(branch);
        return;
    }
    // Still listening: should the phone start ringing late, it gets its CANCEL then (§9.1).
    branch.cancel_wanted = true;
    auto& ctx = *branch.ctx;
    branch_finished(branch, 408, nullptr);
    finish_if_complete(ctx);
}

// Ends the branch's client transaction now: the callee ignored our CANCEL.
void Proxy::abandon(Branch& branch) {
    if (auto* txn = branch.txn) {
        release(branch);
        layer_.abandon(*txn);
    }
}

// Stops listening to the branch's client transaction, which lives on until its own timers
// end it.
void Proxy::release(Branch& branch) {
    if (branch.txn != nullptr) {
        branch.txn->user = nullptr;
        branch.txn = nullptr;
    }
}

void Proxy::on_terminated(ServerTransaction& txn) {
    auto it = contexts_.find(&txn);
    if (it == contexts_.end()) {
        return;
    }
    for (auto& b : it->second->branches) {
        timers_.cancel(b->timer_c);
        timers_.cancel(b->cancel_guard);
        release(*b);
    }
    contexts_.erase(it);
}

void Proxy::on_terminated(ClientTransaction& txn) {
    if (auto* branch = static_cast<Branch*>(txn.user)) {
        branch->txn = nullptr;
    }
}

// ---- helpers ------------------------------------------------------------------------------

void Proxy::reply(ServerTransaction& txn, int status, std::string_view reason,
                  std::string_view extra_headers) {
    ++stats_.local_replies;
    txn.respond(status, make_response(txn.request(), status, reason,
                                      {.to_tag = new_tag(), .extra_headers = extra_headers,
                                       .top_via = txn.top_via()}));
}

bool Proxy::serves_domain(const Uri& uri) const {
    if (config_.domains.empty() || identity_.is_own(uri)) {
        return true;
    }
    return std::any_of(config_.domains.begin(), config_.domains.end(),
                       [&](const std::string& d) { return iequals(d, uri.host); });
}

std::optional<Flow> Proxy::resolve(const Uri& uri) const {
    if (!uri.is_sip()) {
        return std::nullopt;
    }
    auto transport = transport_named(
        uri.param("transport").value_or(uri.scheme == Uri::Scheme::Sips ? "tls" : "udp"));
    if (transport && uri.scheme == Uri::Scheme::Sips && !is_secure(*transport)) {
        transport = core::Transport::Tls; // RFC 5630 §3.2: sips: means TLS whatever it says
    }
    auto host = uri.host;
    if (uri.host_is_ipv6()) {
        host = host.substr(1, host.size() - 2);
    }
    // Only address literals: DNS (RFC 3263) would need a resolver off the shard's thread.
    auto address = core::IpEndpoint::from_address(host, uri.port_or_default());
    if (!transport || !address || is_unusable_destination(*address)) {
        return std::nullopt;
    }
    return Flow{*transport, *address, 0};
}

std::string Proxy::via_for(core::Transport transport, std::string_view branch) const {
    const auto* l = identity_.listener_for(transport);
    std::string via = "SIP/2.0/";
    via.append(via_transport(transport));
    via.push_back(' ');
    via.append(l != nullptr ? l->host : "127.0.0.1");
    via.push_back(':');
    via.append(std::to_string(l != nullptr ? l->port : 5060));
    via.append(";branch=");
    via.append(branch);
    return via;
}

std::string Proxy::record_route_for(const Flow& flow) const {
    const auto* l = identity_.listener_for(flow.transport);
    std::string rr = "<sip:";
    rr.append(flow_tokens_.encode(flow));
    rr.push_back('@');
    rr.append(l != nullptr ? l->host : "127.0.0.1");
    rr.push_back(':');
    rr.append(std::to_string(l != nullptr ? l->port : 5060));
    if (flow.transport != core::Transport::Udp) {
        rr.append(";transport="); // "ws" for both WebSockets: the flow token tells them apart
        rr.append(uri_transport(flow.transport));
    }
    rr.append(";lr>");
    return rr;
}

std::string Proxy::new_tag() {
    // Unique per shard and process; not secret (tags only need to be unique, §19.3).
    std::uint64_t x = tag_seed_ + (++counter_) * 0x9E3779B97F4A7C15ULL;
    x ^= x >> 31;
    char buf[17];
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
        buf[i] = kHex[x & 15];
        x >>= 4;
    }
    return std::string(buf, 16);
}

std::uint32_t Proxy::loop_hash(const Message& request) const {
    // §16.6 step 8, less the top Via (which differs on every hop and would hide every loop).
    Fnv h;
    h.add(request.request_uri());
    h.add(tag_of(request, HeaderId::From).value_or(""));
    h.add(tag_of(request, HeaderId::To).value_or(""));
    h.add(request.value(HeaderId::CallId));
    auto cseq = parse_cseq(request.value(HeaderId::CSeq));
    h.add(std::to_string(cseq ? cseq->number : 0));
    for (const auto& f : request.headers()) {
        if (f.id == HeaderId::ProxyRequire || f.id == HeaderId::Route) {
            h.add(f.value);
        }
    }
    return h.h;
}

} // namespace strowger::sip
