#include "app/user_command.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "store/user_sqlite.hpp"

namespace strowger::app {
namespace {

constexpr int kExitFailure = 1;

std::int64_t now_unix() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

// "2024-05-01T12:00:00Z"; times are shown in UTC so that they read the same on every machine.
std::string iso8601(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    char text[32] = "?";
    if (gmtime_r(&t, &utc) != nullptr) {
        std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    }
    return text;
}

int refuse(const std::string& message) {
    std::fprintf(stderr, "strowger: %s\n", message.c_str());
    return kExitFailure;
}

int run(store::SqliteUserStore& users, const UserCommand& command, const std::string& realm) {
    const char* name = command.name.c_str();
    switch (command.action) {
    case UserAction::Add:
        if (!users.add(command.name, realm, command.password, now_unix())) {
            return refuse("user " + command.name + " already exists (use passwd to change it)");
        }
        std::printf("user %s added (realm %s)\n", name, realm.c_str());
        return 0;
    case UserAction::Del:
        if (!users.remove(command.name)) {
            return refuse("no such user: " + command.name);
        }
        std::printf("user %s deleted\n", name);
        return 0;
    case UserAction::Passwd:
        if (!users.set_password(command.name, realm, command.password, now_unix())) {
            return refuse("no such user: " + command.name + " (use add to create it)");
        }
        std::printf("password of %s set (realm %s)\n", name, realm.c_str());
        return 0;
    case UserAction::List:
        for (const auto& user : users.list()) {
            // A user whose keys were made for another realm cannot authenticate until its
            // password is set again under the configured one.
            const auto stale = user.realm != realm ? "\tstale: general.realm is " + realm +
                                                         ", set the password again"
                                                   : std::string();
            std::printf("%s\trealm=%s\tcreated=%s\tupdated=%s%s\n", user.name.c_str(),
                        user.realm.c_str(), iso8601(user.created).c_str(),
                        iso8601(user.updated).c_str(), stale.c_str());
        }
        return 0;
    }
    return kExitFailure;
}

} // namespace

int run_user_command(const UserCommand& command, const Config& config) {
    // Checked before anything is made on disk. del takes any name: one that could not be
    // added is simply not found.
    try {
        if (command.action == UserAction::Add) {
            store::validate_user_name(command.name);
        }
        if (command.action == UserAction::Add || command.action == UserAction::Passwd) {
            store::validate_password(command.password);
        }
    } catch (const std::invalid_argument& e) {
        return refuse(e.what());
    }

    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) {
        return refuse("general.data_dir: cannot create '" + config.data_dir + "': " + ec.message());
    }
    // The server's file: its location store and these accounts share it.
    const auto path = (std::filesystem::path(config.data_dir) / "strowger.db").string();
    try {
        store::SqliteUserStore users(path);
        return run(users, command, config.realm);
    } catch (const std::exception& e) {
        return refuse(e.what()); // StoreError names the file and SQLite's reason
    }
}

} // namespace strowger::app
