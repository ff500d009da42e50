// The Store: where runs live. One interface; SQLite is the embedded default
// (src/store/sqlite_store.cpp), PostgreSQL the team store
// (src/store/postgres_store.cpp). Format: docs/store-format.md.
//
// Thread safety: a Store object is used from one thread at a time. Several
// processes may use one store concurrently (write transactions wait for the
// lock up to a timeout).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/core/identity.hpp"
#include "retrace/core/result.hpp"

namespace retrace::store {

using core::Json;

// A run as stored. JSON fields are kept as canonical text so that what is
// verified is exactly what is stored.
struct RunRow {
    std::string id;
    std::optional<std::string> name;
    std::string state;  // "incomplete" or "sealed"
    std::optional<std::string> replay_of;
    long long started_ns = 0;
    std::optional<long long> ended_ns;
    std::optional<long long> exit_code;
    std::string conditions;  // canonical JSON text
    std::string conditions_digest;
    std::string metadata;  // canonical JSON text
    std::optional<std::string> metadata_digest;
    std::optional<std::string> outcome;
    std::optional<std::string> outcome_digest;
    std::optional<std::string> chain_head;
    std::optional<long long> event_count;
    std::optional<std::string> record_digest;

    bool sealed() const { return state == "sealed"; }
};

struct EventRow {
    core::Event event;
    std::string attrs_text;             // canonical text of event.attrs as stored
    std::optional<std::string> digest;  // chain link; set when sealed
};

struct FileRow {
    std::string run_id;
    std::string role;  // "input" or "output"
    std::string path;
    std::string digest;
};

// Which runs list_runs returns, newest first (started_ns, then id, both
// descending). Every field narrows; unset ones do not.
struct RunFilter {
    enum class Kind { any, record, replay, probe };
    std::optional<std::string> name;
    std::optional<long long> since_ns;
    std::optional<int> limit;
    std::optional<std::string> state;     // "sealed" or "incomplete"
    std::optional<std::string> contains;  // text found in the id or the name
    Kind kind = Kind::any;  // replay: has replay_of; probe: a probe's registration or result
    // Keyset paging: only runs that sort after this (started_ns, id), i.e.
    // older, so a page costs the same however deep it is.
    std::optional<std::pair<long long, std::string>> after;
};

// What sealing a run writes, all in one transaction.
struct SealRequest {
    std::string run_id;
    // The conditions as finally known (model facts arrive with the traffic);
    // unset keeps those the run was started with.
    std::optional<std::string> conditions;  // canonical
    std::optional<std::string> conditions_digest;
    long long ended_ns = 0;
    std::optional<long long> exit_code;
    std::string metadata;  // canonical
    std::string metadata_digest;
    std::string outcome;  // canonical
    std::string outcome_digest;
    std::string chain_head;
    long long event_count = 0;
    std::string record_digest;
    std::vector<std::pair<long long, std::string>> event_digests;  // seq -> chain link
    std::vector<FileRow> files;
};

// A blob to store: the digest of data (sha256:...) and the bytes themselves.
struct Blob {
    std::string digest;
    std::string data;
};

struct BlobInfo {
    std::string digest;
    long long size = 0;
    std::string codec;
    long long stored_size = 0;
};

// Where a store is: a directory holding the SQLite store, or a PostgreSQL
// connection string (a postgres:// or postgresql:// URI, or libpq's
// key=value pairs; PG* variables and ~/.pgpass fill in the rest as libpq
// does). The password a connection string may hold is never shown:
// display() and mask() are what output and errors use.
class StoreLocation {
  public:
    // The SQLite store in dir.
    StoreLocation(std::filesystem::path dir) : m_dir(std::move(dir)) {}
    static StoreLocation postgres(std::string conninfo);
    // What a user wrote (--store, $RETRACE_STORE, --to, --from): a
    // connection string as it is, else a directory made absolute from cwd.
    static StoreLocation parse(const std::string& text, const std::filesystem::path& cwd);
    static bool is_connection_string(std::string_view text);

