#include "storage/article_store.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "storage/identity_filter_check.h"
#include "storage/sample_articles.h"
#include "storage/sqlite.h"
#include "storage/temp_dir.h"

namespace baofeed::storage {
namespace {

using std::chrono::seconds;
using testing::at;
using testing::keys_missing_from_filter;
using testing::make_article;
using testing::TempDir;

std::vector<std::string> canonical_urls(const std::vector<StoredArticle>& stored) {
    std::vector<std::string> out;
    for (const StoredArticle& s : stored) {
        out.push_back(s.article.canonical_url);
    }
    return out;
}

TEST(ArticleStore, RoundTripsEveryFieldOfAnArticle) {
    ArticleStore store(":memory:");
    Article article = make_article("https://baodanang.vn/a-1.html");
    article.id_key = "baodanang#1";
    article.lead_prefix = "ĐN - ";
    article.lead = "ĐN - " + article.lead;
    article.section = "Xã hội";
    article.html = "<p>Đoạn một.</p><figure><img src=\"https://img.example.vn/1.jpg\"></figure>";
    ASSERT_EQ(store.save({article}, at(1'800'000'000)),
              std::vector<SaveResult>{SaveResult::inserted});
    const auto stored = store.list(std::nullopt, 0);
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].article, article);
    EXPECT_EQ(stored[0].first_seen, at(1'800'000'000));
    EXPECT_EQ(stored[0].updated, at(1'800'000'000));
    EXPECT_EQ(stored[0].checked, at(1'800'000'000));
    EXPECT_EQ(stored[0].revisions, 0);
    EXPECT_GT(stored[0].cluster, 0);
}

TEST(ArticleStore, BodyAndHtmlAreStoredAsOneZstdFrameAndReadBackIdentical) {
    TempDir dir;
    const std::string path = dir.file("packed.db");
    ArticleStore store(path);
    Article article = make_article("https://baodanang.vn/packed.html");
    for (int i = 0; i < 40; ++i) {
        article.body.push_back("Đoạn " + std::to_string(i) +
                               ": UBND thành phố Đà Nẵng tổ chức lễ khánh thành cầu mới.");
    }
    for (const std::string& paragraph : article.body) {
        article.html += "<p>" + paragraph + "</p>";
    }
    article.images.push_back({"https://img.example.vn/3.jpg", "Ảnh: Cầu mới \"đẹp\""});
    Article empty = make_article("https://baodanang.vn/empty.html");
    empty.body.clear();
    empty.html.clear();
    ASSERT_EQ(store.save({article, empty}, at(1)),
              std::vector<SaveResult>(2, SaveResult::inserted));
    EXPECT_EQ(store.find(article.canonical_url)->article, article);
    EXPECT_EQ(store.find(empty.canonical_url)->article, empty);
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 2U);

    Database check(path);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM articles WHERE body = '' AND html = '' AND "
                              "hex(substr(packed, 1, 4)) = '28B52FFD'"),
              2);
    std::size_t plain_size = 2;
    for (const std::string& paragraph : article.body) {
        plain_size += paragraph.size() + 3;
    }
    plain_size += article.html.size();
    EXPECT_LT(check.query_int("SELECT length(packed) FROM articles WHERE canonical_url = '" +
                              article.canonical_url + "'") *
                  4,
              static_cast<std::int64_t>(plain_size));
}

TEST(ArticleStore, ACorruptPackedFrameIsAStorageErrorNamingTheFileAndTheArticle) {
    TempDir dir;
    const std::string path = dir.file("corrupt.db");
    ArticleStore store(path);
    Article article = make_article("https://baodanang.vn/hong.html");
    store.save({article, make_article("https://baodanang.vn/lanh.html")}, at(1));
    article.title += " (sửa)";
    store.save({article}, at(2));  // a revision, packed too
    auto expect_named = [&](const std::function<void()>& read, const std::string& url) {
        try {
            read();
            ADD_FAILURE() << "no exception";
        } catch (const StorageError& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find(path), std::string::npos) << what;
            EXPECT_NE(what.find(url), std::string::npos) << what;
            EXPECT_NE(what.find("corrupt packed"), std::string::npos) << what;
        }
    };
    {
        Database raw(path);
        raw.exec("UPDATE article_revisions SET packed = x'28B52FFD0000'");
    }
    expect_named([&] { store.revisions(article.canonical_url); }, article.canonical_url);
    EXPECT_EQ(store.find(article.canonical_url)->article, article);  // the record is sound
    {
        Database raw(path);
        raw.exec("UPDATE articles SET packed = randomblob(64) WHERE canonical_url = '" +
                 article.canonical_url + "'");
    }
    expect_named([&] { store.find(article.canonical_url); }, article.canonical_url);
    expect_named([&] { store.list(std::nullopt, 0); }, article.canonical_url);
    // The index cannot take its text (nor remove it later): indexing fails, naming the file.
    try {
        store.index_pending();
        ADD_FAILURE() << "no exception";
    } catch (const StorageError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("corrupt packed"), std::string::npos) << e.what();
    }
    // Other articles still read.
    EXPECT_TRUE(store.find("https://baodanang.vn/lanh.html").has_value());
}

TEST(ArticleStore, ArticlesPreparedOnOtherThreadsSaveExactlyAsPlainOnes) {
    std::vector<Article> articles;
    for (int i = 0; i < 6; ++i) {
        Article a = make_article("https://baodanang.vn/p-" + std::to_string(i) + ".html");
        a.id_key = "baodanang#" + std::to_string(i);
        a.urls.push_back("https://m.baodanang.vn/p-" + std::to_string(i) + ".html");
        a.urls.push_back(a.canonical_url);  // listed twice: one key
        articles.push_back(a);
    }
    std::vector<PreparedArticle> prepared(articles.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < articles.size(); ++i) {
        threads.emplace_back([&, i] { prepared[i] = ArticleStore::prepare(articles[i]); });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    EXPECT_EQ(prepared[0].identity_urls,
              (std::vector<std::string>{articles[0].canonical_url, articles[0].urls[1]}));
    ArticleStore plain(":memory:");
    ArticleStore fast(":memory:");
    EXPECT_EQ(plain.save(articles, at(5)), fast.save(prepared, at(5)));
    for (const Article& a : articles) {
        ASSERT_TRUE(fast.find(a.urls[1]).has_value());
        EXPECT_EQ(fast.find(a.urls[1])->article, plain.find(a.urls[1])->article);
    }
    // Saved again, prepared: unchanged; a batch with an invalid article saves nothing.
    EXPECT_EQ(fast.save(prepared, at(6)), std::vector<SaveResult>(6, SaveResult::unchanged));
    std::vector<PreparedArticle> bad = {ArticleStore::prepare(make_article("https://x.vn/ok")),
                                        ArticleStore::prepare(make_article(""))};
    EXPECT_THROW(fast.save(bad, at(7)), std::invalid_argument);
    EXPECT_FALSE(fast.knows_url("https://x.vn/ok"));
}

TEST(ArticleStore, RoundTripsEmptyFieldsAndMissingDates) {
    ArticleStore store(":memory:");
    Article article;
    article.canonical_url = "https://baoquangnam.vn/b.html";
    article.site = "baoquangnam";
    // no urls given: the canonical URL is still recorded
    store.save({article}, at(100));
    const auto stored = store.list(std::nullopt, 0);
    ASSERT_EQ(stored.size(), 1U);
    Article expected = article;
    expected.urls = {article.canonical_url};
    EXPECT_EQ(stored[0].article, expected);
    EXPECT_FALSE(stored[0].article.published.has_value());
    EXPECT_FALSE(stored[0].article.modified.has_value());
    EXPECT_TRUE(store.knows_url(article.canonical_url));
}

TEST(ArticleStore, ReportsInsertedThenUnchangedThenUpdated) {
    ArticleStore store(":memory:");
    Article article = make_article("https://baodanang.vn/a.html");
    EXPECT_EQ(store.save({article}, at(1000))[0], SaveResult::inserted);
    EXPECT_EQ(store.save({article}, at(2000))[0], SaveResult::unchanged);
    EXPECT_EQ(store.list(std::nullopt, 0)[0].updated, at(1000));

    article.title += " (cập nhật)";
    EXPECT_EQ(store.save({article}, at(3000))[0], SaveResult::updated);
    const auto stored = store.list(std::nullopt, 0);
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].article.title, article.title);
    EXPECT_EQ(stored[0].first_seen, at(1000));
    EXPECT_EQ(stored[0].updated, at(3000));
}

TEST(ArticleStore, ChangingAnyContentFieldCountsAsAnUpdate) {
    const std::vector<std::pair<std::string, std::function<void(Article&)>>> edits = {
        {"title", [](Article& a) { a.title = "Khác"; }},
        {"author", [](Article& a) { a.author = ""; }},
        {"published", [](Article& a) { a.published.reset(); }},
        {"modified", [](Article& a) { a.modified = at(5); }},
        {"lead", [](Article& a) { a.lead += "."; }},
        {"body split",
         [](Article& a) {
             a.body = {"Đoạn một.Đoạn hai", "Ba"};
         }},
        {"body order", [](Article& a) { std::swap(a.body[0], a.body[1]); }},
        {"image caption", [](Article& a) { a.images[1].caption = "Mới"; }},
        {"image dropped", [](Article& a) { a.images.pop_back(); }},
        {"video poster", [](Article& a) { a.videos[0].poster = ""; }},
        {"lead prefix", [](Article& a) { a.lead_prefix = "TTXVN - "; }},
        {"section", [](Article& a) { a.section = "Kinh tế"; }},
        {"html", [](Article& a) { a.html = "<p>Ba</p>"; }},
        {"html emptied", [](Article& a) { a.html = ""; }},
    };
    for (const auto& [name, edit] : edits) {
        ArticleStore store(":memory:");
        Article article = make_article("https://baodanang.vn/a.html");
        article.section = "Xã hội";
        article.html = "<p>Đoạn một.</p>";
        store.save({article}, at(1));
        edit(article);
        EXPECT_EQ(store.save({article}, at(2))[0], SaveResult::updated) << name;
        EXPECT_EQ(store.list(std::nullopt, 0)[0].article, article) << name;
    }
}

TEST(ArticleStore, FillingInFieldsTheRecordWasSavedWithoutIsNotACorrection) {
    ArticleStore store(":memory:");
    Article article = make_article("https://baodanang.vn/a.html");
    store.save({article}, at(1));  // no lead_prefix, section or html (an older parser)
    article.lead_prefix = "ĐN - ";
    article.section = "Xã hội";
    article.html = "<p>Đoạn một.</p>";
    EXPECT_EQ(store.save({article}, at(2))[0], SaveResult::unchanged);
    const auto stored = store.find(article.canonical_url);
    EXPECT_EQ(stored->article, article);
    EXPECT_EQ(stored->revisions, 0);
    EXPECT_EQ(stored->updated, at(1));
    EXPECT_EQ(stored->checked, at(2));
    // From now on they are content like the rest.
    article.section = "Thời sự";
    EXPECT_EQ(store.save({article}, at(3))[0], SaveResult::updated);
    EXPECT_EQ(store.find(article.canonical_url)->revisions, 1);
}

TEST(ArticleStore, NewAliasesAloneDoNotCountAsAnUpdate) {
    ArticleStore store(":memory:");
    Article article = make_article("https://baodanang.vn/a.html");
    store.save({article}, at(1));
    article.urls.push_back("https://baodanang.vn/a.html?utm_source=fb");
    EXPECT_EQ(store.save({article}, at(2))[0], SaveResult::unchanged);
}

TEST(ArticleStore, AliasesCollapseIntoOneRecordAndAreAllKnown) {
    ArticleStore store(":memory:");
    const std::string canonical = "https://baodanang.vn/a.html";
    Article first = make_article(canonical);
    first.urls = {"https://m.baodanang.vn/a.html", canonical};
    Article second = make_article(canonical);
    second.urls = {"https://baodanang.vn/a.html?zarsrc=1", "https://m.baodanang.vn/a.html"};
    store.save({first}, at(10));
    store.save({second}, at(20));

    const auto stored = store.list(std::nullopt, 0);
    ASSERT_EQ(stored.size(), 1U);
    const std::vector<std::string> expected = {canonical, "https://m.baodanang.vn/a.html",
                                               "https://baodanang.vn/a.html?zarsrc=1"};
    EXPECT_EQ(stored[0].article.urls, expected);
    for (const std::string& url : expected) {
        EXPECT_TRUE(store.knows_url(url)) << url;
    }
    EXPECT_FALSE(store.knows_url("https://baodanang.vn/b.html"));
    EXPECT_FALSE(store.knows_url(""));
}

// Identity keys wait in identity_recent and move to identity_keys once enough wait (schema
// version 10); a record is found the same by every URL and site ID wherever its keys are.
class IdentityKeysInTwoTables : public ::testing::Test {
  protected:
    static Article numbered(int n) {
        Article a =
            make_article("https://baobackan.vn/bai-" + std::to_string(n) + ".html", "baobackan");
        a.id_key = "baobackan#" + std::to_string(n);
        a.urls.push_back("https://m.baobackan.vn/bai-" + std::to_string(n) + ".html");
        return a;
    }
    std::int64_t count(const std::string& table) {
        Database check(path_);
        return check.query_int("SELECT count(*) FROM " + table);
    }
    TempDir dir_;
    std::string path_ = dir_.file("identity.db");
};

TEST_F(IdentityKeysInTwoTables, NewKeysWaitInTheSmallTableUntilTheBatchAfterItFillsUp) {
    ArticleStore store(path_, StoreOptions{.identity_merge_rows = 8});
    store.save({numbered(1), numbered(2), numbered(3)}, at(10));  // 9 keys
    EXPECT_EQ(count("identity_recent"), 9);
    EXPECT_EQ(count("identity_keys"), 0);
    store.save({numbered(4)}, at(20));  // the merge comes first, then the new keys
    EXPECT_EQ(count("identity_keys"), 9);
    EXPECT_EQ(count("identity_recent"), 3);
}

TEST_F(IdentityKeysInTwoTables, EveryRecordIsFoundByEachUrlAndSiteIdOnWhicheverSideItsKeysAre) {
    ArticleStore store(path_, StoreOptions{.identity_merge_rows = 8});
    for (int n = 1; n <= 12; ++n) {
        store.save({numbered(n)}, at(n));
    }
    ASSERT_GT(count("identity_keys"), 0);
    ASSERT_GT(count("identity_recent"), 0);
    for (int n = 1; n <= 12; ++n) {
        const Article a = numbered(n);
        for (const std::string& url : a.urls) {
            const auto found = store.find(url);
            ASSERT_TRUE(found.has_value()) << url;
            EXPECT_EQ(found->article.canonical_url, a.canonical_url);
        }
        // The same article again, by its site ID alone, by its mobile URL alone: no new record.
        Article by_id = a;
        by_id.canonical_url = "https://baobackan.vn/?p=" + std::to_string(n);
        by_id.urls = {by_id.canonical_url};
        Article by_alias = a;
        by_alias.id_key.clear();
        by_alias.canonical_url = a.urls[1];
        by_alias.urls = {a.urls[1]};
        EXPECT_EQ(store.save({by_id, by_alias}, at(100)),
                  (std::vector<SaveResult>{SaveResult::unchanged, SaveResult::unchanged}))
            << n;
    }
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 12U);
    // Each record learnt one URL (?p=N), kept by whichever table took it.
    EXPECT_TRUE(store.knows_url("https://baobackan.vn/?p=1"));
    EXPECT_EQ(store.find("https://baobackan.vn/?p=1")->article.canonical_url,
              numbered(1).canonical_url);
    Database check(path_);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM identity_keys JOIN identity_recent "
                              "USING (key)"),
              0);
    EXPECT_EQ(check.query_int("SELECT (SELECT count(*) FROM identity_keys) + "
                              "(SELECT count(*) FROM identity_recent)"),
              12 * 4);  // id_key, canonical, mobile, ?p=N
}

