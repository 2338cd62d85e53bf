// strowger: the command line. Exit codes: 0 success, 1 the server failed to start or run (or a
// `user` command was refused), 2 bad command line or configuration (nothing was started).

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <optional>

#include "app/cert_command.hpp"
#include "app/config.hpp"
#include "app/server.hpp"
#include "app/user_command.hpp"
#include "app/version.hpp"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

void setup_logging(const std::string& level) {
    auto logger = spdlog::stderr_color_mt("strowger");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

} // namespace

int main(int argc, char** argv) {
    using namespace strowger::app;

    CLI::App cli{"Strowger: SIP registrar and proxy, WebRTC signaling and STUN/TURN in one server"};
    cli.require_subcommand(1);
    cli.set_version_flag("--version", kVersion);

    std::optional<std::string> config_file;
    std::vector<std::string> overrides;

    // serve and every user command read the same configuration, so that `user` finds the
    // store (general.data_dir) and realm (general.realm) the server uses.
    auto add_config_options = [&](CLI::App* command) {
        command->add_option("--config,-c", config_file, "TOML configuration file")
            ->check(CLI::ExistingFile);
        command->add_option("--set", overrides, "Override a key: KEY=VALUE (repeatable)")
            ->allow_extra_args(false);
    };

    auto* serve = cli.add_subcommand("serve", "Run the server");
    add_config_options(serve);

    auto* check = cli.add_subcommand("check-config", "Validate a configuration file and exit");
    check->add_option("file", config_file, "TOML configuration file")
        ->required()
        ->check(CLI::ExistingFile);
    check->add_option("--set", overrides, "Override a key: KEY=VALUE (repeatable)")
        ->allow_extra_args(false);

    cli.add_subcommand("version", "Print the version");

    UserCommand user_command;
    auto* user = cli.add_subcommand("user", "Manage the accounts TURN authenticates");
    user->require_subcommand(1);
    auto* user_add = user->add_subcommand("add", "Add a user with keys for general.realm");
    auto* user_del = user->add_subcommand("del", "Delete a user");
    auto* user_list = user->add_subcommand("list", "List the users");
    auto* user_passwd =
        user->add_subcommand("passwd", "Set a user's password (and realm, to general.realm)");
    for (auto* command : {user_add, user_del, user_passwd}) {
        command->add_option("name", user_command.name, "User name")->required();
    }
    for (auto* command : {user_add, user_passwd}) {
        command->add_option("password", user_command.password, "Password")->required();
    }
    for (auto* command : {user_add, user_del, user_list, user_passwd}) {
        add_config_options(command);
    }

    CertCommand cert_command;
    auto* cert = cli.add_subcommand(
        "cert", "Write a self-signed certificate to <data_dir>/cert.pem and key.pem");
    cert->add_option("--name", cert_command.name,
                     "Host name or address it is for (default: this machine's host name)");
    cert->add_option("--days", cert_command.days, "Days it is valid")
        ->check(CLI::Range(1, 3650));
    cert->add_flag("--force", cert_command.force, "Replace existing files");
    add_config_options(cert);

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = cli.exit(e);
        return code == 0 ? 0 : kExitUsage;
    }

    if (cli.got_subcommand("version")) {
        std::printf("strowger %s\n", kVersion);
        return 0;
    }

    Config config;
    try {
        config = load_config(config_file, overrides);
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "strowger: configuration refused: %s\n", e.what());
        return kExitUsage;
    }

    if (cli.got_subcommand("check-config")) {
        std::printf("%s: configuration is valid\n", config_file->c_str());
        return 0;
    }

    if (cli.got_subcommand(cert)) {
        return run_cert_command(cert_command, config);
    }

    if (cli.got_subcommand(user)) {
        user_command.action = user->got_subcommand(user_add)      ? UserAction::Add
                              : user->got_subcommand(user_del)    ? UserAction::Del
                              : user->got_subcommand(user_passwd) ? UserAction::Passwd
                                                                  : UserAction::List;
        setup_logging(config.log_level);
        return run_user_command(user_command, config);
    }

    setup_logging(config.log_level);
    try {
        Server server(std::move(config));
        server.run();
    } catch (const StartupError& e) {
        spdlog::error("cannot start: {}", e.what());
        return kExitFailure;
    } catch (const std::exception& e) {
        spdlog::critical("fatal: {}", e.what());
        return kExitFailure;
    }
    return 0;
}
