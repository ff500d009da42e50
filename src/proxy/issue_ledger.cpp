#include "retrace/proxy/issue_ledger.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "retrace/core/temp_dir.hpp"

namespace retrace::proxy {

namespace fs = std::filesystem;

std::unique_ptr<IssueLedger> IssueLedger::create() {
    std::string tmpl = (core::temp_dir() / "retrace-order-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return nullptr;
    return std::unique_ptr<IssueLedger>(new IssueLedger(tmpl));
}

IssueLedger::~IssueLedger() {
    std::error_code ec;
    fs::remove_all(m_dir, ec);
}

bool IssueLedger::valid_name(const std::string& name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-';
    });
}

void IssueLedger::received(const std::string& ledger, long long issue) {
    std::lock_guard lock(m_mutex);
    long long& seen = m_received[ledger];
    seen = std::max(seen, issue);
}

std::map<std::string, long long> IssueLedger::counts() const {
    std::map<std::string, long long> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(m_dir, ec)) {
        std::string name = entry.path().filename().string();
        if (!valid_name(name)) continue;
        int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        unsigned char b[8] = {};
        ssize_t n = ::pread(fd, b, sizeof b, 0);
        ::close(fd);
        if (n != static_cast<ssize_t>(sizeof b)) continue;  // (being created)
        std::uint64_t v = 0;
        for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
        out[name] = static_cast<long long>(std::min<std::uint64_t>(v, 1ull << 62));
    }
    return out;
}

bool IssueLedger::caught_up() {
    auto issued = counts();
    std::lock_guard lock(m_mutex);
    for (const auto& [name, count] : issued) {
        auto it = m_received.find(name);
        if ((it == m_received.end() ? 0 : it->second) < count) return false;
    }
    return true;
}

void IssueLedger::give_up() {
    auto issued = counts();
    std::lock_guard lock(m_mutex);
    for (const auto& [name, count] : issued) {
        long long& seen = m_received[name];
        seen = std::max(seen, count);
    }
}

}  // namespace retrace::proxy