TEST_F(IdentityKeysInTwoTables, PruningRemovesTheKeysOfBothTablesAndTheUrlsStayRefused) {
    ArticleStore store(path_, StoreOptions{.identity_merge_rows = 8});
    for (int n = 1; n <= 4; ++n) {
        store.save({numbered(n)}, at(n));  // 1-3 merged by the time 4 is saved
    }
    ASSERT_GT(count("identity_keys"), 0);
    ASSERT_GT(count("identity_recent"), 0);
    store.prune(at(1000), at(1000));
    EXPECT_EQ(count("identity_keys"), 0);
    EXPECT_EQ(count("identity_recent"), 0);
    for (int n = 1; n <= 4; ++n) {
        EXPECT_EQ(store.save({numbered(n)}, at(2000))[0], SaveResult::unchanged) << n;
    }
    EXPECT_TRUE(store.list(std::nullopt, 0).empty());
}

// Schema version 11: each merge writes a Bloom filter of identity_keys, so that new keys skip
// the read of the large table; it must hold every key there, in this connection and the others.
class IdentityFilterOfTheLargeTable : public IdentityKeysInTwoTables {
  protected:
    std::optional<std::int64_t> missing() {
        Database check(path_);
        return keys_missing_from_filter(check);
    }
    std::int64_t generation() {
        Database check(path_);
        return check.query_int("SELECT coalesce(max(generation), 0) FROM identity_filter");
    }
    static constexpr StoreOptions kSmall{.identity_merge_rows = 8, .identity_filter_min_keys = 16};
};

