#pragma once
// Which addresses-of-record were registered over each connection the server cannot open
// again (TLS, WebSocket: the phone's to open), so that when one closes its bindings go with it
// (RFC 5626 §5.3, RFC 7118 §5): a phone there is unreachable until it registers again, and
// forking to it would only fail. Kept per shard: a connection's messages are all handled on
// one shard, which is also told when it closes.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/flow.hpp"
#include "sip/location.hpp"

namespace strowger::sip {

class FlowBindings {
public:
    // After a 200 to a REGISTER of `aor` that came over `flow`.
    void remember(const Flow& flow, const std::string& aor);
    // Removes the bindings registered over `connection_id` from `location`.
    void close(std::uint64_t connection_id, LocationStore& location, std::int64_t now);

    [[nodiscard]] std::size_t size() const noexcept { return aors_.size(); }

private:
    std::unordered_map<std::uint64_t, std::vector<std::string>> aors_;
};

} // namespace strowger::sip