    bool is_postgres() const { return m_postgres; }
    // SQLite's directory; empty for PostgreSQL.
    const std::filesystem::path& directory() const { return m_dir; }
    // PostgreSQL's connection string as given, password and all: for libpq
    // and for a child's $RETRACE_STORE, never for output.
    const std::string& conninfo() const { return m_conninfo; }
    // What a child process is given as $RETRACE_STORE.
    std::string str() const { return m_postgres ? m_conninfo : m_dir.string(); }
    // For output and errors: the path, or the connection string with its
    // password replaced by "****".
    std::string display() const;
    // text with every occurrence of this location's password replaced.
    std::string mask(std::string_view text) const;

  private:
    std::filesystem::path m_dir;
    std::string m_conninfo;
    std::string m_password;  // as it appears in m_conninfo (raw and decoded forms are masked)
    bool m_postgres = false;
};

// A connection to a store of runs (docs/store-format.md).
//
// Thread safety: a Store object is used by one thread at a time; another
// thread asks it for a connection of its own (connect(), which may be called
// from any thread: it touches nothing of this connection). Connections to
// one store, in one process or many, may write at once: each write is one
// transaction, retried while the store is busy up to a timeout (busy).
//
// Errors: io when the operating system refuses, busy past the timeout,
// corrupt when stored data fails a check it makes on reading, invalid_input
// for a write the store's state refuses. A failed write changes nothing.
// Every error message names the store's path or the run concerned.
class Store {
  public:
    virtual ~Store() = default;

    // Where the store is.
    virtual StoreLocation location() const = 0;
    // Whether this connection only reads: the store is this user's to read
    // but not to write. Every write then fails with io, saying so.
    virtual bool read_only() const = 0;
    // Another connection to the same store, for another thread to use.
    virtual Result<std::unique_ptr<Store>> connect() = 0;
    // A secret generated once per store (for keyed fingerprints and match
    // digests); never leaves it, and the same from every connection.
    virtual Result<std::string> secret() = 0;

    // Writes

    // A new run, incomplete, with its declared files. An error, and nothing
    // written, when a run with that id exists.
    virtual Status insert_run(const RunRow& run, const std::vector<FileRow>& files) = 0;
    // Stores blobs (deduplicated by digest: a blob already stored is only
    // referenced by the run) and events in one transaction. Events are
    // completed once this returns ok; the store keeps them across a crash.
    virtual Status append(const std::string& run_id, const std::vector<EventRow>& events,
                          const std::vector<Blob>& blobs) = 0;
    // Seals an incomplete run (its outcome, digests and chain head), and
    // adds it to the store log, in one transaction. invalid_input when the
    // run is unknown or already sealed.
    virtual Status seal(const SealRequest& seal) = 0;
    // Removes runs with their events, files and blob references (unknown
    // ids are passed over), all or none; a sealed run's removal goes into
    // the store log. The blobs stay until gc().
    virtual Status remove_runs(const std::vector<std::string>& ids) = 0;
    // Deletes blobs no run refers to; returns {blobs removed, bytes freed}.
    virtual Result<std::pair<long long, long long>> gc() = 0;
    // Imports complete runs with their events, files and blobs in one
    // transaction (each new sealed run into the store log too); existing
    // runs with the same id are left as they are.
    // Returns how many runs were new.
    // source, when set, names where the runs came from (a pack file): each
    // new run is marked imported from it (imported_from()).
    virtual Result<int> import_runs(const std::vector<RunRow>& runs,
                                    const std::vector<std::vector<EventRow>>& events,
                                    const std::vector<std::vector<FileRow>>& files,
                                    const std::vector<Blob>& blobs,
                                    const std::optional<std::string>& source) = 0;

    // Reads. Each reads one consistent state of the store; an unknown run
    // gives an empty list or nullopt, not an error.

