#include <gtest/gtest.h>
#include <sqlite3.h>
#include <zstd.h>

#include <thread>

#include "retrace/core/run_id.hpp"
#include "retrace/store/pack.hpp"
#include "retrace/store/run_ref.hpp"
#include "retrace/store/run_writer.hpp"
#include "retrace/store/verify.hpp"
#include "test_support.hpp"

namespace retrace::store {
namespace {

using core::Json;

// Records a run with `events` events, each with a request and response blob.
std::string make_run(Store& store, const std::string& name, int events,
                     const std::string& payload = "payload") {
    Json conditions = {{"params", {{"name", name}}}};
    auto identity = core::identify_conditions(conditions);
    RunRow row;
    row.id = core::RunId::generate().str();
    row.name = name;
    row.state = "incomplete";
    row.started_ns = 1700000000000000000;
    row.conditions = *core::canonicalize(conditions);
    row.conditions_digest = identity->digest.to_string();
    Json metadata = {{"id", row.id}, {"name", name}, {"started_ns", core::ns_text(row.started_ns)}};
    row.metadata = *core::canonicalize(metadata);
    auto writer = RunWriter::start(store, row, {});
    EXPECT_TRUE(writer.is_ok()) << writer.status().message();
    for (int i = 0; i < events; ++i) {
        core::Event e;
        e.seq = (*writer)->next_seq();
        e.kind = core::EventKind::http;
        e.name = "POST /v1/chat/completions";
        e.start_ns = row.started_ns + i;
        e.end_ns = row.started_ns + i + 1;
        std::string req = "{\"n\":" + std::to_string(i) + "}";
        std::string resp = payload + std::string(200, 'x');  // long enough to be compressed
        e.request = core::Digest::of(req).to_string();
        e.response = core::Digest::of(resp).to_string();
        EXPECT_TRUE((*writer)->complete(e, {{e.request, req}, {e.response, resp}}).is_ok());
    }
    metadata["ended_ns"] = core::ns_text(row.started_ns + 1000);
    RunWriter::Seal seal{metadata, Json{{"exit_code", 0}}, 0, row.started_ns + 1000, {}};
    auto sealed = (*writer)->seal(seal);
    EXPECT_TRUE(sealed.is_ok()) << sealed.status().message();
    return row.id;
}

class StoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = open_sqlite_store(m_dir.path() / "store", true);
        ASSERT_TRUE(s.is_ok()) << s.status().message();
        m_store = std::move(s).value();
    }
    void sql(const std::string& statement) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((m_dir.path() / "store" / "retrace.db").c_str(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
            << sqlite3_errmsg(db);
        sqlite3_close(db);
    }
    test::TempDir m_dir;
    std::unique_ptr<Store> m_store;
};

TEST_F(StoreTest, NewStoreIgnoresItselfInGit) {
    EXPECT_EQ(test::read_file(m_dir.path() / "store" / ".gitignore"), "*\n");
}

TEST_F(StoreTest, SealedRunVerifies) {
    std::string id = make_run(*m_store, "a", 5);
    auto v = verify_run(*m_store, id);
    ASSERT_TRUE(v.is_ok());
    EXPECT_TRUE(v->ok) << v->problem;
    EXPECT_EQ(v->events, 5);
    EXPECT_EQ(v->blobs, 6);  // five requests, one response body shared by all
    auto run = m_store->get_run(id);
    EXPECT_EQ((*run)->state, "sealed");
    EXPECT_EQ(*(*run)->event_count, 5);
}

TEST_F(StoreTest, TamperedEventIsNamed) {
    std::string id = make_run(*m_store, "a", 3);
    sql("UPDATE events SET end_ns = end_ns + 1 WHERE seq = 2");
    auto v = verify_run(*m_store, id);
    EXPECT_FALSE(v->ok);
    EXPECT_EQ(v->problem, "event 2: chain link mismatch");
}

TEST_F(StoreTest, TamperedBlobIsNamed) {
    std::string id = make_run(*m_store, "a", 1);
    sql("UPDATE blobs SET data = CAST('{\"n\":1}' AS BLOB) WHERE codec = 'raw'");
    auto v = verify_run(*m_store, id);
    EXPECT_FALSE(v->ok);
    EXPECT_NE(v->problem.find("content does not match digest"), std::string::npos) << v->problem;
}

TEST_F(StoreTest, TamperedCompressedBlobIsNamed) {
    std::string id = make_run(*m_store, "a", 1);
    sql("UPDATE blobs SET data = CAST(substr(data, 1, length(data) - 1) || 'Z' AS BLOB) "
        "WHERE codec = 'zstd'");
    auto v = verify_run(*m_store, id);
    EXPECT_FALSE(v->ok);
    EXPECT_NE(v->problem.find("blob sha256:"), std::string::npos) << v->problem;
}

TEST_F(StoreTest, TamperedConditionsAndMetadataAreNamed) {
    std::string id = make_run(*m_store, "a", 1);
    sql("UPDATE runs SET conditions = replace(conditions, '\"a\"', '\"b\"')");
    EXPECT_EQ(verify_run(*m_store, id)->problem, "conditions: digest mismatch");
    sql("UPDATE runs SET conditions = replace(conditions, '\"b\"', '\"a\"')");
    EXPECT_TRUE(verify_run(*m_store, id)->ok);
    sql("UPDATE runs SET name = 'other'");
    EXPECT_EQ(verify_run(*m_store, id)->problem, "metadata: name mismatch");
}

TEST_F(StoreTest, ReferencesResolveByPrecedence) {
    std::string a = make_run(*m_store, "alpha", 0);
    std::string b = make_run(*m_store, "beta", 0);
    EXPECT_EQ(resolve_run(*m_store, a)->id, a);
    EXPECT_EQ(resolve_run(*m_store, "alpha")->id, a);
    EXPECT_EQ(resolve_run(*m_store, "@latest")->id, b);
    EXPECT_EQ(resolve_run(*m_store, "@latest~1")->id, a);
    EXPECT_EQ(resolve_run(*m_store, "@latest~2").status().code(), ErrorCode::not_found);
    EXPECT_EQ(resolve_run(*m_store, "nope").status().code(), ErrorCode::not_found);
    EXPECT_EQ(resolve_run(*m_store, "@latest~x").status().code(), ErrorCode::invalid_input);
    // Both ids start with the same millisecond-timestamp digits: a short prefix is ambiguous.
    auto amb = resolve_run(*m_store, a.substr(0, 2));
    ASSERT_FALSE(amb.is_ok());
    EXPECT_EQ(amb.status().code(), ErrorCode::invalid_input);
    EXPECT_NE(amb.status().message().find(a), std::string::npos);
    EXPECT_NE(amb.status().message().find(b), std::string::npos);
    EXPECT_EQ(resolve_run(*m_store, b.substr(0, 25))->id, b);
}

TEST_F(StoreTest, NameBeatsIdPrefix) {
    std::string a = make_run(*m_store, "x", 0);
    std::string prefix = a.substr(0, 4);
    std::string b = make_run(*m_store, prefix, 0);  // a run named like a's id prefix
    EXPECT_EQ(resolve_run(*m_store, prefix)->id, b);
}

TEST_F(StoreTest, RemoveThenGcDropsOnlyUnreferencedBlobs) {
    std::string a = make_run(*m_store, "a", 2, "shared");
    std::string b = make_run(*m_store, "b", 2, "shared");
    ASSERT_TRUE(m_store->remove_runs({a}).is_ok());
    auto freed = m_store->gc();
    ASSERT_TRUE(freed.is_ok());
    EXPECT_EQ(freed->first, 0);  // b uses the same blobs
    EXPECT_TRUE(verify_run(*m_store, b)->ok);
    ASSERT_TRUE(m_store->remove_runs({b}).is_ok());
    EXPECT_EQ(m_store->gc()->first, 3);
}

TEST_F(StoreTest, PackAndUnpackRoundTrip) {
    std::string a = make_run(*m_store, "a", 3);
    auto file = m_dir.path() / "runs.pack";
    auto packed = write_pack(*m_store, {a}, file);
    ASSERT_TRUE(packed.is_ok()) << packed.status().message();
    auto other = open_sqlite_store(m_dir.path() / "other", true);
    auto got = read_pack(file, [&]() -> Result<Store*> { return other->get(); });
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    EXPECT_EQ(got->imported, 1);
    EXPECT_TRUE(verify_run(**other, a)->ok);
    EXPECT_EQ((*other)->get_run(a)->value().record_digest,
              m_store->get_run(a)->value().record_digest);
    EXPECT_EQ(read_pack(file, [&]() -> Result<Store*> { return other->get(); })->imported,
              0);  // idempotent
}

TEST_F(StoreTest, DamagedPackIsRefusedAndChangesNothing) {
    std::string a = make_run(*m_store, "a", 3);
    auto file = m_dir.path() / "runs.pack";
    ASSERT_TRUE(write_pack(*m_store, {a}, file).is_ok());
    std::string bytes = test::read_file(file);
    auto other = open_sqlite_store(m_dir.path() / "other", true);
    test::write_file(m_dir.path() / "truncated.pack", bytes.substr(0, bytes.size() - 10));
    auto r1 = read_pack(m_dir.path() / "truncated.pack",
                        [&]() -> Result<Store*> { return other->get(); });
    EXPECT_EQ(r1.status().code(), ErrorCode::corrupt) << r1.status().message();
    std::string flipped = bytes;
    flipped[flipped.size() / 2] ^= 1;
    test::write_file(m_dir.path() / "flipped.pack", flipped);
    auto r2 =
        read_pack(m_dir.path() / "flipped.pack", [&]() -> Result<Store*> { return other->get(); });
    EXPECT_EQ(r2.status().code(), ErrorCode::corrupt) << r2.status().message();
    EXPECT_TRUE((*other)->list_runs({})->empty());
}

// An archive with the given header size and frame content.
void write_archive(const std::filesystem::path& file, std::size_t declared,
                   const std::string& content) {
    std::string frame(ZSTD_compressBound(content.size()), '\0');
    frame.resize(ZSTD_compress(frame.data(), frame.size(), content.data(), content.size(), 1));
    test::write_file(file, "retrace-pack/1\n" + std::to_string(declared) + "\n" + frame);
}

TEST_F(StoreTest, PackOverTheSizeLimitOrItsOwnHeaderIsRefused) {
    std::string a = make_run(*m_store, "a", 3);
    auto file = m_dir.path() / "runs.pack";
    ASSERT_TRUE(write_pack(*m_store, {a}, file).is_ok());
    auto other = open_sqlite_store(m_dir.path() / "other", true);
    auto open_other = [&]() -> Result<Store*> { return other->get(); };
    std::string bytes = test::read_file(file);
    std::size_t declared = std::stoull(bytes.substr(15, bytes.find('\n', 15) - 15));
    auto over = read_pack(file, open_other, PackLimits{declared - 1});
    EXPECT_EQ(over.status().code(), ErrorCode::invalid_input);
    EXPECT_NE(over.status().message().find("(--max-size)"), std::string::npos);
    // The same content behind a header declaring one byte less.
    {
        std::string frame = bytes.substr(bytes.find('\n', 15) + 1);
        std::string plain(declared, '\0');
        ASSERT_EQ(ZSTD_decompress(plain.data(), plain.size(), frame.data(), frame.size()),
                  declared);
        write_archive(m_dir.path() / "short.pack", declared - 1, plain);
        write_archive(m_dir.path() / "long.pack", declared + 1, plain);
        // (a record claiming more than the whole archive declares)
        write_archive(m_dir.path() / "claims.pack", 64, "blob 1000000000\n");
        // 64 MiB of zeros: no record at all
        write_archive(m_dir.path() / "zeros.pack", 64 << 20, std::string(64 << 20, '\0'));
    }
    for (auto [name, want] : {std::pair{"short.pack", "inflates beyond the"},
                              {"long.pack", "bytes, not the"},
                              {"claims.pack", "record 'blob' is truncated"},
                              {"zeros.pack", "malformed record header"}}) {
        auto r = read_pack(m_dir.path() / name, open_other);
        EXPECT_EQ(r.status().code(), ErrorCode::corrupt) << name;
        EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
    }
    EXPECT_TRUE((*other)->list_runs({})->empty());
    // Control: exactly at its size and limit, it is read.
    EXPECT_EQ(read_pack(file, open_other, PackLimits{declared})->imported, 1);
}

TEST_F(StoreTest, ConcurrentWritersAllSucceed) {
    auto dir = m_dir.path() / "store";
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            auto s = open_sqlite_store(dir, true);
            if (!s) return;
            for (int i = 0; i < 5; ++i) make_run(**s, "t" + std::to_string(t), 3);
            ++ok;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 4);
    EXPECT_EQ(m_store->list_runs({})->size(), 20u);
}

