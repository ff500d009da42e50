// The page's files, embedded at build time (web/CMakeLists.txt): `retrace
// serve` reads nothing from disk and nothing from the network.
#pragma once

#include <span>
#include <string_view>

namespace retrace::web {

struct EmbeddedFile {
    std::string_view name;  // e.g. "app.js", "index.html"
    std::string_view bytes;
};

// Every file of web/src/ and web/index.html, sorted by name.
std::span<const EmbeddedFile> embedded_files();

// The file called name, or nullptr.
const EmbeddedFile* find_asset(std::string_view name);
// The Content-Type a file is served with, by its extension.
std::string_view content_type_of(std::string_view name);

}  // namespace retrace::web
