// retrace for C++ programs: record and replay tool calls, retrieval, clock
// reads, random draws and checkpoints through the recorder's event API
// (docs/event-api.md). Header-only; the standard library and POSIX sockets,
// nothing else. Inputs and outputs are JSON texts, so any JSON library (or
// none) can produce and read them.
//
//   retrace::client::Client& rt = retrace::client::Client::from_environment();
//   std::string weather = rt.tool("get_weather", R"({"city":"Paris"})",
//                                 [] { return fetch_weather("Paris"); });
//
// Under `retrace record` the function runs and its result is recorded
// (synchronously: all writes go through the one recorder process); under
// `retrace replay` the recorded result is returned and the function is not
// called; outside retrace the function is simply called. An exception the
// function throws is recorded and thrown again on replay as ReplayedError.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace retrace::client {

enum class Mode { off, record, replay };

// The recorder refused a request or cannot be reached.
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// During replay, the program asked for something the recording does not hold.
class Divergence : public Error {
  public:
    using Error::Error;
};

// A recorded exception, thrown again on replay.
class ReplayedError : public std::runtime_error {
  public:
    ReplayedError(std::string type, const std::string& message)
        : std::runtime_error(message), m_type(std::move(type)) {}
    const std::string& type() const { return m_type; }

  private:
    std::string m_type;
};

namespace detail {

inline std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

// The end of the JSON value starting at text[at] (skipping a string, or a
// balanced object or array, or a scalar).
inline std::size_t value_end(std::string_view text, std::size_t at) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = at; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"') {
                in_string = false;
                if (depth == 0) return i + 1;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return i;
            if (--depth == 0) return i + 1;
        } else if (depth == 0 && (c == ',' || c == ' ')) {
            return i;
        }
    }
    return text.size();
}

// The raw text of a top-level member of a JSON object, or "" when absent.
inline std::string member(std::string_view object, std::string_view key) {
    std::size_t i = 1;  // after '{'
    while (i < object.size()) {
        while (i < object.size() && (object[i] == ' ' || object[i] == ',')) ++i;
        if (i >= object.size() || object[i] != '"') return "";
        std::size_t key_end = value_end(object, i);
        std::string_view k = object.substr(i + 1, key_end - i - 2);
        i = key_end;
        while (i < object.size() && (object[i] == ':' || object[i] == ' ')) ++i;
        std::size_t end = value_end(object, i);
        if (k == key) return std::string(object.substr(i, end - i));
        i = end;
    }
    return "";
}