// Producers faster than the store wait for room in the writer's queue
// (bounded at 16,384 events): more than that, from two threads at once,
// are all stored, numbered without a gap, and the run seals and verifies.
TEST_F(StoreTest, ProducersBeyondTheQueueBoundAreHeldBackAndAllStored) {
    std::string id = make_run(*m_store, "small", 2);  // (control: a run far below the bound)
    EXPECT_EQ(m_store->events(id)->size(), 2u);
    RunRow row = test::incomplete_run();
    auto writer = RunWriter::start(*m_store, row, {});
    ASSERT_TRUE(writer.is_ok());
    constexpr int k_each = 20000;
    std::vector<std::thread> producers;
    std::atomic<int> refused{0};
    for (int t = 0; t < 2; ++t)
        producers.emplace_back([&, t] {
            for (int i = 0; i < k_each; ++i) {
                core::Event e;
                e.seq = (*writer)->next_seq();
                e.kind = core::EventKind::tool;
                e.name = "t" + std::to_string(t);
                std::string in = std::to_string(t * k_each + i);
                e.request = core::Digest::of(in).to_string();
                if (!(*writer)->complete(e, {{e.request, in}}).is_ok()) ++refused;
            }
        });
    for (auto& p : producers) p.join();
    EXPECT_EQ(refused.load(), 0);
    Json metadata = {{"id", row.id},
                     {"started_ns", core::ns_text(row.started_ns)},
                     {"ended_ns", core::ns_text(row.started_ns + 1)}};
    auto sealed = (*writer)->seal({metadata, Json{{"exit_code", 0}}, 0, row.started_ns + 1, {}});
    ASSERT_TRUE(sealed.is_ok()) << sealed.status().message();
    EXPECT_EQ(sealed->event_count, 2 * k_each);
    EXPECT_EQ(m_store->run_blob_digests(row.id)->size(), std::size_t{2 * k_each});
    auto report = verify_run(*m_store, row.id);
    ASSERT_TRUE(report.is_ok());
    EXPECT_TRUE(report->ok) << report->problem;
    EXPECT_FALSE(report->incomplete);
    EXPECT_EQ(report->events, 2 * k_each);
}

