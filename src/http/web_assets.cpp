#include "http/web_assets.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace strowger::http {

namespace {

std::string_view content_type_of(std::string_view path) {
    static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".webmanifest", "application/manifest+json"},
    };
    for (const auto& [suffix, type] : kTypes) {
        if (path.ends_with(suffix)) {
            return type;
        }
    }
    return "application/octet-stream";
}

const std::unordered_map<std::string_view, WebAsset>& assets() {
    static const auto table = [] {
        std::unordered_map<std::string_view, WebAsset> map;
        for (const auto& file : embedded_files()) {
            map.emplace(file.path, WebAsset{file.data, content_type_of(file.path)});
        }
        return map;
    }();
    return table;
}

} // namespace

const WebAsset* find_web_asset(std::string_view path) {
    std::string index;
    if (path.ends_with('/')) {
        index = std::string(path) + "index.html";
        path = index;
    }
    auto it = assets().find(path);
    return it == assets().end() ? nullptr : &it->second;
}

bool is_web_directory(std::string_view path) {
    return !path.ends_with('/') && assets().contains(std::string(path) + "/index.html");
}

} // namespace strowger::http
