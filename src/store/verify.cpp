#include "retrace/store/verify.hpp"

#include <map>
#include <set>

#include "retrace/core/outcome.hpp"

namespace retrace::store {

namespace {

using core::Digest;

// Thrown inside this file only, to stop at the first broken item.
struct Broken {
    std::string what;
};

Json parse_canonical(const std::string& text, const std::string& what) {
    auto parsed = core::parse_json_strict(text);
    if (!parsed) throw Broken{what + ": " + parsed.status().message()};
    auto canonical = core::canonicalize(*parsed);
    if (!canonical || *canonical != text) throw Broken{what + ": not in canonical form"};
    return std::move(parsed).value();
}

void expect(bool condition, const std::string& what) {
    if (!condition) throw Broken{what};
}

Digest json_digest_or_throw(std::string_view scheme, const Json& j, const std::string& what) {
    auto d = core::json_digest(scheme, j);
    if (!d) throw Broken{what + ": " + d.status().message()};
    return *d;
}

template <typename T>
bool same_optional(const std::optional<T>& column, const Json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return !column.has_value();
    return column.has_value() && j[key] == Json(*column);
}

void check_blobs(Store& store, const std::string& run_id, const std::set<std::string>& referenced,
                 VerifyResult& out) {
    auto digests = store.run_blob_digests(run_id);
    if (!digests) throw Broken{digests.status().message()};
    std::set<std::string> listed(digests->begin(), digests->end());
    for (const auto& d : referenced)
        expect(listed.count(d) == 1, "blob " + d + ": referenced but not listed for the run");
    for (const auto& d : listed) {
        auto blob = store.get_blob(d);
        if (!blob) throw Broken{blob.status().message()};
        expect(blob->has_value(), "blob " + d + ": missing");
        expect(Digest::of(**blob).to_string() == d,
               "blob " + d + ": content does not match digest");
        ++out.blobs;
    }
}

void check_files(Store& store, const std::string& run_id, const Json& conditions,
                 const core::RunOutcome* outcome) {
    std::set<std::tuple<std::string, std::string, std::string>> expected, actual;
    if (conditions.contains("data") && conditions["data"].contains("inputs"))
        for (const auto& [path, info] : conditions["data"]["inputs"].items())
            expected.insert({"input", path, info.value("digest", "")});
    if (outcome && outcome->outputs)
        for (const auto& [path, digest] : *outcome->outputs)
            expected.insert({"output", path, digest});
    auto files = store.files(run_id);
    if (!files) throw Broken{files.status().message()};
    for (const auto& f : *files) actual.insert({f.role, f.path, f.digest});
    if (!outcome) {  // outputs are written at seal; an incomplete run has inputs only
        std::erase_if(expected, [](const auto& t) { return std::get<0>(t) == "output"; });
    }
    expect(expected == actual, "files: recorded inputs/outputs do not match the conditions");
}

void verify(Store& store, const RunRow& run, VerifyResult& out) {
    Json conditions = parse_canonical(run.conditions, "conditions");
    auto identity = core::identify_conditions(conditions);
    if (!identity) throw Broken{"conditions: " + identity.status().message()};
    expect(identity->digest.to_string() == run.conditions_digest, "conditions: digest mismatch");
    Json metadata = parse_canonical(run.metadata, "metadata");
    expect(metadata.value("id", "") == run.id, "metadata: run id mismatch");
    expect(same_optional(run.name, metadata, "name"), "metadata: name mismatch");
    expect(same_optional(run.replay_of, metadata, "replay_of"), "metadata: replay_of mismatch");
    expect(metadata.value("started_ns", "") == core::ns_text(run.started_ns),
           "metadata: start time mismatch");

    std::set<std::string> referenced;
    Digest head = core::chain_genesis(run.id);
    long long seq = 0, last = 0;
    // (one event at a time: a run of any length is checked in little memory)
    Status read = store.each_event(run.id, [&](EventRow&& row) {
        std::string label = "event " + std::to_string(row.event.seq);
        ++seq;
        // A sealed run numbers its events 1..N. An incomplete one holds the
        // events completed before it stopped: numbers rise, but some are
        // missing (the process event is written at the end, a span when it
        // ends, an exchange when its answer is complete).
        if (run.sealed())
            expect(row.event.seq == seq, label + ": out of sequence");
        else
            expect(row.event.seq > last, label + ": out of sequence");
        last = row.event.seq;
        if (!run.sealed()) expect(!row.digest, label + ": chain link before the seal");
        parse_canonical(row.attrs_text, label + " attrs");
        for (const auto* d : {&row.event.request, &row.event.response})
            if (!d->empty()) referenced.insert(*d);
        for (const char* key : {"stdout", "stderr"})
            if (row.event.attrs.contains(key))
                referenced.insert(row.event.attrs[key].get<std::string>());
        if (!run.sealed()) return Status::ok();
        auto link = core::chain_link(head, row.event);
        if (!link) throw Broken{label + ": " + link.status().message()};
        head = *link;
        expect(row.digest && *row.digest == head.to_string(), label + ": chain link mismatch");
        return Status::ok();
    });
    if (!read.is_ok()) throw Broken{read.message()};
    out.events = seq;
    out.last_seq = last;

    if (!run.sealed()) {
        expect(!run.record_digest && !run.outcome, "run: incomplete but has a seal");
        out.incomplete = true;
        check_blobs(store, run.id, referenced, out);
        check_files(store, run.id, conditions, nullptr);
        return;
    }
    expect(run.metadata_digest && run.outcome && run.outcome_digest && run.chain_head &&
               run.event_count && run.record_digest && run.ended_ns,
           "run: sealed but seal fields missing");
    Digest meta_digest = json_digest_or_throw(core::k_metadata_scheme, metadata, "metadata");
    expect(meta_digest.to_string() == *run.metadata_digest, "metadata: digest mismatch");
    expect(metadata.value("ended_ns", "") == core::ns_text(*run.ended_ns),
           "metadata: end time mismatch");
    Json outcome = parse_canonical(*run.outcome, "outcome");
    Digest outcome_digest = json_digest_or_throw(core::k_outcome_scheme, outcome, "outcome");
    expect(outcome_digest.to_string() == *run.outcome_digest, "outcome: digest mismatch");
    auto ended = core::RunOutcome::from_json(outcome);
    expect(run.exit_code == ended.exit_code, "outcome: exit code mismatch");
    expect(head.to_string() == *run.chain_head, "chain: head mismatch");
    expect(*run.event_count == seq, "chain: event count mismatch");
    auto record =
        core::record_digest({run.id, identity->digest, meta_digest, head, seq, outcome_digest});
    expect(record.to_string() == *run.record_digest, "record digest mismatch");
    check_blobs(store, run.id, referenced, out);
    check_files(store, run.id, conditions, &ended);
}

}  // namespace

Result<VerifyResult> verify_run(Store& store, const std::string& run_id) {
    VerifyResult out;
    out.run_id = run_id;
    RETRACE_ASSIGN(auto run, store.get_run(run_id));
    if (!run) return error(ErrorCode::not_found, "no run " + run_id);
    try {
        verify(store, *run, out);
    } catch (const Broken& b) {
        out.ok = false;
        out.problem = b.what;
    } catch (const std::exception& e) {  // malformed JSON values of the wrong type
        out.ok = false;
        out.problem = std::string("malformed stored value: ") + e.what();
    }
    return out;
}

Result<LogCheck> verify_store_log(Store& store) {
    LogCheck out;
    RETRACE_ASSIGN(auto log, store.store_log());
    if (!log) return out;
    out.present = true;
    out.entries = static_cast<long long>(log->size());
    // run id -> record digest, for the runs the log says are in the store
    std::map<std::string, std::string> held;
    std::string prev;
    for (std::size_t i = 0; i < log->size(); ++i) {
        const auto& e = (*log)[i];
        std::string where = "store log entry " + std::to_string(e.position);
        if (e.position != static_cast<long long>(i) + 1)
            out.problems.push_back(where + ": out of place (expected position " +
                                   std::to_string(i + 1) + ")");
        if (core::store_log_link(prev, e).to_string() != e.digest)
            out.problems.push_back(where + " (" + e.kind + " " + e.run_id +
                                   "): link mismatch (changed, inserted, removed or reordered)");
        prev = e.digest;
        if (e.kind == "added")
            held[e.run_id] = e.record_digest;
        else
            held.erase(e.run_id);
    }
    out.head = prev;
    RETRACE_ASSIGN(auto runs, store.list_runs({}));
    for (const auto& r : runs) {
        if (!r.sealed()) continue;
        auto it = held.find(r.id);
        if (it == held.end()) {
            out.problems.push_back("run " + r.id +
                                   " is sealed in the store but not in its log (inserted?)");
            continue;
        }
        if (it->second != r.record_digest.value_or(""))
            out.problems.push_back("run " + r.id + ": record digest " +
                                   r.record_digest.value_or("") + " in the store, " + it->second +
                                   " in the log");
        held.erase(it);
    }
    for (const auto& [id, record] : held)
        out.problems.push_back("run " + id +
                               " is in the store log but not in the store, and was not removed "
                               "with retrace rm (deleted?)");
    return out;
}

}  // namespace retrace::store