// The processes of a probe's --jobs open a new store at once, and each
// wants its secret: one is made, all of them get it, nobody fails (they
// once shared one temporary file, and one's chmod found it removed).
TEST(StoreSecret, ProcessesThatMakeItAtOnceAllGetTheSameOne) {
    for (int round = 0; round < 20; ++round) {
        test::TempDir dir;
        std::vector<std::unique_ptr<Store>> stores;
        for (int i = 0; i < 6; ++i) {
            auto opened = open_sqlite_store(dir.path(), true);
            ASSERT_TRUE(opened.is_ok()) << opened.status().message();
            stores.push_back(std::move(opened).value());
        }
        std::vector<std::string> keys(stores.size());
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < stores.size(); ++i)
            threads.emplace_back([&, i] {
                auto key = stores[i]->secret();
                keys[i] = key ? *key : "error: " + key.status().message();
            });
        for (auto& t : threads) t.join();
        for (const auto& key : keys) {
            EXPECT_EQ(key.size(), 64u) << key;
            EXPECT_EQ(key, keys[0]);
        }
        auto perms = std::filesystem::status(dir.path() / "secret").permissions();
        EXPECT_EQ(perms & std::filesystem::perms::all,
                  std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
            EXPECT_EQ(entry.path().filename().string().find("secret."), std::string::npos)
                << "left behind: " << entry.path();
        if (testing::Test::HasFailure()) break;
    }
}

