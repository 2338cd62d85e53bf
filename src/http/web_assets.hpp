#pragma once
// The web apps (web/ in the source tree), compiled into the binary.

#include <span>
#include <string_view>

namespace strowger::http {

struct EmbeddedFile {
    std::string_view path; // "/call/index.html"
    std::span<const unsigned char> data;
};

// Every file, sorted by path.
std::span<const EmbeddedFile> embedded_files();

struct WebAsset {
    std::span<const unsigned char> data;
    std::string_view content_type;
};

// The file a GET for `path` serves; "/call/" is "/call/index.html".
const WebAsset* find_web_asset(std::string_view path);
// Whether `path` names a directory with an index ("/call"), which is redirected to "/call/"
// so that the page's relative links resolve.
bool is_web_directory(std::string_view path);

} // namespace strowger::http
