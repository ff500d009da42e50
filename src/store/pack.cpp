#include "retrace/store/pack.hpp"

#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "blob_codec.hpp"
#include "pack_stream.hpp"
#include "retrace/core/run_id.hpp"
#include "retrace/store/verify.hpp"

namespace retrace::store {

namespace {

namespace fs = std::filesystem;
using core::Json;

constexpr std::string_view k_magic = "retrace-pack/1\n";

void put_record(std::string& out, std::string_view tag, std::string_view value) {
    out.append(tag).append(" ").append(std::to_string(value.size())).append("\n");
    out.append(value).append("\n");
}

Json optional_json(const std::optional<std::string>& v) {
    return v ? Json(*v) : Json();
}
Json optional_json(const std::optional<long long>& v) {
    return v ? Json(*v) : Json();
}

Json run_to_json(const RunRow& r, const std::vector<EventRow>& events,
                 const std::vector<FileRow>& files) {
    Json j = {{"id", r.id},
              {"name", optional_json(r.name)},
              {"state", r.state},
              {"replay_of", optional_json(r.replay_of)},
              {"started_ns", r.started_ns},
              {"ended_ns", optional_json(r.ended_ns)},
              {"exit_code", optional_json(r.exit_code)},
              {"conditions", r.conditions},
              {"conditions_digest", r.conditions_digest},
              {"metadata", r.metadata},
              {"metadata_digest", optional_json(r.metadata_digest)},
              {"outcome", optional_json(r.outcome)},
              {"outcome_digest", optional_json(r.outcome_digest)},
              {"chain_head", optional_json(r.chain_head)},
              {"event_count", optional_json(r.event_count)},
              {"record_digest", optional_json(r.record_digest)}};
    Json ev = Json::array();
    for (const auto& e : events) {
        Json x = e.event.to_json();
        x["attrs"] = e.attrs_text;  // the stored canonical text, byte for byte
        x["digest"] = optional_json(e.digest);
        ev.push_back(x);
    }
    Json fs_json = Json::array();
    for (const auto& f : files)
        fs_json.push_back({{"role", f.role}, {"path", f.path}, {"digest", f.digest}});
    j["events"] = ev;
    j["files"] = fs_json;
    return j;
}

template <typename T>
std::optional<T> opt(const Json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    return j[key].get<T>();
}

struct Parsed {
    std::vector<RunRow> runs;
    std::vector<std::vector<EventRow>> events;
    std::vector<std::vector<FileRow>> files;
    std::vector<Blob> blobs;
};

// A run's id, replay_of and name from an archive are checked before anything
// uses them (a path such as "../../tmp/x" is not an id); shown quoted.
void check_run_names(const RunRow& r) {
    auto quoted = [](const std::string& s) { return Json(s).dump(); };
    if (!core::RunId::parse(r.id)) throw std::runtime_error(quoted(r.id) + " is not a run id");
    if (r.replay_of && !core::RunId::parse(*r.replay_of))
        throw std::runtime_error("run " + r.id + ": replay_of " + quoted(*r.replay_of) +
                                 " is not a run id");
    if (r.name) {
        bool control = std::any_of(r.name->begin(), r.name->end(), [](char c) {
            auto u = static_cast<unsigned char>(c);
            return u < 0x20 || u == 0x7f;
        });
        if (control || r.name->empty() || r.name->size() > 200)
            throw std::runtime_error("run " + r.id + ": the name " + quoted(*r.name) +
                                     " is not 1-200 printable characters");
    }
}

void parse_run(const Json& j, Parsed& out) {
    RunRow r;
    r.id = j.at("id").get<std::string>();
    r.name = opt<std::string>(j, "name");
    r.state = j.at("state").get<std::string>();
    r.replay_of = opt<std::string>(j, "replay_of");
    check_run_names(r);
    r.started_ns = j.at("started_ns").get<long long>();
    r.ended_ns = opt<long long>(j, "ended_ns");
    r.exit_code = opt<long long>(j, "exit_code");
    r.conditions = j.at("conditions").get<std::string>();
    r.conditions_digest = j.at("conditions_digest").get<std::string>();
    r.metadata = j.at("metadata").get<std::string>();
    r.metadata_digest = opt<std::string>(j, "metadata_digest");
    r.outcome = opt<std::string>(j, "outcome");
    r.outcome_digest = opt<std::string>(j, "outcome_digest");
    r.chain_head = opt<std::string>(j, "chain_head");
    r.event_count = opt<long long>(j, "event_count");
    r.record_digest = opt<std::string>(j, "record_digest");
    std::vector<EventRow> events;
    for (const auto& x : j.at("events")) {
        EventRow e;
        e.attrs_text = x.at("attrs").get<std::string>();
        Json copy = x;
        auto attrs = core::parse_json_strict(e.attrs_text);
        if (!attrs) throw std::runtime_error("event attrs: " + attrs.status().message());
        copy["attrs"] = *attrs;
        auto ev = core::Event::from_json(copy);
        if (!ev) throw std::runtime_error(ev.status().message());
        e.event = *ev;
        e.digest = opt<std::string>(x, "digest");
        events.push_back(std::move(e));
    }
    std::vector<FileRow> files;
    for (const auto& f : j.at("files"))
        files.push_back({r.id, f.at("role").get<std::string>(), f.at("path").get<std::string>(),
                         f.at("digest").get<std::string>()});
    out.runs.push_back(std::move(r));
    out.events.push_back(std::move(events));
    out.files.push_back(std::move(files));
}

Result<Parsed> parse_pack(PackStream& stream) {
    Parsed out;
    bool ended = false;
    PackStream::Record rec;
    try {
        while (!ended) {
            RETRACE_ASSIGN(bool more, stream.next(rec));
            if (!more) break;
            if (rec.tag == "run") {
                auto j = core::parse_json_strict(rec.value);
                if (!j) return j.status();
                parse_run(*j, out);
            } else if (rec.tag == "blob") {
                std::size_t cut = rec.value.find('\n');
                if (cut == std::string::npos)
                    return error(ErrorCode::corrupt, "malformed blob record");
                Blob b{rec.value.substr(0, cut), std::string()};
                rec.value.erase(0, cut + 1);
                b.data = std::move(rec.value);
                if (core::Digest::of(b.data).to_string() != b.digest)
                    return error(ErrorCode::corrupt,
                                 "blob " + b.digest + " does not match its digest");
                out.blobs.push_back(std::move(b));
            } else if (rec.tag == "end") {
                if (rec.value != rec.digest_before)
                    return error(ErrorCode::corrupt, "archive checksum mismatch");
                ended = true;
            } else {
                return error(ErrorCode::corrupt, "unknown record '" + rec.tag + "'");
            }
        }
    } catch (const std::exception& e) {
        return error(ErrorCode::corrupt, std::string("malformed archive: ") + e.what());
    }
    if (!ended) return error(ErrorCode::corrupt, "archive is truncated (no end record)");
    RETRACE_TRY(stream.finish());
    return out;
}

}  // namespace

Result<PackSummary> write_pack(Store& store, const std::vector<std::string>& run_ids,
                               const fs::path& file) {
    std::string content;
    std::set<std::string> blob_digests;
    PackSummary summary;
    for (const auto& id : run_ids) {
        RETRACE_ASSIGN(auto run, store.get_run(id));
        if (!run) return error(ErrorCode::not_found, "no run " + id);
        if (!run->sealed())
            return error(ErrorCode::invalid_input,
                         "run " + id + " is incomplete; only sealed runs can be packed");
        RETRACE_ASSIGN(auto check, verify_run(store, id));
        if (!check.ok)
            return error(ErrorCode::corrupt, "run " + id + " fails verification: " + check.problem);
        RETRACE_ASSIGN(auto events, store.events(id));
        RETRACE_ASSIGN(auto files, store.files(id));
        RETRACE_ASSIGN(auto digests, store.run_blob_digests(id));
        blob_digests.insert(digests.begin(), digests.end());
        put_record(content, "run", run_to_json(*run, events, files).dump());
        ++summary.runs;
    }
    for (const auto& d : blob_digests) {
        RETRACE_ASSIGN(auto data, store.get_blob(d));
        if (!data) return error(ErrorCode::corrupt, "blob " + d + " is missing");
        put_record(content, "blob", d + "\n" + *data);
        ++summary.blobs;
    }
    put_record(content, "end", core::Digest::of(content).to_string());
    std::string frame = zstd_compress(content, 6);
    fs::path tmp = file;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << k_magic << content.size() << "\n" << frame;
        out.close();
        if (!out) return error(ErrorCode::io, "cannot write " + tmp.string());
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) return error(ErrorCode::io, "cannot write " + file.string() + ": " + ec.message());
    summary.bytes = static_cast<long long>(fs::file_size(file, ec));
    return summary;
}