TEST_F(StoreTest, IncompleteRunIsListedAndVerifiedAsIncomplete) {
    RunRow row;
    row.id = core::RunId::generate().str();
    row.state = "incomplete";
    row.started_ns = 1;
    Json conditions = Json::object();
    row.conditions_digest = core::identify_conditions(conditions)->digest.to_string();
    row.conditions = *core::canonicalize(conditions);
    row.metadata = *core::canonicalize(Json{{"id", row.id}, {"started_ns", "1"}});
    ASSERT_TRUE(m_store->insert_run(row, {}).is_ok());
    auto v = verify_run(*m_store, row.id);
    EXPECT_TRUE(v->ok) << v->problem;
    EXPECT_TRUE(v->incomplete);
}

TEST(StoreOpen, CorruptFileIsAClearError) {
    test::TempDir dir;
    test::write_file(dir.path() / "retrace.db", std::string(4096, 'x'));
    auto s = open_sqlite_store(dir.path(), false);
    ASSERT_FALSE(s.is_ok());
    EXPECT_EQ(s.status().code(), ErrorCode::corrupt) << s.status().message();
    EXPECT_NE(s.status().message().find(dir.path().string()), std::string::npos);
}

TEST(StoreOpen, NewerSchemaIsRefused) {
    test::TempDir dir;
    { ASSERT_TRUE(open_sqlite_store(dir.path(), true).is_ok()); }
    sqlite3* db = nullptr;
    sqlite3_open((dir.path() / "retrace.db").c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    auto s = open_sqlite_store(dir.path(), false);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.status().message().find("newer"), std::string::npos);
}

