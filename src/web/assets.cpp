#include "retrace/web/assets.hpp"

#include <algorithm>

namespace retrace::web {

const EmbeddedFile* find_asset(std::string_view name) {
    for (const auto& f : embedded_files())
        if (f.name == name) return &f;
    return nullptr;
}

std::string_view content_type_of(std::string_view name) {
    auto ends = [&](std::string_view ext) {
        return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
    };
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".json")) return "application/json";
    if (ends(".png")) return "image/png";
    return "application/octet-stream";
}

}  // namespace retrace::web