// The text of a JSON string value (escapes other than \" and \\ kept as is).
inline std::string unquote(std::string_view s) {
    if (s.size() < 2 || s.front() != '"') return std::string(s);
    std::string out;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        if (s[i] == '\\' && i + 2 < s.size()) {
            char n = s[++i];
            out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace detail

class Client {
  public:
    // The client for the run the program is part of ($RETRACE_PROXY_URL,
    // $RETRACE_MODE); Mode::off outside retrace.
    static Client& from_environment() {
        static Client client(
            std::getenv("RETRACE_PROXY_URL") ? std::getenv("RETRACE_PROXY_URL") : "",
            std::getenv("RETRACE_MODE") ? std::getenv("RETRACE_MODE") : "");
        return client;
    }

    Client(std::string_view url, std::string_view mode) {
        constexpr std::string_view prefix = "http://";
        if (url.substr(0, prefix.size()) != prefix) return;
        std::string_view hostport = url.substr(prefix.size());
        // (the path, which carries the run's access token, prefixes every request)
        if (auto slash = hostport.find('/'); slash != std::string_view::npos) {
            m_path = std::string(hostport.substr(slash));
            while (!m_path.empty() && m_path.back() == '/') m_path.pop_back();
        }
        hostport = hostport.substr(0, hostport.find('/'));
        auto colon = hostport.rfind(':');
        if (colon == std::string_view::npos) return;
        m_host = std::string(hostport.substr(0, colon));
        m_port = std::atoi(std::string(hostport.substr(colon + 1)).c_str());
        m_mode = mode == "record" ? Mode::record : mode == "replay" ? Mode::replay : Mode::off;
    }
    ~Client() {
        if (m_fd >= 0) ::close(m_fd);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Mode mode() const { return m_mode; }

    // Runs fn (which returns its result as JSON text) as event kind/name with
    // this input (JSON text): recorded, replayed, or plainly called.
    std::string call(std::string_view kind, std::string_view name, std::string_view input,
                     const std::function<std::string()>& fn) {
        if (m_mode == Mode::off) return fn();
        std::string head = "{\"kind\":" + detail::quote(kind) + ",\"name\":" + detail::quote(name) +
                           ",\"pid\":" + std::to_string(::getpid()) +
                           ",\"input\":" + std::string(input.empty() ? "null" : input);
        if (m_mode == Mode::replay) {
            auto [status, body] = post("/_retrace/v1/replay", head + "}");
            if (status == 409 && body.find("\"retrace_divergence\"") != std::string::npos)
                throw Divergence(
                    detail::unquote(detail::member(detail::member(body, "error"), "message")));
            if (status != 200)
                throw Error("retrace: the recorder answered " + std::to_string(status) + ": " +
                            body);
            std::string error = detail::member(body, "error");
            if (!error.empty() && error != "null")
                throw ReplayedError(detail::unquote(detail::member(error, "type")),
                                    detail::unquote(detail::member(error, "message")));
            if (detail::member(body, "live") == "true")
                throw Error("retrace: live tool calls in a fork are not supported by this client");
            return detail::member(body, "output");
        }
        long long start = now_ns();
        std::string output, error;
        try {
            output = fn();
        } catch (const std::exception& e) {
            error = "{\"type\":\"std::exception\",\"message\":" + detail::quote(e.what()) + "}";
            record(head, start, "", error);
            throw;
        }
        record(head, start, output, "");
        return output;
    }

    std::string tool(std::string_view name, std::string_view input,
                     const std::function<std::string()>& fn) {
        return call("tool", name, input, fn);
    }
    std::string retrieval(std::string_view name, std::string_view query_json,
                          const std::function<std::string()>& fn) {
        return call("retrieval", name, "{\"query\":" + std::string(query_json) + "}", fn);
    }
    // Records state (JSON text); on replay, a different state is a divergence.
    void checkpoint(std::string_view name, std::string_view state) {
        if (m_mode != Mode::off)
            call("checkpoint", name, state, [] { return std::string("null"); });
    }

  private:
    static long long now_ns() {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    void record(const std::string& head, long long start, const std::string& output,
                const std::string& error) {
        std::string body = head + ",\"start_ns\":" + std::to_string(start) +
                           ",\"end_ns\":" + std::to_string(now_ns());
        if (!error.empty())
            body += ",\"error\":" + error;
        else
            body += ",\"output\":" + (output.empty() ? std::string("null") : output);
        auto [status, answer] = post("/_retrace/v1/events", body + "}");
        if (status != 200) throw Error("retrace: the recorder refused an event: " + answer);
    }

    bool connect_locked() {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (m_fd < 0) return false;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(m_port));
        if (::inet_pton(AF_INET, m_host == "localhost" ? "127.0.0.1" : m_host.c_str(),
                        &addr.sin_addr) != 1 ||
            ::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(m_fd);
            m_fd = -1;
            return false;
        }
        int one = 1;
        ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return true;
    }

    // One request on the keep-alive connection (reconnecting once).
    std::pair<int, std::string> post(const std::string& path, const std::string& body) {
        std::lock_guard lock(m_mutex);
        std::string request =
            "POST " + m_path + path + " HTTP/1.1\r\nHost: " + m_host +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n\r\n" + body;
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (m_fd < 0 && !connect_locked()) continue;
            auto answer = exchange_locked(request);
            if (answer.first > 0) return answer;
            ::close(m_fd);
            m_fd = -1;
        }
        throw Error("retrace: cannot reach the recorder at " + m_host + ":" +
                    std::to_string(m_port));
    }

    std::pair<int, std::string> exchange_locked(const std::string& request) {
        for (std::size_t at = 0; at < request.size();) {
            ssize_t n = ::send(m_fd, request.data() + at, request.size() - at, MSG_NOSIGNAL);
            if (n <= 0) return {0, ""};
            at += static_cast<std::size_t>(n);
        }
        std::string data;
        char buf[4096];
        std::size_t header_end = std::string::npos, length = 0;
        for (;;) {
            if (header_end == std::string::npos) {
                header_end = data.find("\r\n\r\n");
                if (header_end != std::string::npos) {
                    std::string head = data.substr(0, header_end);
                    for (auto& c : head) c = static_cast<char>(std::tolower(c));
                    auto cl = head.find("content-length:");
                    if (cl != std::string::npos)
                        length = std::strtoul(head.c_str() + cl + 15, nullptr, 10);
                    header_end += 4;
                }
            }
            if (header_end != std::string::npos && data.size() >= header_end + length) break;
            ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n <= 0) return {0, ""};
            data.append(buf, static_cast<std::size_t>(n));
        }
        int status = data.size() > 12 ? std::atoi(data.c_str() + 9) : 0;
        return {status, data.substr(header_end, length)};
    }

    Mode m_mode = Mode::off;
    std::string m_host;
    std::string m_path;  // before every request path: /_t/TOKEN
    int m_port = 0;
    int m_fd = -1;
    std::mutex m_mutex;
};

}  // namespace retrace::client
