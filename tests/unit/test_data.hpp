#pragma once
// Test data files under tests/data, and small helpers for byte vectors.

#include <cstdint>
#include <string>
#include <vector>

namespace strowger::test {

std::vector<std::uint8_t> read_data_file(const std::string& relative_path);
std::vector<std::string> list_data_files(const std::string& relative_dir, const std::string& ext);

} // namespace strowger::test
