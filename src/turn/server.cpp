#include "turn/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "core/byte_reader.hpp"
#include "stun/integrity.hpp"
#include "stun/message_writer.hpp"
#include "turn/constants.hpp"

namespace strowger::turn {

namespace sattr = stun::attr;

namespace {

constexpr std::size_t kMaxReply = 1500;
// The largest relayed payload (a UDP datagram) plus a Data indication's header and attributes.
constexpr std::size_t kMaxData = 65535 + 64;

// PASSWORD-ALGORITHMS we offer (RFC 8489 §14.11, §18.5): SHA-256 first, then MD5 for the
// clients of RFC 5389, each without parameters.
constexpr std::uint16_t kAlgorithmMd5 = 0x0001;
constexpr std::uint16_t kAlgorithmSha256 = 0x0002;
constexpr std::array<std::uint8_t, 8> kOfferedAlgorithms = {0, kAlgorithmSha256, 0, 0,
                                                            0, kAlgorithmMd5,    0, 0};

std::string_view text_of(const stun::Attribute& a) {
    return {reinterpret_cast<const char*>(a.value.data()), a.value.size()};
}

bool understood(std::uint16_t type) {
    switch (type) {
    case sattr::kUsername:
    case sattr::kMessageIntegrity:
    case sattr::kMessageIntegritySha256:
    case sattr::kRealm:
    case sattr::kNonce:
    case sattr::kPasswordAlgorithm:
    case sattr::kXorMappedAddress:
    case sattr::kPriority:
    case sattr::kUseCandidate:
    case attr::kChannelNumber:
    case attr::kLifetime:
    case attr::kXorPeerAddress:
    case attr::kData:
    case attr::kRequestedAddressFamily:
    case attr::kEvenPort:
    case attr::kRequestedTransport:
    case attr::kDontFragment:
    case attr::kReservationToken:
        return true;
    default:
        return false;
    }
}

std::optional<std::uint32_t> u32_of(const stun::Attribute* a) {
    if (a == nullptr || a->value.size() != 4) {
        return std::nullopt;
    }
    return core::load_u32be(a->value.data());
}

// RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY(-SHA256) are not covered by it and are
// ignored. Returns the request cut just before its first integrity attribute, in `buffer`.
std::optional<stun::Message> signed_part(const stun::Message& m,
                                         std::vector<std::uint8_t>& buffer) {
    for (const auto& a : m.attributes()) {
        if (a.type == sattr::kMessageIntegrity || a.type == sattr::kMessageIntegritySha256) {
            buffer.assign(m.raw().begin(), m.raw().begin() + a.offset);
            core::store_u16be(buffer.data() + 2,
                              static_cast<std::uint16_t>(a.offset - stun::kHeaderSize));
            return stun::parse_message(buffer);
        }
    }
    return m;
}

std::uint64_t seconds_left(TimePoint expires, TimePoint now) {
    if (expires <= now) {
        return 0;
    }
    auto left = std::chrono::ceil<std::chrono::seconds>(expires - now);
    return static_cast<std::uint64_t>(left.count());
}

const char* verdict_text(PeerVerdict v) {
    switch (v) {
    case PeerVerdict::DeniedRange: return "in a denied range";
    case PeerVerdict::OwnAddress: return "one of this server's own addresses";
    default: return "allowed";
    }
}

} // namespace

// The outcome of the long-term credential check, used to sign the response (§9.2.4).
struct TurnServer::Auth {
    Credential credential;
    std::string username;
    bool sha256_integrity = false; // the request carried MESSAGE-INTEGRITY-SHA256
    bool sha256_key = false;       // PASSWORD-ALGORITHM SHA-256
    [[nodiscard]] std::span<const std::uint8_t> key() const {
        if (sha256_key) {
            return credential.keys.sha256;
        }
        return credential.keys.md5;
    }
};

// A response under construction: header echoed from the request, then attributes, then the
// trailer (SOFTWARE, integrity with the request's key and algorithm, FINGERPRINT).
class TurnServer::Reply {
public:
    Reply(std::vector<std::uint8_t>& buffer, const stun::Message& request, stun::MessageClass cls)
        : w_(buffer) {
        w_.begin(stun::message_type(request.method(), cls), request.cookie_and_transaction_id());
    }
    stun::MessageWriter* operator->() { return &w_; }
    std::span<const std::uint8_t> finish(const Auth* auth, const std::string& software) {
        if (!software.empty()) {
            w_.add_string(sattr::kSoftware, software);
        }
        if (auth != nullptr) {
            if (auth->sha256_integrity) {
                w_.add_message_integrity_sha256(auth->key());
            } else {
                w_.add_message_integrity(auth->key());
            }
        }
        w_.add_fingerprint();
        return w_.bytes();
    }

private:
    stun::MessageWriter w_;
};

TurnServer::TurnServer(TurnConfig config, TurnDependencies deps)
    : config_(std::move(config)), deps_(std::move(deps)), reply_(kMaxReply), data_(kMaxData) {}

TurnServer::~TurnServer() {
    for (auto& [flow, a] : by_flow_) {
        deps_.timers.cancel(a->timer);
        deps_.quota.release(a->quota_owner);
    }
}

std::optional<std::size_t> TurnServer::frame_length(std::span<const std::uint8_t> bytes) {
    if (!bytes.empty() && is_channel_data(bytes[0])) {
        if (bytes.size() < kChannelHeaderSize) {
            return 0;
        }
        std::size_t length = core::load_u16be(bytes.data() + 2);
        std::size_t total = kChannelHeaderSize + ((length + 3) & ~std::size_t{3});
        return bytes.size() >= total ? total : 0;
    }
    return stun::frame_length(bytes);
}

void TurnServer::on_client_message(std::span<const std::uint8_t> bytes,
                                   const ClientFlow& flow) noexcept {
    try {
        if (bytes.empty()) {
            return;
        }
        if (is_channel_data(bytes[0])) {
            on_channel_data(bytes, flow);
            return;
        }
        auto m = stun::parse_message(bytes);
        if (!m || !m->has_magic_cookie() ||
            (m->fingerprint() != nullptr && !stun::verify_fingerprint(*m))) {
            ++stats_.malformed;
            return;
        }
        switch (m->message_class()) {
        case stun::MessageClass::Request:
            on_request(*m, flow);
            break;
        case stun::MessageClass::Indication:
            if (m->method() == method::kSend) {
                on_send_indication(*m, flow);
            } else {
                ++stats_.dropped;
            }
            break;
        default:
            ++stats_.dropped; // responses: a server never sent the request
            break;
        }
    } catch (const std::exception& e) {
        // Only memory exhaustion can get here; the message is lost, the server goes on.
        ++stats_.malformed;
        spdlog::warn("turn: message from {} dropped: {}", flow.remote.to_string(), e.what());
    }
}

void TurnServer::on_request(const stun::Message& m, const ClientFlow& flow) {
    ++stats_.requests;
    auto method = m.method();
    if (method != method::kAllocate && method != method::kRefresh &&
        method != method::kCreatePermission && method != method::kChannelBind) {
        send_error(m, flow, stun::error::kBadRequest, "Unsupported method", nullptr);
        return;
    }
    auto auth = authenticate(m, flow);
    if (!auth) {
        return;
    }
    std::vector<std::uint8_t> signed_bytes;
    auto signed_request = signed_part(m, signed_bytes);
    if (!signed_request) {
        ++stats_.malformed;
        return;
    }
    const auto& req = *signed_request;
    // RFC 8489 §6.3.1: unknown comprehension-required attributes are refused, listed.
    std::array<std::uint16_t, stun::Message::kMaxAttributes> unknown{};
    std::size_t unknown_count = 0;
    for (const auto& a : req.attributes()) {
        if (sattr::is_comprehension_required(a.type) && !understood(a.type)) {
            unknown[unknown_count++] = a.type;
        }
    }
    if (unknown_count > 0) {
        ++stats_.error_responses;
        Reply r(reply_, req, stun::MessageClass::ErrorResponse);
        r->add_error_code(stun::error::kUnknownAttribute, "Unknown Attribute");
        r->add_unknown_attributes(std::span(unknown.data(), unknown_count));
        deps_.io.send_to_client(flow, r.finish(&*auth, config_.software));
        return;
    }
    if (method == method::kAllocate) {
        allocate(req, flow, *auth);
        return;
    }
    if (method == method::kRefresh) {
        refresh(req, flow, *auth);
        return;
    }
    auto* a = find(flow);
    if (a == nullptr) {
        send_error(req, flow, error::kAllocationMismatch, "Allocation Mismatch", &*auth);
        return;
    }
    if (a->username != auth->username) {
        send_error(req, flow, error::kWrongCredentials, "Wrong Credentials", &*auth);
        return;
    }
    if (method == method::kCreatePermission) {
        create_permission(req, *a, flow, *auth);
    } else {
        channel_bind(req, *a, flow, *auth);
    }
}

std::optional<TurnServer::Auth> TurnServer::authenticate(const stun::Message& m,
                                                         const ClientFlow& flow) {
    const auto* mi = m.find(sattr::kMessageIntegrity);
    const auto* mi256 = m.find(sattr::kMessageIntegritySha256);
    if (mi == nullptr && mi256 == nullptr) {
        ++stats_.challenges;
        send_challenge(m, flow, stun::error::kUnauthorized, "Unauthorized");
        return std::nullopt;
    }
    const auto* username = m.find(sattr::kUsername);
    const auto* realm = m.find(sattr::kRealm);
    const auto* nonce = m.find(sattr::kNonce);
    if (username == nullptr || realm == nullptr || nonce == nullptr) {
        send_error(m, flow, stun::error::kBadRequest, "Missing USERNAME, REALM or NONCE", nullptr);
        return std::nullopt;
    }
    auto now = deps_.unix_now();
    if (deps_.nonces.check(text_of(*nonce), now) != NonceCheck::Valid) {
        ++stats_.stale_nonces;
        send_challenge(m, flow, stun::error::kStaleNonce, "Stale Nonce");
        return std::nullopt;
    }
    Auth auth;
    auth.sha256_integrity = mi256 != nullptr;
    // §9.2.4: a client that took up our password-algorithms offer echoes the offer and names
    // its choice; both or neither.
    const auto* offered = m.find(sattr::kPasswordAlgorithms);
    const auto* chosen = m.find(sattr::kPasswordAlgorithm);
    if (offered != nullptr || chosen != nullptr) {
        if (offered == nullptr || chosen == nullptr ||
            !std::equal(offered->value.begin(), offered->value.end(), kOfferedAlgorithms.begin(),
                        kOfferedAlgorithms.end())) {
            send_error(m, flow, stun::error::kBadRequest,
                       "PASSWORD-ALGORITHMS does not match the offer", nullptr);
            return std::nullopt;
        }
        auto algorithm = chosen->value.size() >= 4 ? core::load_u16be(chosen->value.data()) : 0;
        if (algorithm != kAlgorithmMd5 && algorithm != kAlgorithmSha256) {
            send_error(m, flow, stun::error::kBadRequest, "Unsupported PASSWORD-ALGORITHM",
                       nullptr);
            return std::nullopt;
        }
        auth.sha256_key = algorithm == kAlgorithmSha256;
    }
    auth.username = std::string(text_of(*username));
    std::optional<Credential> credential;
    if (text_of(*realm) == config_.realm) {
        credential = deps_.authenticator.find(auth.username, config_.realm, now);
    }
    if (!credential) {
        ++stats_.auth_failures;
        spdlog::debug("turn: {} from {}: unknown or expired user '{}' in realm '{}'",
                      stun::message_type(m.method(), m.message_class()), flow.remote.to_string(),
                      auth.username, text_of(*realm));
        send_challenge(m, flow, stun::error::kUnauthorized, "Unauthorized");
        return std::nullopt;
    }
    auth.credential = std::move(*credential);
    bool verified = auth.sha256_integrity ? stun::verify_message_integrity_sha256(m, auth.key())
                                          : stun::verify_message_integrity(m, auth.key());
    if (!verified) {
        ++stats_.auth_failures;
        spdlog::debug("turn: request from {}: wrong password for '{}'", flow.remote.to_string(),
                      auth.username);
        send_challenge(m, flow, stun::error::kUnauthorized, "Unauthorized");
        return std::nullopt;
    }
    return auth;
}

void TurnServer::send_error(const stun::Message& m, const ClientFlow& flow, int code,
                            std::string_view reason, const Auth* auth) {
    ++stats_.error_responses;
    Reply r(reply_, m, stun::MessageClass::ErrorResponse);
    r->add_error_code(code, reason);
    deps_.io.send_to_client(flow, r.finish(auth, config_.software));
}

void TurnServer::send_challenge(const stun::Message& m, const ClientFlow& flow, int code,
                                std::string_view reason) {
    ++stats_.error_responses;
    Reply r(reply_, m, stun::MessageClass::ErrorResponse);
    r->add_error_code(code, reason);
    r->add_string(sattr::kRealm, config_.realm);
    r->add_string(sattr::kNonce, deps_.nonces.issue(deps_.unix_now()));
    r->add(sattr::kPasswordAlgorithms, kOfferedAlgorithms);
    deps_.io.send_to_client(flow, r.finish(nullptr, config_.software));
}

Allocation* TurnServer::find(const ClientFlow& flow) {
    auto it = by_flow_.find(flow);
    return it == by_flow_.end() ? nullptr : it->second.get();
}

void TurnServer::allocate(const stun::Message& m, const ClientFlow& flow, const Auth& auth) {
    if (auto* existing = find(flow)) {
        // §7.2: a retransmitted Allocate gets the same success again; anything else on a
        // 5-tuple that has an allocation is a mismatch.
        if (std::equal(existing->transaction.begin(), existing->transaction.end(),
                       m.transaction_id().begin()) &&
            existing->username == auth.username) {
            send_allocate_success(m, *existing, auth);
        } else {
            send_error(m, flow, error::kAllocationMismatch, "Allocation Mismatch", &auth);
        }
        return;
    }
    const auto* transport = m.find(attr::kRequestedTransport);
    if (transport == nullptr || transport->value.size() != 4) {
        send_error(m, flow, stun::error::kBadRequest,
                   transport == nullptr ? "Missing REQUESTED-TRANSPORT"
                                        : "Malformed REQUESTED-TRANSPORT",
                   &auth);
        return;
    }
    if (transport->value[0] != kProtocolUdp) {
        send_error(m, flow, error::kUnsupportedTransportProtocol,
                   "Unsupported Transport Protocol (only UDP is relayed)", &auth);
        return;
    }
    const auto* even_port = m.find(attr::kEvenPort);
    const auto* token = m.find(attr::kReservationToken);
    const auto* family = m.find(attr::kRequestedAddressFamily);
    const auto* additional = m.find(attr::kAdditionalAddressFamily);
    if (token != nullptr && (even_port != nullptr || family != nullptr)) {
        send_error(m, flow, stun::error::kBadRequest,
                   "RESERVATION-TOKEN cannot come with EVEN-PORT or REQUESTED-ADDRESS-FAMILY",
                   &auth);
        return;
    }
    if (family != nullptr && additional != nullptr) {
        send_error(m, flow, stun::error::kBadRequest,
                   "REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY together", &auth);
        return;
    }
    RelayRequest request;
    if (family != nullptr) {
        if (family->value.size() != 4 ||
            (family->value[0] != kFamilyIpv4 && family->value[0] != kFamilyIpv6)) {
            send_error(m, flow, error::kAddressFamilyNotSupported,
                       "Address Family not Supported", &auth);
            return;
        }
        request.ipv6 = family->value[0] == kFamilyIpv6;
    }
    if (additional != nullptr && (additional->value.size() != 4 ||
                                  additional->value[0] != kFamilyIpv6)) {
        send_error(m, flow, stun::error::kBadRequest, "ADDITIONAL-ADDRESS-FAMILY must be IPv6",
                   &auth);
        return;
    }
    if (even_port != nullptr) {
        if (even_port->value.empty()) {
            send_error(m, flow, stun::error::kBadRequest, "Malformed EVEN-PORT", &auth);
            return;
        }
        request.even_port = true;
        request.reserve_next = (even_port->value[0] & 0x80) != 0;
    }
    if (token != nullptr) {
        if (token->value.size() != 8) {
            send_error(m, flow, stun::error::kBadRequest, "Malformed RESERVATION-TOKEN", &auth);
            return;
        }
        request.token = (std::uint64_t{core::load_u32be(token->value.data())} << 32) |
                        core::load_u32be(token->value.data() + 4);
    }

    switch (deps_.quota.acquire(auth.credential.quota_owner)) {
    case QuotaResult::Granted:
        break;
    case QuotaResult::UserQuota:
        send_error(m, flow, error::kAllocationQuotaReached, "Allocation Quota Reached", &auth);
        return;
    case QuotaResult::Capacity:
        send_error(m, flow, error::kInsufficientCapacity, "Insufficient Capacity", &auth);
        return;
    }
    auto opened = deps_.io.open_relay(request);
    if (!opened) {
        deps_.quota.release(auth.credential.quota_owner);
        switch (opened.error()) {
        case RelayError::FamilyUnsupported:
            send_error(m, flow, error::kAddressFamilyNotSupported,
                       "Address Family not Supported", &auth);
            break;
        case RelayError::BadToken:
            send_error(m, flow, error::kInsufficientCapacity,
                       "Insufficient Capacity (unknown or expired RESERVATION-TOKEN)", &auth);
            break;
        case RelayError::NoCapacity:
            send_error(m, flow, error::kInsufficientCapacity,
                       "Insufficient Capacity (no relay port free)", &auth);
            break;
        }
        return;
    }

    auto owned = std::make_unique<Allocation>(flow, config_.max_bytes_per_second);
    auto& a = *owned;
    a.relay = opened->relay;
    a.relayed = opened->local;
    if (config_.external_address && config_.external_address->family == a.relayed.family) {
        auto port = a.relayed.port;
        a.relayed = *config_.external_address;
        a.relayed.port = port;
    }
    a.reservation = opened->reservation;
    a.ipv6_refused = additional != nullptr;
    a.username = auth.username;
    a.quota_owner = auth.credential.quota_owner;
    std::copy(m.transaction_id().begin(), m.transaction_id().end(), a.transaction.begin());
    by_relay_[a.relay] = &a;
    if (is_stream(flow.transport)) {
        by_connection_[flow.connection] = &a;
    }
    by_flow_.emplace(flow, std::move(owned));

    auto requested = u32_of(m.find(attr::kLifetime));
    auto lifetime = std::chrono::seconds(requested.value_or(kDefaultLifetime.count()));
    lifetime = std::clamp(lifetime, kDefaultLifetime, std::max(kDefaultLifetime, config_.max_lifetime));
    arm_expiry(a, lifetime);
    ++stats_.allocations_created;
    spdlog::debug("turn: allocation for '{}' at {} relayed on {} for {}s", a.username,
                  flow.remote.to_string(), a.relayed.to_string(), lifetime.count());
    send_allocate_success(m, a, auth);
}

void TurnServer::send_allocate_success(const stun::Message& m, const Allocation& a,
                                       const Auth& auth) {
    Reply r(reply_, m, stun::MessageClass::SuccessResponse);
    r->add_xor_address(attr::kXorRelayedAddress, a.relayed);
    if (a.ipv6_refused) {
        // §18.13 ADDRESS-ERROR-CODE: the IPv6 half of a dual allocation was not made.
        static constexpr std::string_view kReason = "Address Family not Supported";
        std::array<std::uint8_t, 4 + kReason.size()> value{};
        value[0] = kFamilyIpv6;
        value[2] = error::kAddressFamilyNotSupported / 100;
        value[3] = error::kAddressFamilyNotSupported % 100;
        std::copy(kReason.begin(), kReason.end(), value.begin() + 4);
        r->add(attr::kAddressErrorCode, value);
    }
    r->add_u32(attr::kLifetime,
               static_cast<std::uint32_t>(seconds_left(a.expires, deps_.timers.now())));
    if (a.reservation) {
        r->add_u64(attr::kReservationToken, *a.reservation);
    }
    r->add_xor_address(sattr::kXorMappedAddress, a.flow.remote);
    deps_.io.send_to_client(a.flow, r.finish(&auth, config_.software));
}

void TurnServer::refresh(const stun::Message& m, const ClientFlow& flow, const Auth& auth) {
    auto* a = find(flow);
    if (a == nullptr) {
        send_error(m, flow, error::kAllocationMismatch, "Allocation Mismatch", &auth);
        return;
    }
    if (a->username != auth.username) {
        send_error(m, flow, error::kWrongCredentials, "Wrong Credentials", &auth);
        return;
    }
    if (const auto* family = m.find(attr::kRequestedAddressFamily)) {
        bool v6 = family->value.size() == 4 && family->value[0] == kFamilyIpv6;
        if (v6 != a->relayed.is_v6()) {
            send_error(m, flow, error::kPeerAddressFamilyMismatch,
                       "Peer Address Family Mismatch", &auth);
            return;
        }
    }
    auto requested = std::chrono::seconds(
        u32_of(m.find(attr::kLifetime)).value_or(kDefaultLifetime.count()));
    // §7.3: zero deletes; any other value is bounded as for Allocate (at least the default).
    auto lifetime = requested.count() == 0
                        ? requested
                        : std::clamp(requested, kDefaultLifetime,
                                     std::max(kDefaultLifetime, config_.max_lifetime));
    Reply r(reply_, m, stun::MessageClass::SuccessResponse);
    r->add_u32(attr::kLifetime, static_cast<std::uint32_t>(lifetime.count()));
    deps_.io.send_to_client(flow, r.finish(&auth, config_.software));
    if (lifetime.count() == 0) {
        ++stats_.allocations_deleted;
        spdlog::debug("turn: allocation of '{}' at {} deleted by its client", a->username,
                      flow.remote.to_string());
        remove(*a);
    } else {
        arm_expiry(*a, lifetime);
    }
}

PeerVerdict TurnServer::check_peer(const core::IpEndpoint& peer) const {
    return deps_.policy.check(peer,
                              [this](const core::IpEndpoint& p) { return deps_.io.is_relay_endpoint(p); });
}

void TurnServer::create_permission(const stun::Message& m, Allocation& a, const ClientFlow& flow,
                                   const Auth& auth) {
    struct Peer {
        core::IpEndpoint address;
        bool relay_only;
    };
    std::vector<Peer> peers;
    for (const auto& attribute : m.attributes()) {
        if (attribute.type != attr::kXorPeerAddress) {
            continue;
        }
        auto peer = stun::decode_xor_address(attribute.value, m.cookie_and_transaction_id());
        if (!peer) {
            send_error(m, flow, stun::error::kBadRequest, "Malformed XOR-PEER-ADDRESS", &auth);
            return;
        }
        if (peer->family != a.relayed.family) {
            send_error(m, flow, error::kPeerAddressFamilyMismatch,
                       "Peer Address Family Mismatch", &auth);
            return;
        }
        auto verdict = check_peer(*peer);
        if (!is_allowed(verdict)) {
            ++stats_.forbidden_peers;
            spdlog::debug("turn: '{}' refused permission for {}: {}", a.username,
                          peer->to_string(), verdict_text(verdict));
            send_error(m, flow, error::kForbidden, "Forbidden: peer address not allowed", &auth);
            return;
        }
        peers.push_back({*peer, verdict == PeerVerdict::OwnRelay});
    }
    if (peers.empty()) {
        send_error(m, flow, stun::error::kBadRequest, "Missing XOR-PEER-ADDRESS", &auth);
        return;
    }
    auto now = deps_.timers.now();
    a.forget_expired(now);
    // Only new addresses count against the limit: refreshing a permission is always possible.
    std::size_t added = 0;
    for (const auto& p : peers) {
        if (a.permission_for(p.address, now) == nullptr) {
            ++added;
        }
    }
    if (a.permissions.size() + added > config_.max_permissions) {
        send_error(m, flow, error::kInsufficientCapacity,
                   "Insufficient Capacity (too many permissions)", &auth);
        return;
    }
    // §9.2: all or nothing, so the permissions are installed only once every peer passed.
    for (const auto& p : peers) {
        a.permit(p.address, now + kPermissionLifetime, p.relay_only);
    }
    Reply r(reply_, m, stun::MessageClass::SuccessResponse);
    deps_.io.send_to_client(flow, r.finish(&auth, config_.software));
}

void TurnServer::channel_bind(const stun::Message& m, Allocation& a, const ClientFlow& flow,
                              const Auth& auth) {
    const auto* number_attr = m.find(attr::kChannelNumber);
    const auto* peer_attr = m.find(attr::kXorPeerAddress);
    if (number_attr == nullptr || number_attr->value.size() != 4 || peer_attr == nullptr) {
        send_error(m, flow, stun::error::kBadRequest,
                   "Missing or malformed CHANNEL-NUMBER or XOR-PEER-ADDRESS", &auth);
        return;
    }
    auto number = core::load_u16be(number_attr->value.data());
    if (number < kMinChannel || number > kMaxChannel) {
        send_error(m, flow, stun::error::kBadRequest, "Channel number out of range", &auth);
        return;
    }
    auto peer = stun::decode_xor_address(peer_attr->value, m.cookie_and_transaction_id());
    if (!peer) {
        send_error(m, flow, stun::error::kBadRequest, "Malformed XOR-PEER-ADDRESS", &auth);
        return;
    }
    if (peer->family != a.relayed.family) {
        send_error(m, flow, error::kPeerAddressFamilyMismatch, "Peer Address Family Mismatch",
                   &auth);
        return;
    }
    auto verdict = check_peer(*peer);
    if (!is_allowed(verdict)) {
        ++stats_.forbidden_peers;
        spdlog::debug("turn: '{}' refused a channel to {}: {}", a.username, peer->to_string(),
                      verdict_text(verdict));
        send_error(m, flow, error::kForbidden, "Forbidden: peer address not allowed", &auth);
        return;
    }
    auto now = deps_.timers.now();
    a.forget_expired(now);
    // §11.2: a number stays with its peer and a peer with its number while the binding lives.
    const auto* by_number = a.channel_by_number(number, now);
    const auto* by_peer = a.channel_by_peer(*peer, now);
    if ((by_number != nullptr && by_number->peer != *peer) ||
        (by_peer != nullptr && by_peer->number != number)) {
        send_error(m, flow, stun::error::kBadRequest,
                   "Channel or peer already bound to another", &auth);
        return;
    }
    if (by_number == nullptr && a.channels.size() >= config_.max_channels) {
        send_error(m, flow, error::kInsufficientCapacity,
                   "Insufficient Capacity (too many channels)", &auth);
        return;
    }
    if (by_number != nullptr) {
        for (auto& c : a.channels) {
            if (c.number == number) {
                c.expires = now + kChannelLifetime;
            }
        }
    } else {
        a.channels.push_back({number, *peer, now + kChannelLifetime});
    }
    // §11.2: binding a channel also installs or refreshes the permission for its peer.
    a.permit(*peer, now + kPermissionLifetime, verdict == PeerVerdict::OwnRelay);
    Reply r(reply_, m, stun::MessageClass::SuccessResponse);
    deps_.io.send_to_client(flow, r.finish(&auth, config_.software));
}

void TurnServer::arm_expiry(Allocation& a, std::chrono::seconds lifetime) {
    a.expires = deps_.timers.now() + lifetime;
    if (a.timer != core::TimerService::TimerId{}) {
        deps_.timers.cancel(a.timer);
    }
    a.timer = deps_.timers.schedule_after(lifetime, [this, relay = a.relay] {
        auto it = by_relay_.find(relay);
        if (it == by_relay_.end()) {
            return;
        }
        auto& expired = *it->second;
        expired.timer = {};
        ++stats_.allocations_expired;
        spdlog::debug("turn: allocation of '{}' at {} expired", expired.username,
                      expired.flow.remote.to_string());
        remove(expired);
    });
}

void TurnServer::remove(Allocation& a) {
    if (a.timer != core::TimerService::TimerId{}) {
        deps_.timers.cancel(a.timer);
    }
    deps_.io.close_relay(a.relay);
    deps_.quota.release(a.quota_owner);
    by_relay_.erase(a.relay);
    if (is_stream(a.flow.transport)) {
        by_connection_.erase(a.flow.connection);
    }
    auto flow = a.flow; // `a` dies with its map entry
    by_flow_.erase(flow);
}

void TurnServer::on_connection_closed(std::uint64_t connection) noexcept {
    auto it = by_connection_.find(connection);
    if (it == by_connection_.end()) {
        return;
    }
    ++stats_.allocations_deleted;
    spdlog::debug("turn: allocation of '{}' at {} deleted: its connection closed",
                  it->second->username, it->second->flow.remote.to_string());
    remove(*it->second);
}

} // namespace strowger::turn
