#include "core/cidr.hpp"

#include <charconv>

namespace strowger::core {
namespace {

unsigned address_bits(const IpEndpoint& a) { return a.is_v6() ? 128 : 32; }

bool bit(const IpEndpoint& a, unsigned index) {
    return ((a.address[index / 8] >> (7 - index % 8)) & 1) != 0;
}

} // namespace

bool Cidr::contains(const IpEndpoint& address) const noexcept {
    if (address.family != network.family) {
        return false;
    }
    unsigned full = prefix / 8;
    for (unsigned i = 0; i < full; ++i) {
        if (address.address[i] != network.address[i]) {
            return false;
        }
    }
    unsigned rest = prefix % 8;
    if (rest == 0) {
        return true;
    }
    auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
    return (address.address[full] & mask) == (network.address[full] & mask);
}

std::string Cidr::to_string() const {
    return network.address_string() + "/" + std::to_string(prefix);
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<Cidr> {
        if (error != nullptr) {
            *error = "'" + std::string(text) + "': " + why;
        }
        return std::nullopt;
    };
    auto slash = text.find('/');
    auto address = IpEndpoint::from_address(text.substr(0, slash), 0);
    if (!address) {
        return fail("not an IP address (expected e.g. 10.0.0.0/8 or fc00::/7)");
    }
    Cidr cidr{*address, address_bits(*address)};
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        unsigned prefix = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
            prefix > address_bits(*address)) {
            return fail("prefix length must be 0.." + std::to_string(address_bits(*address)));
        }
        cidr.prefix = prefix;
    }
    for (unsigned i = cidr.prefix; i < address_bits(*address); ++i) {
        if (bit(*address, i)) {
            return fail("address has bits set beyond the /" + std::to_string(cidr.prefix) +
                        " prefix");
        }
    }
    return cidr;
}

} // namespace strowger::core
