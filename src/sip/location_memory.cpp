#include "sip/location_memory.hpp"

#include <algorithm>

namespace strowger::sip {
namespace {

Bindings unexpired(const Bindings& all, std::int64_t now) {
    Bindings out;
    std::copy_if(all.begin(), all.end(), std::back_inserter(out),
                 [now](const Binding& b) { return b.expires_at > now; });
    return out;
}

} // namespace

Bindings MemoryLocationStore::update(std::string_view aor, std::int64_t now,
                                     const std::function<bool(Bindings&)>& change) {
    std::lock_guard lock(mutex_);
    auto it = bindings_.find(aor);
    Bindings stored = it == bindings_.end() ? Bindings{} : unexpired(it->second, now);
    Bindings current = stored;
    if (!change(current)) {
        return stored; // the change is abandoned, edits and all
    }
    if (current.empty()) {
        if (it != bindings_.end()) {
            bindings_.erase(it);
        }
    } else if (it != bindings_.end()) {
        it->second = current;
    } else {
        bindings_.emplace(std::string(aor), current);
    }
    return current;
}

Bindings MemoryLocationStore::lookup(std::string_view aor, std::int64_t now) const {
    std::lock_guard lock(mutex_);
    auto it = bindings_.find(aor);
    return it == bindings_.end() ? Bindings{} : unexpired(it->second, now);
}

std::size_t MemoryLocationStore::binding_count(std::int64_t now) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [aor, list] : bindings_) {
        n += static_cast<std::size_t>(std::count_if(
            list.begin(), list.end(), [now](const Binding& b) { return b.expires_at > now; }));
    }
    return n;
}

} // namespace strowger::sip
