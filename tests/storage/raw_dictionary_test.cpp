// Raw pages compressed against a per-site dictionary (schema version 7): RawPageCompressor,
// ArticleStore::prepare_raw_page / save_raw_pages / raw_pages / latest_raw_dictionary, and the
// dictionaries' share of prune().
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "storage/article_store.h"
#include "storage/packed_content.h"
#include "storage/raw_page_compressor.h"
#include "storage/sample_articles.h"
#include "storage/sqlite.h"
#include "storage/temp_dir.h"

namespace baofeed::storage {
namespace {

namespace fs = std::filesystem;
using testing::at;
using testing::TempDir;

constexpr std::chrono::seconds kFifteenDays{15 * 24 * 3600};

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

// True for a month folder of baothainguyen's article paths (".../202412/slug/index.html").
bool is_month(const std::string& name) {
    return name.size() == 6 &&
           std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The article pages of a fixture site (sorted by path): real news HTML sharing its template.
std::vector<std::string> fixture_pages(const std::string& site) {
    std::vector<fs::path> paths;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(BAOFEED_FIXTURES_DIR) /
                                                              "sites" / site / "www")) {
        const fs::path& path = entry.path();
        if (path.extension() != ".html") {
            continue;
        }
        const bool post = path.filename().string().find("-post") != std::string::npos;
        const bool dated = path.filename() == "index.html" &&
                           is_month(path.parent_path().parent_path().filename().string());
        if (post || dated) {
            paths.push_back(path);
        }
    }
    std::sort(paths.begin(), paths.end());
    std::vector<std::string> pages;
    for (const fs::path& path : paths) {
        pages.push_back(read_file(path));
    }
    return pages;
}

RawPage raw(const std::string& site, const std::string& url, const std::string& html,
            Timestamp fetched_at = at(1000), int page = 1) {
    return RawPage{.canonical_url = url,
                   .site = site,
                   .url = url,
                   .html = html,
                   .fetched_at = fetched_at,
                   .page = page};
}

std::int64_t count(const std::string& path, const std::string& sql) {
    Database db(path);
    return db.query_int(sql);
}

TEST(RawDictionaries, FixturePagesAreLongEnoughToServeAsDictionaries) {
    for (const std::string site : {"baobackan", "baothainguyen"}) {
        const std::vector<std::string> pages = fixture_pages(site);
        ASSERT_GE(pages.size(), 4U) << site;
        for (const std::string& page : pages) {
            EXPECT_TRUE(usable_as_raw_dictionary(page)) << site;
        }
    }
}

TEST(RawDictionaries, PagesCompressedAgainstTheirSitesDictionaryReadBackIdentical) {
    TempDir dir;
    const std::string path = dir.file("dict.db");
    RawPageCompressor compressor(at(1000), kFifteenDays);
    std::map<std::string, std::string> html_by_url;
    std::vector<PreparedRawPage> prepared;
    for (const std::string site : {"baobackan", "baothainguyen"}) {
        int n = 0;
        for (const std::string& html : fixture_pages(site)) {
            const std::string url = "https://" + site + ".vn/" + std::to_string(n++);
            html_by_url[url] = html;
            prepared.push_back(ArticleStore::prepare_raw_page(raw(site, url, html), compressor));
            ASSERT_NE(prepared.back().dictionary, nullptr);
            EXPECT_EQ(prepared.back().dictionary->site, site);
        }
    }
    {
        ArticleStore store(path);
        store.save_raw_pages(prepared);
        for (const auto& [url, html] : html_by_url) {
            const std::vector<RawPage> pages = store.raw_pages(url);
            ASSERT_EQ(pages.size(), 1U) << url;
            EXPECT_EQ(pages[0].html, html) << url;
        }
    }
    EXPECT_EQ(count(path, "SELECT count(*) FROM raw_dictionaries"), 2);
    EXPECT_EQ(count(path, "SELECT count(*) FROM raw_pages WHERE dictionary IS NULL"), 0);
    EXPECT_EQ(count(path, "SELECT count(DISTINCT dictionary) FROM raw_pages"), 2);
    // Read by a store that has no dictionary digested yet.
    ArticleStore again(path);
    for (const auto& [url, html] : html_by_url) {
        EXPECT_EQ(again.raw_pages(url).at(0).html, html) << url;
    }
}

TEST(RawDictionaries, TheSecondPageOfASiteIsLessThanHalfItsSizeWithoutADictionary) {
    const std::vector<std::string> pages = fixture_pages("baobackan");
    RawPageCompressor compressor(at(1000), kFifteenDays);
    const PreparedRawPage first =
        ArticleStore::prepare_raw_page(raw("baobackan", "https://b.vn/1", pages[0]), compressor);
    const PreparedRawPage second =
        ArticleStore::prepare_raw_page(raw("baobackan", "https://b.vn/2", pages[1]), compressor);
    const PreparedRawPage plain =
        ArticleStore::prepare_raw_page(raw("baobackan", "https://b.vn/2", pages[1]));
    EXPECT_EQ(plain.dictionary, nullptr);
    ASSERT_NE(second.dictionary, nullptr);
    EXPECT_EQ(second.dictionary, first.dictionary);
    EXPECT_EQ(second.dictionary->id, raw_dictionary_id(pages[0]));
    EXPECT_LT(second.compressed.size() * 2, plain.compressed.size())
        << second.compressed.size() << " against " << plain.compressed.size();
    // The page that became the dictionary is compressed against itself: almost nothing.
    EXPECT_LT(first.compressed.size(), 100U);
    // The dictionary is stored as a plain frame of the page.
    EXPECT_EQ(decompress_frame(first.dictionary->frame), pages[0]);
}

TEST(RawDictionaries, ShortPagesAreCompressedWithoutOneAndDoNotBecomeOne) {
    RawPageCompressor compressor(at(1000), kFifteenDays);
    const std::string html = "<html><body><p>Ngắn.</p></body></html>";
    const PreparedRawPage prepared =
        ArticleStore::prepare_raw_page(raw("x", "https://x.vn/a", html), compressor);
    EXPECT_EQ(prepared.dictionary, nullptr);
    EXPECT_EQ(compressor.dictionary("x"), nullptr);
    ArticleStore store(":memory:");
    store.save_raw_pages(std::vector<PreparedRawPage>{prepared});
    EXPECT_EQ(store.raw_pages("https://x.vn/a").at(0).html, html);
}

TEST(RawDictionaries, ADictionaryIsStoredOnceAndWithAnyPageThatNeedsIt) {
    TempDir dir;
    const std::string path = dir.file("once.db");
    const std::vector<std::string> pages = fixture_pages("baobackan");
    RawPageCompressor compressor(at(1000), kFifteenDays);
    // The page that made the dictionary is never saved (its article failed on a later page):
    // the pages compressed against it bring it along.
    ArticleStore::prepare_raw_page(raw("baobackan", "https://b.vn/lost", pages[0]), compressor);
    ArticleStore store(path);
    for (std::size_t i = 1; i < pages.size(); ++i) {
        const std::string url = "https://b.vn/" + std::to_string(i);
        store.save_raw_pages(std::vector<PreparedRawPage>{
            ArticleStore::prepare_raw_page(raw("baobackan", url, pages[i]), compressor)});
        EXPECT_EQ(store.raw_pages(url).at(0).html, pages[i]);
    }
    EXPECT_EQ(count(path, "SELECT count(*) FROM raw_dictionaries"), 1);
    EXPECT_EQ(count(path, "SELECT id FROM raw_dictionaries"), raw_dictionary_id(pages[0]));
}

TEST(RawDictionaries, ADictionaryInsertedByATransactionThatRollsBackIsInsertedAgainLater) {
    const std::vector<std::string> pages = fixture_pages("baobackan");
    RawPageCompressor compressor(at(1000), kFifteenDays);
    ArticleStore store(":memory:");
    const PreparedRawPage first =
        ArticleStore::prepare_raw_page(raw("baobackan", "https://b.vn/1", pages[0]), compressor);
    EXPECT_THROW(store.in_transaction([&] {
        store.save_raw_pages(std::vector<PreparedRawPage>{first});
        throw StorageError("storage: a later write of the batch failed");
    }),
                 StorageError);
    EXPECT_TRUE(store.raw_page_articles(std::nullopt).empty());
    const PreparedRawPage second =
        ArticleStore::prepare_raw_page(raw("baobackan", "https://b.vn/2", pages[1]), compressor);
    store.save_raw_pages(std::vector<PreparedRawPage>{second});
    EXPECT_EQ(store.raw_pages("https://b.vn/2").at(0).html, pages[1]);
}

TEST(RawDictionaries, APageWhoseDictionaryIsMissingOrCorruptIsAStorageErrorNamingItsUrl) {
    TempDir dir;
    const std::string path = dir.file("missing.db");
    const std::vector<std::string> pages = fixture_pages("baobackan");
    const std::string url = "https://baobackan.vn/trang-hai.html";
    {
        RawPageCompressor compressor(at(1000), kFifteenDays);
        ArticleStore store(path);
        store.save_raw_pages(std::vector<PreparedRawPage>{
            ArticleStore::prepare_raw_page(raw("baobackan", "https://b.vn/1", pages[0]),
                                           compressor),
            ArticleStore::prepare_raw_page(raw("baobackan", url, pages[1]), compressor)});
    }
    auto expect_error = [&](const std::string& reason) {
        ArticleStore store(path);
        try {
            store.raw_pages(url);
            ADD_FAILURE() << "no error for " << reason;
        } catch (const StorageError& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find(path), std::string::npos) << what;
            EXPECT_NE(what.find(url), std::string::npos) << what;
            EXPECT_NE(what.find(reason), std::string::npos) << what;
        }
    };
    // Bytes that are not a zstd frame, then a frame of other bytes than the id says.
    {
        Database db(path);
        db.exec("UPDATE raw_dictionaries SET content = x'0102030405'");
    }
    expect_error("corrupt");
    {
        Database db(path);
        Statement update = db.prepare("UPDATE raw_dictionaries SET content = ?1");
        const std::string other = compress_frame(pages[2], "test");
        update.bind_blob(1, std::as_bytes(std::span(other.data(), other.size())));
        update.run();
    }
    expect_error("corrupt");
    {
        Database db(path);  // foreign keys are off on a bare connection
        db.exec("DELETE FROM raw_dictionaries");
    }
    expect_error("missing");
    // A corrupt frame with a sound dictionary.
    {
        ArticleStore store(path);
        RawPageCompressor compressor(at(1000), kFifteenDays);
        store.save_raw_pages(std::vector<PreparedRawPage>{
            ArticleStore::prepare_raw_page(raw("baobackan", "https://b.vn/1", pages[0]),
                                           compressor),
            ArticleStore::prepare_raw_page(raw("baobackan", url, pages[1]), compressor)});
        EXPECT_EQ(store.raw_pages(url).at(0).html, pages[1]);
    }
    {
        Database db(path);
        db.exec("UPDATE raw_pages SET html = substr(html, 1, length(html) - 3) WHERE url = '" +
                url + "'");
    }
    expect_error("corrupt");
}

