-- retrace store schema for PostgreSQL, version 1 (the team store; see
-- docs/team-store.md and docs/store-format.md). The same logical format as
-- schema.sql: JSON columns hold RFC 8785 canonical text, exactly the bytes
-- that were hashed, so `verify` recomputes every digest from what is stored
-- and a run's digests are the same on either engine. Two differences of
-- layout, for a server's sake: a sealed run's chain links are one value on
-- its row (events.digest in SQLite; sealing then writes one row, not one
-- version more of every event), and a run's rows refer to it without
-- foreign keys (checked per inserted row, they cost more than the insert;
-- retrace deletes a run's rows itself, in one transaction).

-- The schema version; retrace refuses a database whose version is newer
-- than it knows. Each later version is a numbered migration.
CREATE TABLE retrace_schema (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- The store secret (keyed fingerprints and match digests). A table of its
-- own so that it can be granted only to the roles that record.
CREATE TABLE store_secret (
    id     boolean PRIMARY KEY DEFAULT true CHECK (id),
    secret text NOT NULL
);

CREATE TABLE runs (
    id                text PRIMARY KEY,     -- ULID-like, sorts by start time
    name              text,                 -- not unique
    state             text NOT NULL CHECK (state IN ('incomplete', 'sealed')),
    replay_of         text,
    started_ns        bigint NOT NULL,
    ended_ns          bigint,
    exit_code         bigint,
    conditions        text NOT NULL,        -- canonical JSON, all sections
    conditions_digest text NOT NULL,
    metadata          text NOT NULL,        -- canonical JSON
    metadata_digest   text,                 -- set when sealed
    outcome           text,                 -- canonical JSON, set when sealed
    outcome_digest    text,
    chain_head        text,
    event_count       bigint,
    record_digest     text,
    event_links       bytea                 -- set when sealed: each event's chain link,
                                            -- 32 bytes per event in seq order
);
CREATE INDEX runs_by_name ON runs (name, started_ns);
CREATE INDEX runs_by_start ON runs (started_ns);
CREATE INDEX runs_by_id_pattern ON runs (id text_pattern_ops);

-- One writer per run, so (run_id, seq) never contends between recorders.
CREATE TABLE events (
    run_id   text NOT NULL,
    seq      bigint NOT NULL,               -- order of issue, from 1
    kind     text NOT NULL,
    name     text NOT NULL,
    parent   bigint NOT NULL DEFAULT 0,
    start_ns bigint NOT NULL,
    end_ns   bigint NOT NULL,
    attrs    text NOT NULL,                 -- canonical JSON
    request  text,                          -- blob digest
    response text,                          -- blob digest
    PRIMARY KEY (run_id, seq)
);

-- Content-addressed blobs: digest of the uncompressed bytes; data is a zstd
-- frame (with its own checksum) or the raw bytes, per codec. Already
-- compressed, so kept out of line without TOAST compressing it again.
CREATE TABLE blobs (
    digest text PRIMARY KEY,
    size   bigint NOT NULL,
    codec  text NOT NULL CHECK (codec IN ('zstd', 'raw')),
    data   bytea NOT NULL
);
ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;

-- Which runs refer to which blobs; gc drops blobs no run refers to. (gc
-- and the writers exclude each other with an advisory lock, shared by the
-- writers: a blob a writer found stored is not deleted before it refers
-- to it.)
CREATE TABLE run_blobs (
    run_id text NOT NULL,
    digest text NOT NULL,
    PRIMARY KEY (run_id, digest)
);
CREATE INDEX run_blobs_by_digest ON run_blobs (digest);

-- Declared inputs and recorded outputs, for `retrace which`.
CREATE TABLE run_files (
    run_id text NOT NULL,
    role   text NOT NULL CHECK (role IN ('input', 'output')),
    path   text NOT NULL,
    digest text NOT NULL,
    PRIMARY KEY (run_id, role, path)
);
CREATE INDEX run_files_by_digest ON run_files (digest);

-- Runs that came from elsewhere (`retrace unpack`, `push`, `pull`).
CREATE TABLE run_imports (
    run_id      text PRIMARY KEY,
    source      text NOT NULL,
    imported_ns bigint NOT NULL
);
