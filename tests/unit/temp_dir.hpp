#pragma once
// A directory of the test's own under the system's temporary directory (mkdtemp: unique even
// across parallel test processes), removed with everything in it.

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace strowger::test {

class TempDir {
public:
    explicit TempDir(const std::string& prefix = "strowger-test") {
        auto pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp " + pattern + " failed");
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    // Where the server keeps its SQLite store inside general.data_dir.
    [[nodiscard]] std::string database() const { return (path_ / "strowger.db").string(); }

private:
    std::filesystem::path path_;
};

} // namespace strowger::test