TEST(RawDictionaries, ConcurrentThreadsCompressingPagesOfAFewSitesShareOneDictionaryPerSite) {
    TempDir dir;
    const std::string path = dir.file("threads.db");
    std::vector<std::pair<std::string, std::string>> inputs;  // (site, html)
    for (const std::string site : {"baobackan", "baothainguyen"}) {
        for (const std::string& html : fixture_pages(site)) {
            inputs.emplace_back(site, html);
        }
    }
    // A third site whose pages are the same template with other text.
    for (const std::string& html : fixture_pages("baobackan")) {
        inputs.emplace_back("baobackan-copy", "<!-- copy -->" + html);
    }
    constexpr int kThreads = 8;
    constexpr int kRounds = 6;
    RawPageCompressor compressor(at(1000), kFifteenDays);
    std::vector<std::vector<PreparedRawPage>> prepared(kThreads);
    std::vector<std::vector<std::string>> expected(kThreads);
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int round = 0; round < kRounds; ++round) {
                    for (std::size_t i = 0; i < inputs.size(); ++i) {
                        const auto& [site, html] = inputs[(i + t) % inputs.size()];
                        const std::string url = "https://" + site + ".vn/" + std::to_string(t) +
                                                "/" + std::to_string(round) + "/" +
                                                std::to_string(i);
                        prepared[t].push_back(
                            ArticleStore::prepare_raw_page(raw(site, url, html), compressor));
                        expected[t].push_back(html);
                    }
                }
            });
        }
    }
    std::map<std::string, std::set<std::int64_t>> ids_by_site;
    ArticleStore store(path);
    for (int t = 0; t < kThreads; ++t) {
        for (const PreparedRawPage& page : prepared[t]) {
            ASSERT_NE(page.dictionary, nullptr);
            ids_by_site[page.page.site].insert(page.dictionary->id);
        }
        store.save_raw_pages(prepared[t]);
    }
    ASSERT_EQ(ids_by_site.size(), 3U);
    for (const auto& [site, ids] : ids_by_site) {
        EXPECT_EQ(ids.size(), 1U) << site;
        EXPECT_EQ(*ids.begin(), compressor.dictionary(site)->id) << site;
    }
    ArticleStore reader(path);
    for (int t = 0; t < kThreads; ++t) {
        for (std::size_t i = 0; i < prepared[t].size(); ++i) {
            const std::string& url = prepared[t][i].page.canonical_url;
            ASSERT_EQ(reader.raw_pages(url).at(0).html, expected[t][i]) << url;
        }
    }
    EXPECT_EQ(count(path, "SELECT count(*) FROM raw_dictionaries"), 3);
}

