#include "retrace/probe/provider_probe.hpp"

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <iostream>

#include "retrace/core/llm_response.hpp"
#include "retrace/trace/exchange.hpp"

namespace retrace::probe {

namespace {

using core::Json;
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr const char* k_prompt = "Describe a lighthouse at night in one sentence.";
constexpr int k_seed = 4242;

struct Target {
    std::string host, port, path;
};

std::optional<Target> parse_base(const std::string& url) {
    const std::string prefix = "http://";
    if (url.rfind(prefix, 0) != 0) return std::nullopt;
    std::string rest = url.substr(prefix.size());
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    return Target{hostport.substr(0, colon), hostport.substr(colon + 1),
                  slash == std::string::npos ? "" : rest.substr(slash)};
}

}  // namespace

Json ProbePlan::to_json() const {
    return {{"api", api}, {"model", model}, {"k", k}, {"keys", keys}};
}

Result<ProbePlan> ProbePlan::from_json(const Json& j) {
    ProbePlan p;
    try {
        p.api = j.at("api").get<std::string>();
        p.model = j.at("model").get<std::string>();
        p.k = j.at("k").get<int>();
        p.keys = j.at("keys").get<std::size_t>();
    } catch (const std::exception& e) {
        return error(ErrorCode::invalid_input, std::string("probe plan: ") + e.what());
    }
    return p;
}

int run_probe_client(const ProbePlan& plan) {
    bool anthropic = plan.api == "anthropic";
    const char* base = std::getenv(anthropic ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL");
    auto target = base ? parse_base(base) : std::nullopt;
    if (!target) {
        std::cerr << "retrace: probe client: no http base URL in the environment\n";
        return 2;
    }
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    int failures = 0;
    std::vector<std::pair<std::string, Json>> phases = {{"temperature 0", Json(0)}};
    if (!anthropic) phases.emplace_back("seeded", Json(0.9));
    for (std::size_t key = 0; key < plan.keys; ++key) {
        const char* value = std::getenv(("RETRACE_PROBE_KEY_" + std::to_string(key)).c_str());
        std::string api_key = value ? value : "";
        for (const auto& [phase, temperature] : phases) {
            for (int i = 0; i < plan.k; ++i) {
                Json body = {
                    {"model", plan.model},
                    {"temperature", temperature},
                    {"max_tokens", 64},
                    {"messages", Json::array({{{"role", "user"}, {"content", k_prompt}}})}};
                if (phase == "seeded") body["seed"] = k_seed;
                http::request<http::string_body> req{
                    http::verb::post,
                    target->path + (anthropic ? "/v1/messages" : "/chat/completions"), 11};
                req.set(http::field::host, target->host);
                req.set(http::field::content_type, "application/json");
                if (anthropic) {
                    req.set("x-api-key", api_key);
                    req.set("anthropic-version", "2023-06-01");
                } else {
                    req.set(http::field::authorization, "Bearer " + api_key);
                }
                req.set(k_probe_header, "key=" + std::to_string(key) + ";phase=" + phase);
                req.body() = body.dump();
                req.prepare_payload();
                try {
                    if (!stream.socket().is_open())
                        stream.connect(resolver.resolve(target->host, target->port));
                    http::write(stream, req);
                    beast::flat_buffer buffer;
                    buffer.reserve(std::size_t{16} << 10);  // else every read is 512 bytes
                    http::response<http::string_body> res;
                    http::read(stream, buffer, res);
                    if (res.result_int() >= 400) {
                        std::cerr << "retrace: probe request " << phase << " #" << i + 1 << " (key "
                                  << key + 1 << "): status " << res.result_int() << "\n";
                        ++failures;
                    }
                    if (!res.keep_alive()) stream.socket().close();
                } catch (const std::exception& e) {
                    std::cerr << "retrace: probe request failed: " << e.what() << "\n";
                    ++failures;
                    boost::system::error_code ec;
                    stream.socket().close(ec);
                }
            }
        }
    }
    return failures == 0 ? 0 : 1;
}

Result<ProbeReport> analyze_probe(store::Store& store, const std::string& run_id) {
    ProbeReport r;
    r.run_id = run_id;
    RETRACE_ASSIGN(auto rows, store.events(run_id));
    std::map<std::pair<std::size_t, std::string>, ProbeCell> cells;
    for (const auto& row : rows) {
        const auto& e = row.event;
        if (e.kind != core::EventKind::llm) continue;
        trace::Exchange x = trace::Exchange::from_attrs(e.attrs);
        std::string probe = x.request_headers.value(k_probe_header, std::string());
        auto semi = probe.find(";phase=");
        if (probe.rfind("key=", 0) != 0 || semi == std::string::npos) continue;
        std::size_t key = std::stoul(probe.substr(4, semi - 4));
        std::string phase = probe.substr(semi + 7);
        ProbeCell& c = cells[{key, phase}];
        c.key = key;
        c.phase = phase;
        ++c.requests;
        int status = x.status;
        auto answer = core::assemble_response(
            x.route, x.response_headers.value("content-type", std::string()),
            store::blob_text(store, e.response));
        if (status >= 400 || !answer.error.empty()) {
            ++c.errors;
            continue;
        }
        ++c.outputs[answer.text];
        c.by_fingerprint[answer.fingerprint.empty() ? "(none)" : answer.fingerprint].insert(
            answer.text);
        c.input_tokens += answer.input_tokens.value_or(0);
        c.output_tokens += answer.output_tokens.value_or(0);
    }
    for (auto& [_, c] : cells) r.cells.push_back(std::move(c));
    std::stable_sort(r.cells.begin(), r.cells.end(), [](const auto& a, const auto& b) {
        return std::pair{a.key, a.phase != "temperature 0"} <
               std::pair{b.key, b.phase != "temperature 0"};
    });

    // The verdict, from the strongest evidence down.
    auto cell = [&](std::size_t key, const std::string& phase) -> const ProbeCell* {
        for (const auto& c : r.cells)
            if (c.key == key && c.phase == phase) return &c;
        return nullptr;
    };
    auto noisy_under_one = [](const ProbeCell& c) {
        for (const auto& [_, texts] : c.by_fingerprint)
            if (texts.size() > 1) return true;
        return false;
    };
    const ProbeCell* t0 = cell(0, "temperature 0");
    const ProbeCell* seeded = cell(0, "seeded");
    if (!t0 || t0->outputs.empty()) {
        r.verdict = "no answers";
        r.explanation = "no request was answered (see the run's events)";
        return r;
    }
    // Keys: each deterministic, yet different from one another.
    std::set<std::string> per_key;
    bool keys_stable = true;
    for (const auto& c : r.cells)
        if (c.phase == "temperature 0") {
            keys_stable = keys_stable && c.outputs.size() == 1;
            if (!c.outputs.empty()) per_key.insert(c.outputs.begin()->first);
        }
    std::size_t key_count = 0;
    for (const auto& c : r.cells) key_count = std::max(key_count, c.key + 1);
    if (key_count > 1 && keys_stable && per_key.size() > 1) {
        r.verdict = "per-account difference";
        r.explanation =
            "at temperature 0 each key gets one answer, but " + std::to_string(per_key.size()) +
            " keys get " + std::to_string(per_key.size()) +
            " different ones: a layer per account (persona, routing) sits in front of the model";
    } else if (t0->outputs.size() > 1 && !noisy_under_one(*t0)) {
        r.verdict = "rotating backend";
        r.explanation = std::to_string(t0->outputs.size()) +
                        " answers at temperature 0, one per "
                        "system_fingerprint (" +
                        std::to_string(t0->by_fingerprint.size()) +
                        " seen): the backend changed between requests";
    } else if (t0->outputs.size() > 1) {
        r.verdict = "batch-level noise";
        r.explanation = std::to_string(t0->outputs.size()) +
                        " answers at temperature 0 under one system_fingerprint: provider-side "
                        "non-determinism (batching, kernels)";
    } else if (seeded && seeded->outputs.size() > 1 && noisy_under_one(*seeded)) {
        r.verdict = "seed ignored";
        r.explanation = std::to_string(seeded->outputs.size()) + " answers with seed " +
                        std::to_string(k_seed) +
                        " under one system_fingerprint: the seed is accepted but not honoured";
    } else {
        r.verdict = "deterministic";
        r.explanation = "one answer at temperature 0" +
                        std::string(seeded ? " and one with a fixed seed" : "") + " across " +
                        std::to_string(t0->requests) + " requests";
    }
    return r;
}

Json ProbeReport::to_json() const {
    Json list = Json::array();
    for (const auto& c : cells) {
        Json fps = Json::object();
        for (const auto& [fp, texts] : c.by_fingerprint) fps[fp] = texts.size();
        list.push_back({{"key", c.key},
                        {"phase", c.phase},
                        {"requests", c.requests},
                        {"errors", c.errors},
                        {"distinct_outputs", c.outputs.size()},
                        {"fingerprints", fps},
                        {"input_tokens", c.input_tokens},
                        {"output_tokens", c.output_tokens}});
    }
    return {{"run", run_id}, {"verdict", verdict}, {"explanation", explanation}, {"cells", list}};
}

}  // namespace retrace::probe
