#include "test_data.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace strowger::test {

std::vector<std::uint8_t> read_data_file(const std::string& relative_path) {
    auto path = std::filesystem::path(STROWGER_TEST_DATA) / relative_path;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("missing test data file " + path.string());
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> list_data_files(const std::string& relative_dir, const std::string& ext) {
    std::vector<std::string> names;
    auto dir = std::filesystem::path(STROWGER_TEST_DATA) / relative_dir;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ext) {
            names.push_back(relative_dir + "/" + entry.path().filename().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace strowger::test