TEST_F(IdentityFilterOfTheLargeTable, EachMergeWritesAFilterHoldingEveryKeyOfTheLargeTable) {
    ArticleStore store(path_, kSmall);
    store.save({numbered(1), numbered(2), numbered(3)}, at(1));
    EXPECT_EQ(missing(), std::nullopt);  // no merge yet, no filter
    for (int n = 4; n <= 40; ++n) {
        store.save({numbered(n)}, at(n));
        if (count("identity_keys") > 0) {
            ASSERT_EQ(missing(), 0) << n;
        }
    }
    // 13 merges of 9 to 12 keys; the filter was built for 16 keys, then again for twice the
    // table each time it would have filled.
    EXPECT_EQ(generation(), 13);
    Database check(path_);
    EXPECT_GE(check.query_int("SELECT capacity FROM identity_filter"),
              check.query_int("SELECT keys FROM identity_filter"));
    EXPECT_GT(check.query_int("SELECT capacity FROM identity_filter"), 16);
    // Every article is still one record, found again by each of its keys.
    for (int n = 1; n <= 40; ++n) {
        Article by_alias = numbered(n);
        by_alias.id_key.clear();
        by_alias.canonical_url = by_alias.urls[1];
        by_alias.urls = {by_alias.urls[1]};
        EXPECT_EQ(store.save({by_alias}, at(100))[0], SaveResult::unchanged) << n;
    }
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 40U);
}

