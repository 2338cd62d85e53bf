#include "sip/flow_token.hpp"

#include "sip/syntax.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <vector>

namespace strowger::sip {
namespace {

constexpr std::size_t kMacBytes = 8; // 64 bits: forging takes 2^63 tries on average
constexpr char kHex[] = "0123456789abcdef";

// transport(1) family(1) address(4|16) port(2) connection(8)
std::vector<std::uint8_t> serialise(const Flow& flow) {
    std::vector<std::uint8_t> out;
    out.reserve(28);
    out.push_back(static_cast<std::uint8_t>(flow.transport));
    out.push_back(flow.remote.is_v6() ? 6 : 4);
    auto length = flow.remote.is_v6() ? 16U : 4U;
    out.insert(out.end(), flow.remote.address.begin(), flow.remote.address.begin() + length);
    out.push_back(static_cast<std::uint8_t>(flow.remote.port >> 8));
    out.push_back(static_cast<std::uint8_t>(flow.remote.port & 0xFF));
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(flow.connection_id >> shift));
    }
    return out;
}

std::array<std::uint8_t, 32> mac(const FlowTokens::Key& key, const std::vector<std::uint8_t>& data) {
    std::array<std::uint8_t, 32> out{};
    std::size_t length = 0;
    EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), data.data(),
              data.size(), out.data(), out.size(), &length);
    return out;
}

} // namespace

std::string FlowTokens::encode(const Flow& flow) const {
    auto data = serialise(flow);
    auto tag = mac(key_, data);
    data.insert(data.end(), tag.begin(), tag.begin() + kMacBytes);
    std::string out;
    out.reserve(data.size() * 2);
    for (auto b : data) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 15]);
    }
    return out;
}

std::optional<Flow> FlowTokens::decode(std::string_view token) const {
    if (token.size() % 2 != 0 || token.size() > 128) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> data;
    data.reserve(token.size() / 2);
    for (std::size_t i = 0; i < token.size(); i += 2) {
        int hi = hex_value(token[i]);
        int lo = hex_value(token[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        data.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    if (data.size() < 2) {
        return std::nullopt;
    }
    const std::size_t address_length = data[1] == 6 ? 16 : data[1] == 4 ? 4 : 0;
    if (address_length == 0 || data[0] > static_cast<std::uint8_t>(core::Transport::Wss) ||
        data.size() != 2 + address_length + 2 + 8 + kMacBytes) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> body(data.begin(), data.end() - kMacBytes);
    auto expected = mac(key_, body);
    if (CRYPTO_memcmp(expected.data(), data.data() + body.size(), kMacBytes) != 0) {
        return std::nullopt;
    }
    Flow flow;
    flow.transport = static_cast<core::Transport>(data[0]);
    flow.remote.family = address_length == 16 ? core::IpEndpoint::Family::V6
                                              : core::IpEndpoint::Family::V4;
    std::copy_n(data.begin() + 2, address_length, flow.remote.address.begin());
    std::size_t at = 2 + address_length;
    flow.remote.port = static_cast<std::uint16_t>((data[at] << 8) | data[at + 1]);
    at += 2;
    for (std::size_t i = 0; i < 8; ++i) {
        flow.connection_id = (flow.connection_id << 8) | data[at + i];
    }
    return flow;
}

} // namespace strowger::sip
