#include "app/secret_file.hpp"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "app/server.hpp"

namespace strowger::app {

std::vector<unsigned char> load_or_create_secret(const std::string& path, std::size_t size) {
    std::vector<unsigned char> secret(size);
    if (std::ifstream in{path, std::ios::binary}) {
        in.read(reinterpret_cast<char*>(secret.data()), static_cast<std::streamsize>(size));
        if (in.gcount() == static_cast<std::streamsize>(size)) {
            return secret;
        }
    }
    if (RAND_bytes(secret.data(), static_cast<int>(size)) != 1) {
        throw StartupError("cannot generate '" + path + "': no randomness available");
    }
    // Created private from the start: the secret is never readable by others, even briefly.
    auto old_mask = ::umask(077);
    std::ofstream out{path, std::ios::binary | std::ios::trunc};
    out.write(reinterpret_cast<const char*>(secret.data()), static_cast<std::streamsize>(size));
    out.close();
    ::umask(old_mask);
    if (!out) {
        throw StartupError("general.data_dir: cannot write '" + path + "'");
    }
    ::chmod(path.c_str(), 0600);
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
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        throw StartupError("cannot generate '" + path + "': no randomness available");
    }
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string secret;
    for (auto b : raw) {
        secret += kDigits[b >> 4];
        secret += kDigits[b & 0xF];
    }
    auto old_mask = ::umask(077);
    std::ofstream out{path, std::ios::trunc};
    out << secret << "\n";
    out.close();
    ::umask(old_mask);
    if (!out) {
        throw StartupError("general.data_dir: cannot write '" + path + "'");
    }
    ::chmod(path.c_str(), 0600);
    return secret;
}

} // namespace strowger::app
