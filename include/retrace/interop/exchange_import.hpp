// HTTP exchanges recorded by other tools (an HTTP archive, a vcrpy
// cassette) made into a run that `replay` serves (docs/interop.md). The
// file is read and checked whole first (a malformed one is refused naming
// its entry or line), then the run is stored in one transaction: an import
// is all or nothing.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "retrace/core/result.hpp"
#include "retrace/store/store.hpp"

namespace retrace::interop {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One exchange as another tool kept it.
struct ForeignExchange {
    std::string where;  // "entry 3", "interaction 2": for errors
    std::string method;
    std::string url;  // absolute: scheme://host[:port]/path[?query]
    Headers request_headers;
    std::string request_body;
    int status = 0;
    Headers response_headers;
    std::string response_body;
    std::optional<long long> started_ns;  // unix time, when the file says
    std::optional<long long> header_us;   // time to the response's first byte
    std::optional<long long> duration_us;
};

struct ExchangeFile {
    std::string format;  // "har" or "vcr"
    std::string digest;  // sha256:... of the file as read
    std::string label;   // "HAR file page.har": what errors about it start with
    std::vector<ForeignExchange> exchanges;
};

// Reads a .har (JSON) or a vcrpy cassette (.yaml, .yml), by its content.
// invalid_input naming the file and the entry, interaction or line.
Result<ExchangeFile> read_exchange_file(const std::filesystem::path& path);

struct ImportOptions {
    std::string name;    // the run's name
    std::string source;  // the file, as the run's metadata names it
    // NAME=URL prefixes: an exchange under URL becomes route NAME's; else
    // api.openai.com is `openai`, api.anthropic.com `anthropic`, a host
    // NAME.retrace.invalid (retrace's own exports) `NAME`, and any other
    // host a route named after it ("api-example-com-8443").
    std::vector<std::pair<std::string, std::string>> routes;
};

struct ImportResult {
    std::string run_id;
    std::map<std::string, int> routes;  // route -> exchanges
};

// Stores file's exchanges as one sealed run, credentials redacted as the
// recorder redacts them.
Result<ImportResult> import_exchanges(store::Store& store, const ExchangeFile& file,
                                      const ImportOptions& options);

// The absolute URL an exported exchange of route had: the providers' own
// hosts for openai and anthropic, http://ROUTE.retrace.invalid otherwise
// (import reads it back as ROUTE).
std::string export_url(const std::string& route, const std::string& path, const std::string& query);

}  // namespace retrace::interop
