// Story clusters across sites, near-duplicate lookup and full-text search.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/textkey.h"
#include "storage/article_store.h"
#include "storage/fts_tokenizer.h"
#include "storage/sample_articles.h"
#include "storage/sqlite.h"
#include "storage/temp_dir.h"

namespace baofeed::storage {
namespace {

using testing::at;
using testing::forest_fire_story;
using testing::make_article;
using testing::TempDir;
using testing::wire_copy;

std::vector<std::string> canonical_urls(const std::vector<StoredArticle>& stored) {
    std::vector<std::string> out;
    for (const StoredArticle& s : stored) {
        out.push_back(s.article.canonical_url);
    }
    return out;
}

std::int64_t cluster_of(const ArticleStore& store, const std::string& url) {
    const auto found = store.find(url);
    EXPECT_TRUE(found.has_value()) << url;
    return found.has_value() ? found->cluster : -1;
}

TEST(StoryClusters, SyndicatedCopiesOnThreeSitesJoinTheFirstCopysClusterAndKeepTheirRecords) {
    ArticleStore store(":memory:");
    store.save({forest_fire_story()}, at(50));
    store.save({wire_copy(0)}, at(100));
    store.save({wire_copy(1), wire_copy(2)}, at(200));

    EXPECT_EQ(store.list(std::nullopt, 0).size(), 4U);  // each paper keeps its own record
    const auto first = store.find(wire_copy(0).canonical_url);
    ASSERT_TRUE(first.has_value());
    const std::int64_t cluster = first->cluster;
    EXPECT_EQ(cluster_of(store, wire_copy(1).canonical_url), cluster);
    EXPECT_EQ(cluster_of(store, wire_copy(2).canonical_url), cluster);
    EXPECT_NE(cluster_of(store, forest_fire_story().canonical_url), cluster);

    // Newest first (published 0 < 1 < 2), and the limit is honoured.
    EXPECT_EQ(canonical_urls(store.cluster(cluster, 0)),
              (std::vector<std::string>{wire_copy(2).canonical_url, wire_copy(1).canonical_url,
                                        wire_copy(0).canonical_url}));
    EXPECT_EQ(store.cluster(cluster, 2).size(), 2U);
    EXPECT_TRUE(store.cluster(123456, 10).empty());
}

TEST(StoryClusters, TheClusterIdIsTheIdOfTheClustersFirstArticle) {
    ArticleStore store(":memory:");
    store.save({wire_copy(0)}, at(1));
    const std::int64_t own = cluster_of(store, wire_copy(0).canonical_url);
    // Alone, an article is its own cluster; a second lone story gets another id.
    store.save({forest_fire_story()}, at(2));
    EXPECT_NE(cluster_of(store, forest_fire_story().canonical_url), own);
    store.save({wire_copy(2)}, at(3));
    EXPECT_EQ(cluster_of(store, wire_copy(2).canonical_url), own);
}

TEST(StoryClusters, DistinctStoriesOnTheSameTopicStayInSeparateClusters) {
    ArticleStore store(":memory:");
    Article other_forest = forest_fire_story();
    other_forest.canonical_url = "https://baobackan.vn/giao-dat-giao-rung.html";
    other_forest.urls = {other_forest.canonical_url};
    other_forest.title = "Bắc Kạn đẩy nhanh giao đất, giao rừng cho cộng đồng";
    other_forest.lead =
        "Năm 2024, tỉnh Bắc Kạn giao hơn 3 nghìn ha rừng tự nhiên cho cộng đồng dân cư thôn bản "
        "quản lý, bảo vệ và hưởng lợi từ dịch vụ môi trường rừng.";
    other_forest.body = {
        "Các cộng đồng nhận rừng được hỗ trợ kinh phí khoán bảo vệ 400 nghìn đồng mỗi ha mỗi năm.",
        "Sở Tài nguyên và Môi trường cho biết sẽ hoàn thành cấp giấy chứng nhận quyền sử dụng "
        "đất lâm nghiệp cho các hộ trong quý I năm sau.",
    };
    store.save({wire_copy(0), forest_fire_story(), other_forest}, at(1));
    const std::int64_t a = cluster_of(store, wire_copy(0).canonical_url);
    const std::int64_t b = cluster_of(store, forest_fire_story().canonical_url);
    const std::int64_t c = cluster_of(store, other_forest.canonical_url);
    EXPECT_NE(a, b);
    EXPECT_NE(a, c);
    EXPECT_NE(b, c);
}

TEST(StoryClusters, AnArticleTooShortToSignIsItsOwnCluster) {
    ArticleStore store(":memory:");
    Article tiny = make_article("https://x.vn/tiny");
    tiny.title = "";
    tiny.lead = "";
    tiny.body = {};
    Article tiny2 = tiny;
    tiny2.canonical_url = "https://x.vn/tiny2";
    tiny2.urls = {tiny2.canonical_url};
    store.save({tiny, tiny2}, at(1));
    EXPECT_NE(cluster_of(store, tiny.canonical_url), cluster_of(store, tiny2.canonical_url));
    EXPECT_TRUE(store.near_duplicates(tiny, 0).empty());
}

TEST(StoryClusters, AnUpdateThatTurnsIntoTheWireStoryMovesToItsCluster) {
    ArticleStore store(":memory:");
    store.save({wire_copy(0)}, at(1));
    Article placeholder = forest_fire_story();
    placeholder.canonical_url = "https://baocaobang.vn/trong-rung-go-lon-2.html";
    placeholder.urls = {placeholder.canonical_url};
    placeholder.site = "baocaobang";
    store.save({placeholder}, at(2));
    const std::int64_t wire = cluster_of(store, wire_copy(0).canonical_url);
    EXPECT_NE(cluster_of(store, placeholder.canonical_url), wire);
    // The paper replaces the page's text with the wire copy: same record, updated, re-clustered.
    EXPECT_EQ(store.save({wire_copy(2)}, at(3))[0], SaveResult::updated);
    EXPECT_EQ(cluster_of(store, placeholder.canonical_url), wire);
    EXPECT_EQ(store.cluster(wire, 0).size(), 2U);
}

Article dated(Article article, std::int64_t days_later) {
    article.published = *article.published + std::chrono::days(days_later);
    return article;
}

TEST(StoryClusters, CopiesWithinAWeekJoinButOneRepublishedAMonthLaterStartsItsOwnCluster) {
    ArticleStore store(":memory:");
    store.save({wire_copy(0)}, at(1));
    store.save({dated(wire_copy(1), 7)}, at(2));
    const std::int64_t wire = cluster_of(store, wire_copy(0).canonical_url);
    EXPECT_EQ(cluster_of(store, wire_copy(1).canonical_url), wire);
    store.save({dated(wire_copy(2), 30)}, at(3));
    EXPECT_NE(cluster_of(store, wire_copy(2).canonical_url), wire);
    EXPECT_TRUE(store.near_duplicates(dated(wire_copy(2), -30), 0).empty());
    // Without a publication date, the story date is when the article was first saved.
    Article undated = wire_copy(2);
    undated.canonical_url = "https://baolangson.vn/rung-go-lon.html";
    undated.urls = {undated.canonical_url};
    undated.published.reset();
    EXPECT_EQ(store.save({undated}, *wire_copy(0).published + std::chrono::days(3))[0],
              SaveResult::inserted);
    EXPECT_EQ(cluster_of(store, undated.canonical_url), wire);
}

TEST(StoryClusters, AStoreSeesTheStoriesAnotherConnectionSavedMeanwhile) {
    TempDir dir;
    const std::string path = dir.file("two.db");
    ArticleStore first(path);
    ArticleStore second(path);
    first.save({forest_fire_story()}, at(1));  // the first store now holds the week in memory
    second.save({wire_copy(0)}, at(2));
    first.save({wire_copy(1)}, at(3));
    EXPECT_EQ(cluster_of(first, wire_copy(1).canonical_url),
              cluster_of(first, wire_copy(0).canonical_url));
}

TEST(StoryClusters, ARolledBackBatchLeavesNoStoryForLaterCopiesToJoin) {
    ArticleStore store(":memory:");
    store.save({forest_fire_story()}, at(1));
    Article invalid = make_article("");
    EXPECT_THROW(store.save({wire_copy(0), invalid}, at(2)), std::invalid_argument);
    store.save({wire_copy(1)}, at(3));
    EXPECT_EQ(cluster_of(store, wire_copy(1).canonical_url),
              store.find(wire_copy(1).canonical_url)->cluster);
    EXPECT_TRUE(store.near_duplicates(wire_copy(2), 0) ==
                std::vector<std::string>{wire_copy(1).canonical_url});
}

TEST(StoryClusters, ABusyWeekGivesTheSameClustersAsAQuietOne) {
    // Enough articles in one week that the writer keeps the week in memory after a while; the
    // copies saved late in it still join the first copy's cluster, and originals stay alone.
    ArticleStore store(":memory:");
    store.save({wire_copy(0)}, at(1));
    for (int batch = 0; batch < 8; ++batch) {
        std::vector<Article> articles;
        for (int i = 0; i < 50; ++i) {
            Article a = forest_fire_story();
            a.canonical_url = "https://x.vn/" + std::to_string(batch) + "-" + std::to_string(i);
            a.urls = {a.canonical_url};
            a.body = {"Bài số " + std::to_string(batch * 50 + i) + " kể chuyện riêng của xã " +
                          std::to_string(i * 7919 % 1000) + " về mùa màng năm " +
                          std::to_string(1900 + batch * 50 + i) + " và con số " +
                          std::to_string(i * 104729 % 100000) + ".",
                      "Ông " + std::to_string(batch) + " nói " + std::to_string(i * 31) +
                          " người đã tham gia."};
            articles.push_back(a);
        }
        store.save(articles, at(10 + batch));
    }
    store.save({wire_copy(1)}, at(100));
    store.save({wire_copy(2)}, at(101));
    const std::int64_t wire = cluster_of(store, wire_copy(0).canonical_url);
    EXPECT_EQ(cluster_of(store, wire_copy(1).canonical_url), wire);
    EXPECT_EQ(cluster_of(store, wire_copy(2).canonical_url), wire);
    EXPECT_EQ(store.cluster(wire, 0).size(), 3U);
    EXPECT_EQ(store.cluster(cluster_of(store, "https://x.vn/7-49"), 0).size(), 1U);
}

// `count` short stories published at `published`, none a near-duplicate of another or of the
// sample stories (https://x.vn/other-0, -1, ...).
std::vector<Article> other_stories(int count, std::optional<Timestamp> published) {
    std::vector<Article> stories;
    for (int i = 0; i < count; ++i) {
        Article a = forest_fire_story();
        a.canonical_url = "https://x.vn/other-" + std::to_string(i);
        a.urls = {a.canonical_url};
        a.published = published;
        a.body = {"Tin số " + std::to_string(i) + " về xã " + std::to_string(i * 7919 % 1000) +
                      " và mùa màng năm " + std::to_string(1900 + i) + ", con số " +
                      std::to_string(i * 104729 % 100000) + ".",
                  "Ông " + std::to_string(i * 31) + " nói nhiều người đã tham gia."};
        stories.push_back(a);
    }
    return stories;
}

// save() inserts a batch's story_lsh rows in key order when the batch ends; the articles of
// the batch must still find each other, and the rows must be those of each article's last text.
TEST(StoryClusters, CopiesSavedInOneBatchJoinTheFirstCopysCluster) {
    TempDir dir;
    const std::string path = dir.file("one-batch.db");
    // A week busy enough that a store opened afterwards asks the file for candidates
    // (story_lsh) instead of loading the week into memory at its first lookups.
    ArticleStore(path).save(other_stories(100, forest_fire_story().published), at(1));
    ArticleStore store(path);
    store.save({wire_copy(0), wire_copy(1), wire_copy(2), forest_fire_story()}, at(2));
    const std::int64_t wire = cluster_of(store, wire_copy(0).canonical_url);
    EXPECT_EQ(cluster_of(store, wire_copy(1).canonical_url), wire);
    EXPECT_EQ(cluster_of(store, wire_copy(2).canonical_url), wire);
    EXPECT_NE(cluster_of(store, forest_fire_story().canonical_url), wire);
}

TEST(StoryClusters, AWeekLoadedIntoMemoryDuringABatchHoldsTheArticlesSavedEarlierInIt) {
    TempDir dir;
    const std::string path = dir.file("loaded-mid-batch.db");
    // 20 other stories in the wire copies' week: a new store asks the file for the first copy's
    // candidates, and loads the week at the second copy's lookup (2 x 16 >= 20).
    ArticleStore(path).save(other_stories(20, wire_copy(0).published), at(1));
    ArticleStore store(path);
    store.save({wire_copy(0), wire_copy(1)}, at(2));
    EXPECT_EQ(cluster_of(store, wire_copy(1).canonical_url),
              cluster_of(store, wire_copy(0).canonical_url));
}

TEST(NearDuplicates, AnArticleRewrittenLaterInTheSameBatchKeepsOnlyTheRowsOfItsNewText) {
    TempDir dir;
    const std::string path = dir.file("rewritten.db");
    ArticleStore store(path);
    const Article article = forest_fire_story();
    Article rewritten = wire_copy(0);
    rewritten.canonical_url = article.canonical_url;
    rewritten.urls = article.urls;
    rewritten.site = article.site;
    const std::vector<SaveResult> results = store.save({article, rewritten}, at(1));
    ASSERT_EQ(results.size(), 2U);
    EXPECT_EQ(results[0], SaveResult::inserted);
    EXPECT_EQ(results[1], SaveResult::updated);

    Article other_text = article;
    other_text.canonical_url = "https://baobackan.vn/lookup.html";
    EXPECT_TRUE(store.near_duplicates(other_text, 0).empty());
    EXPECT_EQ(store.near_duplicates(wire_copy(1), 0),
              std::vector<std::string>{article.canonical_url});
    Database check(path);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh"), textkey::kBands);
}

TEST(NearDuplicates, ARolledBackBatchLeavesNoIndexRowsBehindForTheNextBatch) {
    TempDir dir;
    const std::string path = dir.file("rolled-back.db");
    ArticleStore store(path);
    store.save({forest_fire_story()}, at(1));
    EXPECT_THROW(store.save({wire_copy(0), make_article("")}, at(2)), std::invalid_argument);
    store.save({wire_copy(1)}, at(3));

    Database check(path);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh"), 2 * textkey::kBands);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh WHERE (key & 4294967295) NOT IN "
                              "(SELECT article_id FROM story_signatures)"),
              0);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM story_signatures"), 2);
}

