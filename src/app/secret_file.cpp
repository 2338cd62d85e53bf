#include "app/secret_file.hpp"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "app/server.hpp"

namespace strowger::app {
namespace {

std::vector<unsigned char> random_secret(const std::string& path, std::size_t size) {
    std::vector<unsigned char> secret(size);
    if (RAND_bytes(secret.data(), static_cast<int>(size)) != 1) {
        throw StartupError("cannot generate '" + path + "': no randomness available");
    }
    return secret;
}

// Created private from the start: the secret is never readable by others, even briefly.
void write_private(const std::string& path, std::string_view bytes) {
    auto old_mask = ::umask(077);
    std::ofstream out{path, std::ios::binary | std::ios::trunc};
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    ::umask(old_mask);
    if (!out) {
        throw StartupError("general.data_dir: cannot write '" + path + "'");
    }
    ::chmod(path.c_str(), 0600);
}

} // namespace

std::vector<unsigned char> load_or_create_secret(const std::string& path, std::size_t size) {
    std::vector<unsigned char> secret(size);
    if (std::ifstream in{path, std::ios::binary}) {
        in.read(reinterpret_cast<char*>(secret.data()), static_cast<std::streamsize>(size));
        if (in.gcount() == static_cast<std::streamsize>(size)) {
            return secret;
        }
    }
    secret = random_secret(path, size);
    write_private(path, {reinterpret_cast<const char*>(secret.data()), secret.size()});
    return secret;
}

std::string load_or_create_text_secret(const std::string& path) {
    if (std::ifstream in{path}) {
        std::stringstream text;
        text << in.rdbuf();
        auto s = text.str();
        auto first = s.find_first_not_of(" \t\r\n");
        if (first != std::string::npos) {
            auto last = s.find_last_not_of(" \t\r\n");
            return s.substr(first, last - first + 1);
        }
    }
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string secret;
    for (auto b : random_secret(path, 32)) {
        secret += kDigits[b >> 4];
        secret += kDigits[b & 0xF];
    }
    write_private(path, secret + "\n");
    return secret;
}

} // namespace strowger::app
