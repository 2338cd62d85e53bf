#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "app/config.hpp"

namespace strowger::app {
namespace {

std::string refusal(const std::optional<std::string>& file, const std::vector<std::string>& set) {
    try {
        load_config(file, set);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "<accepted>";
}

std::string write_temp(const std::string& content) {
    auto path = std::filesystem::temp_directory_path() /
                ("strowger-config-test-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(path) << content;
    return path.string();
}

TEST(Config, EveryKeyHasADefault) {
    auto c = load_config(std::nullopt, {});
    EXPECT_EQ(c.threads, 0U);
    EXPECT_GE(c.shard_count(), 1U);
    EXPECT_EQ(c.data_dir, "./var");
    EXPECT_EQ(c.realm, "strowger");
    EXPECT_EQ(c.log_level, "info");
    ASSERT_EQ(c.stun_listen.size(), 2U);
    EXPECT_EQ(c.stun_listen[0].to_string(), "udp:0.0.0.0:3478");
    EXPECT_EQ(c.stun_listen[1].to_string(), "tcp:0.0.0.0:3478");
    ASSERT_EQ(c.sip.listen.size(), 3U);
    EXPECT_EQ(c.sip.listen[2].to_string(), "tls:0.0.0.0:5061");
    EXPECT_EQ(c.sip.auth, "auto");
    EXPECT_EQ(c.sip.nonce_lifetime, 300U);
    EXPECT_EQ(c.sip.auth_algorithms, (std::vector<std::string>{"SHA-256", "MD5"}));
}

TEST(Config, SetTakesTomlValuesOrPlainStrings) {
    auto c = load_config(std::nullopt, {R"(stun.listen=["udp:127.0.0.1:3478"])",
                                        "general.data_dir=/tmp/x", "general.threads=2",
                                        "log.level=debug", R"(general.realm="a b")"});
    ASSERT_EQ(c.stun_listen.size(), 1U);
    EXPECT_EQ(c.stun_listen[0].to_string(), "udp:127.0.0.1:3478");
    EXPECT_EQ(c.data_dir, "/tmp/x");
    EXPECT_EQ(c.threads, 2U);
    EXPECT_EQ(c.shard_count(), 2U);
    EXPECT_EQ(c.log_level, "debug");
    EXPECT_EQ(c.realm, "a b");
}

TEST(Config, SetOverridesTheFile) {
    auto file = write_temp("[general]\nthreads = 3\nrealm = \"file\"\n");
    auto c = load_config(file, {"general.threads=1"});
    EXPECT_EQ(c.threads, 1U);
    EXPECT_EQ(c.realm, "file");
    std::filesystem::remove(file);
}

TEST(Config, RefusalsNameTheKeyAndTheProblem) {
    EXPECT_EQ(refusal(std::nullopt, {"general.threads=-1"}),
              "general.threads: must be between 0 and 256");
    EXPECT_EQ(refusal(std::nullopt, {"general.threads=many"}),
              "general.threads: expected an integer");
    EXPECT_EQ(refusal(std::nullopt, {"stun.lisen=[]"}), "stun.lisen: unknown key (from --set)");
    EXPECT_EQ(refusal(std::nullopt, {"log.level=loud"}),
              "log.level: 'loud' is not a level (trace, debug, info, warn, error, critical, off)");
    EXPECT_EQ(refusal(std::nullopt, {R"(stun.listen=["udp:0.0.0.0:99999"])"}),
              "stun.listen[0]: 'udp:0.0.0.0:99999': invalid port '99999'");
    EXPECT_EQ(refusal(std::nullopt, {R"(stun.listen=["wss:0.0.0.0:443"])"}),
              "stun.listen[0]: 'wss:0.0.0.0:443': transport wss is not available for this "
              "service (udp, tcp, tls)");
    EXPECT_EQ(refusal(std::nullopt, {"stun.listen=udp:0.0.0.0:3478"}),
              R"(stun.listen: expected a list such as ["udp:0.0.0.0:3478"])");
    EXPECT_EQ(refusal(std::nullopt, {"nokey"}), "--set 'nokey': expected KEY=VALUE");
    EXPECT_EQ(refusal(std::nullopt, {"sip.auth=maybe"}),
              R"(sip.auth: 'maybe': expected "auto", "required" or "off")");
    EXPECT_EQ(refusal(std::nullopt, {R"(sip.auth_algorithms=["MD5", "SHA-1"])"}),
              R"(sip.auth_algorithms[1]: 'SHA-1': expected "MD5" or "SHA-256")");
    EXPECT_EQ(refusal(std::nullopt, {R"(sip.auth_algorithms=["MD5", "MD5"])"}),
              "sip.auth_algorithms[1]: 'MD5' is listed twice");
    EXPECT_EQ(refusal(std::nullopt, {"sip.auth_algorithms=[]"}),
              R"(sip.auth_algorithms: expected a non-empty list such as ["SHA-256", "MD5"])");
}

TEST(Config, FileErrorsNameThePosition) {
    auto file = write_temp("[general]\nthreads = 2\nbogus = 1\n");
    EXPECT_EQ(refusal(file, {}), "general.bogus: unknown key (" + file + ":3:9)");
    std::ofstream(file) << "[general\n";
    auto why = refusal(file, {});
    EXPECT_EQ(why.rfind(file + ":1:", 0), 0U) << why;
    std::filesystem::remove(file);
}

} // namespace
} // namespace strowger::app