    // Runs matching filter, newest first (by start time, then id).
    virtual Result<std::vector<RunRow>> list_runs(const RunFilter& filter) = 0;
    virtual Result<std::optional<RunRow>> get_run(const std::string& id) = 0;
    // Where a run was imported from, or nullopt for a run recorded here.
    virtual Result<std::optional<std::string>> imported_from(const std::string& id) = 0;
    // Up to 20 ids that start with prefix, newest first (run_ref.hpp
    // resolves references with it).
    virtual Result<std::vector<std::string>> run_ids_with_prefix(const std::string& prefix) = 0;
    // A run's events in seq order (1, 2, ...; an incomplete run's as far as
    // they were completed). corrupt for a row that cannot be an event (an
    // unknown kind); attributes that do not parse come back empty, for
    // verify to report.
    Result<std::vector<EventRow>> events(const std::string& run_id);
    // The same rows handed one at a time, none kept: for a pass over a run
    // that need not hold it whole (sealing, verifying). Stops at, and
    // returns, the first error of fn.
    using EventVisitor = std::function<Status(EventRow&&)>;
    Status each_event(const std::string& run_id, const EventVisitor& fn) {
        return each_event_after(run_id, 0, fn);
    }
    // Only the events numbered above after_seq (a watcher of a run being
    // recorded reads what is new, not the whole run again).
    virtual Status each_event_after(const std::string& run_id, long long after_seq,
                                    const EventVisitor& fn) = 0;
    Result<std::vector<EventRow>> events_after(const std::string& run_id, long long after_seq);
    // A run's declared and produced files, by role then path.
    virtual Result<std::vector<FileRow>> files(const std::string& run_id) = 0;
    // Every run's file with this content digest, newest run first.
    virtual Result<std::vector<FileRow>> files_with_digest(const std::string& digest) = 0;
    // The digests of the blobs a run refers to, sorted.
    virtual Result<std::vector<std::string>> run_blob_digests(const std::string& run_id) = 0;
    // The stored bytes of a blob, decoded; nullopt when not stored. Does not
    // check the digest (verify does).
    virtual Result<std::optional<std::string>> get_blob(const std::string& digest) = 0;
    virtual Result<std::optional<BlobInfo>> blob_info(const std::string& digest) = 0;
    // The store log (core::StoreLogEntry), in position order; nullopt for a
    // store from before it that this user may only read.
    virtual Result<std::optional<std::vector<core::StoreLogEntry>>> store_log() = 0;
};

// A blob's text for reading and reports: "" when the digest is empty, the
// blob missing or unreadable (verify is what reports those).
inline std::string blob_text(Store& store, const std::string& digest) {
    if (digest.empty()) return "";
    auto blob = store.get_blob(digest);
    return blob && *blob ? **blob : std::string();
}

// Opens the SQLite store in dir (creating dir, its .gitignore and the
// database when create is true). Errors name the store path. Outside the
// store room only tests call this: commands go through a StoreOpener.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& dir, bool create);
// Connects to the PostgreSQL store at conninfo, creating its tables when
// create is true and they do not exist yet. A server that cannot be
// reached, refused credentials or a schema newer than this retrace knows
// are invalid_input, with the password masked.
Result<std::unique_ptr<Store>> open_postgres_store(const StoreLocation& location, bool create);
// The store at location, whichever engine it is.
Result<std::unique_ptr<Store>> open_store(const StoreLocation& location, bool create);

// Where a command's store is, and its connection once opened. Code that
// makes or reads runs (record, replay, the gateway, probes) receives one of
// these, or the Store itself, and asks the Store for more connections
// (connect()); nothing outside the store room opens a database by path, so
// the engine is chosen here alone. The store is opened on first use, so a
// command that fails on its input first creates nothing. Not thread safe:
// one opener per command, used from the thread that runs it.
class StatCache;

class StoreOpener {
  public:
    // The store at location.
    explicit StoreOpener(StoreLocation location) : m_location(std::move(location)) {}
    // A connection already open (another thread's: store.connect()).
    explicit StoreOpener(std::unique_ptr<Store> store)
        : m_location(store->location()), m_store(std::move(store)) {}
    // Where the store is, known without opening it.
    const StoreLocation& location() const { return m_location; }
    // The store, opened on the first call that succeeds (and created then
    // when create is true and it does not exist); the same connection on
    // every call after that. create also asks to write: a store that is
    // read-only for this user is then refused (io, "read-only").
    Result<Store*> open(bool create);
    // The stat cache kept beside the store (stat_cache.hpp), without
    // opening the store; null when the store does not exist yet. A
    // PostgreSQL store's is this machine's ($XDG_CACHE_HOME/retrace/).
    std::unique_ptr<StatCache> stat_cache() const;

  private:
    StoreLocation m_location;
    std::unique_ptr<Store> m_store;
};

// Where the store is: explicit (--store) > $RETRACE_STORE > nearest .retrace/
// walking up from cwd > cwd/.retrace (to be created). Either of the first two
// may be a PostgreSQL connection string.
StoreLocation locate_store(const std::optional<std::string>& explicit_store,
                           const std::filesystem::path& cwd);

}  // namespace retrace::store