Result<PackSummary> read_pack(const fs::path& file,
                              const std::function<Result<Store*>()>& open_store,
                              const PackLimits& limits) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return error(ErrorCode::invalid_input, "cannot read " + file.string());
    std::string magic(k_magic.size(), '\0');
    in.read(magic.data(), static_cast<std::streamsize>(magic.size()));
    if (!in || magic != k_magic)
        return error(ErrorCode::corrupt, file.string() + " is not a retrace pack");
    std::string size_line;
    std::getline(in, size_line);
    std::size_t size = 0;
    try {
        size = std::stoull(size_line);
    } catch (const std::exception&) {
        return error(ErrorCode::corrupt, file.string() + ": malformed header");
    }
    if (size > limits.max_content)
        return error(ErrorCode::invalid_input, file.string() + " declares " + std::to_string(size) +
                                                   " bytes of content, over the limit of " +
                                                   std::to_string(limits.max_content) +
                                                   " (--max-size)");
    PackStream stream(in, size);
    auto parsed = parse_pack(stream);
    if (!parsed)
        return error(ErrorCode::corrupt, file.string() + " is damaged or truncated (" +
                                             parsed.status().message() + ")");

    // Verify every run in a scratch store before touching the real one.
    char tmpl[] = "/tmp/retrace-unpack-XXXXXX";
    if (!mkdtemp(tmpl)) return error(ErrorCode::io, "cannot create a scratch directory");
    fs::path scratch = tmpl;
    Result<PackSummary> result = [&]() -> Result<PackSummary> {
        RETRACE_ASSIGN(auto temp, open_sqlite_store(scratch, true));
        RETRACE_TRY(temp->import_runs(parsed->runs, parsed->events, parsed->files, parsed->blobs,
                                      std::nullopt));
        for (const auto& r : parsed->runs) {
            RETRACE_ASSIGN(auto v, verify_run(*temp, r.id));
            if (!v.ok)
                return error(ErrorCode::corrupt,
                             file.string() + ": run " + r.id + " fails verification: " + v.problem);
        }
        PackSummary s;
        s.runs = static_cast<int>(parsed->runs.size());
        s.blobs = static_cast<int>(parsed->blobs.size());
        RETRACE_ASSIGN(Store * store, open_store());
        std::string source = fs::absolute(file).lexically_normal().string();
        RETRACE_ASSIGN(s.imported, store->import_runs(parsed->runs, parsed->events, parsed->files,
                                                      parsed->blobs, source));
        return s;
    }();
    std::error_code ec;
    fs::remove_all(scratch, ec);
    return result;
}

}  // namespace retrace::store
