#include "sip/header_id.hpp"

#include <array>
#include <cstring>

#include "sip/syntax.hpp"

namespace strowger::sip {
namespace {

struct Known {
    std::string_view name;
    char compact; // '\0' if none
    bool list;
};

// Indexed by HeaderId.
constexpr Known kKnown[] = {
    {"", 0, false},
    {"Accept", 0, true},
    {"Accept-Contact", 'a', true},
    {"Accept-Encoding", 0, true},
    {"Accept-Language", 0, true},
    {"Alert-Info", 0, true},
    {"Allow", 0, true},
    {"Allow-Events", 'u', true},
    {"Authentication-Info", 0, false},
    {"Authorization", 0, false},
    {"Call-ID", 'i', false},
    {"Call-Info", 0, true},
    {"Contact", 'm', true},
    {"Content-Disposition", 0, false},
    {"Content-Encoding", 'e', true},
    {"Content-Language", 0, true},
    {"Content-Length", 'l', false},
    {"Content-Type", 'c', false},
    {"CSeq", 0, false},
    {"Date", 0, false},
    {"Error-Info", 0, true},
    {"Event", 'o', false},
    {"Expires", 0, false},
    {"From", 'f', false},
    {"Identity", 'y', false},
    {"In-Reply-To", 0, true},
    {"Max-Forwards", 0, false},
    {"MIME-Version", 0, false},
    {"Min-Expires", 0, false},
    {"Min-SE", 0, false},
    {"Organization", 0, false},
    {"Path", 0, true},
    {"Priority", 0, false},
    {"Proxy-Authenticate", 0, false},
    {"Proxy-Authorization", 0, false},
    {"Proxy-Require", 0, true},
    {"RAck", 0, false},
    {"Reason", 0, true},
    {"Record-Route", 0, true},
    {"Refer-To", 'r', false},
    {"Referred-By", 'b', false},
    {"Reject-Contact", 'j', true},
    {"Replaces", 0, false},
    {"Reply-To", 0, false},
    {"Request-Disposition", 'd', true},
    {"Require", 0, true},
    {"Retry-After", 0, false},
    {"Route", 0, true},
    {"RSeq", 0, false},
    {"Server", 0, false},
    {"Session-Expires", 'x', false},
    {"Subject", 's', false},
    {"Subscription-State", 0, false},
    {"Supported", 'k', true},
    {"Timestamp", 0, false},
    {"To", 't', false},
    {"Unsupported", 0, true},
    {"User-Agent", 0, false},
    {"Via", 'v', true},
    {"Warning", 0, true},
    {"WWW-Authenticate", 0, false},
};
static_assert(std::size(kKnown) == static_cast<std::size_t>(HeaderId::Count));

// Compact forms by letter.
constexpr std::array<HeaderId, 26> make_compact() {
    std::array<HeaderId, 26> t{};
    for (std::size_t i = 1; i < std::size(kKnown); ++i) {
        if (kKnown[i].compact != 0) {
            t[static_cast<std::size_t>(kKnown[i].compact - 'a')] = static_cast<HeaderId>(i);
        }
    }
    return t;
}
constexpr auto kCompact = make_compact();

// Full names in an open-addressing table keyed by header_name_key(): a lookup is one probe
// (rarely two) and one comparison.
constexpr std::size_t kSlots = 256;

constexpr std::array<std::uint8_t, kSlots> make_table() {
    std::array<std::uint8_t, kSlots> t{};
    for (std::size_t i = 1; i < std::size(kKnown); ++i) {
        auto slot = header_name_key(kKnown[i].name) % kSlots;
        while (t[slot] != 0) {
            slot = (slot + 1) % kSlots;
        }
        t[slot] = static_cast<std::uint8_t>(i);
    }
    return t;
}
constexpr auto kTable = make_table();

// Case-insensitive comparison of a token with a known name. Folding with | 0x20 is exact
// here: known names hold only letters, digits and '-', and no other token character folds
// onto one of those.
bool same_name(std::string_view known, std::string_view name) {
    if (known.size() != name.size()) {
        return false;
    }
    constexpr std::uint64_t kFold = 0x2020202020202020ULL;
    std::size_t i = 0;
    for (; i + 8 <= known.size(); i += 8) { // eight bytes at a time
        std::uint64_t a = 0;
        std::uint64_t b = 0;
        std::memcpy(&a, known.data() + i, 8);
        std::memcpy(&b, name.data() + i, 8);
        if ((a | kFold) != (b | kFold)) {
            return false;
        }
    }
    for (; i < known.size(); ++i) {
        if ((static_cast<unsigned char>(known[i]) | 0x20U) !=
            (static_cast<unsigned char>(name[i]) | 0x20U)) {
            return false;
        }
    }
    return true;
}

} // namespace

HeaderId header_id(std::string_view name, std::uint32_t key) {
    if (name.size() == 1) {
        char c = to_lower(name[0]);
        return (c >= 'a' && c <= 'z') ? kCompact[static_cast<std::size_t>(c - 'a')]
                                      : HeaderId::Unknown;
    }
    for (auto slot = key % kSlots; kTable[slot] != 0; slot = (slot + 1) % kSlots) {
        if (same_name(kKnown[kTable[slot]].name, name)) {
            return static_cast<HeaderId>(kTable[slot]);
        }
    }
    return HeaderId::Unknown;
}

HeaderId header_id(std::string_view name) { return header_id(name, header_name_key(name)); }

std::string_view header_name(HeaderId id) { return kKnown[static_cast<std::size_t>(id)].name; }

bool is_list_header(HeaderId id) { return kKnown[static_cast<std::size_t>(id)].list; }

} // namespace strowger::sip
