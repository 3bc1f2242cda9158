#include "storage/schema.h"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "storage/fts_tokenizer.h"
#include "storage/temp_dir.h"

namespace baofeed::storage {
namespace {

using testing::TempDir;

bool has_table(Database& db, const std::string& name) {
    Statement query = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = ?1");
    query.bind(1, name);
    query.step();
    return query.column_int64(0) == 1;
}

TEST(SchemaConnection, FileConnectionsUseWalForeignKeysNormalSyncAndABusyTimeout) {
    TempDir dir;
    Database db(dir.file("a.db"));
    configure_connection(db);
    EXPECT_EQ(db.query_text("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(db.query_int("PRAGMA foreign_keys"), 1);
    EXPECT_EQ(db.query_int("PRAGMA synchronous"), 1);  // NORMAL
    EXPECT_EQ(db.query_int("PRAGMA busy_timeout"), 10000);
    EXPECT_EQ(db.query_int("PRAGMA cache_size"), -4096);
    EXPECT_EQ(db.query_int("PRAGMA wal_autocheckpoint"), 16000);
    EXPECT_EQ(db.query_int("PRAGMA mmap_size"), 0);
}

TEST(SchemaConnection, MemoryDatabasesKeepTheirMemoryJournal) {
    Database db(":memory:");
    EXPECT_NO_THROW(configure_connection(db));
    EXPECT_EQ(db.query_int("PRAGMA foreign_keys"), 1);
}

TEST(SchemaMigration, EmptyFileMigratesFromVersionZeroToLatest) {
    TempDir dir;
    Database db(dir.file("a.db"));
    configure_connection(db);
    register_fts_tokenizer(db);
    ASSERT_EQ(user_version(db), 0);
    EXPECT_EQ(migrate(db), latest_version());
    EXPECT_EQ(user_version(db), latest_version());
    EXPECT_GE(latest_version(), 1);
    EXPECT_TRUE(has_table(db, "articles"));
    EXPECT_TRUE(has_table(db, "article_urls"));
    EXPECT_TRUE(has_table(db, "articles_site_newest"));
    // Running it again is a no-op.
    EXPECT_EQ(migrate(db), latest_version());
}

TEST(SchemaMigration, VersionEightNeedsTheBaofeedTokenizerWhichMigrateRegisters) {
    TempDir dir;
    Database db(dir.file("a.db"));
    configure_connection(db);
    try {
        apply_migrations(db, migrations());  // what migrate() does, without registering first
        FAIL() << "no exception";
    } catch (const StorageError& e) {
        EXPECT_NE(std::string(e.what()).find("no such tokenizer: baofeed"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(user_version(db), 7);
    EXPECT_EQ(migrate(db), latest_version());
    EXPECT_NE(db.query_text("SELECT sql FROM sqlite_schema WHERE name = 'articles_fts'")
                  .find("tokenize = 'baofeed'"),
              std::string::npos);
}

TEST(SchemaMigration, RefusesAFileWhoseVersionIsNewerThanTheProgram) {
    TempDir dir;
    const std::string path = dir.file("future.db");
    Database db(path);
    db.exec("PRAGMA user_version = " + std::to_string(latest_version() + 1));
    try {
        migrate(db);
        FAIL() << "no exception";
    } catch (const StorageError& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind("storage: " + path + ": ", 0), 0U) << what;
        EXPECT_NE(what.find("newer"), std::string::npos) << what;
    }
    EXPECT_FALSE(has_table(db, "articles"));
}

TEST(SchemaMigration, AppliesOnlyTheStepsAboveTheFileVersionInOrder) {
    const std::vector<Migration> steps = {
        {1, "CREATE TABLE t (a INTEGER) STRICT;"},
        {2, "ALTER TABLE t ADD COLUMN b TEXT; INSERT INTO t (a, b) VALUES (2, 'two');"},
        {3, "UPDATE t SET b = b || '+3';"},
    };
    Database db(":memory:");
    EXPECT_EQ(apply_migrations(db, std::span(steps).first(1)), 1);
    EXPECT_EQ(user_version(db), 1);
    EXPECT_EQ(apply_migrations(db, steps), 3);
    EXPECT_EQ(db.query_text("SELECT b FROM t WHERE a = 2"), "two+3");
    EXPECT_EQ(apply_migrations(db, steps), 3);  // nothing re-applied
    EXPECT_EQ(db.query_text("SELECT b FROM t WHERE a = 2"), "two+3");
}

TEST(SchemaMigration, AFailingStepLeavesTheLastCompletedVersionAndNoHalfChanges) {
    const std::vector<Migration> steps = {
        {1, "CREATE TABLE t (a INTEGER);"},
        {2, "CREATE TABLE half (a INTEGER); INSERT INTO missing VALUES (1);"},
    };
    Database db(":memory:");
    EXPECT_THROW(apply_migrations(db, steps), StorageError);
    EXPECT_EQ(user_version(db), 1);
    EXPECT_TRUE(has_table(db, "t"));
    EXPECT_FALSE(has_table(db, "half"));
    EXPECT_TRUE(db.autocommit());
}

TEST(SchemaMigration, RejectsAMigrationListWithGaps) {
    const std::vector<Migration> steps = {{1, "SELECT 1;"}, {3, "SELECT 1;"}};
    Database db(":memory:");
    EXPECT_THROW(apply_migrations(db, steps), std::logic_error);
    EXPECT_EQ(user_version(db), 0);
}

class SchemaV1 : public ::testing::Test {
  protected:
    void SetUp() override {
        configure_connection(db_);
        apply_migrations(db_, migrations().first(1));
    }
    void insert_article(const std::string& url, const std::string& published) {
        db_.exec(
            "INSERT INTO articles (canonical_url, site, title, author, published, modified, lead, "
            "body, images, videos, content_hash, first_seen, updated) VALUES ('" +
            url + "', 's', 't', '', " + published + ", NULL, '', '[]', '[]', '[]', 0, 1, 1)");
    }
    Database db_{":memory:"};
};

TEST_F(SchemaV1, TablesAreStrictAboutColumnTypes) {
    EXPECT_NO_THROW(insert_article("https://a/1", "1700000000"));
    EXPECT_THROW(insert_article("https://a/2", "'yesterday'"), StorageError);
}

TEST_F(SchemaV1, CanonicalUrlsAreUnique) {
    insert_article("https://a/1", "NULL");
    EXPECT_THROW(insert_article("https://a/1", "NULL"), StorageError);
}

TEST_F(SchemaV1, UrlsMustPointAtAnArticleAndGoAwayWithIt) {
    EXPECT_THROW(db_.exec("INSERT INTO article_urls VALUES ('https://x', 99, 1)"), StorageError);
    insert_article("https://a/1", "NULL");
    db_.exec("INSERT INTO article_urls SELECT 'https://a/1?x', id, 1 FROM articles");
    db_.exec("DELETE FROM articles");
    EXPECT_EQ(db_.query_int("SELECT count(*) FROM article_urls"), 0);
}

TEST_F(SchemaV1, SiteListingUsesTheSiteIndex) {
    Statement plan = db_.prepare(
        "EXPLAIN QUERY PLAN SELECT id FROM articles WHERE site = 's' "
        "ORDER BY coalesce(published, first_seen) DESC, canonical_url ASC LIMIT 10");
    std::string details;
    while (plan.step()) {
        details += plan.column_text(3) + "\n";
    }
    EXPECT_NE(details.find("articles_site_newest"), std::string::npos) << details;
    EXPECT_EQ(details.find("TEMP B-TREE"), std::string::npos) << details;
}

// The latest schema: identity lives in identity_keys, so articles has no UNIQUE text index;
// article URLs still belong to their article; listings still use their indexes.
class SchemaLatest : public ::testing::Test {
  protected:
    void SetUp() override {
        configure_connection(db_);
        register_fts_tokenizer(db_);
        migrate(db_);
    }
    void insert_article(const std::string& url) {
        db_.exec(
            "INSERT INTO articles (canonical_url, site, title, author, published, modified, lead, "
            "body, images, videos, content_hash, first_seen, updated) VALUES ('" +
            url + "', 's', 't', '', NULL, NULL, '', '[]', '[]', '[]', 0, 1, 1)");
    }
    std::string plan(const std::string& sql) {
        Statement rows = db_.prepare("EXPLAIN QUERY PLAN " + sql);
        std::string details;
        while (rows.step()) {
            details += rows.column_text(3) + "\n";
        }
        return details;
    }
    Database db_{":memory:"};
};

TEST_F(SchemaLatest, ArticlesHaveNoTextIndexOutsideTheListingIndexes) {
    EXPECT_EQ(db_.query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                            "tbl_name = 'articles'"),
              4);  // newest, site_newest, cluster_newest, by_first_seen
    insert_article("https://a/1");
    EXPECT_NO_THROW(insert_article("https://a/1"));  // the program keeps URLs apart
}

TEST_F(SchemaLatest, UrlsMustPointAtAnArticleAndGoAwayWithIt) {
    EXPECT_THROW(db_.exec("INSERT INTO article_urls VALUES (99, 'https://x', 1)"), StorageError);
    insert_article("https://a/1");
    db_.exec("INSERT INTO article_urls SELECT id, 'https://a/1?x', 1 FROM articles");
    db_.exec("DELETE FROM articles");
    EXPECT_EQ(db_.query_int("SELECT count(*) FROM article_urls"), 0);
}

TEST_F(SchemaLatest, ListingsAndTheWeekCountUseTheListingIndexes) {
    // As ArticleStore lists (kNewestFirst): by the indexed time, ties by id, with no sort.
    const std::string all = plan(
        "SELECT id FROM articles ORDER BY coalesce(published, first_seen) DESC, id ASC LIMIT 10");
    EXPECT_NE(all.find("articles_newest"), std::string::npos) << all;
    EXPECT_EQ(all.find("TEMP B-TREE"), std::string::npos) << all;
    const std::string site = plan(
        "SELECT id FROM articles WHERE site = 's' "
        "ORDER BY coalesce(published, first_seen) DESC, id ASC LIMIT 10");
    EXPECT_NE(site.find("articles_site_newest"), std::string::npos) << site;
    EXPECT_EQ(site.find("TEMP B-TREE"), std::string::npos) << site;
    const std::string cluster = plan(
        "SELECT id FROM articles WHERE cluster_id = 1 "
        "ORDER BY coalesce(published, first_seen) DESC, id ASC LIMIT 10");
    EXPECT_NE(cluster.find("articles_cluster_newest"), std::string::npos) << cluster;
    EXPECT_EQ(cluster.find("TEMP B-TREE"), std::string::npos) << cluster;
    const std::string week = plan(
        "SELECT count(*) FROM articles WHERE coalesce(published, first_seen) >= 1 AND "
        "coalesce(published, first_seen) < 2");
    EXPECT_NE(week.find("articles_newest"), std::string::npos) << week;
}

}  // namespace
}  // namespace baofeed::storage
