#include "retrace/run/determinism.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "retrace/core/digest.hpp"
#include "retrace/core/temp_dir.hpp"
#include "retrace/trace/shim_stream.hpp"

namespace retrace::run {

namespace {

namespace fs = std::filesystem;
using core::Json;

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string header_of(const std::string& data) {
    return trace::read_shim_header(data).command;
}

// A stream as a recording shim leaves it: a prelude (the magic "RTSLIVE\0"
// and the little-endian length written so far), then the stream, then
// space allocated but not used. Empty when it is not one.
std::string recorded_stream(const std::string& file) {
    constexpr std::size_t prelude = 16;
    if (file.size() < prelude || file.compare(0, 8, std::string("RTSLIVE\0", 8)) != 0) return "";
    unsigned long long length = 0;
    for (int i = 7; i >= 0; --i)
        length = (length << 8) | static_cast<unsigned char>(file[8 + static_cast<std::size_t>(i)]);
    return file.substr(prelude, std::min<unsigned long long>(length, file.size() - prelude));
}

}  // namespace

Result<fs::path> find_shim() {
    if (const char* env = std::getenv("RETRACE_SHIM"); env && *env) {
        if (fs::exists(env)) return fs::path(env);
        return error(ErrorCode::invalid_input,
                     std::string("--deterministic: RETRACE_SHIM names no file: ") + env);
    }
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec)
        for (const auto& p :
             {exe.parent_path() / "libretrace_shim.so",
              exe.parent_path().parent_path() / "lib" / "retrace" / "libretrace_shim.so"})
            if (fs::exists(p)) return p;
    return error(ErrorCode::invalid_input,
                 "--deterministic: cannot find libretrace_shim.so next to the retrace binary "
                 "(build it, or set RETRACE_SHIM)");
}

Result<ShimSession> ShimSession::start(bool replay, const std::vector<ShimStream>& streams) {
    ShimSession s;
    s.m_replay = replay;
    RETRACE_ASSIGN(s.m_shim, find_shim());
    fs::path tmp = core::temp_dir();
    std::string tmpl = (tmp / "retrace-shim-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
        return error(ErrorCode::io,
                     "cannot create a directory for the determinism shim in " + tmp.string());
    s.m_dir = tmpl;
    for (const auto& stream : streams) {
        bool plain =
            !stream.name.empty() && std::all_of(stream.name.begin(), stream.name.end(), [](char c) {
                return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
            });
        if (!plain)
            return error(ErrorCode::corrupt, "determinism stream name '" + stream.name +
                                                 "' is not one the shim writes");
        std::ofstream out(s.m_dir / (stream.name + ".rts"), std::ios::binary);
        out << stream.data;
        if (!out) return error(ErrorCode::io, "cannot write " + (s.m_dir / stream.name).string());
    }
    return s;
}

ShimSession::ShimSession(ShimSession&& o) noexcept
    : m_replay(o.m_replay), m_shim(std::move(o.m_shim)), m_dir(std::move(o.m_dir)) {
    o.m_dir.clear();
}

ShimSession::~ShimSession() {
    if (m_dir.empty()) return;
    std::error_code ec;
    fs::remove_all(m_dir, ec);
}

std::vector<std::string> ShimSession::environment(const char* existing_preload) const {
    std::string preload = m_shim.string();
    if (existing_preload && *existing_preload) preload.append(":").append(existing_preload);
    return {"LD_PRELOAD=" + preload,
            std::string("RETRACE_SHIM_MODE=") + (m_replay ? "replay" : "record"),
            "RETRACE_SHIM_DIR=" + m_dir.string()};
}

std::vector<ShimStream> ShimSession::collect(const core::Redactor& redactor) const {
    std::vector<ShimStream> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(m_dir, ec)) {
        if (entry.path().extension() != ".rts") continue;
        std::string data = recorded_stream(read_file(entry.path()));
        auto [command, values] = trace::read_shim_header(data);
        // A header and nothing else: the process read no value.
        if (values == 0 || data.size() <= values) continue;
        if (redactor.contains_secret(command)) {
            std::string redacted = redactor.redact(command);
            data = trace::shim_header(redacted) + data.substr(values);
            command = std::move(redacted);
        }
        out.push_back({entry.path().stem().string(), std::move(command), std::move(data)});
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return out;
}

std::vector<std::string> ShimSession::divergences() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(m_dir, ec)) {
        if (entry.path().extension() != ".diverged") continue;
        fs::path stream = entry.path().parent_path() / entry.path().stem();  // NAME.rts
        std::string command = fs::exists(stream) ? header_of(read_file(stream)) : "";
        out.push_back("process " + (command.empty() ? stream.stem().string() : command) + ": " +
                      read_file(entry.path()));
    }
    std::sort(out.begin(), out.end());
    return out;
}

Json streams_attribute(const std::vector<ShimStream>& streams, std::vector<store::Blob>& blobs) {
    Json list = Json::array();
    for (const auto& s : streams) {
        std::string digest = core::Digest::of(s.data).to_string();
        list.push_back({{"stream", s.name},
                        {"command", s.command},
                        {"blob", digest},
                        {"bytes", s.data.size()}});
        blobs.push_back({digest, s.data});
    }
    return list;
}

Result<std::vector<ShimStream>> load_streams(store::Store& store, const Json& attribute) {
    std::vector<ShimStream> out;
    if (!attribute.is_array()) return out;
    for (const auto& s : attribute) {
        std::string digest = s.value("blob", std::string());
        RETRACE_ASSIGN(auto blob, store.get_blob(digest));
        if (!blob)
            return error(ErrorCode::corrupt, "determinism stream blob " + digest + " is missing");
        out.push_back({s.value("stream", std::string()), s.value("command", std::string()),
                       std::move(*blob)});
    }
    return out;
}

}  // namespace retrace::run
