#include "retrace/analysis/diff.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <thread>

#include "retrace/analysis/shim_inputs.hpp"
#include "retrace/core/identity.hpp"
#include "retrace/core/llm_response.hpp"
#include "retrace/store/run_ref.hpp"
#include "retrace/trace/exchange.hpp"
#include "retrace/trace/process.hpp"

namespace retrace::analysis {

namespace {

using core::Json;
using core::JsonDifference;

// Prefixes every path of diff ("$.x") with the section ("$.data.x").
std::vector<JsonDifference> in_section(const std::string& section, std::vector<JsonDifference> d) {
    for (auto& x : d) x.path = "$." + section + x.path.substr(1);
    return d;
}

// The backend as compared: a credential fingerprint present on one side
// only is not a difference (a replay runs with a placeholder key, which is
// never fingerprinted).
void drop_lone_credentials(Json& a, Json& b) {
    if (!a.is_object() || !b.is_object()) return;
    for (auto& [provider, fields] : a.items()) {
        if (!fields.is_object()) continue;
        Json* other = b.contains(provider) ? &b[provider] : nullptr;
        bool here = fields.contains("credentials"), there = other && other->contains("credentials");
        if (here != there) {
            fields.erase("credentials");
            if (other) other->erase("credentials");
        }
    }
    for (auto& [provider, fields] : b.items())
        if (fields.is_object() && !a.contains(provider)) fields.erase("credentials");
}

struct Trajectory {
    std::vector<Step> steps;
    std::vector<core::Event> events;  // parallel to steps
    std::optional<long long> exit_code;
    std::string stdout_text;
    core::Json determinism;  // the process's shim streams, under --deterministic
};

// What a step's answer is compared by. A model's answer by what it said
// (model, fingerprint, text, tool calls, finish, error), not by the ids and
// timestamps every response carries; anything else by its bytes.
std::string response_key(store::Store& store, const core::Event& e) {
    std::string key;
    bool exchange = core::is_exchange(e.kind);
    trace::Exchange x = exchange ? trace::Exchange::from_attrs(e.attrs) : trace::Exchange{};
    if (exchange) key += std::to_string(x.status);
    key += '|';
    if (auto it = e.attrs.find("error"); it != e.attrs.end()) key += it->dump();
    key += x.truncated ? "|cut|" : "||";
    if (x.client_cancelled) key += "left|";
    if (e.kind != core::EventKind::llm) return key + e.response;
    core::LlmResponse r =
        core::assemble_response(x.route, x.response_headers.value("content-type", std::string()),
                                store::blob_text(store, e.response));
    key += r.model + "|" + r.fingerprint + "|" + r.text + "|" + r.finish_reason + "|" + r.error;
    for (const auto& c : r.tool_calls) key += "|" + c.name + "(" + c.arguments + ")";
    if (r.embeddings) key += "|" + e.response;  // vectors: by their bytes
    return key;
}

// Fields every response carries that say nothing about the answer.
bool volatile_path(const std::string& path) {
    for (const char* leaf : {".id", ".created", ".created_at"})
        if (path.size() >= std::strlen(leaf) &&
            path.compare(path.size() - std::strlen(leaf), std::string::npos, leaf) == 0)
            return true;
    return false;
}

Trajectory load_trajectory(store::Store& store, std::vector<store::EventRow> rows) {
    Trajectory t;
    std::vector<core::Event> events;
    events.reserve(rows.size());
    for (auto& row : rows) {
        auto& e = row.event;
        if (e.kind == core::EventKind::process) {
            auto process = trace::ProcessRecord::from_attrs(e.attrs);
            t.exit_code = process.exit_code;
            t.stdout_text = store::blob_text(store, process.stdout_digest);
            if (process.determinism) t.determinism = *process.determinism;
            continue;
        }
        events.push_back(std::move(e));
    }
    rows = {};
    // Concurrent siblings (same parent, overlapping in time) are put in key
    // order: two runs of one program may issue them in a different order.
    auto key_of = [](const core::Event& e) {
        return std::string(core::to_string(e.kind)) + "\x1f" + e.name + "\x1f" + e.request;
    };
    // (an overlap under a millisecond is a clock's grain, not concurrency:
    // OpenTelemetry's JavaScript SDK stamps a span's start in milliseconds)
    constexpr long long k_clock_grain_ns = 1'000'000;
    std::size_t begin = 0;
    while (begin < events.size()) {
        std::size_t end = begin + 1;
        long long group_end = events[begin].end_ns;
        while (end < events.size() && events[end].parent == events[begin].parent &&
               events[end].start_ns + k_clock_grain_ns < group_end) {
            group_end = std::max(group_end, events[end].end_ns);
            ++end;
        }
        std::stable_sort(events.begin() + static_cast<long>(begin),
                         events.begin() + static_cast<long>(end),
                         [&](const auto& x, const auto& y) { return key_of(x) < key_of(y); });
        begin = end;
    }
    for (auto& e : events) {
        Step s;
        s.seq = e.seq;
        s.kind = e.kind;
        s.name = e.name;
        s.key = key_of(e);
        s.response = response_key(store, e);
        t.steps.push_back(std::move(s));
        t.events.push_back(std::move(e));
    }
    return t;
}

// A body as JSON for a diff: the JSON itself, or for a model's event
// stream the assembled message; nullopt when neither.
std::optional<Json> body_json(store::Store& store, const core::Event& e, bool response) {
    std::string text = store::blob_text(store, response ? e.response : e.request);
    if (auto j = core::parse_json_strict(text)) return *j;
    if (response && e.kind == core::EventKind::llm) {
        trace::Exchange x = trace::Exchange::from_attrs(e.attrs);
        return core::assemble_response(
                   x.route, x.response_headers.value("content-type", std::string()), text)
            .to_json();
    }
    return std::nullopt;
}

std::vector<JsonDifference> body_diff(store::Store& store, const core::Event& a,
                                      const core::Event& b, bool response) {
    auto ja = body_json(store, a, response), jb = body_json(store, b, response);
    if (ja && jb) {
        auto d = core::json_diff(*ja, *jb);
        d.erase(std::remove_if(d.begin(), d.end(), [](auto& x) { return volatile_path(x.path); }),
                d.end());
        return d;
    }
    std::string ta = store::blob_text(store, response ? a.response : a.request);
    std::string tb = store::blob_text(store, response ? b.response : b.request);
    if (ta == tb) return {};
    return {{"$", core::clip(ta), core::clip(tb)}};
}

std::string first_line_difference(const std::string& a, const std::string& b) {
    if (a == b) return "";
    std::istringstream sa(a), sb(b);
    std::string la, lb;
    for (int line = 1;; ++line) {
        bool ha = static_cast<bool>(std::getline(sa, la)),
             hb = static_cast<bool>(std::getline(sb, lb));
        if (!ha && !hb) return "stdout differs in its line endings";
        if (!ha || !hb || la != lb)
            return "stdout line " + std::to_string(line) + ": " +
                   (ha ? Json(core::clip(la)).dump() : std::string("(end)")) + " -> " +
                   (hb ? Json(core::clip(lb)).dump() : std::string("(end)"));
    }
}

std::string step_label(const Step& s) {
    return "#" + std::to_string(s.seq) + " " + std::string(core::to_string(s.kind)) + " " + s.name;
}

// Why a model gave two answers to one request: what its decoding asked for.
std::string output_evidence(store::Store& store, const core::Event& a, const core::Event& b) {
    auto request = core::parse_json_strict(store::blob_text(store, a.request));
    auto fa = body_json(store, a, true), fb = body_json(store, b, true);
    auto fingerprint = [](const std::optional<Json>& j) {
        if (!j || !j->is_object()) return std::string();
        for (const char* k : {"system_fingerprint", "fingerprint"})
            if (j->contains(k) && (*j)[k].is_string()) return (*j)[k].get<std::string>();
        return std::string();
    };
    if (!request || !request->is_object()) return "the same request got different answers";
    Json temperature = request->value("temperature", Json());
    bool seeded = request->contains("seed");
    std::string fpa = fingerprint(fa), fpb = fingerprint(fb);
    if (temperature.is_number() && temperature.get<double>() > 0 && !seeded)
        return "temperature " + temperature.dump() + " without a seed: the model samples";
    if (temperature.is_null() && !seeded)
        return "no temperature (the provider's default, above 0) and no seed: the model samples";
    if (seeded)
        return "seed " + (*request)["seed"].dump() + " was sent and the answers still differ" +
               (fpa == fpb && !fpa.empty() ? " under one fingerprint " + fpa : "") +
               ": the seed is ignored or not honoured";
    return "temperature " + temperature.dump() +
           (fpa == fpb && !fpa.empty() ? " and the same fingerprint " + fpa : "") +
           ": provider-side non-determinism (batch effects)";
}

// What a model exchange got when the provider failed it: its status (429,
// 5xx), a stream cut mid-way, or no answer; empty for an ordinary answer,
// and for one the program itself gave up on (its abort or its timeout).
std::string provider_fault(const core::Event& e) {
    auto x = trace::Exchange::from_attrs(e.attrs);
    if (x.client_cancelled) return "";
    if (x.status == 0) return "no answer (the connection failed)";
    if (x.status == 429 || x.status >= 500) return std::to_string(x.status);
    if (x.truncated) return "a stream cut mid-way";
    return "";
}

// When the runs' prompts differ only because an input event returned
// differently first and the program sent its value on: the model step of
// each run (after the input) whose request holds that run's value, e.g. a
// system prompt embedding a tool's result or the time a clock event gave.
std::optional<Step> prompt_explained_by_input(store::Store& store, const DiffReport& r,
                                              const Trajectory& ta, const Trajectory& tb) {
    if (!r.first || !r.first->same_request || !r.first->a || r.first->response_diff.empty() ||
        core::is_exchange(r.first->a->kind) || r.declared.empty())
        return std::nullopt;
    for (const auto& s : r.declared)
        if (s.section != "prompts") return std::nullopt;
    // A value as it appears inside a JSON string: a string without its
    // quotes, anything else as its text.
    auto inner = [](std::string v) {
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return v;
    };
    const auto& x = r.first->response_diff.front();
    std::string va = inner(x.before), vb = inner(x.after);
    if (va.size() < 3 || vb.size() < 3) return std::nullopt;  // (too short to tell)
    // The first model step after the input in one run, when its request
    // holds v.
    auto sends = [&](const Trajectory& t, long long after_seq,
                     const std::string& v) -> std::optional<Step> {
        bool past = false;
        for (std::size_t k = 0; k < t.steps.size(); ++k) {
            if (t.steps[k].seq == after_seq) past = true;
            if (!past || !core::is_exchange(t.steps[k].kind)) continue;
            if (store::blob_text(store, t.events[k].request).find(v) == std::string::npos)
                return std::nullopt;
            return t.steps[k];
        }
        return std::nullopt;
    };
    if (sends(ta, r.first->a->seq, va)) return sends(tb, r.first->b->seq, vb);
    return std::nullopt;
}

bool traffic_section(const std::string& section) {
    return core::is_traffic_section(section);
}

// When the first divergence is one request that got two answers (a tool
// result, a model's sampled answer) and only traffic sections differ: every
// request before it matched, so what the sections hold apart was sent after
// the program saw the different answer (a tool schema built from it, a
// prompt carrying it, a run that stopped instead of calling the model). The
// sections then differ as a consequence, and the answer is the cause.
bool traffic_differs_downstream(const DiffReport& r) {
    if (!r.first || !r.first->same_request || !r.first->a || !r.first->b || r.declared.empty())
        return false;
    for (const auto& s : r.declared)
        if (!traffic_section(s.section)) return false;
    return true;
}

// How the downstream sections came apart: the first model step after the
// divergence that only one run has, when the other stopped first.
std::string downstream_note(const DiffReport& r, const Trajectory& ta, const Trajectory& tb) {
    std::string names;
    for (const auto& s : r.declared) names += (names.empty() ? "" : " and ") + s.section;
    auto model_after = [](const Trajectory& t, long long seq) -> std::optional<Step> {
        bool past = false;
        for (const auto& s : t.steps) {
            if (past && s.kind == core::EventKind::llm) return s;
            if (s.seq == seq) past = true;
        }
        return std::nullopt;
    };
    auto na = model_after(ta, r.first->a->seq), nb = model_after(tb, r.first->b->seq);
    std::string how = na.has_value() != nb.has_value()
                          ? std::string("only ") + (na ? "a" : "b") + " went on to " +
                                step_label(na ? *na : *nb) + ", " + (na ? "b" : "a") +
                                " stopped first: "
                          : std::string();
    return "; " + how + "the " + names + " differ as a consequence (sent only after it)";
}

}  // namespace

Json DiffReport::to_json() const {
    auto diffs = [](const std::vector<JsonDifference>& d) {
        Json out = Json::array();
        for (const auto& x : d) out.push_back({{"path", x.path}, {"a", x.before}, {"b", x.after}});
        return out;
    };
    auto step = [](const std::optional<Step>& s) {
        return s ? Json{{"seq", s->seq}, {"kind", core::to_string(s->kind)}, {"name", s->name}}
                 : Json();
    };
    Json declared_json = Json::object();
    for (const auto& s : declared) declared_json[s.section] = diffs(s.diff);
    Json out = {{"a", a.id},
                {"b", b.id},
                {"verdict", verdict},
                {"explanation", explanation},
                {"conditions",
                 {{"declared", declared_json},
                  {"different_machine", different_machine},
                  {"backend", diffs(backend)}}},
                {"trajectory",
                 {{"a_steps", a_steps},
                  {"b_steps", b_steps},
                  {"matching_prefix", matching_prefix},
                  {"matched", matched}}},
                {"outcome",
                 {{"a_exit", a_exit ? Json(*a_exit) : Json()},
                  {"b_exit", b_exit ? Json(*b_exit) : Json()},
                  {"stdout", stdout_difference.empty() ? Json() : Json(stdout_difference)}}}};
    if (first)
        out["trajectory"]["first_divergence"] = {{"a", step(first->a)},
                                                 {"b", step(first->b)},
                                                 {"same_request", first->same_request},
                                                 {"request_diff", diffs(first->request_diff)},
                                                 {"response_diff", diffs(first->response_diff)}};
    if (realigned)
        out["trajectory"]["realigned"] = {{"a", realigned->first}, {"b", realigned->second}};
    Json rows = Json::array();
    for (const auto& s : steps)
        rows.push_back({{"a", s.a ? Json(*s.a) : Json()},
                        {"b", s.b ? Json(*s.b) : Json()},
                        {"equal", s.equal}});
    out["trajectory"]["steps"] = std::move(rows);
    return out;
}

Result<DiffReport> diff_runs(store::Store& store, const std::string& a_ref,
                             const std::string& b_ref) {
    DiffReport r;
    RETRACE_ASSIGN(r.a, store::resolve_run(store, a_ref));
    RETRACE_ASSIGN(r.b, store::resolve_run(store, b_ref));
    RETRACE_ASSIGN(Json ca, core::parse_json_strict(r.a.conditions));
    RETRACE_ASSIGN(Json cb, core::parse_json_strict(r.b.conditions));

    // Conditions, section by section.
    for (auto section : core::k_declared_sections) {
        std::string name(section);
        Json sa = ca.value(name, Json::object()), sb = cb.value(name, Json::object());
        if (name == "env") {
            if (sa.value("machine", Json()) != sb.value("machine", Json()))
                r.different_machine = true;
            sa.erase("machine");
            sb.erase("machine");
        }
        auto d = core::json_diff(sa, sb);
        if (!d.empty()) r.declared.push_back({name, in_section(name, std::move(d))});
    }
    Json ba = ca.value("backend", Json::object()), bb = cb.value("backend", Json::object());
    drop_lone_credentials(ba, bb);
    r.backend = in_section("backend", core::json_diff(ba, bb));

    // Trajectories.
    // The two runs load in parallel, b on a connection of its own.
    Result<Trajectory> loaded_b = error(ErrorCode::internal, "not loaded");
    auto own = store.connect();
    std::thread loader([&] {
        if (!own) {
            loaded_b = own.status();
            return;
        }
        auto rows = (*own)->events(r.b.id);
        if (!rows) {
            loaded_b = rows.status();
            return;
        }
        loaded_b = load_trajectory(**own, std::move(rows).value());
    });
    auto rows_a = store.events(r.a.id);
    std::optional<Trajectory> loaded_a;
    if (rows_a) loaded_a = load_trajectory(store, std::move(rows_a).value());
    loader.join();
    if (!rows_a) return rows_a.status();
    if (!loaded_b) return loaded_b.status();
    Trajectory& ta = *loaded_a;
    Trajectory& tb = *loaded_b;
    r.a_steps = ta.steps.size();
    r.b_steps = tb.steps.size();
    std::vector<std::string> ka, kb;
    for (const auto& s : ta.steps) ka.push_back(s.key);
    for (const auto& s : tb.steps) kb.push_back(s.key);
    auto pairs = align(ka, kb);
    std::size_t next_a = 0, next_b = 0;
    std::size_t at = 0;   // the pair where the divergence was found
    bool at_gap = false;  // found as a gap before that pair (which may re-align)
    auto unpaired = [&](std::size_t a_end, std::size_t b_end) {
        for (std::size_t x = next_a; x < a_end; ++x)
            r.steps.push_back({ta.steps[x].seq, {}, false});
        for (std::size_t y = next_b; y < b_end; ++y)
            r.steps.push_back({{}, tb.steps[y].seq, false});
    };
    for (std::size_t k = 0; k < pairs.size(); ++k) {
        auto [i, j] = pairs[k];
        bool equal = ta.steps[i].response == tb.steps[j].response;
        unpaired(i, j);
        r.steps.push_back({ta.steps[i].seq, tb.steps[j].seq, equal});
        if (!r.first && (i > next_a || j > next_b)) {  // steps only one run has
            Divergence d;
            if (i > next_a) d.a = ta.steps[next_a];
            if (j > next_b) d.b = tb.steps[next_b];
            if (d.a && d.b && d.a->kind == d.b->kind)
                d.request_diff = body_diff(store, ta.events[next_a], tb.events[next_b], false);
            r.first = std::move(d);
            at = k;
            at_gap = true;
        } else if (!r.first && !equal) {
            Divergence d;
            d.a = ta.steps[i];
            d.b = tb.steps[j];
            d.same_request = true;
            d.response_diff = body_diff(store, ta.events[i], tb.events[j], true);
            r.first = std::move(d);
            at = k;
        }
        if (equal) {
            ++r.matched;
            if (!r.first) ++r.matching_prefix;
            if (r.first && !r.realigned && (k > at || at_gap))
                r.realigned = std::pair{ta.steps[i].seq, tb.steps[j].seq};
        }
        next_a = i + 1;
        next_b = j + 1;
    }
    unpaired(ta.steps.size(), tb.steps.size());
    if (!r.first && (next_a < ta.steps.size() || next_b < tb.steps.size())) {
        Divergence d;
        if (next_a < ta.steps.size()) d.a = ta.steps[next_a];
        if (next_b < tb.steps.size()) d.b = tb.steps[next_b];
        if (d.a && d.b && d.a->kind == d.b->kind)
            d.request_diff = body_diff(store, ta.events[next_a], tb.events[next_b], false);
        r.first = std::move(d);
    }

    // Outcome.
    r.a_exit = ta.exit_code;
    r.b_exit = tb.exit_code;
    r.stdout_difference = first_line_difference(ta.stdout_text, tb.stdout_text);
    bool outcome_differs = r.a_exit != r.b_exit || !r.stdout_difference.empty();

    // The verdict, most fundamental cause first.
    bool downstream = traffic_differs_downstream(r);
    // The clock and OS randomness the processes read (--deterministic),
    // asked only when nothing else recorded explains the difference.
    auto shim = [&] { return shim_inputs_differ(store, ta.determinism, tb.determinism); };
    std::optional<std::string> read_differently;
    // One run stopped before the model steps the other went on to (its
    // traffic-observed sections are missing, not changed).
    bool stopped_first =
        !r.declared.empty() && r.first && r.first->a.has_value() != r.first->b.has_value();
    for (const auto& s : r.declared)
        if (!traffic_section(s.section)) stopped_first = false;
    if (stopped_first) read_differently = shim();
    if (read_differently) {
        const Step& s = r.first->a ? *r.first->a : *r.first->b;
        std::string names;
        for (const auto& d : r.declared) names += (names.empty() ? "" : " and ") + d.section;
        r.verdict = "inputs differ";
        r.explanation = *read_differently + "; then only " + (r.first->a ? "a" : "b") +
                        " went on to " + step_label(s) + ", " + (r.first->a ? "b" : "a") +
                        " stopped first: the " + names + " differ as a consequence";
    } else if (auto sent = prompt_explained_by_input(store, r, ta, tb)) {
        const auto& d = *r.first;
        const auto& x = d.response_diff.front();
        r.verdict = "inputs differ";
        r.explanation = step_label(*d.a) + " returned differently (" + x.path + ": " + x.before +
                        " -> " + x.after + "), and the program put it into its prompt (" +
                        step_label(*sent) + " sends it): the prompts differ as a consequence";
    } else if (!r.declared.empty() && !downstream) {
        std::string names;
        for (const auto& s : r.declared) names += (names.empty() ? "" : ", ") + s.section;
        r.verdict = "conditions differ";
        r.explanation = names + " (the runs are not comparable as reruns)";
    } else if (!r.backend.empty() && !downstream) {
        const auto& x = r.backend.front();
        r.verdict = "backend differs";
        std::string what = x.path.find("credentials") != std::string::npos
                               ? "another account: credential fingerprint "
                           : x.path.find("system_fingerprints") != std::string::npos
                               ? "the provider's system_fingerprint "
                           : x.path.find("served_models") != std::string::npos ? "the served model "
                                                                               : x.path + " ";
        r.explanation =
            "the program asked for the same thing; " + what + x.before + " -> " + x.after;
    } else if (r.first) {
        const Divergence& d = *r.first;
        bool model_step = d.a && core::is_exchange(d.a->kind);
        if (d.same_request && !model_step) {
            r.verdict = "inputs differ";
            r.explanation = step_label(*d.a) + " returned differently" +
                            (d.response_diff.empty() ? std::string()
                                                     : " (" + d.response_diff.front().path + ": " +
                                                           d.response_diff.front().before + " -> " +
                                                           d.response_diff.front().after + ")");
            // Where the program's own requests parted, after it: the first
            // step after it that is unmatched or answered differently.
            std::size_t next = 0;
            bool after = false;
            std::optional<Step> parted;
            for (const auto& [i, j] : pairs) {
                if (after && i > next)
                    parted = ta.steps[next];
                else if (after && ta.steps[i].response != tb.steps[j].response)
                    parted = ta.steps[i];
                if (parted) break;
                if (ta.steps[i].seq == d.a->seq) after = true;
                next = i + 1;
            }
            if (!parted && after && next < ta.steps.size()) parted = ta.steps[next];
            if (parted) r.explanation += "; then " + step_label(*parted) + " differs";
        } else if (d.same_request) {
            std::size_t ia = 0, ib = 0;
            for (std::size_t k = 0; k < ta.steps.size(); ++k)
                if (ta.steps[k].seq == d.a->seq) ia = k;
            for (std::size_t k = 0; k < tb.steps.size(); ++k)
                if (tb.steps[k].seq == d.b->seq) ib = k;
            std::string fault_a = provider_fault(ta.events[ia]),
                        fault_b = provider_fault(tb.events[ib]);
            if (fault_a != fault_b) {
                // Not noise: the provider failed one run's request. Then how
                // the program's next requests differed (a retry that
                // corrupts the conversation shows here).
                auto answered = [&](const std::string& fault, const core::Event& e) {
                    return fault.empty()
                               ? std::to_string(trace::Exchange::from_attrs(e.attrs).status)
                               : fault;
                };
                r.verdict = "provider fault";
                r.explanation = step_label(*d.a) + ": " + r.a.id.substr(0, 8) + " got " +
                                answered(fault_a, ta.events[ia]) + ", " + r.b.id.substr(0, 8) +
                                " got " + answered(fault_b, tb.events[ib]);
                // The faulted run's next model request: a retry should
                // resend the request as it was.
                const auto& faulted = fault_a.empty() ? tb : ta;
                std::size_t at_fault = fault_a.empty() ? ib : ia;
                for (std::size_t k = at_fault + 1; k < faulted.steps.size(); ++k) {
                    if (!core::is_exchange(faulted.steps[k].kind)) continue;
                    auto changed =
                        body_diff(store, faulted.events[at_fault], faulted.events[k], false);
                    if (changed.empty())
                        r.explanation +=
                            "; it sent the same request again as " + step_label(faulted.steps[k]);
                    else
                        r.explanation += "; its next request " + step_label(faulted.steps[k]) +
                                         " is not the same request again (" + changed.front().path +
                                         ": " + changed.front().before + " -> " +
                                         changed.front().after + ")";
                    break;
                }
            } else {
                r.verdict = "same conditions, outputs diverged";
                r.explanation =
                    step_label(*d.a) + ": " + output_evidence(store, ta.events[ia], tb.events[ib]);
            }
        } else {
            r.verdict = "inputs differ";
            const Step& s = d.a ? *d.a : *d.b;
            std::string parted =
                "the program's own request parted first at " + step_label(s) +
                (d.request_diff.empty()
                     ? std::string()
                     : " (" + d.request_diff.front().path + ": " + d.request_diff.front().before +
                           " -> " + d.request_diff.front().after + ")");
            bool deterministic = !ta.determinism.is_null() && !tb.determinism.is_null();
            if ((read_differently = shim()))
                r.explanation = *read_differently + "; then " + parted;
            else
                r.explanation = parted +
                                "; no recorded tool, retrieval, clock or random event explains it" +
                                (deterministic ? std::string()
                                               : " (unrecorded clock or randomness? record with "
                                                 "--deterministic)");
        }
        if (downstream) r.explanation += downstream_note(r, ta, tb);
    } else if (outcome_differs) {
        std::string how =
            r.a_exit != r.b_exit ? std::string("the exit codes differ") : r.stdout_difference;
        if ((read_differently = shim())) {
            r.verdict = "inputs differ";
            r.explanation = *read_differently + "; every step matched, but " + how;
        } else {
            r.verdict = "same conditions, outputs diverged";
            r.explanation = "every step matched, but " + how;
        }
    } else {
        r.verdict = "identical";
        r.explanation = r.different_machine
                            ? "same conditions and trajectory, on a different machine"
                            : "same conditions, trajectory and outcome";
    }
    return r;
}

std::string answer_key(store::Store& store, const core::Event& e) {
    return response_key(store, e);
}

std::vector<core::JsonDifference> answer_changes(store::Store& store, const core::Event& a,
                                                 const core::Event& b) {
    auto d = body_diff(store, a, b, true);
    if (auto ea = a.attrs.find("error"), eb = b.attrs.find("error");
        (ea == a.attrs.end()) != (eb == b.attrs.end()) || (ea != a.attrs.end() && *ea != *eb))
        d.push_back({"$.error", ea == a.attrs.end() ? "null" : core::clip(ea->dump()),
                     eb == b.attrs.end() ? "null" : core::clip(eb->dump())});
    if (core::is_exchange(a.kind)) {
        auto xa = trace::Exchange::from_attrs(a.attrs), xb = trace::Exchange::from_attrs(b.attrs);
        if (xa.status != xb.status)
            d.insert(d.begin(), {"status", std::to_string(xa.status), std::to_string(xb.status)});
        if (xa.truncated != xb.truncated)
            d.push_back({"stream", xa.truncated ? "cut" : "whole", xb.truncated ? "cut" : "whole"});
    }
    return d;
}

}  // namespace retrace::analysis
