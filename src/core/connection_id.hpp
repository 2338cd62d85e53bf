#pragma once
// Names a stream connection across shards: the owning shard in the top 16 bits, a per-shard
// counter in the rest. 0 means "no connection". Protocol cores keep these ids (a phone's
// registration remembers the connection it came on) and net/ maps them back to connections.

#include <cstdint>

namespace strowger::core {

constexpr unsigned connection_shard(std::uint64_t connection_id) {
    return static_cast<unsigned>(connection_id >> 48);
}
constexpr std::uint64_t make_connection_id(unsigned shard, std::uint64_t counter) {
    return (static_cast<std::uint64_t>(shard) << 48) | (counter & 0xFFFF'FFFF'FFFFull);
}

} // namespace strowger::core
