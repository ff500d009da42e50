// The read-only JSON API of `retrace serve`, under /api/v1 (docs/web.md):
// a request's path and query in, an answer out, no sockets, so tests ask
// it directly. Every answer is what the CLI's --json prints for the same
// question (query/, analysis::diff_runs): the page and the command line
// never disagree.
//
//   GET /api/v1/runs?name=&state=&since=&kind=&q=&limit=&before=&tokens=1
//                                   retrace runs --json [--name ...] [--tokens]
//   GET /api/v1/runs/RUN            retrace show RUN --json
//   GET /api/v1/runs/RUN/events/N   retrace show RUN --event N --json
//   GET /api/v1/diff/A/B            retrace diff A B --json
//   GET /api/v1/probes              retrace probes --json
//   GET /api/v1/probes/PROBE        retrace probe show PROBE --json
//
// Errors are {"error": {"type", "message"}}: 400 for a bad parameter, 404
// for an unknown path or run, 500 for a store that cannot be read.
// Not thread safe: one caller at a time (the store is one connection).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "retrace/store/store.hpp"

namespace retrace::web {

struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};

using QueryParams = std::map<std::string, std::string, std::less<>>;

// "%41b+c" -> "Ab c"; nullopt for a broken escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);
// "a=1&b=x%20y" -> {a: 1, b: "x y"}; nullopt for a broken escape.
std::optional<QueryParams> parse_query(std::string_view query);

// JSON as sent: stored text that is not UTF-8 (a program's stdout, a body
// that is not JSON) is sent with U+FFFD for the bytes that are not.
std::string json_text(const core::Json& j);

// An error answer: {"error": {"type": "retrace_web_error", "message": message}}.
Reply error_reply(int status, const std::string& message);

class Api {
  public:
    explicit Api(store::Store& store) : m_store(store) {}

    // path is what follows /api/v1 ("/runs", "/runs/ID", ...), decoded.
    Reply get(std::string_view path, const QueryParams& query);

  private:
    store::Store& m_store;
};

}  // namespace retrace::web