TEST_F(IdentityFilterOfTheLargeTable, AFilterAnotherConnectionWroteIsReadBeforeTheNextBatch) {
    ArticleStore first(path_, kSmall);
    ArticleStore second(path_, kSmall);
    first.save({numbered(1), numbered(2), numbered(3)}, at(1));
    first.save({numbered(4)}, at(2));  // merges 1-3: `first` holds the filter of generation 1
    ASSERT_EQ(generation(), 1);
    second.save({numbered(5), numbered(6)}, at(3));
    second.save({numbered(7)}, at(4));  // merges 4-6 and writes generation 2
    ASSERT_EQ(generation(), 2);
    // Article 5 again, by its mobile URL alone: its key is in identity_keys now, which only the
    // filter of generation 2 knows.
    Article by_alias = numbered(5);
    by_alias.id_key.clear();
    by_alias.canonical_url = by_alias.urls[1];
    by_alias.urls = {by_alias.urls[1]};
    EXPECT_EQ(first.save({by_alias}, at(5))[0], SaveResult::unchanged);
    EXPECT_EQ(first.list(std::nullopt, 0).size(), 7U);
    Database check(path_);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM identity_keys JOIN identity_recent "
                              "USING (key)"),
              0);
}

TEST_F(IdentityFilterOfTheLargeTable, ACorruptFilterIsIgnoredAndTheNextMergeWritesAGoodOne) {
    {
        ArticleStore store(path_, kSmall);
        for (int n = 1; n <= 4; ++n) {
            store.save({numbered(n)}, at(n));
        }
    }
    {
        Database db(path_);
        db.exec("UPDATE identity_filter SET bits = x'00'");
    }
    ArticleStore store(path_, kSmall);
    // Article 2 by its mobile URL: its key is in identity_keys; the empty filter would say no.
    Article by_alias = numbered(2);
    by_alias.id_key.clear();
    by_alias.canonical_url = by_alias.urls[1];
    by_alias.urls = {by_alias.urls[1]};
    EXPECT_EQ(store.save({by_alias}, at(10))[0], SaveResult::unchanged);
    for (int n = 5; n <= 8; ++n) {
        store.save({numbered(n)}, at(10 + n));
    }
    EXPECT_EQ(missing(), 0);
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 8U);
}