TEST(NearDuplicates, FindsTheOtherCopiesMostSimilarFirstButNotTheArticleItself) {
    ArticleStore store(":memory:");
    store.save({wire_copy(0), wire_copy(1), wire_copy(2), forest_fire_story()}, at(1));
    const std::vector<std::string> found = store.near_duplicates(wire_copy(0), 0);
    ASSERT_EQ(found.size(), 2U);
    EXPECT_EQ(std::set<std::string>(found.begin(), found.end()),
              (std::set<std::string>{wire_copy(1).canonical_url, wire_copy(2).canonical_url}));
    // Most similar first.
    const textkey::Signature self = textkey::signature(wire_copy(0));
    const int first = found[0] == wire_copy(1).canonical_url ? 1 : 2;
    EXPECT_GE(textkey::similarity(self, textkey::signature(wire_copy(first))),
              textkey::similarity(self, textkey::signature(wire_copy(3 - first))));
    EXPECT_EQ(store.near_duplicates(wire_copy(0), 1).size(), 1U);
    EXPECT_TRUE(store.near_duplicates(forest_fire_story(), 0).empty());

    // An article not stored yet finds all three copies.
    Article fourth = wire_copy(1);
    fourth.canonical_url = "https://baolangson.vn/rung-go-lon.html";
    EXPECT_EQ(store.near_duplicates(fourth, 0).size(), 3U);
}

