// Where a store is (store.hpp): parsing what users write, and keeping a
// connection string's password out of everything shown.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "retrace/store/store.hpp"

namespace retrace::store {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_mask = "****";

bool starts_with_scheme(std::string_view text) {
    return text.starts_with("postgres://") || text.starts_with("postgresql://");
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

// A span of text: where a password is written in a connection string.
struct Span {
    std::size_t begin = 0, end = 0;
    bool empty() const { return begin == end; }
};

// The password's spans in a URI: in the userinfo (user:PASSWORD@) and in
// a password= query parameter.
std::vector<Span> uri_password_spans(std::string_view uri) {
    std::vector<Span> spans;
    std::size_t start = uri.find("://") + 3;
    std::size_t authority_end = uri.find_first_of("/?", start);
    if (authority_end == std::string_view::npos) authority_end = uri.size();
    std::size_t at = uri.rfind('@', authority_end);
    if (at != std::string_view::npos && at >= start) {
        std::size_t colon = uri.find(':', start);
        if (colon != std::string_view::npos && colon < at) spans.push_back({colon + 1, at});
    }
    std::size_t query = uri.find('?', start);
    while (query != std::string_view::npos && query < uri.size()) {
        std::size_t key = query + 1;
        std::size_t amp = uri.find('&', key);
        std::size_t end = amp == std::string_view::npos ? uri.size() : amp;
        std::string_view param = uri.substr(key, end - key);
        if (param.starts_with("password=")) spans.push_back({key + 9, end});
        query = amp;
    }
    return spans;
}

// The password's spans in key=value pairs: password=VALUE or
// password='VALUE' (quotes and backslash escapes as libpq reads them).
std::vector<Span> keyword_password_spans(std::string_view text) {
    std::vector<Span> spans;
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    };
    while (i < text.size()) {
        skip_space();
        std::size_t key_begin = i;
        while (i < text.size() && text[i] != '=' &&
               !std::isspace(static_cast<unsigned char>(text[i])))
            ++i;
        std::string_view key = text.substr(key_begin, i - key_begin);
        skip_space();
        if (i >= text.size() || text[i] != '=') break;
        ++i;
        skip_space();
        std::size_t value_begin = i;
        if (i < text.size() && text[i] == '\'') {
            ++i;
            while (i < text.size() && text[i] != '\'') i += text[i] == '\\' ? 2 : 1;
            i = std::min(i + 1, text.size());
        } else {
            while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        }
        if (key == "password") spans.push_back({value_begin, i});
    }
    return spans;
}

std::vector<Span> password_spans(std::string_view conninfo) {
    return starts_with_scheme(conninfo) ? uri_password_spans(conninfo)
                                        : keyword_password_spans(conninfo);
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
    if (what.empty()) return;
    for (std::size_t at = text.find(what); at != std::string::npos;
         at = text.find(what, at + with.size()))
        text.replace(at, what.size(), with);
}

}  // namespace

bool StoreLocation::is_connection_string(std::string_view text) {
    if (starts_with_scheme(text)) return true;
    // key=value pairs ("host=db dbname=team"): a word, then '='. A directory
    // whose name has that shape is written ./name.
    std::size_t i = 0;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_'))
        ++i;
    while (i < text.size() && text[i] == ' ') ++i;
    return i > 0 && i < text.size() && text[i] == '=';
}

StoreLocation StoreLocation::postgres(std::string conninfo) {
    StoreLocation l{fs::path()};
    l.m_postgres = true;
    for (const auto& span : password_spans(conninfo)) {
        if (span.empty()) continue;
        l.m_password = conninfo.substr(span.begin, span.end - span.begin);
        if (l.m_password.size() >= 2 && l.m_password.front() == '\'')
            l.m_password = l.m_password.substr(1, l.m_password.size() - 2);
    }
    l.m_conninfo = std::move(conninfo);
    return l;
}

StoreLocation StoreLocation::parse(const std::string& text, const fs::path& cwd) {
    if (is_connection_string(text)) return postgres(text);
    fs::path p(text);
    return StoreLocation(p.is_absolute() ? p : cwd / p);
}

std::string StoreLocation::display() const {
    if (!m_postgres) return m_dir.string();
    std::string out = m_conninfo;
    auto spans = password_spans(out);
    // Right to left, so earlier spans keep their offsets.
    for (auto it = spans.rbegin(); it != spans.rend(); ++it)
        if (!it->empty()) out.replace(it->begin, it->end - it->begin, k_mask);
    return out;
}

std::string StoreLocation::mask(std::string_view text) const {
    std::string out(text);
    if (!m_postgres) return out;
    // The whole connection string first (an error quoting it), then the
    // password in whatever form it appears.
    replace_all(out, m_conninfo, display());
    if (m_password.size() >= 3) {
        replace_all(out, m_password, k_mask);
        replace_all(out, percent_decode(m_password), k_mask);
    }
    return out;
}

StoreLocation locate_store(const std::optional<std::string>& explicit_store, const fs::path& cwd) {
    if (explicit_store && !explicit_store->empty())
        return StoreLocation::parse(*explicit_store, cwd);
    if (const char* env = std::getenv("RETRACE_STORE"); env && *env)
        return StoreLocation::parse(env, cwd);
    for (fs::path dir = cwd;; dir = dir.parent_path()) {
        std::error_code ec;
        if (fs::is_directory(dir / ".retrace", ec)) return StoreLocation(dir / ".retrace");
        if (dir == dir.parent_path()) break;
    }
    return StoreLocation(cwd / ".retrace");
}

}  // namespace retrace::store
