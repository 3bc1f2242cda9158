// Crawl state kept by the store: conditional-GET state, robots.txt cache, the frontier, raw
// pages, revisits, and pruning with tombstones.
#include <span>
#include <string>
#include <thread>
#include <vector>
#include <zlib.h>

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
using testing::make_article;
using testing::TempDir;

std::vector<std::string> urls_of(const std::vector<FrontierEntry>& entries) {
    std::vector<std::string> out;
    for (const FrontierEntry& e : entries) {
        out.push_back(e.url);
    }
    return out;
}

std::vector<std::string> canonical_urls(const std::vector<StoredArticle>& stored) {
    std::vector<std::string> out;
    for (const StoredArticle& s : stored) {
        out.push_back(s.article.canonical_url);
    }
    return out;
}

FetchState fetched(const std::string& url, Timestamp when, int status) {
    FetchState state;
    state.url = url;
    state.fetched_at = when;
    state.status = status;
    return state;
}

RawPage raw(const std::string& canonical_url, const std::string& html, int page) {
    RawPage out;
    out.canonical_url = canonical_url;
    out.site = "x";
    out.url = canonical_url;
    out.html = html;
    out.page = page;
    return out;
}

TEST(FetchStates, AreRememberedPerUrlAndReplacedByTheLatestFetch) {
    ArticleStore store(":memory:");
    EXPECT_FALSE(store.fetch_state("https://x.vn/rss").has_value());
    store.remember_fetch({.url = "https://x.vn/rss",
                          .etag = "\"abc\"",
                          .last_modified = "Sat, 21 Dec 2024 10:00:00 GMT",
                          .fetched_at = at(100),
                          .status = 200});
    store.remember_fetch(fetched("https://x.vn/other", at(5), 0));
    auto state = store.fetch_state("https://x.vn/rss");
    ASSERT_TRUE(state.has_value());
    EXPECT_EQ(state->url, "https://x.vn/rss");
    EXPECT_EQ(state->etag, "\"abc\"");
    EXPECT_EQ(state->last_modified, "Sat, 21 Dec 2024 10:00:00 GMT");
    EXPECT_EQ(state->fetched_at, at(100));
    EXPECT_EQ(state->status, 200);

    store.remember_fetch(fetched("https://x.vn/rss", at(200), 304));
    state = store.fetch_state("https://x.vn/rss");
    EXPECT_EQ(state->etag, "");
    EXPECT_EQ(state->status, 304);
    EXPECT_EQ(state->fetched_at, at(200));
    EXPECT_EQ(store.fetch_state("https://x.vn/other")->status, 0);
}

