// Which names say that their value is a secret: environment variables,
// HTTP headers, query parameters, command-line options and --param names
// (docs/secrets.md has the rules).
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "retrace/core/redact.hpp"

namespace retrace::core {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The words of a name: split at '-', '_', '.' and ' ', lower-cased.
std::vector<std::string> words(std::string_view name) {
    std::vector<std::string> out(1);
    for (char c : name) {
        if (c == '-' || c == '_' || c == '.' || c == ' ') {
            if (!out.back().empty()) out.emplace_back();
        } else {
            out.back().push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        }
    }
    if (out.back().empty()) out.pop_back();
    return out;
}

// A word that, ending a name, says the name holds a secret ("api-key",
// "access_token", "db-pass"); "tokens" (a count) is not one.
bool is_secret_word(const std::string& w) {
    static const char* const k_words[] = {
        "key",         "apikey", "token", "secret", "password",  "passwd", "pass",  "credential",
        "credentials", "cookie", "auth",  "sig",    "signature", "jwt",    "bearer"};
    for (const char* k : k_words)
        if (w == k) return true;
    return w.size() > 5 && (w.ends_with("token") || w.ends_with("secret") ||
                            w.ends_with("password") || w.ends_with("apikey"));
}

// A word that says so anywhere in a name: "x-auth-email", "authorization".
bool is_auth_word(const std::string& w) {
    return w == "auth" || w.starts_with("authoriz") || w.starts_with("authentic") ||
           w.ends_with("token") || w == "token";
}

}  // namespace

bool is_secret_name(std::string_view name) {
    std::string u = lower(name);
    for (const char* word : {"key", "token", "secret", "password", "passwd", "credential"})
        if (u.find(word) != std::string::npos) return true;
    if (u == "ssh_auth_sock") return false;  // a socket's path, not a secret
    auto ws = words(name);
    return std::any_of(ws.begin(), ws.end(), [](const std::string& w) {
        return w == "pass" || is_auth_word(w) || w == "cookie";
    });
}

bool is_secret_param(std::string_view name) {
    auto ws = words(name);
    return !ws.empty() && is_secret_word(ws.back());
}

bool is_secret_header(std::string_view name) {
    std::string n = lower(name);
    if (n == "idempotency-key") return false;  // names a request, grants nothing
    if (n == "set-cookie" || n == "proxy-authorization") return true;
    auto ws = words(n);
    return is_secret_param(n) || std::any_of(ws.begin(), ws.end(), is_auth_word);
}

std::string redact_query(std::string_view query) {
    std::string out;
    std::size_t i = 0;
    if (!query.empty() && query[0] == '?') {
        out.push_back('?');
        i = 1;
    }
    while (i <= query.size()) {
        std::size_t end = query.find('&', i);
        if (end == std::string_view::npos) end = query.size();
        std::string_view pair = query.substr(i, end - i);
        std::size_t eq = pair.find('=');
        if (eq != std::string_view::npos && is_secret_param(pair.substr(0, eq))) {
            out.append(pair.substr(0, eq + 1)).append(k_redacted);
        } else {
            out.append(pair);
        }
        if (end == query.size()) break;
        out.push_back('&');
        i = end + 1;
    }
    return out;
}

std::vector<std::string> redact_argv(const Redactor& redactor,
                                     const std::vector<std::string>& argv) {
    std::vector<std::string> out;
    bool value_next = false;  // the previous element was "--token" and the like
    for (const auto& arg : argv) {
        std::string_view a(arg);
        if (value_next && !a.starts_with("-")) {
            out.emplace_back(k_redacted);
            value_next = false;
            continue;
        }
        value_next = false;
        if (a.starts_with("-")) {
            std::string_view option = a.substr(a.find_first_not_of('-') == std::string_view::npos
                                                   ? a.size()
                                                   : a.find_first_not_of('-'));
            std::size_t eq = option.find('=');
            if (eq != std::string_view::npos && is_secret_param(option.substr(0, eq))) {
                out.push_back(std::string(a.substr(0, a.size() - option.size() + eq + 1)) +
                              std::string(k_redacted));
                continue;
            }
            if (eq == std::string_view::npos && is_secret_param(option)) value_next = true;
        }
        out.push_back(redactor.redact(arg));
    }
    return out;
}

}  // namespace retrace::core
