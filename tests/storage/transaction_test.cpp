// One transaction around several writing calls: ArticleStore::in_transaction and the flat
// nesting of storage::Transaction it relies on.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "storage/article_store.h"
#include "storage/sample_articles.h"
#include "storage/sqlite.h"
#include "storage/temp_dir.h"

namespace baofeed::storage {
namespace {

using testing::at;
using testing::make_article;
using testing::TempDir;

FetchState fetched(const std::string& url) {
    return FetchState{
        .url = url, .etag = "\"e1\"", .last_modified = "", .fetched_at = at(100), .status = 200};
}

TEST(Transaction, OpenedInsideAnotherIsPartOfItAndCommitsNothingItself) {
    Database db(":memory:");
    db.exec("CREATE TABLE t (x INTEGER)");
    {
        Transaction outer(db);
        {
            Transaction inner(db);
            db.exec("INSERT INTO t VALUES (1)");
            inner.commit();
        }
        EXPECT_FALSE(db.autocommit());  // still inside the outer transaction
        db.exec("INSERT INTO t VALUES (2)");
    }  // the outer one rolls back: so does what the inner one "committed"
    EXPECT_EQ(db.query_int("SELECT count(*) FROM t"), 0);
    {
        Transaction outer(db);
        {
            Transaction inner(db);
            db.exec("INSERT INTO t VALUES (1)");
            inner.commit();
        }
        outer.commit();
    }
    EXPECT_EQ(db.query_int("SELECT count(*) FROM t"), 1);
}

TEST(ArticleStore, InTransactionCommitsABatchAndItsFetchStatesTogether) {
    TempDir dir;
    ArticleStore store(dir.file("a.sqlite"));
    store.in_transaction([&] {
        store.save({make_article("https://x.vn/a-1.html")}, at(100));
        store.remember_fetch(fetched("https://x.vn/a-1.html"));
        EXPECT_TRUE(store.knows_url("https://x.vn/a-1.html"));  // its own writes are visible
    });
    ArticleStore other(dir.file("a.sqlite"));
    EXPECT_TRUE(other.knows_url("https://x.vn/a-1.html"));
    ASSERT_TRUE(other.fetch_state("https://x.vn/a-1.html").has_value());
}

TEST(ArticleStore, InTransactionThatThrowsLeavesNothingOfItsWork) {
    TempDir dir;
    ArticleStore store(dir.file("a.sqlite"));
    store.save({make_article("https://x.vn/a-0.html")}, at(50));
    EXPECT_THROW(store.in_transaction([&] {
        store.save({make_article("https://x.vn/a-1.html")}, at(100));
        store.remember_fetch(fetched("https://x.vn/a-1.html"));
        throw std::runtime_error("the writer fails halfway");
    }),
                 std::runtime_error);
    EXPECT_FALSE(store.knows_url("https://x.vn/a-1.html"));
    EXPECT_FALSE(store.fetch_state("https://x.vn/a-1.html").has_value());
    EXPECT_TRUE(store.knows_url("https://x.vn/a-0.html"));
    // The store goes on: the next save commits on its own, and the rolled-back article can come
    // again as new.
    EXPECT_EQ(store.save({make_article("https://x.vn/a-1.html")}, at(200)),
              std::vector<SaveResult>{SaveResult::inserted});
    ArticleStore other(dir.file("a.sqlite"));
    EXPECT_TRUE(other.knows_url("https://x.vn/a-1.html"));
}

}  // namespace
}  // namespace baofeed::storage