TEST(ArticleStore, AliasesFirstSeenTogetherAreOrderedByUrl) {
    ArticleStore store(":memory:");
    Article article = make_article("https://x.vn/m");
    article.urls = {"https://x.vn/z", "https://x.vn/m", "https://x.vn/a"};
    store.save({article}, at(1));
    const std::vector<std::string> expected = {"https://x.vn/m", "https://x.vn/a",
                                               "https://x.vn/z"};
    EXPECT_EQ(store.list(std::nullopt, 0)[0].article.urls, expected);
}

TEST(ArticleStore, AnArticleNamingAnotherRecordsAliasIsThatRecord) {
    ArticleStore store(":memory:");
    Article a = make_article("https://x.vn/a");
    a.urls = {"https://x.vn/a", "https://x.vn/shared"};
    Article b = make_article("https://x.vn/b");
    b.urls = {"https://x.vn/b", "https://x.vn/shared"};
    const std::vector<SaveResult> expected = {SaveResult::inserted, SaveResult::updated};
    EXPECT_EQ(store.save({a, b}, at(1)), expected);
    const auto stored = store.list(std::nullopt, 0);
    ASSERT_EQ(stored.size(), 1U);
    // The record keeps its first canonical URL (the feed GUID); the new one is an alias.
    EXPECT_EQ(stored[0].article.canonical_url, "https://x.vn/a");
    EXPECT_EQ(stored[0].article.title, b.title);
    EXPECT_EQ(stored[0].article.urls, (std::vector<std::string>{"https://x.vn/a", "https://x.vn/b",
                                                                "https://x.vn/shared"}));
    EXPECT_EQ(stored[0].revisions, 1);
}

TEST(ArticleStore, TheSiteArticleIdIsTheStrongestIdentity) {
    ArticleStore store(":memory:");
    Article first = make_article("https://baobackan.vn/tin-a-67975.html", "baobackan");
    first.id_key = "baobackan#67975";
    Article other = make_article("https://baobackan.vn/tin-b.html", "baobackan");
    store.save({first, other}, at(1));

    // Same ID under a renamed slug on the mobile host: the same record.
    Article renamed = first;
    renamed.canonical_url = "https://m.baobackan.vn/tin-a-doi-ten-67975.html";
    renamed.urls = {renamed.canonical_url};
    EXPECT_EQ(store.save({renamed}, at(2))[0], SaveResult::unchanged);
    // The ID wins over a canonical URL that names another record.
    Article claims_other = first;
    claims_other.canonical_url = other.canonical_url;
    claims_other.urls = {other.canonical_url};
    EXPECT_EQ(store.save({claims_other}, at(3))[0], SaveResult::unchanged);

    const auto stored = store.list(std::nullopt, 0);
    ASSERT_EQ(stored.size(), 2U);
    const auto found = store.find(renamed.canonical_url);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->article.canonical_url, first.canonical_url);
    EXPECT_EQ(found->article.id_key, "baobackan#67975");
    // other's canonical URL stays with other.
    EXPECT_EQ(store.find(other.canonical_url)->article.canonical_url, other.canonical_url);
}

TEST(ArticleStore, AnIdKeyIsLearntByARecordSavedWithoutOne) {
    ArticleStore store(":memory:");
    Article plain = make_article("https://x.vn/tin-123.html");
    store.save({plain}, at(1));
    Article keyed = plain;
    keyed.id_key = "x#123";
    EXPECT_EQ(store.save({keyed}, at(2))[0], SaveResult::unchanged);
    Article moved = keyed;
    moved.canonical_url = "https://x.vn/tin-moi-123.html";
    moved.urls = {moved.canonical_url};
    EXPECT_EQ(store.save({moved}, at(3))[0], SaveResult::unchanged);
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.find("https://x.vn/tin-moi-123.html")->article.id_key, "x#123");
}

TEST(ArticleStore, CrossHostRedirectUrlsAreAliasesOfOneRecord) {
    ArticleStore store(":memory:");
    Article article = make_article("https://baodanang.vn/a.html");
    article.urls = {"https://baodanang.vn/a.html", "http://dng.vn/r/abc"};
    store.save({article}, at(1));
    // Fetched again through the short link only, with a different canonical guess.
    Article again = article;
    again.canonical_url = "https://baodanang.com.vn/a.html";
    again.urls = {"http://dng.vn/r/abc"};
    EXPECT_EQ(store.save({again}, at(2))[0], SaveResult::unchanged);
    ASSERT_EQ(store.list(std::nullopt, 0).size(), 1U);
    const auto found = store.find("http://dng.vn/r/abc");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->article.urls,
              (std::vector<std::string>{"https://baodanang.vn/a.html", "http://dng.vn/r/abc",
                                        "https://baodanang.com.vn/a.html"}));
    EXPECT_FALSE(store.find("https://baodanang.vn/other.html").has_value());
}