TEST(NearDuplicates, AnUpdatedArticleIsFoundByItsNewTextOnlyAndKeepsOneIndexRowPerBand) {
    TempDir dir;
    const std::string path = dir.file("lsh.db");
    ArticleStore store(path);
    Article article = forest_fire_story();
    store.save({article}, at(1));
    Article other_text = article;
    other_text.canonical_url = "https://baobackan.vn/lookup.html";
    EXPECT_EQ(store.near_duplicates(other_text, 0).size(), 1U);

    // Rewritten into the wire story: the old LSH rows go, the new ones come.
    Article rewritten = wire_copy(0);
    rewritten.canonical_url = article.canonical_url;
    rewritten.urls = article.urls;
    rewritten.site = article.site;
    EXPECT_EQ(store.save({rewritten}, at(2))[0], SaveResult::updated);
    EXPECT_TRUE(store.near_duplicates(other_text, 0).empty());
    Article wire_lookup = wire_copy(1);
    EXPECT_EQ(store.near_duplicates(wire_lookup, 0),
              std::vector<std::string>{article.canonical_url});

    Database check(path);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh"), textkey::kBands);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh WHERE (key & 4294967295) <> "
                              "(SELECT id FROM articles)"),
              0);
}

TEST(Search, MatchesWithoutDiacriticsIncludingDWithStroke) {
    ArticleStore store(":memory:");
    store.save({wire_copy(0), forest_fire_story(), make_article("https://baodanang.vn/a.html")},
               at(1));
    const auto bac_kan = canonical_urls(store.search("bac kan", std::nullopt, 0));
    EXPECT_EQ(bac_kan.size(), 2U);  // the wire copy names Bắc Kạn in its body
    EXPECT_EQ(bac_kan.at(0), forest_fire_story().canonical_url);  // title match ranks first

    EXPECT_EQ(canonical_urls(store.search("dong bao dan toc", std::nullopt, 0)),
              std::vector<std::string>{wire_copy(0).canonical_url});  // "đồng bào"
    EXPECT_EQ(canonical_urls(store.search("THANH PHO DA NANG", std::nullopt, 0)),
              std::vector<std::string>{"https://baodanang.vn/a.html"});  // "thành phố Đà Nẵng"
    EXPECT_EQ(canonical_urls(store.search("thành phố Đà Nẵng", std::nullopt, 0)),
              std::vector<std::string>{"https://baodanang.vn/a.html"});
    EXPECT_EQ(store.search("kiem lam", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.search("go lon", std::nullopt, 0).size(), 1U);
    EXPECT_TRUE(store.search("kiem lam go lon", std::nullopt, 0).empty());  // every word needed
}

TEST(Search, FiltersBySiteAndHonoursTheLimit) {
    ArticleStore store(":memory:");
    store.save({wire_copy(0), wire_copy(1), wire_copy(2)}, at(1));
    EXPECT_EQ(store.search("rung go lon", std::nullopt, 0).size(), 3U);
    EXPECT_EQ(store.search("rung go lon", std::nullopt, 2).size(), 2U);
    EXPECT_EQ(canonical_urls(store.search("rung go lon", "baocaobang", 0)),
              std::vector<std::string>{wire_copy(2).canonical_url});
    EXPECT_TRUE(store.search("rung go lon", "baodanang", 0).empty());
    // Returned records are complete.
    const auto found = store.search("nguyen binh", std::nullopt, 0);
    ASSERT_EQ(found.size(), 1U);
    EXPECT_EQ(found[0].article, wire_copy(2));
}

TEST(Search, QuerySyntaxInTheInputIsPlainText) {
    ArticleStore store(":memory:");
    store.save({forest_fire_story()}, at(1));
    const std::vector<std::string> hostile = {
        "\"",       "\"bac",       "bac\" OR \"x", "title:bac", "bac*",  "NEAR(bac kan)",
        "bac -kan", "(bac) AND (", "^bac",         "{title}:x", "'; --", "   ",
    };
    for (const std::string& query : hostile) {
        EXPECT_NO_THROW(store.search(query, std::nullopt, 0)) << query;
    }
    // OR is a word, not an operator: "bac OR zzz" needs "or" and "zzz" too.
    EXPECT_TRUE(store.search("bac OR zzz", std::nullopt, 0).empty());
    // A star is not a prefix search.
    EXPECT_TRUE(store.search("ba*", std::nullopt, 0).empty());
    EXPECT_EQ(store.search("bac*", std::nullopt, 0).size(), 1U);  // the star is punctuation
    EXPECT_TRUE(store.search("", std::nullopt, 0).empty());
}

TEST(Search, TheIndexFollowsUpdates) {
    ArticleStore store(":memory:");
    Article article = forest_fire_story();
    store.save({article}, at(1));
    article.title = "Lạng Sơn ra quân trồng cây đầu xuân";
    article.lead = "Sáng nay, tỉnh tổ chức Tết trồng cây.";
    article.body = {"Hàng nghìn cây xanh được trồng."};
    store.save({article}, at(2));
    EXPECT_TRUE(store.search("kiem lam", std::nullopt, 0).empty());
    EXPECT_EQ(store.search("lang son", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.search("hang nghin cay", std::nullopt, 0).size(), 1U);
}

TEST(Search, SavingLeavesTheIndexToIndexPendingWhichEverySearchCallsFirst) {
    TempDir dir;
    const std::string path = dir.file("search.db");
    ArticleStore store(path);
    store.save({wire_copy(0), wire_copy(1), forest_fire_story()}, at(1));
    {
        Database check(path);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM articles_fts_docsize"), 0);
    }
    EXPECT_EQ(store.index_pending(), 3U);
    EXPECT_EQ(store.index_pending(), 0U);
    store.save({wire_copy(2)}, at(2));
    EXPECT_EQ(store.search("nguyen binh", std::nullopt, 0).size(), 1U);  // indexed first
    EXPECT_EQ(store.index_pending(), 0U);
    Database check(path);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM articles_fts_docsize"), 4);
}

TEST(Search, AnUpdateSavedTwiceBeforeIndexingKeepsOneEntry) {
    ArticleStore store(":memory:");
    Article article = forest_fire_story();
    store.save({article}, at(1));
    EXPECT_EQ(store.index_pending(), 1U);
    article.body = {"Lần sửa thứ nhất nói về đập thủy lợi."};
    store.save({article}, at(2));
    article.body = {"Lần sửa thứ hai nói về hồ chứa nước."};
    store.save({article}, at(3));
    EXPECT_TRUE(store.search("dap thuy loi", std::nullopt, 0).empty());
    EXPECT_EQ(store.search("ho chua nuoc", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.search("kiem lam", std::nullopt, 0).size(), 1U);  // the lead is unchanged
}

TEST(Search, APrunedArticleLeavesTheIndexAndANewOneGivenItsIdIsFound) {
    TempDir dir;
    const std::string path = dir.file("prune.db");
    ArticleStore store(path);
    store.save({wire_copy(0)}, at(1));
    store.save({forest_fire_story()}, at(5));
    EXPECT_EQ(store.index_pending(), 2U);
    // Prune everything: the next article gets the id of the last one pruned.
    EXPECT_EQ(store.prune(at(10), at(0)).articles, 2U);
    EXPECT_TRUE(store.search("kiem lam", std::nullopt, 0).empty());
    store.save({make_article("https://baodanang.vn/moi.html")}, at(20));
    EXPECT_EQ(store.search("khanh thanh", std::nullopt, 0).size(), 1U);
    Database check(path);
    register_fts_tokenizer(check);
    check.exec("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)");
    EXPECT_EQ(check.query_int("SELECT count(*) FROM articles_fts_docsize"), 1);
}

TEST(Search, FindsWordsThatOnlyThePackedBodyHas) {
    TempDir dir;
    const std::string path = dir.file("packed.db");
    ArticleStore store(path);
    store.save({forest_fire_story(), wire_copy(0)}, at(1));
    EXPECT_EQ(canonical_urls(store.search("dot nuong lam ray", std::nullopt, 0)),
              std::vector<std::string>{forest_fire_story().canonical_url});  // "đốt nương"
    EXPECT_EQ(store.search("rung thong rung keo", std::nullopt, 0).size(), 1U);
    Database check(path);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM articles WHERE body = '' AND "
                              "packed IS NOT NULL"),
              2);
}

TEST(Search, AnArticleUpdatedTwiceAfterIndexingIsFoundByItsLatestTextOnly) {
    TempDir dir;
    const std::string path = dir.file("updates.db");
    ArticleStore store(path);
    Article article = forest_fire_story();
    store.save({article, wire_copy(0)}, at(1));
    EXPECT_EQ(store.index_pending(), 2U);
    article.body = {"Lần sửa thứ nhất nói về đập thủy lợi."};
    article.html = "<p>Lần sửa thứ nhất nói về đập thủy lợi.</p>";
    EXPECT_EQ(store.save({article}, at(2))[0], SaveResult::updated);
    EXPECT_EQ(store.search("dap thuy loi", std::nullopt, 0).size(), 1U);  // indexed again
    article.body = {"Lần sửa thứ hai nói về hồ chứa nước."};
    article.html = "<p>Lần sửa thứ hai nói về hồ chứa nước.</p>";
    EXPECT_EQ(store.save({article}, at(3))[0], SaveResult::updated);
    // A contentless index forgets a text only when given exactly the text it indexed.
    EXPECT_TRUE(store.search("dap thuy loi", std::nullopt, 0).empty());
    EXPECT_TRUE(store.search("112 to doi", std::nullopt, 0).empty());
    EXPECT_EQ(store.search("ho chua nuoc", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.search("rung go lon", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.revisions(article.canonical_url).size(), 2U);
    Database check(path);
    register_fts_tokenizer(check);
    check.exec("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)");
    EXPECT_EQ(check.query_int("SELECT count(*) FROM articles_fts_docsize"), 2);
}

TEST(Search, PrunedPackedArticlesLeaveTheIndexAndASoundFile) {
    TempDir dir;
    const std::string path = dir.file("prune-packed.db");
    ArticleStore store(path);
    Article corrected = forest_fire_story();
    store.save({wire_copy(0), wire_copy(1), corrected}, at(1));
    EXPECT_EQ(store.index_pending(), 3U);
    corrected.body.push_back("Người dân phát hiện cháy rừng gọi số 112.");
    store.save({corrected}, at(2));  // a packed revision; its new text waits for the index
    store.save({wire_copy(2)}, at(20));
    EXPECT_EQ(store.prune(at(10), at(0)).articles, 3U);
    EXPECT_TRUE(store.search("kiem lam", std::nullopt, 0).empty());
    EXPECT_EQ(canonical_urls(store.search("rung go lon", std::nullopt, 0)),
              std::vector<std::string>{wire_copy(2).canonical_url});
    Database check(path);
    EXPECT_EQ(check.query_text("PRAGMA integrity_check"), "ok");
    register_fts_tokenizer(check);
    check.exec("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)");
    EXPECT_EQ(check.query_int("SELECT count(*) FROM articles_fts_docsize"), 1);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM article_revisions"), 0);
}

TEST(Search, IndexPendingIndexesMoreArticlesThanOneTransactionTakes) {
    ArticleStore store(":memory:");
    std::vector<Article> articles;
    for (int i = 0; i < 50'050; ++i) {
        Article a;
        a.canonical_url = "https://x.vn/" + std::to_string(i);
        a.site = "x";
        a.title = "Bản tin số " + std::to_string(i);
        articles.push_back(a);
    }
    articles.back().title = "Bản tin cuối cùng";
    store.save(articles, at(1));
    EXPECT_EQ(store.index_pending(), 50'050U);
    EXPECT_EQ(store.index_pending(), 0U);
    EXPECT_EQ(store.search("ban tin so 1", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.search("cuoi cung", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.search("ban tin", std::nullopt, 0).size(), 50'050U);
}

}  // namespace
}  // namespace baofeed::storage
