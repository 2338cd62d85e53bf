#pragma once
// Wires the sans-IO STUN Binding service to the network: one instance per shard, serving that
// shard's UDP sockets and TCP connections.

#include "net/handlers.hpp"
#include "stun/binding_service.hpp"

namespace strowger::app {

class StunService final : public net::DatagramHandler, public net::StreamHandler {
public:
    explicit StunService(std::string software) : binding_(std::move(software)) {}

    std::span<const std::uint8_t> on_datagram(std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& from,
                                              std::span<std::uint8_t> reply_buffer) override {
        return binding_.handle(data, from, reply_buffer);
    }

    // RFC 8489 §6.2.2: over TCP the header's length delimits each message.
    std::optional<std::size_t> on_stream_data(std::span<const std::uint8_t> data,
                                              const core::IpEndpoint& peer,
                                              net::StreamWriter& out) override {
        auto length = stun::frame_length(data);
        if (!length || *length == 0) {
            return length;
        }
        std::array<std::uint8_t, stun::BindingService::kMaxResponse> reply{};
        auto response = binding_.handle(data.first(*length), peer, reply);
        if (!response.empty()) {
            out.write(response);
        }
        return length;
    }

    std::size_t max_message_size() const override { return stun::kHeaderSize + 0xFFFF; }

    [[nodiscard]] const stun::BindingStats& stats() const noexcept { return binding_.stats(); }

private:
    stun::BindingService binding_;
};

} // namespace strowger::app
