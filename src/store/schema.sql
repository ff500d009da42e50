-- retrace store schema, version 1. Documented in docs/store-format.md.
-- JSON columns hold RFC 8785 canonical text: exactly the bytes that were
-- hashed, so `verify` can recompute every digest from what is stored.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE runs (
    id                TEXT PRIMARY KEY,     -- ULID-like, sorts by start time
    name              TEXT,
    state             TEXT NOT NULL CHECK (state IN ('incomplete', 'sealed')),
    replay_of         TEXT,
    started_ns        INTEGER NOT NULL,
    ended_ns          INTEGER,
    exit_code         INTEGER,
    conditions        TEXT NOT NULL,        -- canonical JSON, all sections
    conditions_digest TEXT NOT NULL,
    metadata          TEXT NOT NULL,        -- canonical JSON
    metadata_digest   TEXT,                 -- set when sealed
    outcome           TEXT,                 -- canonical JSON, set when sealed
    outcome_digest    TEXT,
    chain_head        TEXT,
    event_count       INTEGER,
    record_digest     TEXT
);
CREATE INDEX runs_by_name ON runs (name, started_ns);
CREATE INDEX runs_by_start ON runs (started_ns);

CREATE TABLE events (
    run_id   TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,              -- order of issue, from 1
    kind     TEXT NOT NULL,
    name     TEXT NOT NULL,
    parent   INTEGER NOT NULL DEFAULT 0,
    start_ns INTEGER NOT NULL,
    end_ns   INTEGER NOT NULL,
    attrs    TEXT NOT NULL,                 -- canonical JSON
    request  TEXT,                          -- blob digest
    response TEXT,                          -- blob digest
    digest   TEXT,                          -- chain link, set when the run is sealed
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- Content-addressed blobs: digest of the uncompressed bytes; data is a zstd
-- frame (with its own checksum) or the raw bytes, per codec.
CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    codec  TEXT NOT NULL CHECK (codec IN ('zstd', 'raw')),
    data   BLOB NOT NULL
);

-- Which runs refer to which blobs; gc drops blobs no run refers to.
CREATE TABLE run_blobs (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (run_id, digest)
) WITHOUT ROWID;
CREATE INDEX run_blobs_by_digest ON run_blobs (digest);

-- Declared inputs and recorded outputs, for `retrace which`.
CREATE TABLE run_files (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    role   TEXT NOT NULL CHECK (role IN ('input', 'output')),
    path   TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (run_id, role, path)
) WITHOUT ROWID;
CREATE INDEX run_files_by_digest ON run_files (digest);