TEST(StoreOpen, MissingStoreIsNotCreatedByReaders) {
    test::TempDir dir;
    auto s = open_sqlite_store(dir.path() / "nope", false);
    EXPECT_EQ(s.status().code(), ErrorCode::not_found);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "nope"));
}

// The store log: what retrace does keeps it intact; a run deleted,
// inserted or reordered behind retrace's back is named.
TEST_F(StoreTest, TheStoreLogFollowsSealsAndRemovalsAndNamesWhatBypassedIt) {
    std::string a = make_run(*m_store, "a", 1), b = make_run(*m_store, "b", 1);
    auto log = verify_store_log(*m_store).value();
    EXPECT_TRUE(log.present);
    EXPECT_EQ(log.entries, 2);
    EXPECT_TRUE(log.problems.empty()) << log.problems.front();
    ASSERT_TRUE(m_store->remove_runs({a}).is_ok());  // the control: rm leaves a tombstone
    log = verify_store_log(*m_store).value();
    EXPECT_EQ(log.entries, 3);
    EXPECT_TRUE(log.problems.empty());
    auto entries = m_store->store_log().value().value();
    EXPECT_EQ(entries[2].kind, "removed");
    EXPECT_EQ(entries[2].run_id, a);

    // Deleted without retrace.
    sql("DELETE FROM runs WHERE id = '" + b + "'");
    log = verify_store_log(*m_store).value();
    ASSERT_EQ(log.problems.size(), 1u);
    EXPECT_NE(log.problems[0].find("run " + b + " is in the store log but not in the store"),
              std::string::npos);
}

TEST_F(StoreTest, TheStoreLogNamesAnInsertedRunAndReorderedEntries) {
    std::string a = make_run(*m_store, "a", 1), b = make_run(*m_store, "b", 1);
    sql("INSERT INTO runs SELECT 'X' || substr(id, 2), name, state, replay_of, started_ns, "
        "ended_ns, exit_code, conditions, conditions_digest, metadata, metadata_digest, outcome, "
        "outcome_digest, chain_head, event_count, record_digest FROM runs WHERE id = '" +
        a + "'");
    auto log = verify_store_log(*m_store).value();
    ASSERT_EQ(log.problems.size(), 1u);
    EXPECT_NE(log.problems[0].find("is sealed in the store but not in its log"), std::string::npos);
    sql("DELETE FROM runs WHERE id LIKE 'X%'");
    EXPECT_TRUE(verify_store_log(*m_store)->problems.empty());  // the control
    sql("UPDATE store_log SET position = 3 WHERE position = 1");
    sql("UPDATE store_log SET position = 1 WHERE position = 2");
    sql("UPDATE store_log SET position = 2 WHERE position = 3");
    log = verify_store_log(*m_store).value();
    EXPECT_FALSE(log.problems.empty());
    EXPECT_NE(log.problems[0].find("link mismatch"), std::string::npos) << log.problems[0];
    (void)b;
}

TEST(StoreLog, AStoreFromBeforeTheLogGetsItsSealedRunsOnOpening) {
    test::TempDir dir;
    std::string a, b;
    {
        auto store = open_sqlite_store(dir.path(), true).value();
        a = make_run(*store, "a", 1);
        b = make_run(*store, "b", 1);
    }
    // Back to schema 2: no log.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / "retrace.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE store_log; PRAGMA user_version = 2", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    auto store = open_sqlite_store(dir.path(), false).value();
    auto entries = store->store_log().value().value();
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].kind, "added");
    auto log = verify_store_log(*store).value();
    EXPECT_TRUE(log.problems.empty());
    EXPECT_EQ(log.head, entries[1].digest);
}

