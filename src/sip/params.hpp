#pragma once
// A parameter list as written (";a=1;b;c="x""), read on demand without allocating. The list was
// checked when its owner was parsed, so lookups need no error handling.

#include <optional>
#include <string_view>

namespace strowger::sip {

struct Param {
    std::string_view name;
    std::string_view value; // empty for a flag parameter
    bool has_value = false;
};

class ParamList {
public:
    ParamList() = default;
    // `raw` starts at the first ';' (or is empty). `lws` says whether LWS may surround the
    // separators (header parameters) or not (URI parameters).
    ParamList(std::string_view raw, bool lws) : raw_(raw), lws_(lws) {}

    [[nodiscard]] std::string_view raw() const noexcept { return raw_; }
    [[nodiscard]] bool empty() const noexcept { return raw_.empty(); }
    // Names compare case-insensitively (RFC 3261 §7.3.1).
    [[nodiscard]] std::optional<Param> find(std::string_view name) const;
    [[nodiscard]] bool has(std::string_view name) const { return find(name).has_value(); }
    [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;

    // Calls fn(const Param&) for each parameter in order; stops early if fn returns false.
    template <class Fn>
    void for_each(Fn fn) const {
        std::size_t pos = 0;
        Param p;
        while (next(pos, p)) {
            if (!fn(p)) {
                return;
            }
        }
    }

private:
    bool next(std::size_t& pos, Param& out) const;

    std::string_view raw_;
    bool lws_ = true;
};

} // namespace strowger::sip
