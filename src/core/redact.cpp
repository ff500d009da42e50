#include "retrace/core/redact.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>

namespace retrace::core {

namespace {

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// Length of a credential-shaped token starting at text[i], or 0.
// "sk-" (OpenAI, "sk-proj-", "sk-ant-" for Anthropic) followed by at least 8
// token characters, not preceded by a word character ("task-..." is not a key).
std::size_t key_at(std::string_view text, std::size_t i) {
    if (i + 3 > text.size() || text[i] != 's' || text[i + 1] != 'k' || text[i + 2] != '-') return 0;
    if (i > 0 && std::isalnum(static_cast<unsigned char>(text[i - 1]))) return 0;
    std::size_t j = i + 3;
    while (j < text.size() && is_token_char(text[j])) ++j;
    return j - (i + 3) >= 8 ? j - i : 0;
}

// "Bearer <token>": returns where the token starts and its length.
std::pair<std::size_t, std::size_t> bearer_at(std::string_view text, std::size_t i) {
    static constexpr std::string_view k_word = "bearer ";
    if (i + k_word.size() > text.size()) return {0, 0};
    for (std::size_t k = 0; k < k_word.size(); ++k)  // (ASCII case folding: no locale)
        if (text[i + k] != k_word[k] && !(k_word[k] != ' ' && text[i + k] == k_word[k] - 32))
            return {0, 0};
    std::size_t start = i + k_word.size();
    while (start < text.size() && text[start] == ' ') ++start;
    std::size_t end = start;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) &&
           text[end] != '"' && text[end] != '\'' && text[end] != ',')
        ++end;
    return end - start >= 8 ? std::pair{start, end - start}
                            : std::pair<std::size_t, std::size_t>{0, 0};
}

}  // namespace

bool is_secret_name(std::string_view name) {
    std::string u = upper(name);
    for (const char* word : {"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"})
        if (u.find(word) != std::string::npos) return true;
    return false;
}

Redactor Redactor::from_environment(char** envp) {
    Redactor r;
    for (char** e = envp; e && *e; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        if (is_secret_name(kv.substr(0, eq)) && kv.size() - eq - 1 >= 6)
            r.add_secret(std::string(kv.substr(eq + 1)));
    }
    return r;
}

Result<Redactor> Redactor::from_environment(char** envp, const std::vector<std::string>& patterns) {
    Redactor r = from_environment(envp);
    for (const auto& pattern : patterns) RETRACE_TRY(r.add_pattern(pattern));
    return r;
}

std::array<bool, 256> Redactor::initial_starts() {
    std::array<bool, 256> starts{};
    for (unsigned char c : {'s', 'b', 'B'}) starts[c] = true;
    return starts;
}

void Redactor::add_secret(std::string value) {
    if (value.empty() || std::find(m_secrets.begin(), m_secrets.end(), value) != m_secrets.end())
        return;
    if (!m_starts[static_cast<unsigned char>(value[0])]) m_start_bytes.push_back(value[0]);
    m_starts[static_cast<unsigned char>(value[0])] = true;
    m_secrets.push_back(std::move(value));
    std::sort(m_secrets.begin(), m_secrets.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

Status Redactor::add_pattern(const std::string& regex) {
    if (regex.empty()) return error(ErrorCode::invalid_input, "--redact: empty pattern");
    try {
        m_patterns.push_back(std::make_shared<const std::regex>(regex, std::regex::ECMAScript));
    } catch (const std::regex_error& e) {
        return error(ErrorCode::invalid_input,
                     "--redact '" + regex + "' is not a regular expression: " + e.what());
    }
    return Status::ok();
}

std::size_t Redactor::next_start(std::string_view text, std::size_t from) const {
    std::size_t i = from;
    if constexpr (std::endian::native == std::endian::little) {
        if (m_start_bytes.size() <= 8) {
            // (w - 0x01..) & ~w & 0x80.. marks the lowest zero byte of w
            // exactly (marks above it may be false): the lowest mark over
            // w ^ c for each start byte c is the first match in the word.
            constexpr std::uint64_t k_ones = 0x0101010101010101, k_highs = 0x8080808080808080;
            for (; i + 8 <= text.size(); i += 8) {
                std::uint64_t w;
                std::memcpy(&w, text.data() + i, 8);
                std::uint64_t marks = 0;
                for (unsigned char c : m_start_bytes) {
                    std::uint64_t x = w ^ (k_ones * c);
                    marks |= (x - k_ones) & ~x & k_highs;
                }
                if (marks) return i + static_cast<std::size_t>(std::countr_zero(marks)) / 8;
            }
        }
    }
    while (i < text.size() && !may_start_at(static_cast<unsigned char>(text[i]))) ++i;
    return i;
}

std::string Redactor::redact(std::string_view text) const {
    // Text is copied in bulk between matches; only bytes that can start one
    // are looked at closely.
    std::string out;
    std::size_t copied = 0;  // text before this is in out
    auto replace = [&](std::size_t from, std::size_t to) {
        if (copied == 0) out.reserve(text.size());
        out.append(text.substr(copied, from - copied)).append(k_redacted);
        copied = to;
    };
    std::size_t i = 0;
    while ((i = next_start(text, i)) < text.size()) {
        auto secret = std::find_if(m_secrets.begin(), m_secrets.end(), [&](const auto& s) {
            return s[0] == text[i] && text.compare(i, s.size(), s) == 0;
        });
        if (secret != m_secrets.end()) {
            replace(i, i + secret->size());
        } else if (std::size_t n = key_at(text, i)) {
            replace(i, i + n);
        } else if (auto [start, len] = bearer_at(text, i); len) {
            replace(start, start + len);  // "Bearer " itself stays
        } else {
            ++i;
            continue;
        }
        i = copied;
    }
    out.append(text.substr(copied));
    for (const auto& re : m_patterns) out = std::regex_replace(out, *re, std::string(k_redacted));
    return out;
}

bool Redactor::contains_secret(std::string_view text) const {
    return redact(text) != text;
}

}  // namespace retrace::core
