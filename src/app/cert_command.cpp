#include "app/cert_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "net/self_signed.hpp"

namespace strowger::app {

std::string default_certificate_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
        return "localhost";
    }
    return name;
}

int run_cert_command(const CertCommand& command, const Config& config) {
    const std::filesystem::path dir = config.data_dir;
    const auto cert = dir / "cert.pem";
    const auto key = dir / "key.pem";
    std::error_code ec;
    if (!command.force && (std::filesystem::exists(cert, ec) || std::filesystem::exists(key, ec))) {
        std::fprintf(stderr,
                     "strowger cert: %s or %s exists; --force replaces them (clients that "
                     "trusted the old certificate will have to trust the new one)\n",
                     cert.c_str(), key.c_str());
        return 1;
    }
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        std::fprintf(stderr, "strowger cert: cannot create general.data_dir '%s': %s\n",
                     dir.c_str(), ec.message().c_str());
        return 1;
    }
    const auto name = command.name.empty() ? default_certificate_name() : command.name;
    try {
        net::make_self_signed_certificate(cert, key, name, command.days);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "strowger cert: %s\n", e.what());
        return 1;
    }
    std::printf("wrote %s (self-signed for %s, localhost, 127.0.0.1 and ::1; %d days) and %s\n",
                cert.c_str(), name.c_str(), command.days, key.c_str());
    return 0;
}

} // namespace strowger::app