TEST(RawDictionaries, ASecondRunSeededFromTheStoreReusesTheStoredDictionary) {
    TempDir dir;
    const std::string path = dir.file("runs.db");
    const std::vector<std::string> pages = fixture_pages("baobackan");
    std::int64_t first_id = 0;
    {
        ArticleStore store(path);
        EXPECT_FALSE(store.latest_raw_dictionary("baobackan").has_value());
        RawPageCompressor run(at(1000), kFifteenDays);
        store.save_raw_pages(std::vector<PreparedRawPage>{ArticleStore::prepare_raw_page(
            raw("baobackan", "https://b.vn/1", pages[0], at(1000)), run)});
        first_id = run.dictionary("baobackan")->id;
    }
    ArticleStore store(path);
    const std::optional<RawDictionary> stored = store.latest_raw_dictionary("baobackan");
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->id, first_id);
    EXPECT_EQ(stored->site, "baobackan");
    EXPECT_EQ(stored->created, at(1000));
    EXPECT_EQ(stored->content, pages[0]);
    EXPECT_FALSE(store.latest_raw_dictionary("baothainguyen").has_value());

    // Ten minutes later: the stored dictionary is adopted, the run's pages use it.
    RawPageCompressor second(at(1600), kFifteenDays);
    EXPECT_TRUE(second.adopt(*stored));
    EXPECT_FALSE(second.adopt(*stored));  // the site has one now
    const PreparedRawPage page =
        ArticleStore::prepare_raw_page(raw("baobackan", "https://b.vn/2", pages[1]), second);
    ASSERT_NE(page.dictionary, nullptr);
    EXPECT_EQ(page.dictionary->id, first_id);
    EXPECT_EQ(page.dictionary->created, at(1000));
    store.save_raw_pages(std::vector<PreparedRawPage>{page});
    EXPECT_EQ(count(path, "SELECT count(*) FROM raw_dictionaries"), 1);
    EXPECT_EQ(store.raw_pages("https://b.vn/2").at(0).html, pages[1]);

    // Half the retention later it is too old: the run's first page becomes the new one.
    RawPageCompressor later(at(1000) + kFifteenDays, kFifteenDays);
    EXPECT_FALSE(later.adopt(*stored));
    const PreparedRawPage fresh = ArticleStore::prepare_raw_page(
        raw("baobackan", "https://b.vn/3", pages[2], at(1000) + kFifteenDays), later);
    ASSERT_NE(fresh.dictionary, nullptr);
    EXPECT_EQ(fresh.dictionary->id, raw_dictionary_id(pages[2]));
    store.save_raw_pages(std::vector<PreparedRawPage>{fresh});
    EXPECT_EQ(count(path, "SELECT count(*) FROM raw_dictionaries"), 2);
    EXPECT_EQ(store.latest_raw_dictionary("baobackan")->id, raw_dictionary_id(pages[2]));
}