TEST(ArticleStore, ACorrectionKeepsEachEarlierVersionOldestFirst) {
    ArticleStore store(":memory:");
    Article epoch1 = make_article("https://baothainguyen.vn/dinh-chinh.html", "baothainguyen");
    epoch1.lead_prefix = "BTN - ";
    epoch1.lead = "BTN - " + epoch1.lead;
    epoch1.section = "Thời sự";
    epoch1.html = "<p>Đoạn một.</p>";
    Article epoch2 = epoch1;
    epoch2.body[1] = "Đoạn hai đã đính chính số liệu.";
    epoch2.modified = at(1'734'900'000);
    Article epoch3 = epoch2;
    epoch3.title += " (cập nhật)";
    epoch3.modified = at(1'734'990'000);

    EXPECT_EQ(store.save({epoch1}, at(1000))[0], SaveResult::inserted);
    EXPECT_EQ(store.save({epoch2}, at(2000))[0], SaveResult::updated);
    EXPECT_EQ(store.save({epoch2}, at(2500))[0], SaveResult::unchanged);
    EXPECT_EQ(store.save({epoch3}, at(3000))[0], SaveResult::updated);

    const auto stored = store.find(epoch1.canonical_url);
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->article, epoch3);
    EXPECT_EQ(stored->revisions, 2);
    EXPECT_EQ(stored->first_seen, at(1000));
    EXPECT_EQ(stored->updated, at(3000));
    EXPECT_EQ(stored->checked, at(3000));
    EXPECT_EQ(stored->article.modified, at(1'734'990'000));  // as given

    const std::vector<Article> earlier = store.revisions(epoch1.canonical_url);
    ASSERT_EQ(earlier.size(), 2U);
    EXPECT_EQ(earlier[0], epoch1);
    EXPECT_EQ(earlier[1], epoch2);
    EXPECT_TRUE(store.revisions("https://baothainguyen.vn/unknown.html").empty());
}

TEST(ArticleStore, RevisionsAreFoundThroughAnAliasToo) {
    ArticleStore store(":memory:");
    Article article = make_article("https://x.vn/a");
    article.urls = {"https://x.vn/a", "https://m.x.vn/a"};
    store.save({article}, at(1));
    Article changed = article;
    changed.lead = "Khác";
    store.save({changed}, at(2));
    ASSERT_EQ(store.revisions("https://m.x.vn/a").size(), 1U);
    EXPECT_EQ(store.revisions("https://m.x.vn/a")[0].lead, article.lead);
}

TEST(ArticleStore, EverySaveRecordsWhenThePageWasChecked) {
    ArticleStore store(":memory:");
    const Article article = make_article("https://x.vn/a");
    store.save({article}, at(100));
    EXPECT_EQ(store.find("https://x.vn/a")->checked, at(100));
    store.save({article}, at(200));
    EXPECT_EQ(store.find("https://x.vn/a")->checked, at(200));
    EXPECT_EQ(store.find("https://x.vn/a")->updated, at(100));
    store.mark_checked("https://x.vn/a", at(300));
    EXPECT_EQ(store.find("https://x.vn/a")->checked, at(300));
}

TEST(ArticleStore, ABatchMayNameTheSameCanonicalUrlTwice) {
    ArticleStore store(":memory:");
    Article a = make_article("https://x.vn/a");
    Article a_alias = a;
    a_alias.urls = {"https://x.vn/a?page=1"};
    Article b = make_article("https://x.vn/b");
    Article b_changed = b;
    b_changed.lead = "Khác hẳn";
    const auto results = store.save({a, a_alias, b, b_changed}, at(1));
    const std::vector<SaveResult> expected = {SaveResult::inserted, SaveResult::unchanged,
                                              SaveResult::inserted, SaveResult::updated};
    EXPECT_EQ(results, expected);
    const auto stored = store.list(std::nullopt, 0);
    ASSERT_EQ(stored.size(), 2U);
    EXPECT_TRUE(store.knows_url("https://x.vn/a?page=1"));
    for (const StoredArticle& s : stored) {
        if (s.article.canonical_url == "https://x.vn/b") {
            EXPECT_EQ(s.article.lead, "Khác hẳn");
        }
    }
}

TEST(ArticleStore, ListsNewestFirstFallingBackToFirstSeenWithTiesInTheOrderSaved) {
    ArticleStore store(":memory:");
    Article old_one = make_article("https://x.vn/old");
    old_one.published = at(100);
    Article newest = make_article("https://x.vn/newest");
    newest.published = at(300);
    Article undated = make_article("https://x.vn/undated");  // first_seen 200 decides
    undated.published.reset();
    Article tie_b = make_article("https://x.vn/tie-b");
    tie_b.published = at(150);
    Article tie_a = make_article("https://x.vn/tie-a");
    tie_a.published = at(150);
    store.save({old_one, newest, tie_b}, at(50));
    store.save({undated, tie_a}, at(200));

    // tie-b was saved first (schema version 12; earlier versions put tie-a first, by URL).
    const std::vector<std::string> expected = {"https://x.vn/newest", "https://x.vn/undated",
                                               "https://x.vn/tie-b", "https://x.vn/tie-a",
                                               "https://x.vn/old"};
    EXPECT_EQ(canonical_urls(store.list(std::nullopt, 0)), expected);
    EXPECT_EQ(canonical_urls(store.list(std::nullopt, 2)),
              std::vector<std::string>(expected.begin(), expected.begin() + 2));
    EXPECT_EQ(store.list(std::nullopt, 1000).size(), expected.size());
}

TEST(ArticleStore, ListsOneSiteWhenAsked) {
    ArticleStore store(":memory:");
    Article a1 = make_article("https://a.vn/1", "a");
    a1.published = at(1);
    Article a2 = make_article("https://a.vn/2", "a");
    a2.published = at(2);
    Article b1 = make_article("https://b.vn/1", "b");
    b1.published = at(3);
    store.save({a1, b1, a2}, at(10));
    EXPECT_EQ(canonical_urls(store.list("a", 0)),
              (std::vector<std::string>{"https://a.vn/2", "https://a.vn/1"}));
    EXPECT_EQ(canonical_urls(store.list("a", 1)), std::vector<std::string>{"https://a.vn/2"});
    EXPECT_EQ(canonical_urls(store.list("b", 0)), std::vector<std::string>{"https://b.vn/1"});
    EXPECT_TRUE(store.list("c", 0).empty());
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 3U);
}

TEST(ArticleStore, ABatchIsAllOrNothing) {
    ArticleStore store(":memory:");
    Article good = make_article("https://x.vn/good");
    Article bad = make_article("");
    EXPECT_THROW(store.save({good, bad}, at(1)), std::invalid_argument);
    EXPECT_TRUE(store.list(std::nullopt, 0).empty());
    EXPECT_FALSE(store.knows_url("https://x.vn/good"));
    Article no_site = make_article("https://x.vn/no-site", "");
    EXPECT_THROW(store.save({good, no_site}, at(1)), std::invalid_argument);
    EXPECT_TRUE(store.list(std::nullopt, 0).empty());
    // The store is still usable afterwards.
    EXPECT_EQ(store.save({good}, at(2))[0], SaveResult::inserted);
}

TEST(ArticleStore, ReopeningAFileKeepsTheData) {
    TempDir dir;
    const std::string path = dir.file("baofeed.db");
    const Article article = make_article("https://x.vn/a");
    {
        ArticleStore store(path);
        store.save({article}, at(7));
    }
    ArticleStore reopened(path);
    EXPECT_EQ(reopened.schema_version(), ArticleStore::latest_schema_version());
    const auto stored = reopened.list(std::nullopt, 0);
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].article, article);
    EXPECT_EQ(reopened.save({article}, at(8))[0], SaveResult::unchanged);
}

