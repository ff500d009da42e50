#include "retrace/core/redact.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace retrace::core {

namespace {

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
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

bool is_alnum(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}
bool is_upper_or_digit(char c) {
    return std::isupper(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
}
bool is_base64url(char c) {
    return is_alnum(c) || c == '-' || c == '_';
}

// How many bytes from text[from] satisfy ok, at most limit.
template <typename Ok>
std::size_t run_of(std::string_view text, std::size_t from, Ok ok, std::size_t limit = SIZE_MAX) {
    std::size_t j = from;
    while (j < text.size() && j - from < limit && ok(text[j])) ++j;
    return j - from;
}

bool starts_with_at(std::string_view text, std::size_t i, std::string_view prefix) {
    return text.compare(i, prefix.size(), prefix) == 0;
}

// Length of a token of a known shape starting at text[i], or 0: GitHub
// tokens (ghp_, gho_, ghu_, ghs_, ghr_ and github_pat_), AWS access key ids
// (AKIA, ASIA), Google API keys (AIza), Slack tokens (xoxb- ...) and JWTs
// (three base64url parts, the first two JSON objects: "eyJ").
std::size_t shaped_token_at(std::string_view text, std::size_t i) {
    if (i > 0 && is_alnum(text[i - 1])) return 0;
    switch (text[i]) {
        case 'g':
            if (starts_with_at(text, i, "github_pat_")) {
                std::size_t n =
                    run_of(text, i + 11, [](char c) { return is_alnum(c) || c == '_'; });
                return n >= 22 ? 11 + n : 0;
            }
            if (i + 4 <= text.size() && text[i + 1] == 'h' && text[i + 3] == '_' &&
                std::string_view("pousr").find(text[i + 2]) != std::string_view::npos) {
                std::size_t n = run_of(text, i + 4, is_alnum);
                return n >= 36 ? 4 + n : 0;
            }
            return 0;
        case 'A':
            if (starts_with_at(text, i, "AKIA") || starts_with_at(text, i, "ASIA")) {
                std::size_t n = run_of(text, i + 4, is_upper_or_digit, 17);
                return n == 16 ? 20 : 0;
            }
            if (starts_with_at(text, i, "AIza")) {
                std::size_t n = run_of(text, i + 4, is_base64url, 36);
                return n == 35 ? 39 : 0;
            }
            return 0;
        case 'x':
            if (i + 5 <= text.size() && starts_with_at(text, i, "xox") && text[i + 4] == '-' &&
                std::string_view("abprs").find(text[i + 3]) != std::string_view::npos) {
                std::size_t n = run_of(text, i + 5, [](char c) { return is_alnum(c) || c == '-'; });
                return n >= 10 ? 5 + n : 0;
            }
            return 0;
        case 'e': {
            if (!starts_with_at(text, i, "eyJ")) return 0;
            std::size_t j = i;
            for (int part = 0; part < 3; ++part) {
                if (part > 0) {
                    if (j >= text.size() || text[j] != '.') return 0;
                    ++j;
                    if (part == 1 && !starts_with_at(text, j, "eyJ")) return 0;
                }
                std::size_t n = run_of(text, j, is_base64url);
                if (n < (part == 2 ? 8 : 10)) return 0;
                j += n;
            }
            return j - i;
        }
        default:
            return 0;
    }
}

// The value after "aws_secret_access_key" (any case, as in ~/.aws/credentials,
// an environment listing or JSON): where its 40 characters start, and 40.
std::pair<std::size_t, std::size_t> aws_secret_at(std::string_view text, std::size_t i) {
    static constexpr std::string_view k_name = "aws_secret_access_key";
    if (i + k_name.size() > text.size()) return {0, 0};
    for (std::size_t k = 0; k < k_name.size(); ++k)
        if (std::tolower(static_cast<unsigned char>(text[i + k])) != k_name[k]) return {0, 0};
    std::size_t j = i + k_name.size();
    j += run_of(text, j, [](char c) { return c == ' ' || c == '"' || c == '\'' || c == '\t'; });
    if (j >= text.size() || (text[j] != '=' && text[j] != ':')) return {0, 0};
    ++j;
    j += run_of(text, j, [](char c) { return c == ' ' || c == '"' || c == '\'' || c == '\t'; });
    std::size_t n = run_of(
        text, j, [](char c) { return is_alnum(c) || c == '/' || c == '+' || c == '='; }, 41);
    return n == 40 ? std::pair{j, n} : std::pair<std::size_t, std::size_t>{0, 0};
}

// The shapes that begin with a common letter are found from a rarer byte
// inside them: the "_" of "ghp_", "github_" and "aws_", the "J" of "eyJ".
// Where the token starts (not before floor) and its length, or {0, 0}.
std::pair<std::size_t, std::size_t> anchored_at(std::string_view text, std::size_t i,
                                                std::size_t floor) {
    if (text[i] == 'J') {
        if (i < floor + 2) return {0, 0};
        std::size_t n = shaped_token_at(text, i - 2);
        return n ? std::pair{i - 2, n} : std::pair<std::size_t, std::size_t>{0, 0};
    }
    if (text[i] != '_') return {0, 0};
    for (std::size_t back : {std::size_t{3}, std::size_t{6}}) {
        if (i < floor + back) break;
        if (std::size_t n = shaped_token_at(text, i - back)) return {i - back, n};
        if (back == 3)
            if (auto found = aws_secret_at(text, i - back); found.second) return found;
    }
    return {0, 0};
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
    for (unsigned char c : {'s', 'b', 'B', 'A', 'x', '_', 'J'}) starts[c] = true;
    return starts;
}

namespace {

// The forms a value takes once a program has put it into JSON or a URL:
// JSON-escaped (as JavaScript and nlohmann write it, as Python writes it
// with non-ASCII as \uXXXX, and with "/" as "\/"), percent-encoded (RFC
// 3986, and with "+" for a space as forms have it).
std::vector<std::string> encoded_forms(const std::string& v) {
    auto json = [&](bool ascii, bool slash) {
        std::string out;
        char buf[8];
        for (std::size_t i = 0; i < v.size(); ++i) {
            auto c = static_cast<unsigned char>(v[i]);
            switch (c) {
                case '"':
                    out += "\\\"";
                    continue;
                case '\\':
                    out += "\\\\";
                    continue;
                case '\n':
                    out += "\\n";
                    continue;
                case '\r':
                    out += "\\r";
                    continue;
                case '\t':
                    out += "\\t";
                    continue;
                case '\b':
                    out += "\\b";
                    continue;
                case '\f':
                    out += "\\f";
                    continue;
                case '/':
                    out += slash ? "\\/" : "/";
                    continue;
                default:
                    break;
            }
            if (c < 0x20) {
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else if (c < 0x80 || !ascii) {
                out.push_back(static_cast<char>(c));
            } else {  // one UTF-8 sequence as \uXXXX, a surrogate pair above U+FFFF
                int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
                if (extra == 0 || i + extra >= v.size())
                    return std::string();  // not UTF-8: no such form
                unsigned cp = c & (0x3F >> extra);
                for (int k = 1; k <= extra; ++k)
                    cp = (cp << 6) | (static_cast<unsigned char>(v[i + k]) & 0x3F);
                i += extra;
                if (cp > 0xFFFF) {
                    cp -= 0x10000;
                    std::snprintf(buf, sizeof buf, "\\u%04x", 0xD800 + (cp >> 10));
                    out += buf;
                    cp = 0xDC00 + (cp & 0x3FF);
                }
                std::snprintf(buf, sizeof buf, "\\u%04x", cp);
                out += buf;
            }
        }
        return out;
    };
    auto url = [&](bool plus) {
        std::string out;
        char buf[4];
        for (unsigned char c : v) {
            if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
                out.push_back(static_cast<char>(c));
            } else if (plus && c == ' ') {
                out.push_back('+');
            } else {
                std::snprintf(buf, sizeof buf, "%%%02X", c);
                out += buf;
            }
        }
        return out;
    };
    std::vector<std::string> forms = {json(false, false), json(true, false), json(true, true),
                                      url(false), url(true)};
    std::erase_if(forms, [&](const std::string& f) { return f.empty() || f == v; });
    return forms;
}

}  // namespace

void Redactor::add_secret(std::string value) {
    if (value.empty()) return;
    for (auto& form : encoded_forms(value)) add_value(std::move(form));
    add_value(std::move(value));
}

void Redactor::add_value(std::string value) {
    if (std::find(m_secrets.begin(), m_secrets.end(), value) != m_secrets.end()) return;
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
        } else if (std::size_t m = shaped_token_at(text, i)) {
            replace(i, i + m);
        } else if (auto [start, len] = bearer_at(text, i); len) {
            replace(start, start + len);  // "Bearer " itself stays
        } else if (auto [from, len2] = anchored_at(text, i, copied); len2) {
            replace(from, from + len2);  // (an AWS secret's name stays)
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
