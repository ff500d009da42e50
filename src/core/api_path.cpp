#include "retrace/core/api_path.hpp"

namespace retrace::core {

namespace {

constexpr std::string_view k_version = "/v1";

// Whether path starts with the segment /v1 (itself, or /v1/...).
bool versioned(std::string_view path) {
    return path.substr(0, k_version.size()) == k_version &&
           (path.size() == k_version.size() || path[k_version.size()] == '/');
}

}  // namespace

std::string api_path(std::string_view route, std::string_view path) {
    if (route == "anthropic" && !path.empty() && !versioned(path))
        return std::string(k_version) + std::string(path);
    if (route == "openai" && versioned(path) && path.size() > k_version.size())
        return std::string(path.substr(k_version.size()));
    return std::string(path);
}

std::string upstream_path(std::string_view route, std::string_view base_path,
                          std::string_view path) {
    std::string base(base_path);
    if (route == "anthropic" && versioned(path) && base.size() >= k_version.size() &&
        std::string_view(base).substr(base.size() - k_version.size()) == k_version)
        base.resize(base.size() - k_version.size());
    return base + std::string(path);
}

}  // namespace retrace::core
