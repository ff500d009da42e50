// export: a run as an OpenTelemetry trace, an HTTP archive or a vcrpy
// cassette; import: an HTTP archive or a vcrpy cassette as a run
// (docs/interop.md).
#include <fstream>
#include <iostream>

#include "context.hpp"
#include "format.hpp"
#include "retrace/interop/exchange_import.hpp"
#include "retrace/interop/har.hpp"
#include "retrace/interop/otlp.hpp"
#include "retrace/interop/otlp_protobuf.hpp"
#include "retrace/interop/vcr.hpp"
#include "retrace/store/run_ref.hpp"

namespace retrace::cli {

namespace {

void write_output(const std::string& path, const std::string& text) {
    if (path.empty() || path == "-") {
        std::cout << text;
        std::cout.flush();
        return;
    }
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f.flush()) fail(error(ErrorCode::io, "cannot write " + path));
}

struct ExportArgs {
    std::string ref, format = "otlp", output, endpoint;
    bool protobuf = false, content = false;
    std::vector<std::string> headers;
};

void export_otlp(Context& ctx, const store::RunRow& run, const ExportArgs& a) {
    auto& store = ctx.store();
    auto trace = check(interop::otlp_trace(store, run.id, {a.content}));
    std::string body = a.protobuf ? check(interop::otlp_to_protobuf(trace)) : trace.dump() + "\n";
    if (a.endpoint.empty()) {
        write_output(a.output, body);
        return;
    }
    interop::OtlpPost post;
    post.url = a.endpoint;
    post.content_type = a.protobuf ? "application/x-protobuf" : "application/json";
    for (const auto& h : a.headers) {
        auto eq = h.find('=');
        if (eq == std::string::npos || eq == 0)
            fail(error(
                ErrorCode::invalid_input,  // (never the value: it may be a credential)
                "--header takes NAME=VALUE, not '" + h.substr(0, h.find_first_of(":= ")) + "...'"));
        post.headers.emplace_back(h.substr(0, eq), h.substr(eq + 1));
    }
    auto sent = check(interop::post_otlp(post, body));
    std::cerr << "retrace: exported run " << run.id << " ("
              << trace["resourceSpans"][0]["scopeSpans"][0]["spans"].size() << " spans) to "
              << a.endpoint << " (status " << sent.status << ", " << sent.attempts
              << (sent.attempts == 1 ? " attempt" : " attempts") << ")\n";
}

}  // namespace

void add_export_commands(CLI::App& app, Context& ctx) {
    auto* exp = app.add_subcommand(
        "export",
        "write a run as an OpenTelemetry trace (OTLP), an HTTP archive (HAR) or a "
        "vcrpy cassette");
    auto a = std::make_shared<ExportArgs>();
    exp->add_option("run", a->ref, "run reference")->required();
    exp->add_option("--format", a->format, "otlp, har or vcr")
        ->check(CLI::IsMember({"otlp", "har", "vcr"}))
        ->capture_default_str();
    exp->add_option("-o,--output", a->output, "write here (default: stdout)");
    exp->add_flag("--protobuf", a->protobuf, "otlp: protobuf instead of JSON");
    exp->add_flag("--content", a->content,
                  "otlp: include message content, tool arguments and results (opt-in, as the "
                  "GenAI conventions have it)");
    exp->add_option("--endpoint", a->endpoint,
                    "otlp: post to this OTLP/HTTP collector (its /v1/traces) instead of writing");
    exp->add_option("--header", a->headers, "otlp: NAME=VALUE header for --endpoint (repeatable)");
    exp->callback([&ctx, a] {
        if (a->format != "otlp" && (a->protobuf || a->content || !a->endpoint.empty()))
            fail(error(ErrorCode::invalid_input,
                       "--protobuf, --content and --endpoint are for --format otlp"));
        if (!a->endpoint.empty() && !a->output.empty())
            fail(error(ErrorCode::invalid_input, "give --endpoint or --output, not both"));
        auto& store = ctx.store();
        auto run = check(store::resolve_run(store, a->ref));
        if (a->format == "otlp") return export_otlp(ctx, run, *a);
        if (a->format == "har") {
            auto har = check(interop::har_of_run(store, run.id));
            return write_output(a->output, har.dump(2) + "\n");
        }
        write_output(a->output, check(interop::vcr_of_run(store, run.id)));
    });

    auto* imp = app.add_subcommand(
        "import", "make a run of an HTTP archive (.har) or a vcrpy cassette (.yaml), for replay");
    auto file = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto routes = std::make_shared<std::vector<std::string>>();
    imp->add_option("file", *file, "the .har or .yaml/.yml file")->required();
    imp->add_option("--name", *name, "name the run (default: the file's name)");
    imp->add_option("--route", *routes,
                    "NAME=URL: requests under URL become route NAME's (repeatable; default: "
                    "api.openai.com and api.anthropic.com are the model routes, any other host "
                    "a route named after it)");
    imp->add_flag("--json", ctx.json, "print JSON");
    imp->callback([&ctx, file, name, routes] {
        auto exchanges = check(interop::read_exchange_file(*file));
        interop::ImportOptions options;
        options.name = name->empty() ? std::filesystem::path(*file).filename().string() : *name;
        options.source = std::filesystem::absolute(*file).string();
        for (const auto& r : *routes) {
            auto eq = r.find('=');
            if (eq == std::string::npos || eq == 0)
                fail(error(ErrorCode::invalid_input, "--route takes NAME=URL, not '" + r + "'"));
            options.routes.emplace_back(r.substr(0, eq), r.substr(eq + 1));
        }
        auto& store = ctx.store(true);
        auto imported = check(interop::import_exchanges(store, exchanges, options));
        if (ctx.json) {
            core::Json routes_json = core::Json::object();
            for (const auto& [route, count] : imported.routes) routes_json[route] = count;
            print_json({{"run", imported.run_id},
                        {"exchanges", exchanges.exchanges.size()},
                        {"format", exchanges.format},
                        {"routes", routes_json}});
            return;
        }
        std::cout << "imported " << exchanges.exchanges.size() << " exchange(s) from "
                  << exchanges.format << " " << *file << " as run " << imported.run_id << "\n";
        for (const auto& [route, count] : imported.routes)
            std::cout << "  route " << route << ": " << count << " exchange(s)\n";
        std::cout << "replay it: retrace replay " << imported.run_id << " -- YOUR COMMAND\n";
    });
}

}  // namespace retrace::cli