TEST(ArticleStore, FileDatabasesRunInWalModeWithForeignKeys) {
    TempDir dir;
    const std::string path = dir.file("baofeed.db");
    ArticleStore store(path);
    store.save({make_article("https://x.vn/a")}, at(1));
    Database check(path);
    EXPECT_EQ(check.query_text("PRAGMA journal_mode"), "wal");  // persisted in the file
    EXPECT_EQ(check.query_int("PRAGMA user_version"), ArticleStore::latest_schema_version());
}

TEST(ArticleStore, ANewFileHas8KiBPagesAndAnOlderFileKeepsItsOwn) {
    TempDir dir;
    { ArticleStore store(dir.file("new.db")); }
    EXPECT_EQ(Database(dir.file("new.db")).query_int("PRAGMA page_size"), 8192);
    const std::string old_path = dir.file("old.db");
    {
        Database old(old_path);
        old.exec("PRAGMA page_size = 4096");
        old.exec("CREATE TABLE t (x INTEGER) STRICT");  // written before version 10
    }
    ArticleStore store(old_path);
    ASSERT_EQ(store.save({make_article("https://x.vn/a")}, at(1))[0], SaveResult::inserted);
    EXPECT_EQ(store.find("https://x.vn/a")->article, make_article("https://x.vn/a"));
    EXPECT_EQ(Database(old_path).query_int("PRAGMA page_size"), 4096);
}

TEST(ArticleStore, RefusesAFileFromANewerProgram) {
    TempDir dir;
    const std::string path = dir.file("future.db");
    {
        Database db(path);
        db.exec("PRAGMA user_version = " +
                std::to_string(ArticleStore::latest_schema_version() + 1));
    }
    try {
        ArticleStore store(path);
        FAIL() << "no exception";
    } catch (const StorageError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("storage: " + path + ": ", 0), 0U) << e.what();
    }
}

TEST(ArticleStore, AFileThatIsNotADatabaseIsAStorageError) {
    TempDir dir;
    const std::string path = dir.file("junk.db");
    {
        Database db(path);  // creates the file, then overwrite it with junk
    }
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string junk(4096, 'x');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
    EXPECT_THROW(ArticleStore store(path), StorageError);
}

