#include "sip/flow_bindings.hpp"

#include <algorithm>

namespace strowger::sip {

void FlowBindings::remember(const Flow& flow, const std::string& aor) {
    const bool reopenable = flow.transport == core::Transport::Udp ||
                            flow.transport == core::Transport::Tcp; // we may connect again
    if (flow.connection_id == 0 || reopenable || aor.empty()) {
        return;
    }
    auto& aors = aors_[flow.connection_id];
    if (std::find(aors.begin(), aors.end(), aor) == aors.end()) {
        aors.push_back(aor);
    }
}

void FlowBindings::close(std::uint64_t connection_id, LocationStore& location, std::int64_t now) {
    auto it = aors_.find(connection_id);
    if (it == aors_.end()) {
        return;
    }
    for (const auto& aor : it->second) {
        location.update(aor, now, [&](Bindings& bindings) {
            return std::erase_if(bindings, [&](const Binding& b) {
                       return b.flow.connection_id == connection_id;
                   }) > 0;
        });
    }
    aors_.erase(it);
}

} // namespace strowger::sip