TEST(RawDictionaries, ADictionaryMadeAgainFromTheSameBytesCountsAsNewWithoutASecondRow) {
    TempDir dir;
    const std::string path = dir.file("again.db");
    const std::vector<std::string> pages = fixture_pages("baobackan");
    ArticleStore store(path);
    RawPageCompressor first(at(1000), kFifteenDays);
    store.save_raw_pages(std::vector<PreparedRawPage>{ArticleStore::prepare_raw_page(
        raw("baobackan", "https://b.vn/1", pages[0], at(1000)), first)});
    // Too old to be adopted; the run's first page is the same page again (revisited).
    const Timestamp later = at(1000) + kFifteenDays;
    RawPageCompressor second(later, kFifteenDays);
    ASSERT_FALSE(second.adopt(*store.latest_raw_dictionary("baobackan")));
    store.save_raw_pages(std::vector<PreparedRawPage>{ArticleStore::prepare_raw_page(
        raw("baobackan", "https://b.vn/1", pages[0], later), second)});
    EXPECT_EQ(count(path, "SELECT count(*) FROM raw_dictionaries"), 1);
    EXPECT_EQ(store.latest_raw_dictionary("baobackan")->created, later);
    // So the next run adopts it.
    RawPageCompressor third(later + std::chrono::minutes(10), kFifteenDays);
    EXPECT_TRUE(third.adopt(*store.latest_raw_dictionary("baobackan")));
}

