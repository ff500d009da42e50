#include <filesystem>

#include "context.hpp"
#include "format.hpp"
#include "retrace/store/pack.hpp"
#include "retrace/store/run_ref.hpp"

namespace retrace::cli {

void add_pack_commands(CLI::App& app, Context& ctx) {
    auto* pack = app.add_subcommand("pack", "write runs and every blob they need to one archive");
    auto refs = std::make_shared<std::vector<std::string>>();
    auto out = std::make_shared<std::string>();
    pack->add_option("runs", *refs, "run references")->required();
    pack->add_option("-o,--output", *out, "archive file to write")->required();
    pack->add_flag("--json", ctx.json, "print JSON");
    pack->callback([&ctx, refs, out] {
        auto& store = ctx.store();
        std::vector<std::string> ids;
        for (const auto& ref : *refs) ids.push_back(check(store::resolve_run(store, ref)).id);
        auto s = check(store::write_pack(store, ids, *out));
        if (ctx.json)
            print_json({{"file", *out}, {"runs", s.runs}, {"blobs", s.blobs}, {"bytes", s.bytes}});
        else
            std::cout << "packed " << s.runs << " runs, " << s.blobs << " blobs into " << *out
                      << " (" << format_bytes(s.bytes) << ")\n";
    });

    auto* unpack = app.add_subcommand("unpack", "import an archive written by `retrace pack`");
    auto file = std::make_shared<std::string>();
    unpack->add_option("file", *file, "archive file")->required();
    unpack->add_flag("--json", ctx.json, "print JSON");
    auto limits = std::make_shared<store::PackLimits>();
    unpack
        ->add_option("--max-size", limits->max_content,
                     "refuse an archive declaring more content than BYTES uncompressed")
        ->capture_default_str();
    unpack->callback([&ctx, file, limits] {
        // Opened only once the archive has been checked: a refused archive
        // must not even create a store.
        auto s = check(store::read_pack(
            *file, [&]() -> Result<store::Store*> { return ctx.opener().open(true); }, *limits));
        if (ctx.json)
            print_json({{"runs", s.runs}, {"imported", s.imported}, {"blobs", s.blobs}});
        else
            std::cout << "verified " << s.runs << " runs, imported " << s.imported
                      << " (the others were already here)\n";
        if (s.imported > 0)
            std::cerr << "retrace: the imported runs are unsigned: the pack proves them intact, "
                         "not who recorded them; `retrace replay` shows an imported run's "
                         "command and asks before running it\n";
    });
}

}  // namespace retrace::cli