// An index readers do not need is made when missing, without a new schema
// version: an older retrace still opens the store.
TEST(StoreMigration, AnIndexIsAddedWithoutANewVersion) {
    test::TempDir dir;
    { auto store = open_sqlite_store(dir.path(), true).value(); }
    auto ask = [&](const char* sql) {
        sqlite3* db = nullptr;
        EXPECT_EQ(sqlite3_open((dir.path() / "retrace.db").c_str(), &db), SQLITE_OK);
        sqlite3_stmt* q = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &q, nullptr), SQLITE_OK);
        long long v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
        sqlite3_finalize(q);
        sqlite3_close(db);
        return v;
    };
    const char* has_index = "SELECT count(*) FROM sqlite_master WHERE name = 'runs_by_state'";
    EXPECT_EQ(ask(has_index), 1);
    EXPECT_EQ(ask("PRAGMA user_version"), 3);
    ask("DROP INDEX runs_by_state");  // a store made before it
    EXPECT_EQ(ask(has_index), 0);
    { auto store = open_sqlite_store(dir.path(), false).value(); }
    EXPECT_EQ(ask(has_index), 1);
    EXPECT_EQ(ask("PRAGMA user_version"), 3);
}

}  // namespace
}  // namespace retrace::store

namespace retrace::store {
namespace {

// Recorders started together all create the same new store: none of them
// may fail with "database is locked" (the switch to WAL needs a retry).
TEST(StoreOpen, ManyProcessesCreatingOneStoreAllSucceed) {
    for (int round = 0; round < 20; ++round) {
        test::TempDir dir;
        std::vector<std::thread> threads;
        std::atomic<int> failures{0};
        std::string message;
        std::mutex m;
        for (int i = 0; i < 12; ++i)
            threads.emplace_back([&] {
                auto s = open_sqlite_store(dir.path() / "store", true);
                if (!s) {
                    ++failures;
                    std::lock_guard lock(m);
                    message = s.status().message();
                }
            });
        for (auto& t : threads) t.join();
        ASSERT_EQ(failures.load(), 0) << "round " << round << ": " << message;
    }
}

}  // namespace
}  // namespace retrace::store

namespace retrace::store {
namespace {

// A blob a run stores again in a later batch is not written twice; every
// run that uses it still references it, so gc keeps it while one remains.
TEST(StoreBlobs, RepeatedBlobsAreReferencedByEveryRunThatUsesThem) {
    test::TempDir dir;
    auto store = open_sqlite_store(dir.path() / "store", true).value();
    std::string body = std::string(300, 'a'), other = "b";
    std::string da = core::Digest::of(body).to_string(), db = core::Digest::of(other).to_string();
    auto run = [&] {
        RunRow row = test::incomplete_run();
        EXPECT_TRUE(store->insert_run(row, {}).is_ok());
        return row.id;
    };
    auto event = [](long long seq, const std::string& response) {
        EventRow e;
        e.event.seq = seq;
        e.event.kind = core::EventKind::http;
        e.event.name = "GET /";
        e.event.response = response;
        e.attrs_text = "{}";
        return e;
    };
    std::string r1 = run(), r2 = run();
    ASSERT_TRUE(store->append(r1, {event(1, da)}, {{da, body}}).is_ok());
    ASSERT_TRUE(store->append(r1, {event(2, da)}, {{da, body}, {db, other}}).is_ok());
    ASSERT_TRUE(store->append(r2, {event(1, da)}, {{da, body}}).is_ok());
    EXPECT_EQ(store->get_blob(da).value().value(), body);
    auto refs1 = store->run_blob_digests(r1).value(), refs2 = store->run_blob_digests(r2).value();
    std::sort(refs1.begin(), refs1.end());
    EXPECT_EQ(refs1, (std::vector<std::string>{std::min(da, db), std::max(da, db)}));
    EXPECT_EQ(refs2, std::vector<std::string>{da});
    ASSERT_TRUE(store->remove_runs({r1}).is_ok());
    ASSERT_TRUE(store->gc().is_ok());
    EXPECT_EQ(store->get_blob(da).value().value(), body) << "still used by the second run";
    EXPECT_FALSE(store->get_blob(db).value().has_value());
}

}  // namespace
}  // namespace retrace::store
