#pragma once
// What a service plugs into the network layer. One handler instance per shard, called only
// from that shard's thread, so it needs no locks.

#include <cstdint>
#include <optional>
#include <span>

#include "core/ip_endpoint.hpp"

namespace strowger::net {

class DatagramHandler {
public:
    virtual ~DatagramHandler() = default;
    // One received datagram. Returns a reply for the sender written into `reply_buffer`
    // (a prefix of it), or an empty span for none.
    virtual std::span<const std::uint8_t> on_datagram(std::span<const std::uint8_t> data,
                                                       const core::IpEndpoint& from,
                                                       std::span<std::uint8_t> reply_buffer) = 0;
};

// Where a stream handler writes what goes back on the connection.
class StreamWriter {
public:
    virtual ~StreamWriter() = default;
    virtual void write(std::span<const std::uint8_t> bytes) = 0;
    // Unique across shards (core/connection_id.hpp).
    [[nodiscard]] virtual std::uint64_t connection_id() const = 0;
    [[nodiscard]] virtual const core::IpEndpoint& peer() const = 0;
};

class StreamHandler {
public:
    virtual ~StreamHandler() = default;
    // Bytes received and not yet consumed (possibly several messages, possibly a partial one).
    // Returns how many bytes from the front were consumed (0: wait for more), or nothing to
    // close the connection because the stream cannot be framed.
    virtual std::optional<std::size_t> on_stream_data(std::span<const std::uint8_t> data,
                                                      const core::IpEndpoint& peer,
                                                      StreamWriter& out) = 0;
    // Largest message the handler frames; a connection buffering more without progress closes.
    virtual std::size_t max_message_size() const = 0;
    // The connection is closed; `writer` is about to go away.
    virtual void on_stream_closed(StreamWriter& writer) { (void)writer; }
};

} // namespace strowger::net
