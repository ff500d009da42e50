#include "show_events.hpp"

#include <iostream>
#include <map>
#include <set>

#include "format.hpp"
#include "retrace/core/llm_response.hpp"
#include "retrace/core/matching.hpp"
#include "retrace/query/runs.hpp"
#include "retrace/trace/exchange.hpp"
#include "retrace/trace/process.hpp"
#include "retrace/trace/sdk_event.hpp"

namespace retrace::cli {

namespace {

using core::Json;

using query::response_of;

// What one line says about an event, after its number and indentation.
struct Line {
    std::string kind, name, status, detail, markers;
    long long duration_ns = 0;
    std::string group_key() const { return kind + "\n" + name + "\n" + status + "\n" + detail; }
};

Line line_of(store::Store& store, const core::Event& e) {
    Line l;
    l.kind = core::to_string(e.kind);
    l.name = e.name;
    l.duration_ns = e.end_ns - e.start_ns;
    const Json& a = e.attrs;
    if (e.kind == core::EventKind::process) {
        auto p = trace::ProcessRecord::from_attrs(a);
        long long exit_code = p.exit_code.value_or(0);
        l.status = "exit " + std::to_string(exit_code);
        if (exit_code != 0 || p.signal != 0) l.markers += "  ! failed";
        return l;
    }
    if (!core::is_exchange(e.kind)) {
        // SDK events: what went in and what came out, on one line.
        auto sdk = trace::SdkEvent::from_attrs(a);
        if (!e.request.empty() && !sdk.group) {
            std::string in = store::blob_text(store, e.request);
            if (in != "null") l.detail = core::clip(in, 40);
        }
        if (!e.response.empty()) {
            l.detail += l.detail.empty() ? "-> " : " -> ";
            l.detail += core::clip(store::blob_text(store, e.response), 40);
        }
        if (sdk.error.is_object())
            l.markers += "  ! raised " + sdk.error.value("type", std::string("?"));
        if (sdk.unfinished) l.markers += "  ! unfinished";
        if (sdk.divergence) l.markers += "  ! diverged";
        if (sdk.replayed_from)
            l.markers += "  (replayed #" + std::to_string(*sdk.replayed_from) + ")";
        if (sdk.live) l.markers += "  (live)";
        return l;
    }
    trace::Exchange x = trace::Exchange::from_attrs(a);
    int status = x.status;
    // (appended piece by piece: GCC 12 warns falsely on "literal" + string)
    l.name = x.method;
    l.name.append(" /").append(x.route).append(x.path);
    l.status = std::to_string(status);
    if (e.kind == core::EventKind::llm) {
        core::LlmResponse r = response_of(store, e);
        std::string model = r.model;
        if (model.empty())
            model = core::summarize_request(store::blob_text(store, e.request)).model;
        l.detail = model;
        if (!r.fingerprint.empty()) l.detail += " " + r.fingerprint;
        if (r.stream) l.detail += " stream";
        if (r.input_tokens && r.output_tokens)
            l.detail += "  " + std::to_string(*r.input_tokens) + "->" +
                        std::to_string(*r.output_tokens) + " tok";
        else if (r.input_tokens)
            l.detail += "  " + std::to_string(*r.input_tokens) + " tok in";
        for (const auto& c : r.tool_calls) l.detail += "  tool " + c.name;
        if (r.embeddings) l.detail += "  " + std::to_string(*r.embeddings) + " vectors";
    }
    if (x.truncated) l.markers += "  ! truncated";
    if (x.client_cancelled)
        l.markers += "  (client left after " + std::to_string(x.client_cancelled->at_us / 1000) +
                     " ms, " + std::to_string(x.client_cancelled->chunks_sent) + " chunks read)";
    else if (status >= 400 || status == 0)
        l.markers += "  ! error";
    if (x.divergence) l.markers += "  ! diverged";
    if (x.replayed_from) l.markers += "  (replayed #" + std::to_string(*x.replayed_from) + ")";
    if (x.live) l.markers += "  (live)";
    return l;
}

std::string number(long long seq) {
    std::string s = "#";
    return s.append(std::to_string(seq));
}

void print_line(const std::string& number, int depth, const Line& l, const std::string& extra) {
    std::string label = number;
    label.resize(std::max<std::size_t>(label.size(), 8), ' ');
    std::string name = l.name;
    if (name.size() < 34) name.resize(34, ' ');
    std::cout << "  " << std::string(static_cast<std::size_t>(depth) * 2, ' ') << label << " "
              << l.kind << std::string(l.kind.size() < 11 ? 11 - l.kind.size() : 1, ' ') << name
              << " " << l.status << "  " << format_duration(l.duration_ns) << extra
              << (l.detail.empty() ? "" : "  " + l.detail) << l.markers << "\n";
}

// The rows in tree order: each event after its parent, children in
// number order. A parent usually has a lower number than its children,
// but not always: an OpenTelemetry span arrives after the requests made
// inside it. Events whose parent is missing (or that form a loop) are
// taken as roots, so every row is printed once.
std::vector<const store::EventRow*> tree_order(const std::vector<store::EventRow>& rows) {
    std::map<long long, const store::EventRow*> by_seq;
    for (const auto& row : rows) by_seq[row.event.seq] = &row;
    std::map<long long, std::vector<const store::EventRow*>> children;
    std::vector<const store::EventRow*> roots;
    for (const auto& row : rows) {
        long long p = row.event.parent;
        if (p && p != row.event.seq && by_seq.count(p))
            children[p].push_back(&row);
        else
            roots.push_back(&row);
    }
    std::vector<const store::EventRow*> out;
    std::set<long long> placed;
    auto place = [&](const store::EventRow* root) {
        std::vector<const store::EventRow*> stack = {root};
        while (!stack.empty()) {
            const auto* row = stack.back();
            stack.pop_back();
            if (!placed.insert(row->event.seq).second) continue;
            out.push_back(row);
            auto it = children.find(row->event.seq);
            if (it == children.end()) continue;
            for (auto c = it->second.rbegin(); c != it->second.rend(); ++c) stack.push_back(*c);
        }
    };
    for (const auto* root : roots) place(root);
    for (const auto& row : rows)
        if (!placed.count(row.event.seq)) place(&row);  // a loop of parents
    return out;
}

}  // namespace

void print_event_tree(store::Store& store, const std::vector<store::EventRow>& all_rows, bool all) {
    std::vector<store::EventRow> rows;
    rows.reserve(all_rows.size());
    for (const auto* row : tree_order(all_rows)) rows.push_back(*row);
    std::map<long long, int> depth;
    std::map<long long, bool> has_children;
    for (const auto& row : rows)
        if (row.event.parent) has_children[row.event.parent] = true;
    // Runs of similar events (no children, same kind, name, status, model)
    // print as one line: 200 events stay readable on one screen.
    constexpr std::size_t k_collapse_from = 3;
    std::size_t i = 0;
    while (i < rows.size()) {
        const auto& e = rows[i].event;
        int d = e.parent && depth.count(e.parent) ? depth[e.parent] + 1 : 0;
        depth[e.seq] = d;
        Line l = line_of(store, e);
        std::size_t j = i + 1;
        long long total = l.duration_ns;
        while (!all && !has_children[e.seq] && j < rows.size() &&
               rows[j].event.parent == e.parent && !has_children[rows[j].event.seq]) {
            Line next = line_of(store, rows[j].event);
            if (next.group_key() != l.group_key() || !next.markers.empty() || !l.markers.empty())
                break;
            total += next.duration_ns;
            depth[rows[j].event.seq] = d;
            ++j;
        }
        if (j - i >= k_collapse_from) {
            l.duration_ns = total;
            std::string range = number(e.seq);
            range.append("-").append(std::to_string(rows[j - 1].event.seq));
            std::string count = "  x";
            count.append(std::to_string(j - i)).append(" (total)");
            print_line(range, d, l, count);
            i = j;
            continue;
        }
        print_line(number(e.seq), d, l, "");
        ++i;
    }
}

Status show_event(store::Store& store, const store::RunRow& run, long long seq, bool json) {
    RETRACE_ASSIGN(const core::Event e, query::find_event(store, run, seq));
    const Json& a = e.attrs;
    trace::Exchange x = trace::Exchange::from_attrs(a);  // (what an llm or http event holds)
    trace::ProcessRecord process = trace::ProcessRecord::from_attrs(a);
    Json out = query::event_detail_json(store, e);
    if (json) {
        print_json(out);
        return Status::ok();
    }

    std::cout << "event #" << e.seq << " " << core::to_string(e.kind) << " " << e.name << "  ("
              << format_duration(e.end_ns - e.start_ns) << ")\n";
    if (e.kind == core::EventKind::process) {
        std::cout << "argv      " << Json(process.argv).dump() << "\n"
                  << "exit      " << process.exit_code.value_or(0) << "\n"
                  << "stdout\n"
                  << out["stdout"].get<std::string>() << "\nstderr\n"
                  << out["stderr"].get<std::string>() << "\n";
        return Status::ok();
    }
    if (!out.contains("request")) {  // an SDK event
        if (e.parent) std::cout << "parent    #" << e.parent << "\n";
        std::cout << "\ninput\n" << out["input"].dump(2) << "\n";
        if (out.contains("output")) std::cout << "\noutput\n" << out["output"].dump(2) << "\n";
        if (out.contains("error"))
            std::cout << "\nraised\n  " << out["error"].value("type", "") << ": "
                      << out["error"].value("message", "") << "\n";
        auto shown = trace::SdkEvent::from_attrs(a);  // the rest of what it holds
        shown.error = Json();
        shown.match.clear();
        Json rest = shown.to_attrs();
        if (!rest.empty()) std::cout << "\nattributes\n" << rest.dump(2) << "\n";
        return Status::ok();
    }
    auto print_headers = [](const Json& headers) {
        for (const auto& [k, v] : headers.items())
            std::cout << "  " << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump())
                      << "\n";
    };
    auto print_body = [](const Json& body) {
        std::cout << (body.is_string() ? body.get<std::string>() : body.dump(2)) << "\n";
    };
    std::cout << "\n" << x.method << " /" << x.route << x.path << x.query << "\n";
    print_headers(out["request"]["headers"]);
    std::cout << "\n";
    print_body(out["request"]["body"]);
    std::cout << "\nstatus " << x.status
              << (x.truncated ? "  (truncated: the stream broke off)" : "");
    if (x.client_cancelled)
        std::cout << "  (the client left after " << x.client_cancelled->at_us / 1000 << " ms, "
                  << x.client_cancelled->chunks_sent << " chunks read)";
    std::cout << "\n";
    print_headers(out["response"]["headers"]);
    const Json& frames = out["response"]["frames"];
    bool stream = out["response"].contains("assembled") && out["response"]["assembled"]["stream"];
    if (out["response"].contains("assembled")) {
        core::LlmResponse r = response_of(store, e);
        std::cout << "\nassembled" << (r.stream && !r.complete ? " (incomplete stream)" : "")
                  << "\n";
        if (!r.model.empty())
            std::cout << "  model        " << r.model
                      << (r.fingerprint.empty() ? "" : "  fingerprint " + r.fingerprint) << "\n";
        auto print_calls = [](const std::vector<core::ToolCall>& calls) {
            for (const auto& c : calls)
                std::cout << "  tool call    " << c.name << " " << c.arguments
                          << (c.id.empty() ? "" : "  (id " + c.id + ")") << "\n";
        };
        if (r.choices.empty()) {
            if (!r.text.empty()) std::cout << "  text         " << r.text << "\n";
            print_calls(r.tool_calls);
        }
        for (const auto& c : r.choices) {  // (n > 1: each answer on its own)
            std::cout << "  choice " << c.index
                      << (c.finish_reason.empty() ? "" : "  (" + c.finish_reason + ")") << "\n";
            if (!c.text.empty()) std::cout << "  text         " << c.text << "\n";
            print_calls(c.tool_calls);
        }
        if (r.input_tokens || r.output_tokens)
            std::cout << "  tokens       "
                      << (r.input_tokens ? std::to_string(*r.input_tokens) : "?") << " in, "
                      << (r.output_tokens ? std::to_string(*r.output_tokens) : "?") << " out\n";
        if (!r.finish_reason.empty() && r.choices.empty())
            std::cout << "  finish       " << r.finish_reason << "\n";
        if (!r.error.empty()) std::cout << "  error        " << r.error << "\n";
    }
    if (stream) {
        std::cout << "\nframes (" << frames.size() << ", offset from the request)\n";
        for (const auto& f : frames) {
            char offset[32];
            std::snprintf(offset, sizeof offset, "%9.1fms", f["offset_us"].get<double>() / 1000.0);
            std::string text = f["text"].get<std::string>();
            while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
            std::string indented;
            for (char c : text)
                indented += c == '\n' ? std::string("\n             ") : std::string(1, c);
            std::cout << "  " << offset << "  " << indented << "\n";
        }
    } else {
        std::cout << "\n";
        print_body(out["response"]["body"]);
    }
    return Status::ok();
}

}  // namespace retrace::cli
