// The PostgreSQL store against a real server (tests/support/postgres.sh:
// CTest's "postgres" fixture starts one for the run; run by hand, the first
// test that needs it starts one for the process). Each test has a database
// of its own. Where both engines are given the same run, what they store
// and every digest are the same.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "retrace/core/run_id.hpp"
#include "retrace/store/run_writer.hpp"
#include "retrace/store/transfer.hpp"
#include "retrace/store/verify.hpp"
#include "test_support.hpp"

namespace retrace::store {
namespace {

using core::Json;

std::string shell_output(const std::string& command) {
    std::string out;
    if (FILE* p = popen(command.c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p)) out += buf;
        pclose(p);
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

// The server's superuser URL: the fixture's, else one started here.
const std::string& server_url() {
    static std::string url;
    static std::once_flag once;
    std::call_once(once, [] {
        url = test::read_file(std::filesystem::path(RETRACE_TEST_POSTGRES_DIR) / "url");
        while (!url.empty() && url.back() == '\n') url.pop_back();
        if (!url.empty()) return;
        // (a directory of its own under /tmp: the server's unprivileged user
        // must reach it)
        char tmpl[] = "/tmp/retrace-pg-XXXXXX";
        if (!mkdtemp(tmpl)) return;
        std::string script = std::string(RETRACE_SOURCE_DIR) + "/tests/support/postgres.sh";
        std::string dir = tmpl;
        url = shell_output("bash " + script + " start " + dir);
        static std::string stop = "bash " + script + " stop " + dir;
        std::atexit([] { (void)std::system(stop.c_str()); });
    });
    return url;
}

// Runs one statement on url; the error message, or "" when it worked.
std::string run_sql(const std::string& url, const std::string& sql) {
    PGconn* c = PQconnectdb(url.c_str());
    std::string message;
    if (PQstatus(c) != CONNECTION_OK) {
        message = PQerrorMessage(c);
    } else {
        PGresult* r = PQexec(c, sql.c_str());
        auto s = PQresultStatus(r);
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) message = PQresultErrorMessage(r);
        PQclear(r);
    }
    PQfinish(c);
    return message;
}

// A fresh database; its URL.
std::string fresh_database() {
    const std::string& url = server_url();
    EXPECT_FALSE(url.empty()) << "no PostgreSQL server for the tests";
    std::string name = "t" + core::RunId::generate().str();
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(run_sql(url, "CREATE DATABASE " + name), "");
    return url.substr(0, url.rfind('/') + 1) + name;
}

// A run with fixed content (id, times, events, blobs): the same bytes
// whichever store it goes into.
RunRow fixed_run(const std::string& id, const std::string& name) {
    Json conditions = {{"params", {{"name", name}}}};
    RunRow row;
    row.id = id;
    row.name = name;
    row.state = "incomplete";
    row.started_ns = 1700000000000000000;
    row.conditions = *core::canonicalize(conditions);
    row.conditions_digest = core::identify_conditions(conditions)->digest.to_string();
    row.metadata = *core::canonicalize(
        Json{{"id", id}, {"name", name}, {"started_ns", core::ns_text(row.started_ns)}});
    return row;
}

std::string record_fixed(Store& store, const std::string& id, const std::string& name, int events,
                         const std::vector<FileRow>& outputs = {}) {
    RunRow row = fixed_run(id, name);
    auto writer = RunWriter::start(store, row, {});
    EXPECT_TRUE(writer.is_ok()) << writer.status().message();
    if (!writer) return id;
    for (int i = 0; i < events; ++i) {
        core::Event e;
        e.seq = (*writer)->next_seq();
        e.kind = i % 2 ? core::EventKind::tool : core::EventKind::llm;
        e.name = i % 2 ? "lookup ünïcode" : "POST /v1/chat/completions";
        e.parent = i > 0 ? 1 : 0;
        e.start_ns = row.started_ns + i;
        e.end_ns = row.started_ns + i + 1;
        e.attrs = {{"i", i}, {"text", "naïve \u00e9 \"quoted\" \\ tab\t"}};
        std::string req = "{\"n\":" + std::to_string(i % 50) + "}";
        std::string resp = "answer " + std::to_string(i % 7) + std::string(300, 'x');
        e.request = core::Digest::of(req).to_string();
        e.response = core::Digest::of(resp).to_string();
        EXPECT_TRUE((*writer)->complete(e, {{e.request, req}, {e.response, resp}}).is_ok());
    }
    Json metadata = {{"id", id},
                     {"name", name},
                     {"started_ns", core::ns_text(row.started_ns)},
                     {"ended_ns", core::ns_text(row.started_ns + 1000)}};
    Json outcome = {{"exit_code", 0}};
    for (const auto& f : outputs) outcome["outputs"][f.path] = f.digest;
    RunWriter::Seal seal{metadata, outcome, 0, row.started_ns + 1000, outputs};
    auto sealed = (*writer)->seal(seal);
    EXPECT_TRUE(sealed.is_ok()) << sealed.status().message();
    return id;
}

std::unique_ptr<Store> open_pg(const std::string& url, bool create = true) {
    auto s = open_store(StoreLocation::postgres(url), create);
    EXPECT_TRUE(s.is_ok()) << s.status().message();
    return s ? std::move(s).value() : nullptr;
}

TEST(StoreLocation, ConnectionStringsAndDirectoriesAreTold) {
    EXPECT_TRUE(StoreLocation::parse("postgres://u@h/db", "/w").is_postgres());
    EXPECT_TRUE(StoreLocation::parse("postgresql://h", "/w").is_postgres());
    EXPECT_TRUE(StoreLocation::parse("host=db dbname=team", "/w").is_postgres());
    EXPECT_TRUE(StoreLocation::parse("dbname = team", "/w").is_postgres());
    auto dir = StoreLocation::parse("runs/.retrace", "/w");
    EXPECT_FALSE(dir.is_postgres());
    EXPECT_EQ(dir.directory(), "/w/runs/.retrace");
    EXPECT_FALSE(StoreLocation::parse("./a=b", "/w").is_postgres());  // a directory named a=b
    EXPECT_EQ(StoreLocation::parse("/abs/store", "/w").str(), "/abs/store");
}

TEST(StoreLocation, PasswordsAreMaskedInEveryForm) {
    auto uri = StoreLocation::parse("postgres://ann:s3cr%40t@db:5432/team?sslmode=require", "/");
    EXPECT_EQ(uri.display(), "postgres://ann:****@db:5432/team?sslmode=require");
    EXPECT_EQ(uri.str(), "postgres://ann:s3cr%40t@db:5432/team?sslmode=require");
    EXPECT_EQ(uri.mask("auth failed for s3cr@t and s3cr%40t"), "auth failed for **** and ****");
    auto query = StoreLocation::parse("postgresql://db/team?user=ann&password=hunter22&x=1", "/");
    EXPECT_EQ(query.display(), "postgresql://db/team?user=ann&password=****&x=1");
    auto kv = StoreLocation::parse("host=db password='it\\'s a \\\\ secret' dbname=team", "/");
    EXPECT_EQ(kv.display(), "host=db password=**** dbname=team");
    EXPECT_EQ(StoreLocation::parse("host=db password=plain dbname=t", "/").display(),
              "host=db password=**** dbname=t");
    // The control: nothing to mask.
    auto none = StoreLocation::parse("postgres://ann@db/team", "/");
    EXPECT_EQ(none.display(), "postgres://ann@db/team");
    EXPECT_EQ(none.mask("text with ann in it"), "text with ann in it");
}

TEST(PostgresStore, TheSameRunIsStoredAlikeOnBothEnginesWithTheSameDigests) {
    test::TempDir dir;
    auto lite = open_sqlite_store(dir.path() / "lite", true).value();
    auto pg = open_pg(fresh_database());
    ASSERT_TRUE(pg);
    std::string id = core::RunId::generate().str();
    std::vector<FileRow> outputs = {{id, "output", "/w/B.txt", core::Digest::of("b").to_string()},
                                    {id, "output", "/w/a.txt", core::Digest::of("a").to_string()},
                                    {id, "output", "/w/_c.txt", core::Digest::of("c").to_string()}};
    record_fixed(*lite, id, "same", 40, outputs);
    record_fixed(*pg, id, "same", 40, outputs);
    auto a = lite->get_run(id).value().value(), b = pg->get_run(id).value().value();
    EXPECT_EQ(a.record_digest, b.record_digest);
    EXPECT_EQ(a.chain_head, b.chain_head);
    EXPECT_EQ(a.conditions, b.conditions);
    EXPECT_EQ(a.metadata, b.metadata);
    EXPECT_EQ(a.outcome, b.outcome);
    EXPECT_EQ(a.event_count, b.event_count);
    auto ea = lite->events(id).value(), eb = pg->events(id).value();
    ASSERT_EQ(ea.size(), eb.size());
    for (std::size_t i = 0; i < ea.size(); ++i) {
        EXPECT_EQ(ea[i].attrs_text, eb[i].attrs_text);
        EXPECT_EQ(ea[i].digest, eb[i].digest);
        EXPECT_EQ(ea[i].event.name, eb[i].event.name);
    }
    EXPECT_EQ(lite->run_blob_digests(id).value(), pg->run_blob_digests(id).value());
    // Byte order, not the database's collation: "/w/B.txt" < "/w/_c.txt" < "/w/a.txt".
    auto fa = lite->files(id).value(), fb = pg->files(id).value();
    ASSERT_EQ(fb.size(), 3u);
    for (std::size_t i = 0; i < fa.size(); ++i) EXPECT_EQ(fa[i].path, fb[i].path);
    EXPECT_EQ(fb[0].path, "/w/B.txt");
    auto digests = pg->run_blob_digests(id).value();
    for (const auto& d : digests) {
        auto x = lite->get_blob(d), y = pg->get_blob(d);
        ASSERT_TRUE(x.is_ok()) << x.status().message();
        ASSERT_TRUE(y.is_ok()) << y.status().message();
        EXPECT_EQ(*x, *y) << d;
    }
    auto va = verify_run(*lite, id), vb = verify_run(*pg, id);
    EXPECT_TRUE(va->ok) << va->problem;
    EXPECT_TRUE(vb->ok) << vb->problem;
}

TEST(PostgresStore, ALongRunComesBackWholeAndInOrder) {
    auto pg = open_pg(fresh_database());
    ASSERT_TRUE(pg);
    // Past one page of reads (10,000) and one multi-row insert (6,000 rows).
    std::string id = record_fixed(*pg, core::RunId::generate().str(), "long", 25000);
    long long expected = 1;
    ASSERT_TRUE(pg->each_event(id, [&](EventRow&& row) {
                      EXPECT_EQ(row.event.seq, expected);
                      ++expected;
                      return Status::ok();
                  }).is_ok());
    EXPECT_EQ(expected, 25001);
    auto v = verify_run(*pg, id);
    EXPECT_TRUE(v->ok) << v->problem;
    EXPECT_EQ(v->events, 25000);
    EXPECT_EQ(pg->run_blob_digests(id)->size(), 57u);  // 50 requests, 7 answers
}

TEST(PostgresStore, ConnectionsOnManyThreadsWriteAtOnce) {
    auto pg = open_pg(fresh_database());
    ASSERT_TRUE(pg);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&] {
            auto s = pg->connect();
            if (!s) return;
            for (int i = 0; i < 4; ++i) record_fixed(**s, core::RunId::generate().str(), "t", 30);
            ++ok;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 6);
    auto runs = pg->list_runs({}).value();
    ASSERT_EQ(runs.size(), 24u);
    for (const auto& r : runs) {
        EXPECT_TRUE(r.sealed());
        EXPECT_TRUE(verify_run(*pg, r.id)->ok);
    }
}

TEST(PostgresStore, TheSecretIsMadeOnceAndSharedByEveryConnection) {
    std::string url = fresh_database();
    auto a = open_pg(url), b = open_pg(url);
    ASSERT_TRUE(a && b);
    auto sa = a->secret(), sb = b->secret();
    ASSERT_TRUE(sa.is_ok()) << sa.status().message();
    EXPECT_EQ(sa->size(), 64u);
    EXPECT_EQ(*sa, *sb);
    EXPECT_EQ(*open_pg(url)->secret(), *sa);
}

TEST(PostgresStore, ANewerSchemaIsRefusedAndAReaderCreatesNothing) {
    std::string url = fresh_database();
    auto reader = open_store(StoreLocation::postgres(url), false);
    ASSERT_FALSE(reader.is_ok());
    EXPECT_EQ(reader.status().code(), ErrorCode::not_found);
    EXPECT_NE(reader.status().message().find("no retrace tables"), std::string::npos);
    EXPECT_FALSE(open_store(StoreLocation::postgres(url), false).is_ok());  // still nothing
    ASSERT_TRUE(open_pg(url));                                              // the control
    EXPECT_TRUE(open_store(StoreLocation::postgres(url), false).is_ok());
    ASSERT_EQ(run_sql(url, "INSERT INTO retrace_schema (version) VALUES (7)"), "");
    auto newer = open_store(StoreLocation::postgres(url), true);
    ASSERT_FALSE(newer.is_ok());
    EXPECT_EQ(newer.status().code(), ErrorCode::invalid_input);
    EXPECT_NE(newer.status().message().find("schema version 7, newer than this retrace"),
              std::string::npos)
        << newer.status().message();
}

TEST(PostgresStore, ARoleThatMayOnlyReadReadsAndIsRefusedWrites) {
    std::string url = fresh_database();
    auto admin = open_pg(url);
    ASSERT_TRUE(admin);
    std::string id = record_fixed(*admin, core::RunId::generate().str(), "r", 4);
    std::string role = "reader_" + core::RunId::generate().str().substr(20);
    for (auto& ch : role) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    ASSERT_EQ(run_sql(url, "CREATE ROLE " + role +
                               " LOGIN PASSWORD 'reader-pw-1'; GRANT SELECT ON runs, "
                               "events, blobs, run_blobs, run_files, run_imports, retrace_schema, "
                               "meta TO " +
                               role),
              "");
    std::string reader_url = url;
    reader_url.replace(reader_url.find("retrace_admin:"),
                       reader_url.find('@') - reader_url.find("retrace_admin:"),
                       role + ":reader-pw-1");
    StoreOpener opener(StoreLocation::postgres(reader_url));
    auto read = opener.open(false);
    ASSERT_TRUE(read.is_ok()) << read.status().message();
    EXPECT_TRUE((*read)->read_only());
    EXPECT_TRUE(verify_run(**read, id)->ok);
    auto write = opener.open(true);
    ASSERT_FALSE(write.is_ok());
    EXPECT_NE(write.status().message().find("read-only"), std::string::npos);
    EXPECT_EQ(write.status().message().find("reader-pw-1"), std::string::npos);
    // The store secret is the recorders' alone.
    auto secret = (*read)->secret();
    ASSERT_FALSE(secret.is_ok());
    EXPECT_EQ(secret.status().code(), ErrorCode::denied);
}

TEST(PostgresStore, RemoveThenGcDropsOnlyUnreferencedBlobs) {
    auto pg = open_pg(fresh_database());
    ASSERT_TRUE(pg);
    std::string a = record_fixed(*pg, core::RunId::generate().str(), "a", 6);
    std::string b = record_fixed(*pg, core::RunId::generate().str(), "b", 6);
    ASSERT_TRUE(pg->remove_runs({a}).is_ok());
    EXPECT_EQ(pg->gc()->first, 0);  // b uses the same blobs
    EXPECT_TRUE(verify_run(*pg, b)->ok);
    ASSERT_TRUE(pg->remove_runs({b}).is_ok());
    EXPECT_EQ(pg->gc()->first, 12);  // 6 requests, 6 answers
    EXPECT_TRUE(pg->list_runs({})->empty());
}

TEST(PostgresStore, CopiesBetweenEnginesAreVerifiedAndIdempotent) {
    test::TempDir dir;
    auto lite = open_sqlite_store(dir.path() / "lite", true).value();
    auto pg = open_pg(fresh_database());
    ASSERT_TRUE(pg);
    std::string a = record_fixed(*lite, core::RunId::generate().str(), "a", 10);
    std::string b = record_fixed(*lite, core::RunId::generate().str(), "b", 10);
    auto first = transfer_runs(*lite, *pg, {a, b}, "pushed from here", nullptr);
    ASSERT_TRUE(first.is_ok()) << first.status().message();
    EXPECT_EQ(first->copied, 2);
    EXPECT_EQ(pg->imported_from(a).value(), std::optional<std::string>("pushed from here"));
    auto again = transfer_runs(*lite, *pg, {a, b}, "pushed from here", nullptr);
    EXPECT_EQ(again->copied, 0);
    EXPECT_EQ(again->present, 2);
    EXPECT_EQ(pg->list_runs({})->size(), 2u);
    // A damaged source run is refused, and nothing of it is written.
    std::string c = record_fixed(*lite, core::RunId::generate().str(), "c", 10);
    auto sqlite_db = dir.path() / "lite" / "retrace.db";
    std::string cmd = "sqlite3 '" + sqlite_db.string() +
                      "' \"UPDATE events SET attrs = attrs || ' ' WHERE run_id = '" + c +
                      "' AND seq = 3\"";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    auto refused = transfer_runs(*lite, *pg, {c}, "pushed from here", nullptr);
    ASSERT_FALSE(refused.is_ok());
    EXPECT_NE(refused.status().message().find("fails verification"), std::string::npos);
    EXPECT_FALSE(pg->get_run(c).value());
}

TEST(PostgresStore, TheStoreLogFollowsSealsRemovalsAndImportsAndNamesADeletedRun) {
    std::string url = fresh_database();
    auto pg = open_pg(url);
    ASSERT_TRUE(pg);
    std::string a = record_fixed(*pg, core::RunId::generate().str(), "a", 3);
    std::string b = record_fixed(*pg, core::RunId::generate().str(), "b", 3);
    ASSERT_TRUE(pg->remove_runs({a}).is_ok());
    test::TempDir dir;
    auto lite = open_sqlite_store(dir.path() / "lite", true).value();
    std::string c = record_fixed(*lite, core::RunId::generate().str(), "c", 3);
    ASSERT_TRUE(transfer_runs(*lite, *pg, {c}, "pushed", nullptr).is_ok());
    auto entries = pg->store_log().value().value();
    ASSERT_EQ(entries.size(), 4u);
    EXPECT_EQ(entries[2].kind + " " + entries[2].run_id, "removed " + a);
    EXPECT_EQ(entries[3].kind + " " + entries[3].run_id, "added " + c);
    auto log = verify_store_log(*pg).value();
    EXPECT_TRUE(log.problems.empty()) << log.problems.front();
    // Deleted without retrace.
    ASSERT_EQ(run_sql(url, "DELETE FROM runs WHERE id = '" + b + "'"), "");
    log = verify_store_log(*pg).value();
    ASSERT_EQ(log.problems.size(), 1u);
    EXPECT_NE(log.problems[0].find("run " + b + " is in the store log but not in the store"),
              std::string::npos);
}

}  // namespace
}  // namespace retrace::store
