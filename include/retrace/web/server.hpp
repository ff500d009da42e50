// `retrace serve`: the page and its JSON API over HTTP (docs/web.md).
//
// Loopback only unless allowed: the store holds prompts and answers, and
// binding another address shares them with whoever can reach it. Every
// request must carry the access token printed at start (the URL's
// ?token=, an x-retrace-token header or Authorization: Bearer); without it
// the answer is 403. The page and its files also open with a cookie the
// page's first answer sets, which holds a key of its own, never the token
// (a browser sends a host's cookies to its every port). GET only: nothing
// served changes the store. One I/O thread serves every connection; what
// asks the store runs on one thread of its own (the store is one
// connection), so a slow question holds up other questions, not the page.
#pragma once

#include <memory>
#include <string>

#include "retrace/store/store.hpp"

namespace retrace::web {

struct ServeOptions {
    std::string host = "127.0.0.1";
    int port = 0;               // 0: ephemeral
    bool allow_remote = false;  // binding an address other than loopback
    std::string token;          // empty: a random one
    // How often a page watching the store (server-sent events) is told
    // what changed.
    int live_poll_ms = 250;
    // Serve the page's files from this checkout of web/ rather than those
    // embedded (working on the page: edit, reload). From $RETRACE_WEB_DIR.
    std::string web_dir;
};

class WebServer {
  public:
    // Starts serving store (which must outlive the server). invalid_input
    // for a non-loopback host without allow_remote or a host that is not
    // an IP address; io when the address cannot be bound.
    static Result<std::unique_ptr<WebServer>> start(const ServeOptions& options,
                                                    store::Store& store);
    virtual ~WebServer() = default;

    virtual int port() const = 0;
    virtual const std::string& token() const = 0;
    // http://HOST:PORT/?token=TOKEN
    virtual std::string url() const = 0;
    // Stops accepting and closes every connection (live ones included).
    virtual void stop() = 0;
};

}  // namespace retrace::web
