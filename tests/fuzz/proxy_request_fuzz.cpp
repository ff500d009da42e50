// The proxy's HTTP server (proxy/proxy.cpp, net/): bytes any local process
// can send to the recorder's loopback port. An input is a flag byte, then
// the bytes written to one connection, which is then half-closed. The flag
// picks the server (by its value modulo 3): a recording proxy, one that
// requires an access token, or the gateway's shielded replay of a
// recording. The real proxies run on loopback for the life of the process,
// forwarding to an upstream of this file's own that answers every request.
// Properties: the proxy neither crashes nor hangs (the connection is
// closed once the request is answered); without the token no request is
// answered but with 1xx or 4xx; a shielded replay never sends a recorded
// request's content to a client that did not send it itself. (A client
// that half-closes is taken to have left, as nginx takes it: a forwarded
// request may then be called off before its answer, which is fuzzed too.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "fuzz_support.hpp"
#include "retrace/conditions/traffic_facts.hpp"
#include "retrace/proxy/event_api.hpp"
#include "retrace/proxy/proxy.hpp"
#include "retrace/replay/cassette.hpp"

using namespace retrace;
using fuzz::require;

namespace {

// Marks what only the recording holds: its request's content.
constexpr std::string_view k_recorded = "RECORDED-PROMPT-5e1c";
constexpr std::string_view k_token = "fuzztoken0123456789abcdef";

int listen_on_loopback(int& port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    require(fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0 && listen(fd, 64) == 0 &&
                getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0,
            "cannot listen on loopback");
    port = ntohs(a.sin_port);
    return fd;
}

int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    int rc = fd < 0 ? -1 : connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (rc != 0 && errno == EINTR) {  // (the connection goes on being made: wait for it)
        pollfd p{fd, POLLOUT, 0};
        int error = 0;
        socklen_t size = sizeof error;
        while ((rc = poll(&p, 1, -1)) < 0 && errno == EINTR) {
        }
        rc = rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0 ? 0
                                                                                               : -1;
    }
    require(rc == 0, "cannot connect to the proxy");
    return fd;
}

// Reads until the peer closes; false when it stays open past timeout_ms.
// (libFuzzer's timeout alarm interrupts calls here: EINTR is not an end.)
bool read_to_end(int fd, std::string& out, int timeout_ms) {
    char buf[16384];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        int ready = poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;  // (a reset counts as closed)
        if (out.size() < (std::size_t{1} << 20)) out.append(buf, static_cast<std::size_t>(n));
    }
}

// Sends all of bytes; false when the peer stops taking them.
bool send_all(int fd, std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

// The model service: answers every request on a connection with the same
// small chat completion, keeping the connection for the next.
class Upstream {
  public:
    Upstream() : m_fd(listen_on_loopback(m_port)) {
        std::thread([this] {
            for (;;) {
                int c = accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
                if (c >= 0) std::thread([c] { serve(c); }).detach();
            }
        }).detach();
    }
    int port() const { return m_port; }

  private:
    static void serve(int c) {
        const std::string body =
            R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini",)"
            R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi"},)"
            R"("finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}})";
        const std::string answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            "content-length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        std::string in;
        char buf[16384];
        for (;;) {
            auto end = in.find("\r\n\r\n");
            if (end != std::string::npos) {
                std::size_t length = 0;
                std::string head = in.substr(0, end);
                for (auto& ch : head) ch = static_cast<char>(std::tolower(ch));
                // (the header's own line: a fuzzed name may end in it)
                if (auto at = head.find("\r\ncontent-length:"); at != std::string::npos)
                    length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
                if (in.size() >= end + 4 + length) {
                    in.erase(0, end + 4 + length);
                    if (!send_all(c, answer)) break;
                    continue;
                }
            }
            ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            in.append(buf, static_cast<std::size_t>(n));
        }
        close(c);
    }
    int m_port = 0;
    int m_fd;
};

// Every exchange goes into the current run; a new one every few thousand
// inputs keeps a long fuzzing session's runs small.
class Router : public proxy::RunRouter {
  public:
    Router(store::Store& store, std::string secret) : m_store(store), m_secret(std::move(secret)) {
        renew();
    }
    void renew() {
        stop();
        std::lock_guard lock(m_mutex);
        m_writer = fuzz::start_run(m_store);
        m_spans = std::make_unique<proxy::SpanTable>(*m_writer);
        m_facts = std::make_unique<conditions::TrafficFacts>(m_secret);
    }
    // Ends the current run's writer (one writer at a time owns the store's
    // connection); renew() starts the next.
    // Waits for the exchanges in flight (a proxy may still be recording one
    // its client has seen the end of).
    void stop() {
        std::unique_lock lock(m_mutex);
        m_idle.wait(lock, [&] { return m_in_flight == 0; });
        m_spans.reset();
        m_writer.reset();
    }
    store::RunWriter& writer() { return *m_writer; }
    Result<proxy::RunTarget> acquire(const std::string&, const std::string&) override {
        std::lock_guard lock(m_mutex);
        ++m_in_flight;
        return proxy::RunTarget{m_writer.get(), m_facts.get(), m_spans.get()};
    }
    void release(const proxy::RunTarget&) override {
        std::lock_guard lock(m_mutex);
        if (--m_in_flight == 0) m_idle.notify_all();
    }

