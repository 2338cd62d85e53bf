#include "sip/branch.hpp"

#include <charconv>

namespace strowger::sip {
namespace {

constexpr std::string_view kPrefix = "z9hG4bK-s";

template <class T>
bool read_hex(std::string_view& s, char terminator, T& out) {
    auto end = s.find(terminator);
    if (end == std::string_view::npos || end == 0) {
        return false;
    }
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + end, out, 16);
    if (ec != std::errc{} || ptr != s.data() + end) {
        return false;
    }
    s.remove_prefix(end + 1);
    return true;
}

void append_hex(std::string& out, std::uint64_t v) {
    char buf[16];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
    out.append(buf, ptr);
}

} // namespace

std::string mint_branch(unsigned shard, std::uint32_t loop_hash, std::uint64_t counter) {
    std::string out;
    out.reserve(48);
    out.append(kPrefix);
    append_hex(out, shard);
    out.push_back('-');
    append_hex(out, loop_hash);
    out.push_back('-');
    append_hex(out, counter);
    return out;
}

std::optional<BranchFields> parse_branch(std::string_view branch) {
    if (!branch.starts_with(kPrefix)) {
        return std::nullopt;
    }
    branch.remove_prefix(kPrefix.size());
    BranchFields f;
    if (!read_hex(branch, '-', f.shard) || !read_hex(branch, '-', f.loop_hash) ||
        branch.empty()) {
        return std::nullopt;
    }
    return f;
}

} // namespace strowger::sip
