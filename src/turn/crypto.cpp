#include "turn/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace strowger::turn {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> hmac(const EVP_MD* md, std::span<const std::uint8_t> key,
                                 std::string_view data) {
    std::array<std::uint8_t, N> out{};
    unsigned len = 0;
    if (HMAC(md, key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
             &len) == nullptr ||
        len != N) {
        out.fill(0); // never equal to a real MAC, so a failure can only refuse
    }
    return out;
}

} // namespace

std::array<std::uint8_t, 20> hmac_sha1(std::span<const std::uint8_t> key, std::string_view data) {
    return hmac<20>(EVP_sha1(), key, data);
}

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key,
                                         std::string_view data) {
    return hmac<32>(EVP_sha256(), key, data);
}

std::string base64(std::span<const std::uint8_t> bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 0xF];
    }
    return out;
}

void random_bytes(std::span<std::uint8_t> out) {
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        throw std::runtime_error("OpenSSL: no random bytes available");
    }
}

} // namespace strowger::turn