  private:
    store::Store& m_store;
    std::string m_secret;
    std::mutex m_mutex;
    std::condition_variable m_idle;
    int m_in_flight = 0;
    std::unique_ptr<store::RunWriter> m_writer;
    std::unique_ptr<proxy::SpanTable> m_spans;
    std::unique_ptr<conditions::TrafficFacts> m_facts;
};

std::unique_ptr<proxy::RecordingProxy> start_proxy(proxy::ProxyOptions options,
                                                   proxy::RunRouter& router,
                                                   const core::Redactor& redactor) {
    options.read_timeout = std::chrono::seconds(2);
    options.keepalive_timeout = std::chrono::seconds(2);
    auto p = proxy::RecordingProxy::start(options, router, redactor);
    fuzz::require_ok(p, "cannot start the proxy");
    return std::move(p).value();
}

// Sends bytes on a new connection, half-closes it (unless told not to: a
// request that says Connection: close is answered, then closed), and
// returns what came back once the proxy closed it.
std::string exchange(int port, std::string_view bytes, bool half_close = true) {
    int fd = connect_to(port);
    (void)send_all(fd, bytes);  // (the proxy may refuse before reading everything)
    if (half_close) shutdown(fd, SHUT_WR);
    std::string answer;
    bool closed = read_to_end(fd, answer, 5000);
    close(fd);
    require(closed, "the proxy closes a connection once its half-closed request is answered");
    return answer;
}

struct World {
    test::TempDir dir;
    std::unique_ptr<store::Store> store = fuzz::open_store(dir.path() / "store");
    std::string secret = store->secret().value();
    core::Redactor redactor;
    Upstream upstream;
    Router router{*store, secret};
    std::unique_ptr<replay::Cassette> cassette;  // (outlives the proxy it answers for)
    std::unique_ptr<proxy::RecordingProxy> recording, guarded, replaying;
    std::size_t inputs = 0;

    World() {
        proxy::ProxyOptions options;
        options.secret = secret;
        options.upstreams = {{"openai", "http://127.0.0.1:" + std::to_string(upstream.port())},
                             {"anthropic", "http://127.0.0.1:1"}};
        recording = start_proxy(options, router, redactor);

        // The recording a shielded replay serves: one chat request holding
        // the marker, and SDK events whose inputs hold it.
        std::string body = R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":")" +
                           std::string(k_recorded) + R"("},{"role":"user","content":"hi"}]})";
        std::string events = R"([{"kind":"tool","name":"lookup","input":{"q":")" +
                             std::string(k_recorded) +
                             R"("},"output":{"a":1}},{"kind":"clock","name":"now","output":2.5}])";
        auto post = [](const std::string& path, const std::string& content) {
            return "POST " + path +
                   " HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                   "authorization: Bearer sk-fuzz0123456789abcdefghij\r\ncontent-length: " +
                   std::to_string(content.size()) + "\r\nconnection: close\r\n\r\n" + content;
        };
        require(exchange(recording->port(), post("/openai/v1/chat/completions", body), false)
                        .rfind("HTTP/1.1 200", 0) == 0,
                "the recording's exchange is answered");
        require(exchange(recording->port(), post("/_retrace/v1/events", events))
                        .rfind("HTTP/1.1 200", 0) == 0,
                "the recording's events are stored");
        fuzz::require_ok(router.writer().flush(), "the recording is stored");
        std::string recording_id = router.writer().run_id();
        router.stop();
        replay::ReplayPolicy policy;
        policy.reuse = true;  // (every matching request is answered, however many)
        auto c = replay::Cassette::load(*store, recording_id, secret, policy);
        fuzz::require_ok(c, "the recording loads as a cassette");
        cassette = std::move(c).value();
        router.renew();

        options.access_token = k_token;
        guarded = start_proxy(options, router, redactor);
        options.access_token.clear();
        options.answers = cassette.get();
        options.shield_divergences = true;
        replaying = start_proxy(options, router, redactor);
    }
};

// The status codes of the responses in an answer (each "HTTP/1.x NNN" that
// starts the answer or follows a line end).
std::vector<int> statuses(const std::string& answer) {
    std::vector<int> out;
    for (std::size_t at = 0; (at = answer.find("HTTP/1.", at)) != std::string::npos; ++at)
        if ((at == 0 || (at >= 2 && answer.compare(at - 2, 2, "\r\n") == 0)) &&
            at + 12 <= answer.size())
            out.push_back(std::atoi(answer.c_str() + at + 9));
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    if (++world.inputs % 4096 == 0) world.router.renew();
    if (size == 0) return 0;
    std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
        case 0:
            (void)exchange(world.recording->port(), bytes);
            break;
        case 1: {
            std::string answer = exchange(world.guarded->port(), bytes);
            if (bytes.find(k_token) == std::string_view::npos)
                for (int status : statuses(answer))
                    require(status / 100 == 1 || status / 100 == 4,
                            "without the token nothing but 1xx and 4xx is answered");
            break;
        }
        default: {
            std::string answer = exchange(world.replaying->port(), bytes);
            if (bytes.find(k_recorded) == std::string_view::npos)
                require(answer.find(k_recorded) == std::string::npos,
                        "a shielded replay sends no recorded content to a client that lacks it");
            break;
        }
    }
    return 0;
}