TEST(RawDictionaries, AStoredDictionaryThatDoesNotMatchItsIdIsNotAdopted) {
    const std::vector<std::string> pages = fixture_pages("baobackan");
    RawPageCompressor compressor(at(1000), kFifteenDays);
    RawDictionary wrong{.id = raw_dictionary_id(pages[0]) ^ 1,
                        .site = "baobackan",
                        .created = at(900),
                        .content = pages[0]};
    EXPECT_FALSE(compressor.adopt(wrong));
    RawDictionary tiny{.id = raw_dictionary_id("<p>x</p>"),
                       .site = "baobackan",
                       .created = at(900),
                       .content = "<p>x</p>"};
    EXPECT_FALSE(compressor.adopt(tiny));
    EXPECT_EQ(compressor.dictionary("baobackan"), nullptr);
}

TEST(RawDictionaries, PruneDeletesDictionariesNoPageNeedsButKeepsReferencedOnesAndEachSitesNewest) {
    TempDir dir;
    const std::string path = dir.file("prune.db");
    const std::vector<std::string> pages = fixture_pages("baobackan");
    const std::vector<std::string> other = fixture_pages("baothainguyen");
    ArticleStore store(path);
    auto save_with_new_dictionary = [&](Timestamp created, const std::string& site,
                                        const std::string& url, const std::string& html,
                                        Timestamp fetched_at) {
        RawPageCompressor run(created, kFifteenDays);
        store.save_raw_pages(std::vector<PreparedRawPage>{
            ArticleStore::prepare_raw_page(raw(site, url, html, fetched_at), run)});
        return run.dictionary(site)->id;
    };
    // baobackan: A (oldest, its page pruned), B (its page kept), C (newest, its page pruned).
    const std::int64_t a =
        save_with_new_dictionary(at(100), "baobackan", "https://b.vn/1", pages[0], at(100));
    const std::int64_t b =
        save_with_new_dictionary(at(200), "baobackan", "https://b.vn/2", pages[1], at(400));
    const std::int64_t c =
        save_with_new_dictionary(at(300), "baobackan", "https://b.vn/3", pages[2], at(300));
    // baothainguyen: D, its only page pruned: still the site's newest.
    const std::int64_t d =
        save_with_new_dictionary(at(100), "baothainguyen", "https://t.vn/1", other[0], at(100));
    EXPECT_EQ(count(path, "SELECT count(*) FROM raw_dictionaries"), 4);

    const PruneResult result = store.prune(at(0), at(350));
    EXPECT_EQ(result.raw_pages, 3U);
    EXPECT_EQ(result.raw_dictionaries, 1U);
    std::set<std::int64_t> left;
    {
        Database db(path);
        Statement rows = db.prepare("SELECT id FROM raw_dictionaries");
        while (rows.step()) {
            left.insert(rows.column_int64(0));
        }
        EXPECT_EQ(db.query_text("PRAGMA integrity_check"), "ok");
        EXPECT_EQ(db.query_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    }
    EXPECT_EQ(left, (std::set<std::int64_t>{b, c, d}));
    EXPECT_FALSE(left.contains(a));
    EXPECT_EQ(store.raw_pages("https://b.vn/2").at(0).html, pages[1]);
    EXPECT_EQ(store.latest_raw_dictionary("baobackan")->id, c);

    // Once B's page goes too, B goes; C and D stay the sites' newest.
    EXPECT_EQ(store.prune(at(0), at(500)).raw_dictionaries, 1U);
    EXPECT_EQ(count(path, "SELECT count(*) FROM raw_dictionaries"), 2);
}

}  // namespace
}  // namespace baofeed::storage
