#include "storage/sqlite.h"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "storage/temp_dir.h"

namespace baofeed::storage {
namespace {

using testing::TempDir;

std::int64_t count_rows(Database& db, const std::string& table) {
    return db.query_int("SELECT count(*) FROM " + table);
}

TEST(SqliteDatabase, CreatesAFileAndReadsBackBoundValues) {
    TempDir dir;
    const std::string path = dir.file("t.db");
    {
        Database db(path);
        db.exec("CREATE TABLE t (a TEXT, b INTEGER, c BLOB) STRICT");
        Statement insert = db.prepare("INSERT INTO t (a, b, c) VALUES (?1, ?2, ?3)");
        const std::vector<std::byte> blob = {std::byte{0}, std::byte{0xff}, std::byte{7}};
        insert.bind(1, std::string_view("Đà Nẵng"));
        insert.bind(2, std::int64_t{-9'000'000'000});
        insert.bind_blob(3, blob);
        insert.run();
    }
    Database db(path);
    Statement select = db.prepare("SELECT a, b, c FROM t");
    ASSERT_TRUE(select.step());
    EXPECT_EQ(select.column_text(0), "Đà Nẵng");
    EXPECT_EQ(select.column_int64(1), -9'000'000'000);
    const std::vector<std::byte> expected = {std::byte{0}, std::byte{0xff}, std::byte{7}};
    EXPECT_EQ(select.column_blob(2), expected);
    EXPECT_FALSE(select.step());
}

TEST(SqliteStatement, BindsTextByLengthNotByTerminator) {
    Database db(":memory:");
    Statement echo = db.prepare("SELECT ?1, length(CAST(?2 AS BLOB))");
    const std::string text = "abcdef";
    echo.bind(1, std::string_view(text).substr(0, 3));
    echo.bind(2, std::string_view("x\0y", 3));
    ASSERT_TRUE(echo.step());
    EXPECT_EQ(echo.column_text(0), "abc");
    EXPECT_EQ(echo.column_int64(1), 3);
}

TEST(SqliteStatement, BindsNullsAndOptionals) {
    Database db(":memory:");
    Statement echo = db.prepare("SELECT ?1, ?2, ?3, ?4");
    echo.bind_null(1);
    echo.bind(2, std::optional<std::int64_t>());
    echo.bind(3, std::optional<std::int64_t>(42));
    echo.bind_blob(4, std::span<const std::byte>());
    ASSERT_TRUE(echo.step());
    EXPECT_TRUE(echo.column_is_null(0));
    EXPECT_EQ(echo.column_optional_int64(1), std::nullopt);
    EXPECT_EQ(echo.column_optional_int64(2), 42);
    EXPECT_FALSE(echo.column_is_null(3));  // an empty blob is not NULL
    EXPECT_EQ(echo.column_text(0), "");
}

TEST(SqliteStatement, ResetAllowsRebindingAndRerunning) {
    Database db(":memory:");
    Statement twice = db.prepare("SELECT ?1 * 2");
    for (std::int64_t i = 1; i <= 3; ++i) {
        ScopedReset guard(twice);
        twice.bind(1, i);
        ASSERT_TRUE(twice.step());
        EXPECT_EQ(twice.column_int64(0), i * 2);
    }
}

TEST(SqliteErrors, NameThePathTheSqliteMessageAndTheContext) {
    Database db(":memory:");
    try {
        db.prepare("SELEKT 1");
        FAIL() << "no exception";
    } catch (const StorageError& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind("storage: :memory:: ", 0), 0U) << what;
        EXPECT_NE(what.find("syntax error"), std::string::npos) << what;
        EXPECT_NE(what.find("(SELEKT 1)"), std::string::npos) << what;
    }
}

TEST(SqliteErrors, ConstraintViolationOnStepThrows) {
    Database db(":memory:");
    db.exec("CREATE TABLE t (a INTEGER NOT NULL)");
    Statement insert = db.prepare("INSERT INTO t (a) VALUES (?1)");
    insert.bind_null(1);
    EXPECT_THROW(insert.step(), StorageError);
    insert.reset();
    insert.bind(1, std::int64_t{1});
    EXPECT_NO_THROW(insert.run());
}

TEST(SqliteErrors, PrepareRefusesMoreThanOneStatement) {
    Database db(":memory:");
    EXPECT_THROW(db.prepare("SELECT 1; SELECT 2"), StorageError);
    EXPECT_NO_THROW(db.prepare("SELECT 1;  \n"));
}

TEST(SqliteErrors, OpeningAFileInAMissingDirectoryThrows) {
    TempDir dir;
    const std::string path = dir.file("missing/sub/t.db");
    try {
        Database db(path);
        FAIL() << "no exception";
    } catch (const StorageError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

TEST(SqliteTransaction, RollsBackOnExceptionAndLeavesNothing) {
    TempDir dir;
    Database db(dir.file("t.db"));
    db.exec("CREATE TABLE t (a INTEGER)");
    EXPECT_THROW(
        {
            Transaction tx(db);
            db.exec("INSERT INTO t VALUES (1)");
            db.exec("INSERT INTO t VALUES (2)");
            throw std::runtime_error("boom");
        },
        std::runtime_error);
    EXPECT_TRUE(db.autocommit());
    EXPECT_EQ(count_rows(db, "t"), 0);
}

TEST(SqliteTransaction, CommitKeepsTheRows) {
    Database db(":memory:");
    db.exec("CREATE TABLE t (a INTEGER)");
    {
        Transaction tx(db);
        db.exec("INSERT INTO t VALUES (1)");
        tx.commit();
    }
    EXPECT_EQ(count_rows(db, "t"), 1);
}

TEST(SqliteTransaction, TakesTheWriteLockAtBegin) {
    TempDir dir;
    const std::string path = dir.file("t.db");
    Database first(path);
    first.exec("PRAGMA journal_mode = WAL");
    first.exec("CREATE TABLE t (a INTEGER)");
    Database second(path);  // no busy timeout: a held lock fails at once
    Transaction tx(first);
    EXPECT_THROW(Transaction other(second), StorageError);
    // Readers are not blocked by the writer in WAL mode.
    EXPECT_EQ(count_rows(second, "t"), 0);
}

TEST(SqliteTransaction, DestructorToleratesAnAlreadyEndedTransaction) {
    Database db(":memory:");
    db.exec("CREATE TABLE t (a INTEGER)");
    {
        Transaction tx(db);
        db.exec("INSERT INTO t VALUES (1)");
        db.exec("ROLLBACK");  // ended behind the guard's back
    }
    EXPECT_TRUE(db.autocommit());
    EXPECT_EQ(count_rows(db, "t"), 0);
}

// The checkpointer's thread copies the WAL into the database file on its own connection; the
// committing thread only does so as a backstop, at 8 x `pages` frames.
class WalCheckpointerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_.exec("PRAGMA journal_mode = WAL");
        db_.exec("PRAGMA wal_autocheckpoint = 0");  // nothing else checkpoints
        db_.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
    }
    // One transaction of about `pages` pages of 4 KiB.
    void commit_pages(int pages) {
        Transaction tx(db_);
        for (int i = 0; i < pages; ++i) {
            db_.exec("INSERT INTO t (v) VALUES (zeroblob(4000))");
        }
        tx.commit();
    }
    std::uintmax_t file_size() { return std::filesystem::file_size(path_); }
    // Waits up to 5 s for the database file to reach `bytes`; true when it did.
    bool waits_for(std::uintmax_t bytes) {
        for (int i = 0; i < 500 && file_size() < bytes; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return file_size() >= bytes;
    }
    TempDir dir_;
    std::string path_ = dir_.file("w.db");
    Database db_{path_};
};

TEST_F(WalCheckpointerTest, ItsThreadCopiesTheWalIntoTheDatabaseFileAfterACommitOfManyPages) {
    const WalCheckpointer checkpointer(db_, 100);
    const std::uintmax_t before = file_size();
    commit_pages(300);  // 300 frames: over 100, under the backstop's 800
    EXPECT_TRUE(waits_for(before + 290 * 4096)) << file_size();
}

TEST_F(WalCheckpointerTest, WaitIdleReturnsOnceTheCheckpointACommitRequestedIsDone) {
    WalCheckpointer checkpointer(db_, 100);
    const std::uintmax_t before = file_size();
    commit_pages(300);
    checkpointer.wait_idle();
    EXPECT_GE(file_size(), before + 290 * 4096);  // no waiting for the file here
}

TEST_F(WalCheckpointerTest, WaitIdleReturnsAtOnceWhenNoCheckpointWasEverRequested) {
    WalCheckpointer checkpointer(db_, 1000);
    const std::uintmax_t before = file_size();
    commit_pages(50);
    checkpointer.wait_idle();  // the thread never started: returns, does not hang
    EXPECT_EQ(file_size(), before);
}

TEST_F(WalCheckpointerTest, CheckpointNowCopiesAWalShorterThanTheThresholdBeforeReturning) {
    WalCheckpointer checkpointer(db_, 1000);
    const std::uintmax_t before = file_size();
    commit_pages(50);
    checkpointer.checkpoint_now();
    EXPECT_GE(file_size(), before + 45 * 4096);  // no waiting for the file here
    commit_pages(50);                            // and again, on the thread the first call started
    checkpointer.checkpoint_now();
    EXPECT_GE(file_size(), before + 95 * 4096);
}

TEST_F(WalCheckpointerTest, CommitsOfFewerPagesThanTheThresholdLeaveTheWalAlone) {
    const WalCheckpointer checkpointer(db_, 1000);
    const std::uintmax_t before = file_size();
    commit_pages(50);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(file_size(), before);
}

}  // namespace
}  // namespace baofeed::storage
