#pragma once
// A LocationStore kept only in memory: for tests, fuzzing, and servers that need no
// persistence. One lock for all; store/ has the striped, persistent one the server runs.

#include <map>
#include <mutex>

#include "sip/location.hpp"

namespace strowger::sip {

class MemoryLocationStore final : public LocationStore {
public:
    Bindings update(std::string_view aor, std::int64_t now,
                    const std::function<bool(Bindings&)>& change) override;
    [[nodiscard]] Bindings lookup(std::string_view aor, std::int64_t now) const override;
    [[nodiscard]] std::size_t binding_count(std::int64_t now) const override;

private:
    mutable std::mutex mutex_;
    std::map<std::string, Bindings, std::less<>> bindings_;
};

} // namespace strowger::sip
