#pragma once
// Secrets the server makes for itself at first start and keeps in general.data_dir (mode
// 0600), so that they survive restarts: the SIP flow-token key, the TURN REST secret.

#include <cstddef>
#include <string>
#include <vector>

namespace strowger::app {

// The `size` bytes stored at `path`, or, when the file is absent or short, fresh random bytes
// written there. Throws StartupError naming the file when it cannot be written.
std::vector<unsigned char> load_or_create_secret(const std::string& path, std::size_t size);

// A text secret (trimmed of surrounding whitespace) kept at `path`, or, when the file is absent
// or empty, 32 random bytes as 64 hex digits written there. Text, because an operator copies
// it into the web application that mints TURN REST credentials.
std::string load_or_create_text_secret(const std::string& path);

} // namespace strowger::app