TEST(RobotsCache, RoundTripsAndReplacesPerOrigin) {
    ArticleStore store(":memory:");
    EXPECT_FALSE(store.robots("https://x.vn").has_value());
    CachedRobots robots{.host = "https://x.vn",
                        .body = "User-agent: *\nDisallow: /search\n",
                        .status = 200,
                        .fetched_at = at(10),
                        .expires = at(86'410),
                        .etag = "W/\"1\"",
                        .last_modified = "Mon, 01 Jan 2024 00:00:00 GMT"};
    store.save_robots(robots);
    auto cached = store.robots("https://x.vn");
    ASSERT_TRUE(cached.has_value());
    EXPECT_EQ(cached->host, robots.host);
    EXPECT_EQ(cached->body, robots.body);
    EXPECT_EQ(cached->status, 200);
    EXPECT_EQ(cached->fetched_at, at(10));
    EXPECT_EQ(cached->expires, at(86'410));
    EXPECT_EQ(cached->etag, robots.etag);
    EXPECT_EQ(cached->last_modified, robots.last_modified);

    robots.body = "";
    robots.status = 404;
    store.save_robots(robots);
    EXPECT_EQ(store.robots("https://x.vn")->status, 404);
    EXPECT_EQ(store.robots("https://x.vn")->body, "");
    EXPECT_FALSE(store.robots("http://x.vn").has_value());
}

TEST(Frontier, KeepsNewUrlsOldestFirstPerSiteAndSkipsKnownOnes) {
    ArticleStore store(":memory:");
    store.save({make_article("https://x.vn/stored", "x")}, at(1));
    const std::size_t added = store.add_to_frontier({
        {.site = "x", .url = "https://x.vn/b", .discovered = at(20)},
        {.site = "x", .url = "https://x.vn/a", .discovered = at(10)},
        {.site = "x", .url = "https://x.vn/stored", .discovered = at(5)},  // already stored
        {.site = "y", .url = "https://y.vn/a", .discovered = at(1)},
        {.site = "x", .url = "https://x.vn/a", .discovered = at(30)},  // duplicate
    });
    EXPECT_EQ(added, 3U);
    EXPECT_EQ(urls_of(store.frontier("x", 0)),
              (std::vector<std::string>{"https://x.vn/a", "https://x.vn/b"}));
    EXPECT_EQ(store.frontier("x", 0)[0].discovered, at(10));  // first discovery kept
    EXPECT_EQ(urls_of(store.frontier("x", 1)), std::vector<std::string>{"https://x.vn/a"});
    EXPECT_EQ(urls_of(store.frontier("y", 0)), std::vector<std::string>{"https://y.vn/a"});
    EXPECT_EQ(store.add_to_frontier({{.site = "x", .url = "https://x.vn/b", .discovered = at(40)}}),
              0U);

    store.remove_from_frontier("https://x.vn/a");
    EXPECT_EQ(urls_of(store.frontier("x", 0)), std::vector<std::string>{"https://x.vn/b"});
    // Saving an article takes its URLs off the frontier.
    Article b = make_article("https://x.vn/b-canonical", "x");
    b.urls = {"https://x.vn/b"};
    store.save({b}, at(50));
    EXPECT_TRUE(store.frontier("x", 0).empty());
}

TEST(RawPages, AreKeptCompressedPerCanonicalUrlAndPage) {
    TempDir dir;
    const std::string path = dir.file("raw.db");
    std::string html = "<!doctype html><html><body>";
    for (int i = 0; i < 300; ++i) {
        html += "<p class=\"body\">Đoạn văn số " + std::to_string(i) + " của bài báo.</p>";
    }
    html += "</body></html>";
    const std::string canonical = "https://x.vn/a.html";
    {
        ArticleStore store(path);
        EXPECT_TRUE(store.raw_pages(canonical).empty());
        store.save_raw_pages({
            {.canonical_url = canonical,
             .site = "x",
             .url = "https://m.x.vn/a.html",
             .html = html,
             .fetched_at = at(10),
             .page = 1},
            {.canonical_url = canonical,
             .site = "x",
             .url = "https://x.vn/a.html?p=2",
             .html = "<p>Trang 2</p>",
             .fetched_at = at(11),
             .page = 2},
            {.canonical_url = "https://y.vn/b",
             .site = "y",
             .url = "https://y.vn/b",
             .html = "",
             .fetched_at = at(12),
             .page = 1},
        });
        const std::vector<RawPage> pages = store.raw_pages(canonical);
        ASSERT_EQ(pages.size(), 2U);
        EXPECT_EQ(pages[0].html, html);
        EXPECT_EQ(pages[0].url, "https://m.x.vn/a.html");
        EXPECT_EQ(pages[0].site, "x");
        EXPECT_EQ(pages[0].page, 1);
        EXPECT_EQ(pages[0].fetched_at, at(10));
        EXPECT_EQ(pages[1].html, "<p>Trang 2</p>");
        EXPECT_EQ(pages[1].page, 2);
        EXPECT_EQ(store.raw_pages("https://y.vn/b").at(0).html, "");
        EXPECT_EQ(store.raw_page_articles(std::nullopt),
                  (std::vector<std::string>{canonical, "https://y.vn/b"}));
        EXPECT_EQ(store.raw_page_articles("y"), std::vector<std::string>{"https://y.vn/b"});

        // A new save replaces every page of that article (now a single page).
        store.save_raw_pages({{.canonical_url = canonical,
                               .site = "x",
                               .url = canonical,
                               .html = "<p>mới</p>",
                               .fetched_at = at(20),
                               .page = 1}});
        ASSERT_EQ(store.raw_pages(canonical).size(), 1U);
        EXPECT_EQ(store.raw_pages(canonical)[0].html, "<p>mới</p>");
        store.save_raw_pages({{.canonical_url = canonical,
                               .site = "x",
                               .url = canonical,
                               .html = html,
                               .fetched_at = at(30),
                               .page = 1}});
    }
    Database db(path);
    Statement sizes =
        db.prepare("SELECT size, length(html) FROM raw_pages WHERE canonical_url = ?1");
    sizes.bind(1, canonical);
    ASSERT_TRUE(sizes.step());
    EXPECT_EQ(sizes.column_int64(0), static_cast<std::int64_t>(html.size()));
    EXPECT_LT(sizes.column_int64(1) * 5, sizes.column_int64(0));  // compressed
}

TEST(RawPages, PreparedOnAnotherThreadAreSavedCompressedAndReadBack) {
    std::string html = "<html><body>";
    for (int i = 0; i < 200; ++i) {
        html += "<p>Đoạn " + std::to_string(i) + " của trang báo.</p>";
    }
    html += "</body></html>";
    PreparedRawPage prepared;
    std::thread([&] {
        prepared = ArticleStore::prepare_raw_page(raw("https://x.vn/a", html, 1));
    }).join();
    EXPECT_TRUE(prepared.page.html.empty());
    EXPECT_EQ(prepared.size, html.size());
    EXPECT_LT(prepared.compressed.size() * 5, html.size());
    ArticleStore store(":memory:");
    store.save_raw_pages(std::vector<PreparedRawPage>{prepared});
    ASSERT_EQ(store.raw_pages("https://x.vn/a").size(), 1U);
    EXPECT_EQ(store.raw_pages("https://x.vn/a")[0].html, html);
    EXPECT_THROW(store.save_raw_pages(std::vector<PreparedRawPage>{
                     ArticleStore::prepare_raw_page(raw("https://x.vn/b", "b", 0))}),
                 std::invalid_argument);
}

TEST(RawPages, AreZstdFramesAndRowsOfOlderVersionsInZlibAreStillRead) {
    const std::string html =
        "<html><body><p>Tin cũ, lưu bằng zlib, đọc lại được.</p></body></html>";
    const PreparedRawPage prepared = ArticleStore::prepare_raw_page(raw("https://x.vn/a", html, 1));
    ASSERT_GE(prepared.compressed.size(), 4U);
    EXPECT_EQ(prepared.compressed.substr(0, 4), std::string("\x28\xB5\x2F\xFD"));

    TempDir dir;
    const std::string path = dir.file("old-raw.db");
    {
        ArticleStore store(path);
        store.save_raw_pages({raw("https://x.vn/a", "placeholder", 1)});
    }
    {
        // What versions before zstd wrote: a zlib stream of the page.
        uLongf size = compressBound(static_cast<uLong>(html.size()));
        std::string zlib_data(size, '\0');
        ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(zlib_data.data()), &size,
                            reinterpret_cast<const Bytef*>(html.data()),
                            static_cast<uLong>(html.size()), Z_BEST_SPEED),
                  Z_OK);
        zlib_data.resize(size);
        Database db(path);
        Statement update = db.prepare("UPDATE raw_pages SET html = ?1, size = ?2");
        update.bind_blob(1, std::as_bytes(std::span(zlib_data.data(), zlib_data.size())));
        update.bind(2, static_cast<std::int64_t>(html.size()));
        update.step();
    }
    ArticleStore store(path);
    ASSERT_EQ(store.raw_pages("https://x.vn/a").size(), 1U);
    EXPECT_EQ(store.raw_pages("https://x.vn/a")[0].html, html);
}

TEST(RawPages, APageNumberBelowOneIsRejectedAndNothingIsSaved) {
    ArticleStore store(":memory:");
    EXPECT_THROW(
        store.save_raw_pages({raw("https://x.vn/a", "a", 1), raw("https://x.vn/b", "b", 0)}),
        std::invalid_argument);
    EXPECT_TRUE(store.raw_page_articles(std::nullopt).empty());
}

TEST(Revisits, RecentArticlesNotCheckedLatelyAreDueNewestFirst) {
    ArticleStore store(":memory:");
    Article old_one = make_article("https://x.vn/old", "x");
    old_one.published = at(100);
    Article recent = make_article("https://x.vn/recent", "x");
    recent.published = at(1000);
    Article newer = make_article("https://x.vn/newer", "x");
    newer.published = at(2000);
    Article other_site = make_article("https://y.vn/a", "y");
    other_site.published = at(2000);
    store.save({old_one, recent, newer, other_site}, at(3000));  // all checked at 3000

    EXPECT_TRUE(store.due_for_revisit("x", at(500), at(3000), 0).empty());
    EXPECT_EQ(canonical_urls(store.due_for_revisit("x", at(500), at(3001), 0)),
              (std::vector<std::string>{"https://x.vn/newer", "https://x.vn/recent"}));
    EXPECT_EQ(store.due_for_revisit("x", at(500), at(3001), 1).size(), 1U);
    store.mark_checked("https://x.vn/newer", at(5000));
    EXPECT_EQ(canonical_urls(store.due_for_revisit("x", at(500), at(4000), 0)),
              std::vector<std::string>{"https://x.vn/recent"});
}

TEST(Prune, DeletesOldArticlesWithEverythingTheyOwnAndLeavesTombstones) {
    TempDir dir;
    const std::string path = dir.file("prune.db");
    ArticleStore store(path);
    Article old_one = make_article("https://x.vn/old", "x");
    old_one.id_key = "x#1";
    old_one.urls = {"https://x.vn/old", "https://m.x.vn/old"};
    Article kept = make_article("https://x.vn/kept", "x");
    kept.title = "Bài giữ lại";
    store.save({old_one}, at(100));
    Article old_changed = old_one;
    old_changed.lead = "Đã sửa";
    store.save({old_changed}, at(150));  // a revision
    store.save({kept}, at(1000));
    store.save_raw_pages({
        {.canonical_url = "https://x.vn/old",
         .site = "x",
         .url = "https://x.vn/old",
         .html = "<p>cũ</p>",
         .fetched_at = at(900),
         .page = 1},
        {.canonical_url = "https://x.vn/kept",
         .site = "x",
         .url = "https://x.vn/kept",
         .html = "<p>giữ</p>",
         .fetched_at = at(200),
         .page = 1},
        {.canonical_url = "https://x.vn/kept",
         .site = "x",
         .url = "https://x.vn/kept?p=2",
         .html = "<p>trang 2</p>",
         .fetched_at = at(200),
         .page = 2},
    });
    store.remember_fetch(fetched("https://x.vn/rss", at(10), 200));
    store.remember_fetch(fetched("https://x.vn/rss2", at(600), 200));

    const PruneResult result = store.prune(at(500), at(300));
    EXPECT_EQ(result.articles, 1U);
    EXPECT_EQ(result.raw_pages, 2U);  // kept's old pages; old's page went with its article
    EXPECT_EQ(result.fetch_states, 1U);

    EXPECT_EQ(canonical_urls(store.list(std::nullopt, 0)),
              std::vector<std::string>{"https://x.vn/kept"});
    EXPECT_FALSE(store.knows_url("https://m.x.vn/old"));
    EXPECT_TRUE(store.is_tombstoned("https://x.vn/old"));
    EXPECT_TRUE(store.is_tombstoned("https://m.x.vn/old"));
    EXPECT_FALSE(store.is_tombstoned("https://x.vn/kept"));
    EXPECT_TRUE(store.raw_page_articles(std::nullopt).empty());
    EXPECT_TRUE(store.revisions("https://x.vn/old").empty());
    EXPECT_TRUE(store.search("da sua", std::nullopt, 0).empty());
    EXPECT_FALSE(store.fetch_state("https://x.vn/rss").has_value());
    EXPECT_TRUE(store.fetch_state("https://x.vn/rss2").has_value());

    // Never stored again as new: by URL, by alias, or by article ID under a new URL.
    EXPECT_EQ(store.save({old_one}, at(2000))[0], SaveResult::unchanged);
    Article by_alias = make_article("https://x.vn/old-renamed", "x");
    by_alias.urls = {"https://m.x.vn/old"};
    EXPECT_EQ(store.save({by_alias}, at(2000))[0], SaveResult::unchanged);
    Article by_id = make_article("https://x.vn/old-new-slug", "x");
    by_id.id_key = "x#1";
    EXPECT_EQ(store.save({by_id}, at(2000))[0], SaveResult::unchanged);
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 1U);
    EXPECT_FALSE(store.knows_url("https://x.vn/old-new-slug"));
    // Nor put on the frontier.
    EXPECT_EQ(
        store.add_to_frontier({{.site = "x", .url = "https://x.vn/old", .discovered = at(1)}}), 0U);
    // A live record does not pick up a tombstoned URL as an alias.
    Article kept_again = kept;
    kept_again.urls = {"https://x.vn/kept", "https://x.vn/old"};
    EXPECT_EQ(store.save({kept_again}, at(2100))[0], SaveResult::unchanged);
    EXPECT_EQ(store.find("https://x.vn/kept")->article.urls,
              std::vector<std::string>{"https://x.vn/kept"});

    Database check(path);
    EXPECT_EQ(check.query_text("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(check.query_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    // story_lsh has no foreign key: prune() removes the rows of pruned articles itself.
    EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh WHERE (key & 4294967295) NOT IN "
                              "(SELECT id FROM articles)"),
              0);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh"),
              check.query_int("SELECT count(*) FROM story_signatures") * textkey::kBands);
    register_fts_tokenizer(check);
    check.exec("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)");
}

}  // namespace
}  // namespace baofeed::storage