TEST(ArticleStore, TwoStoresOnOneFileInterleaveWritesWithoutLosingAny) {
    TempDir dir;
    const std::string path = dir.file("shared.db");
    ArticleStore first(path);
    ArticleStore second(path);
    first.save({make_article("https://x.vn/1")}, at(1));
    EXPECT_TRUE(second.knows_url("https://x.vn/1"));
    second.save({make_article("https://x.vn/2")}, at(2));
    EXPECT_EQ(first.save({make_article("https://x.vn/2")}, at(3))[0], SaveResult::unchanged);
    EXPECT_EQ(first.list(std::nullopt, 0).size(), 2U);
}

TEST(ArticleStore, StoresOpeningOneNewFileAtTheSameTimeAllOpenIt) {
    // One of them switches the new file to WAL mode while the others find it mid-switch.
    for (int round = 0; round < 30; ++round) {
        TempDir dir;
        const std::string path = dir.file("new.db");
        std::vector<std::string> errors(6);
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < errors.size(); ++t) {
            threads.emplace_back([&path, &errors, t] {
                try {
                    ArticleStore store(path);
                } catch (const std::exception& e) {
                    errors[t] = e.what();
                }
            });
        }
        for (std::thread& thread : threads) {
            thread.join();
        }
        for (const std::string& error : errors) {
            ASSERT_EQ(error, "") << "round " << round;
        }
    }
}

TEST(ArticleStore, TwoStoresOnTwoThreadsWriteConcurrentlyWithoutErrorsOrLostWrites) {
    TempDir dir;
    const std::string path = dir.file("shared.db");
    constexpr int kPerThread = 40;
    auto writer = [&path](const std::string& prefix, std::string* error) {
        try {
            ArticleStore store(path);
            for (int i = 0; i < kPerThread; ++i) {
                Article a = make_article("https://x.vn/" + prefix + std::to_string(i));
                store.save({a}, at(i));
                // Interleave reads, as the crawler does between saves.
                store.knows_url(a.canonical_url);
                store.list(std::nullopt, 5);
            }
        } catch (const std::exception& e) {
            *error = e.what();
        }
    };
    std::string error_a;
    std::string error_b;
    std::thread a(writer, "a", &error_a);
    std::thread b(writer, "b", &error_b);
    a.join();
    b.join();
    EXPECT_EQ(error_a, "");
    EXPECT_EQ(error_b, "");
    ArticleStore check(path);
    EXPECT_EQ(check.list(std::nullopt, 0).size(), 2U * kPerThread);
    EXPECT_EQ(check.list("baodanang", 0).size(), 2U * kPerThread);
}

// Articles of `bytes` of HTML that zstd cannot shrink much (6 random bits per byte).
std::vector<Article> bulky_articles(int first, int count, std::size_t bytes) {
    static constexpr std::string_view kAlphabet =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    std::uint64_t state = 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(first + 1);
    std::vector<Article> out;
    for (int i = first; i < first + count; ++i) {
        Article a = make_article("https://baodanang.vn/bulky-" + std::to_string(i) + ".html");
        a.html.reserve(bytes);
        while (a.html.size() < bytes) {
            state ^= state << 13U;
            state ^= state >> 7U;
            state ^= state << 17U;
            a.html += kAlphabet[state % kAlphabet.size()];
        }
        out.push_back(std::move(a));
    }
    return out;
}

TEST(ArticleStore, CheckpointCopiesTheWalIntoTheDatabaseFileBeforeItReturns) {
    TempDir dir;
    const std::string path = dir.file("baofeed.db");
    ArticleStore store(path);
    store.save(bulky_articles(0, 20, 40'000),
               at(1));  // far fewer pages than a checkpoint waits for
    const std::uintmax_t before = std::filesystem::file_size(path);
    store.checkpoint();
    EXPECT_GT(std::filesystem::file_size(path), before + 200'000);
    ArticleStore(":memory:").checkpoint();  // no WAL: nothing to do, returns
}

TEST(ArticleStorePageCache, GrowsWithTheFileItSavesToUpToItsLimit) {
    TempDir dir;
    const std::string path = dir.file("cache.db");
    const StoreOptions options{.cache_share = 1, .max_cache_bytes = std::int64_t{8} << 20};
    ArticleStore store(path, options);
    EXPECT_EQ(store.page_cache_bytes(), std::int64_t{4} << 20);  // configure_connection's
    store.save(bulky_articles(0, 200, 40'000), at(1));           // ~6 MB of file
    store.save(bulky_articles(200, 1, 40'000), at(2));           // sized at the batch's start
    EXPECT_GT(store.page_cache_bytes(), std::int64_t{5} << 20);
    EXPECT_LT(store.page_cache_bytes(), std::int64_t{8} << 20);
    store.save(bulky_articles(201, 200, 40'000), at(3));
    store.save(bulky_articles(401, 1, 40'000), at(4));
    EXPECT_EQ(store.page_cache_bytes(), std::int64_t{8} << 20);

    ArticleStore by_default(path);  // 1/128 of ~12 MB: under the 4 MiB floor
    by_default.save(bulky_articles(402, 1, 40'000), at(5));
    EXPECT_EQ(by_default.page_cache_bytes(), std::int64_t{4} << 20);
}

}  // namespace
}  // namespace baofeed::storage
