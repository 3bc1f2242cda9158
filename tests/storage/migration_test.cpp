// Files written by every earlier schema version open with the current code: their data is kept,
// and the features added since work on it. Each earlier file is built with that version's SQL
// (migrations().first(N)) and rows written the way that version's program wrote them.
#include <algorithm>
#include <bit>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "core/errors.h"
#include "core/textkey.h"
#include "storage/article_store.h"
#include "storage/fts_tokenizer.h"
#include "storage/identity_filter_check.h"
#include "storage/packed_content.h"
#include "storage/sample_articles.h"
#include "storage/schema.h"
#include "storage/sqlite.h"
#include "storage/temp_dir.h"

namespace baofeed::storage {
namespace {

using nlohmann::json;
using testing::at;
using testing::forest_fire_story;
using testing::keys_missing_from_filter;
using testing::make_article;
using testing::TempDir;
using testing::wire_copy;

std::int64_t unix_or_null(const std::optional<Timestamp>& t) {
    return t.has_value() ? static_cast<std::int64_t>(t->time_since_epoch().count()) : 0;
}

json json_or_null(const std::optional<Timestamp>& t) {
    return t.has_value() ? json(unix_or_null(t)) : json(nullptr);
}

// The content columns and hash as the version 1 program serialised them.
struct V1Content {
    std::string body;
    std::string images;
    std::string videos;
    std::int64_t hash;
};

V1Content v1_content(const Article& a) {
    const json body = a.body;
    json images = json::array();
    for (const Image& i : a.images) {
        images.push_back({{"src", i.src}, {"caption", i.caption}});
    }
    json videos = json::array();
    for (const Video& v : a.videos) {
        videos.push_back({{"src", v.src}, {"poster", v.poster}, {"caption", v.caption}});
    }
    const json fields = json::array({a.title, a.author, json_or_null(a.published),
                                     json_or_null(a.modified), a.lead, body, images, videos});
    const std::string canonical = fields.dump(-1, ' ', false, json::error_handler_t::replace);
    return V1Content{body.dump(), images.dump(), videos.dump(),
                     std::bit_cast<std::int64_t>(XXH3_64bits(canonical.data(), canonical.size()))};
}

// Inserts `a` as the version 1 program did; returns its id.
std::int64_t insert_v1(Database& db, const Article& a, std::int64_t first_seen) {
    const V1Content c = v1_content(a);
    Statement insert = db.prepare(
        "INSERT INTO articles (canonical_url, site, title, author, published, modified, lead, "
        "body, images, videos, content_hash, first_seen, updated) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) RETURNING id");
    insert.bind(1, a.canonical_url);
    insert.bind(2, a.site);
    insert.bind(3, a.title);
    insert.bind(4, a.author);
    insert.bind(5,
                a.published.has_value() ? std::optional(unix_or_null(a.published)) : std::nullopt);
    insert.bind(6, a.modified.has_value() ? std::optional(unix_or_null(a.modified)) : std::nullopt);
    insert.bind(7, a.lead);
    insert.bind(8, c.body);
    insert.bind(9, c.images);
    insert.bind(10, c.videos);
    insert.bind(11, c.hash);
    insert.bind(12, first_seen);
    EXPECT_TRUE(insert.step());
    const std::int64_t id = insert.column_int64(0);
    insert.run();
    std::vector<std::string> urls = {a.canonical_url};
    urls.insert(urls.end(), a.urls.begin(), a.urls.end());
    for (const std::string& url : urls) {
        Statement add = db.prepare(
            "INSERT INTO article_urls (url, article_id, first_seen) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (url) DO NOTHING");
        add.bind(1, url);
        add.bind(2, id);
        add.bind(3, first_seen);
        add.run();
    }
    return id;
}

// The persisted LSH bucket key (storage/article_store.cpp, mix_band): pinned here because
// files of version 2 hold it.
std::int64_t v2_band_key(std::size_t band, std::int64_t key) {
    std::uint64_t x = std::bit_cast<std::uint64_t>(key) ^
                      ((static_cast<std::uint64_t>(band) + 1) * 0x9E3779B97F4A7C15ULL);
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    x = x ^ (x >> 31U);
    return std::bit_cast<std::int64_t>(x);
}

// The content hash of version 2: version 1's fields, then lead_prefix, section and html when
// any of them is set.
std::int64_t v2_hash(const Article& a) {
    if (a.lead_prefix.empty() && a.section.empty() && a.html.empty()) {
        return v1_content(a).hash;
    }
    const V1Content c = v1_content(a);
    const json fields =
        json::array({a.title, a.author, json_or_null(a.published), json_or_null(a.modified), a.lead,
                     json::parse(c.body), json::parse(c.images), json::parse(c.videos),
                     a.lead_prefix, a.section, a.html});
    const std::string canonical = fields.dump(-1, ' ', false, json::error_handler_t::replace);
    return std::bit_cast<std::int64_t>(XXH3_64bits(canonical.data(), canonical.size()));
}

// Inserts `a` as a version 2 program did: v1 columns, the v2 columns, its signature and bands.
std::int64_t insert_v2(Database& db, const Article& a, std::int64_t first_seen,
                       std::int64_t cluster) {
    const std::int64_t id = insert_v1(db, a, first_seen);
    Statement update = db.prepare(
        "UPDATE articles SET id_key = ?2, lead_prefix = ?3, section = ?4, html = ?5, "
        "cluster_id = ?6, content_hash = ?7 WHERE id = ?1");
    update.bind(7, v2_hash(a));
    update.bind(1, id);
    update.bind(2, a.id_key);
    update.bind(3, a.lead_prefix);
    update.bind(4, a.section);
    update.bind(5, a.html);
    update.bind(6, cluster == 0 ? id : cluster);
    update.run();
    db.exec("DELETE FROM unsigned_articles WHERE article_id = " + std::to_string(id));
    // Versions 2 and 3 stored signatures of textkey format 1, which this program no longer
    // computes: a stand-in of the same size that matches no current signature, so only a
    // recomputed signature can find the story after the migration to version 4.
    const textkey::Signature signature = textkey::signature(a);
    const std::string bytes(static_cast<std::size_t>(textkey::kSignatureSize) * 4, '\x2a');
    Statement sign =
        db.prepare("INSERT INTO story_signatures (article_id, signature) VALUES (?1, ?2)");
    sign.bind(1, id);
    sign.bind_blob(2, std::as_bytes(std::span(bytes.data(), bytes.size())));
    sign.run();
    const std::vector<std::int64_t> keys = textkey::band_keys(signature);
    for (std::size_t band = 0; band < keys.size(); ++band) {
        Statement add =
            db.prepare("INSERT INTO story_bands (band_key, article_id) VALUES (?1, ?2)");
        add.bind(1, v2_band_key(band, keys[band]));
        add.bind(2, id);
        add.run();
    }
    return id;
}

void expect_consistent(const std::string& path) {
    Database check(path);
    register_fts_tokenizer(check);  // articles_fts is tokenized by it since version 8
    EXPECT_EQ(check.query_text("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(check.query_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    EXPECT_NO_THROW(
        check.exec("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)"));
    EXPECT_EQ(check.query_int("SELECT count(*) FROM unsigned_articles"), 0);
    if (user_version(check) >= 5) {
        EXPECT_EQ(check.query_int("SELECT count(*) FROM unkeyed_articles"), 0);
        // Every URL and site ID of every article has its identity key, in one of the two
        // tables since version 10.
        const std::int64_t recent =
            user_version(check) >= 10 ? check.query_int("SELECT count(*) FROM identity_recent") : 0;
        EXPECT_EQ(check.query_int("SELECT count(*) FROM identity_keys") + recent,
                  check.query_int("SELECT count(*) FROM article_urls") +
                      check.query_int("SELECT count(*) FROM articles WHERE id_key <> ''"));
        if (user_version(check) >= 10) {
            EXPECT_EQ(check.query_int("SELECT count(*) FROM identity_keys JOIN identity_recent "
                                      "USING (key)"),
                      0);
        }
        // Since version 11, a stored filter of identity_keys holds every key there.
        if (user_version(check) >= 11) {
            EXPECT_EQ(keys_missing_from_filter(check).value_or(0), 0);
        }
    }
}

TEST(Migrations, EveryVersionIsOneStepAndTheLatestIsThirteen) {
    ASSERT_EQ(latest_version(), 13);
    ASSERT_EQ(ArticleStore::latest_schema_version(), 13);
}

TEST(Migrations, AVersion1FileKeepsItsArticlesAndGainsClustersSearchAndCrawlState) {
    TempDir dir;
    const std::string path = dir.file("v1.db");
    Article aliased = wire_copy(1);
    aliased.urls = {aliased.canonical_url, "https://m.baothainguyen.vn/rung.html"};
    {
        Database db(path);
        configure_connection(db);
        ASSERT_EQ(apply_migrations(db, migrations().first(1)), 1);
        insert_v1(db, wire_copy(0), 100);
        insert_v1(db, forest_fire_story(), 200);
        insert_v1(db, aliased, 300);
    }
    ArticleStore store(path);
    EXPECT_EQ(store.schema_version(), 13);

    // Data kept, new fields empty, checked = updated.
    const auto copy1 = store.find("https://m.baothainguyen.vn/rung.html");
    ASSERT_TRUE(copy1.has_value());
    EXPECT_EQ(copy1->article.title, aliased.title);
    EXPECT_EQ(copy1->article.body, aliased.body);
    EXPECT_EQ(copy1->article.lead, aliased.lead);
    EXPECT_EQ(copy1->article.urls, aliased.urls);
    EXPECT_EQ(copy1->first_seen, at(300));
    EXPECT_EQ(copy1->checked, at(300));
    EXPECT_EQ(copy1->revisions, 0);
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 3U);

    // Clusters computed for the migrated rows: the two wire copies are one story.
    const std::int64_t wire = store.find(wire_copy(0).canonical_url)->cluster;
    EXPECT_EQ(copy1->cluster, wire);
    EXPECT_NE(store.find(forest_fire_story().canonical_url)->cluster, wire);
    // Search covers the migrated rows.
    EXPECT_EQ(store.search("kiem lam bac kan", std::nullopt, 0).size(), 1U);

    // Same content saved again: unchanged (the v1 content hash still matches), even now that
    // the parser also gives the fields version 1 did not have: they are filled in silently.
    Article plain = wire_copy(0);
    plain.lead_prefix.clear();
    EXPECT_EQ(store.save({plain}, at(400))[0], SaveResult::unchanged);
    Article richer = wire_copy(0);
    richer.section = "Kinh tế";
    richer.html = "<p>Theo báo cáo</p>";
    EXPECT_EQ(store.save({richer}, at(410))[0], SaveResult::unchanged);
    EXPECT_EQ(store.find(richer.canonical_url)->article, richer);
    EXPECT_EQ(store.find(richer.canonical_url)->revisions, 0);
    EXPECT_EQ(store.find(richer.canonical_url)->updated, at(100));
    EXPECT_EQ(store.save({richer}, at(420))[0], SaveResult::unchanged);
    // A third copy joins the migrated cluster; a correction keeps a revision.
    EXPECT_EQ(store.save({wire_copy(2)}, at(500))[0], SaveResult::inserted);
    EXPECT_EQ(store.find(wire_copy(2).canonical_url)->cluster, wire);
    Article corrected = aliased;
    corrected.title += " (đính chính)";
    EXPECT_EQ(store.save({corrected}, at(600))[0], SaveResult::updated);
    ASSERT_EQ(store.revisions(aliased.canonical_url).size(), 1U);
    EXPECT_EQ(store.revisions(aliased.canonical_url)[0].title, aliased.title);
    // Crawl state works.
    EXPECT_EQ(store.add_to_frontier(
                  {{.site = "baobackan", .url = "https://baobackan.vn/new", .discovered = at(1)}}),
              1U);
    EXPECT_EQ(store.prune(at(150), at(0)).articles, 1U);
    EXPECT_TRUE(store.is_tombstoned(wire_copy(0).canonical_url));
    expect_consistent(path);
}

TEST(Migrations, AVersion2FileKeepsIdentityRevisionsAndClustersAndGainsCrawlState) {
    TempDir dir;
    const std::string path = dir.file("v2.db");
    Article keyed = forest_fire_story();
    keyed.id_key = "baobackan#4711";
    keyed.section = "Môi trường";
    keyed.html = "<p>Toàn tỉnh hiện có hơn 370 nghìn ha rừng.</p>";
    Article wire = wire_copy(0);
    std::int64_t wire_id = 0;
    const std::int64_t keyed_cluster = 4711;  // as a version 2 program may have assigned it
    {
        Database db(path);
        configure_connection(db);
        ASSERT_EQ(apply_migrations(db, migrations().first(2)), 2);
        wire_id = insert_v2(db, wire, 100, 0);
        const std::int64_t keyed_id = insert_v2(db, keyed, 200, keyed_cluster);
        db.exec(
            "INSERT INTO article_revisions (article_id, replaced, id_key, title, author, "
            "published, modified, lead, lead_prefix, section, body, images, videos, html) "
            "VALUES (" +
            std::to_string(keyed_id) +
            ", 250, 'baobackan#4711', 'Tiêu đề cũ', '', NULL, NULL, 'Sa pô cũ', '', '', "
            "'[\"Đoạn cũ\"]', '[]', '[]', '')");
        db.exec("UPDATE articles SET updated = 250 WHERE id = " + std::to_string(keyed_id));
    }
    ArticleStore store(path);
    EXPECT_EQ(store.schema_version(), 13);

    const auto found = store.find(keyed.canonical_url);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->article, keyed);
    EXPECT_EQ(found->revisions, 1);
    EXPECT_EQ(found->checked, at(250));  // = updated
    const std::vector<Article> earlier = store.revisions(keyed.canonical_url);
    ASSERT_EQ(earlier.size(), 1U);
    EXPECT_EQ(earlier[0].title, "Tiêu đề cũ");
    EXPECT_EQ(earlier[0].body, std::vector<std::string>{"Đoạn cũ"});

    // Identity by article ID under a new URL.
    Article moved = keyed;
    moved.canonical_url = "https://baobackan.vn/slug-moi-4711.html";
    moved.urls = {moved.canonical_url};
    EXPECT_EQ(store.save({moved}, at(300))[0], SaveResult::unchanged);
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 2U);
    // Signatures recomputed by the migration to version 4 find the story: a copy joins its
    // cluster. Clusters are kept as they were.
    EXPECT_EQ(store.find(keyed.canonical_url)->cluster, keyed_cluster);
    EXPECT_EQ(store.save({wire_copy(1)}, at(400))[0], SaveResult::inserted);
    EXPECT_EQ(store.find(wire_copy(1).canonical_url)->cluster, wire_id);
    EXPECT_EQ(store.near_duplicates(wire_copy(2), 0).size(), 2U);
    // Crawl state works.
    store.save_raw_pages({RawPage{.canonical_url = keyed.canonical_url,
                                  .site = "baobackan",
                                  .url = keyed.canonical_url,
                                  .html = "<html>trang</html>",
                                  .fetched_at = at(300),
                                  .page = 1}});
    EXPECT_EQ(store.raw_pages(keyed.canonical_url).at(0).html, "<html>trang</html>");
    EXPECT_EQ(store.due_for_revisit("baobackan", at(0), at(1000), 0).size(), 2U);
    expect_consistent(path);
}

TEST(Migrations, ContentHashesOfVersion1AreReproducedForEveryKindOfCharacter) {
    TempDir dir;
    const std::string path = dir.file("v1.db");
    std::vector<Article> articles;
    Article tricky = testing::make_article("https://x.vn/tricky");
    tricky.title = "Ngoặc \"kép\", gạch \\ chéo, tab\tvà\x01điều khiển\x1f, /, \x7f, 😀";
    tricky.body = {"", "a\"b", "\\", "Dòng\nmới\r\b\f", "Đà Nẵng"};
    // Long paragraphs too (32 bytes and more are escaped by scanning for what needs it).
    for (const std::string& piece :
         {std::string("Ngoặc \"kép\" và gạch \\ chéo"), std::string("\x01\x1f\t\n"),
          std::string("Đà Nẵng 😀 "), std::string(1, '\0'), std::string("\x7f/</script>")}) {
        std::string paragraph;
        while (paragraph.size() < 200) {
            paragraph += piece + "Bắc Kạn";
        }
        tricky.body.push_back(paragraph);
    }
    tricky.images = {{"https://x.vn/1.jpg", "Ảnh \"1\""}, {"https://x.vn/2.jpg", ""}};
    tricky.videos = {{"https://x.vn/v", "", "Clip\t1"}};
    articles.push_back(tricky);
    Article undated = testing::make_article("https://x.vn/undated");
    undated.published.reset();
    undated.modified.reset();
    undated.images.clear();
    undated.videos.clear();
    undated.body.clear();
    articles.push_back(undated);
    {
        Database db(path);
        configure_connection(db);
        apply_migrations(db, migrations().first(1));
        for (const Article& a : articles) {
            insert_v1(db, a, 100);
        }
    }
    ArticleStore store(path);
    for (const Article& a : articles) {
        EXPECT_EQ(store.save({a}, at(200))[0], SaveResult::unchanged) << a.canonical_url;
        EXPECT_EQ(store.find(a.canonical_url)->article, a) << a.canonical_url;
    }
}

TEST(Migrations, AnInterruptedSigningOfMigratedRowsResumesOnTheNextOpen) {
    TempDir dir;
    const std::string path = dir.file("v1.db");
    {
        Database db(path);
        configure_connection(db);
        apply_migrations(db, migrations().first(1));
        insert_v1(db, wire_copy(0), 100);
        insert_v1(db, wire_copy(1), 100);
        // Migrated to the latest schema by SQL only, as if the program died before signing.
        register_fts_tokenizer(db);
        migrate(db);
        EXPECT_EQ(db.query_int("SELECT count(*) FROM unsigned_articles"), 2);
    }
    ArticleStore store(path);
    EXPECT_EQ(store.find(wire_copy(0).canonical_url)->cluster,
              store.find(wire_copy(1).canonical_url)->cluster);
    expect_consistent(path);
}

// Inserts `a` as a version 4 program did: the row, its URLs, its (textkey version 2) signature
// and LSH rows (high 32 bits of the mixed band key | article id); the version 2 triggers index
// it for search.
std::int64_t insert_v4(Database& db, const Article& a, std::int64_t first_seen,
                       std::int64_t cluster) {
    const std::int64_t id = insert_v1(db, a, first_seen);
    Statement update = db.prepare(
        "UPDATE articles SET id_key = ?2, lead_prefix = ?3, section = ?4, html = ?5, "
        "cluster_id = ?6, content_hash = ?7, checked = ?8 WHERE id = ?1");
    update.bind(1, id);
    update.bind(2, a.id_key);
    update.bind(3, a.lead_prefix);
    update.bind(4, a.section);
    update.bind(5, a.html);
    update.bind(6, cluster == 0 ? id : cluster);
    update.bind(7, v2_hash(a));
    update.bind(8, first_seen);
    update.run();
    const textkey::Signature signature = textkey::signature(a);
    const std::string bytes = textkey::to_bytes(signature);
    Statement sign =
        db.prepare("INSERT INTO story_signatures (article_id, signature) VALUES (?1, ?2)");
    sign.bind(1, id);
    sign.bind_blob(2, std::as_bytes(std::span(bytes.data(), bytes.size())));
    sign.run();
    const std::vector<std::int64_t> keys = textkey::band_keys(signature);
    for (std::size_t band = 0; band < keys.size(); ++band) {
        const std::uint64_t bucket =
            std::bit_cast<std::uint64_t>(v2_band_key(band, keys[band])) & ~0xFFFF'FFFFULL;
        Statement add = db.prepare("INSERT INTO story_lsh (key) VALUES (?1)");
        add.bind(1, std::bit_cast<std::int64_t>(bucket | static_cast<std::uint64_t>(id)));
        add.run();
    }
    return id;
}

TEST(Migrations, AVersion4FileKeepsIdentityClustersAndSearchWithoutRecomputingSignatures) {
    TempDir dir;
    const std::string path = dir.file("v4.db");
    Article keyed = forest_fire_story();
    keyed.id_key = "baobackan#4711";
    keyed.urls = {keyed.canonical_url, "https://m.baobackan.vn/phong-chay.html"};
    keyed.section = "Môi trường";
    keyed.html = "<p>Toàn tỉnh hiện có hơn 370 nghìn ha rừng.</p>";
    Article wire = wire_copy(0);
    wire.id_key = "baobackan#9";
    std::int64_t wire_id = 0;
    {
        Database db(path);
        configure_connection(db);
        ASSERT_EQ(apply_migrations(db, migrations().first(4)), 4);
        db.exec("DELETE FROM unsigned_articles");  // what the version 4 program left
        wire_id = insert_v4(db, wire, 100, 0);
        insert_v4(db, keyed, 200, 0);
        db.exec("DELETE FROM unsigned_articles");
        ASSERT_EQ(db.query_int("SELECT count(*) FROM story_lsh"), 2 * textkey::kBands);
    }
    ArticleStore store(path);
    EXPECT_EQ(store.schema_version(), 13);

    // Data and identity kept: by canonical URL, by alias, by site ID under a new URL.
    ASSERT_TRUE(store.find(keyed.urls[1]).has_value());
    EXPECT_EQ(store.find(keyed.urls[1])->article, keyed);
    EXPECT_TRUE(store.knows_url(wire.canonical_url));
    Article moved = keyed;
    moved.canonical_url = "https://baobackan.vn/slug-moi-4711.html";
    moved.urls = {moved.canonical_url};
    EXPECT_EQ(store.save({moved}, at(300))[0], SaveResult::unchanged);
    EXPECT_EQ(store.find(moved.canonical_url)->article.canonical_url, keyed.canonical_url);
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 2U);

    // The LSH rows (converted by version 5, recomputed with 12 bands by version 13) carry the
    // week of the story date, and a copy finds the stored wire story through them.
    {
        Database check(path);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh"), 2 * textkey::kBands);
        const std::int64_t week = (unix_or_null(wire.published) - 946'684'800) / (7 * 86'400);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh WHERE (key >> 52) & 4095 = " +
                                  std::to_string(week) +
                                  " AND (key & 4294967295) = " + std::to_string(wire_id)),
                  textkey::kBands);
    }
    EXPECT_EQ(store.near_duplicates(wire_copy(1), 0), std::vector<std::string>{wire.canonical_url});
    EXPECT_EQ(store.save({wire_copy(1)}, at(400))[0], SaveResult::inserted);
    EXPECT_EQ(store.find(wire_copy(1).canonical_url)->cluster, wire_id);

    // Search: the rows the version 4 triggers indexed are found once, new ones too, and a
    // correction of a migrated row replaces its words.
    EXPECT_EQ(store.search("kiem lam bac kan", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.search("112 to doi", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.search("rung go lon", std::nullopt, 0).size(), 2U);
    Article corrected = keyed;
    corrected.body = {"Lực lượng kiểm lâm trực 24/24 giờ tại các điểm nóng."};
    corrected.lead = "Bắc Kạn tăng cường tuần tra.";
    EXPECT_EQ(store.save({corrected}, at(500))[0], SaveResult::updated);
    EXPECT_EQ(store.search("112 to doi", std::nullopt, 0).size(), 0U);
    EXPECT_EQ(store.search("truc 24/24", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.revisions(keyed.urls[1]).size(), 1U);

    // Pruning a migrated article removes its identity, LSH rows and index entries.
    EXPECT_EQ(store.prune(at(150), at(0)).articles, 1U);
    EXPECT_FALSE(store.knows_url(wire.canonical_url));
    EXPECT_TRUE(store.is_tombstoned(wire.canonical_url));
    EXPECT_EQ(store.search("rung go lon", std::nullopt, 0).size(), 1U);
    expect_consistent(path);
    Database check(path);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh WHERE (key & 4294967295) = " +
                              std::to_string(wire_id)),
              0);
}

// The text a version 5 program indexed for a column (storage/article_store.cpp, folded()).
std::string v5_folded(const std::string& column) {
    return "replace(replace(" + column + ", 'đ', 'd'), 'Đ', 'D')";
}

// Inserts `a` as a version 5 program did: the row with its plain body and html, its URLs and
// their identity keys (XXH3 seed 1, the site ID seed 2), its signature and LSH rows ((week << 52)
// | (top 20 bits of the mixed band key << 32) | id), and its search index entry (indexed_upto
// moves past it, as index_pending() left it).
std::int64_t insert_v5(Database& db, const Article& a, std::int64_t first_seen) {
    const V1Content c = v1_content(a);
    Statement insert = db.prepare(
        "INSERT INTO articles (canonical_url, site, id_key, published, modified, first_seen, "
        "updated, checked, cluster_id, content_hash, title, author, lead_prefix, section, lead, "
        "images, videos, body, html) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6, 0, ?7, ?8, ?9, "
        "?10, ?11, ?12, ?13, ?14, ?15, ?16) RETURNING id");
    insert.bind(1, a.canonical_url);
    insert.bind(2, a.site);
    insert.bind(3, a.id_key);
    insert.bind(4,
                a.published.has_value() ? std::optional(unix_or_null(a.published)) : std::nullopt);
    insert.bind(5, a.modified.has_value() ? std::optional(unix_or_null(a.modified)) : std::nullopt);
    insert.bind(6, first_seen);
    insert.bind(7, v2_hash(a));
    insert.bind(8, a.title);
    insert.bind(9, a.author);
    insert.bind(10, a.lead_prefix);
    insert.bind(11, a.section);
    insert.bind(12, a.lead);
    insert.bind(13, c.images);
    insert.bind(14, c.videos);
    insert.bind(15, c.body);
    insert.bind(16, a.html);
    EXPECT_TRUE(insert.step());
    const std::int64_t id = insert.column_int64(0);
    insert.run();
    db.exec("UPDATE articles SET cluster_id = id WHERE id = " + std::to_string(id));
    auto add_key = [&](std::uint64_t key) {
        Statement add = db.prepare("INSERT INTO identity_keys (key, article_id) VALUES (?1, ?2)");
        add.bind(1, std::bit_cast<std::int64_t>(key));
        add.bind(2, id);
        add.run();
    };
    std::vector<std::string> urls = {a.canonical_url};
    for (const std::string& url : a.urls) {
        if (std::find(urls.begin(), urls.end(), url) == urls.end()) {
            urls.push_back(url);
        }
    }
    for (const std::string& url : urls) {
        Statement add = db.prepare(
            "INSERT INTO article_urls (article_id, url, first_seen) VALUES (?1, ?2, ?3)");
        add.bind(1, id);
        add.bind(2, url);
        add.bind(3, first_seen);
        add.run();
        add_key(XXH3_64bits_withSeed(url.data(), url.size(), 1));
    }
    if (!a.id_key.empty()) {
        add_key(XXH3_64bits_withSeed(a.id_key.data(), a.id_key.size(), 2));
    }
    const textkey::Signature signature = textkey::signature(a);
    const std::string bytes = textkey::to_bytes(signature);
    Statement sign =
        db.prepare("INSERT INTO story_signatures (article_id, signature) VALUES (?1, ?2)");
    sign.bind(1, id);
    sign.bind_blob(2, std::as_bytes(std::span(bytes.data(), bytes.size())));
    sign.run();
    const std::uint64_t week =
        static_cast<std::uint64_t>(
            (a.published.has_value() ? unix_or_null(a.published) : first_seen) - 946'684'800) /
        (7 * 86'400);
    const std::vector<std::int64_t> keys = textkey::band_keys(signature);
    for (std::size_t band = 0; band < keys.size(); ++band) {
        const std::uint64_t band_hash =
            std::bit_cast<std::uint64_t>(v2_band_key(band, keys[band])) >> 44U;
        Statement add = db.prepare("INSERT OR IGNORE INTO story_lsh (key) VALUES (?1)");
        add.bind(1, std::bit_cast<std::int64_t>((week << 52U) | (band_hash << 32U) |
                                                static_cast<std::uint64_t>(id)));
        add.run();
    }
    db.exec("INSERT INTO articles_fts (rowid, title, lead, body) SELECT id, " + v5_folded("title") +
            ", " + v5_folded("lead") + ", " + v5_folded("body") +
            " FROM articles WHERE id = " + std::to_string(id));
    db.exec("UPDATE search_state SET indexed_upto = " + std::to_string(id));
    return id;
}

TEST(Migrations, AVersion5FileKeepsItsPlainBodiesReadableSearchableAndRevisable) {
    TempDir dir;
    const std::string path = dir.file("v5.db");
    Article keyed = forest_fire_story();
    keyed.id_key = "baobackan#4711";
    keyed.urls = {keyed.canonical_url, "https://m.baobackan.vn/phong-chay.html"};
    keyed.section = "Môi trường";
    keyed.html =
        "<p>Toàn tỉnh hiện có hơn 370 nghìn ha rừng.</p><p>Các xã đã thành lập 112 tổ "
        "đội.</p>";
    keyed.images = {{"https://baobackan.vn/anh/rung.jpg", "Rừng thông ở Bắc Kạn"}};
    // Saved by a parser that gave no lead prefix, section or html.
    Article plain_wire = wire_copy(0);
    plain_wire.lead_prefix.clear();
    {
        Database db(path);
        configure_connection(db);
        ASSERT_EQ(apply_migrations(db, migrations().first(5)), 5);
        insert_v5(db, plain_wire, 100);
        const std::int64_t keyed_id = insert_v5(db, keyed, 200);
        db.exec(
            "INSERT INTO article_revisions (article_id, replaced, id_key, title, author, "
            "published, modified, lead, lead_prefix, section, body, images, videos, html) "
            "VALUES (" +
            std::to_string(keyed_id) +
            ", 150, 'baobackan#4711', 'Tiêu đề cũ', '', NULL, NULL, 'Sa pô cũ', '', '', "
            "'[\"Đoạn cũ\"]', '[]', '[]', '<p>Đoạn cũ</p>')");
    }
    ArticleStore store(path);
    EXPECT_EQ(store.schema_version(), 13);
    {
        Database check(path);  // the migration rewrote no article
        EXPECT_EQ(check.query_int("SELECT count(*) FROM articles WHERE packed IS NULL"), 2);
    }

    // Read back identical, with the revision the version 5 program kept; found by search
    // through the index rebuilt from their plain text (schema version 8).
    ASSERT_TRUE(store.find(keyed.urls[1]).has_value());
    EXPECT_EQ(store.find(keyed.urls[1])->article, keyed);
    ASSERT_EQ(store.revisions(keyed.canonical_url).size(), 1U);
    EXPECT_EQ(store.revisions(keyed.canonical_url)[0].body, std::vector<std::string>{"Đoạn cũ"});
    EXPECT_EQ(store.revisions(keyed.canonical_url)[0].html, "<p>Đoạn cũ</p>");
    EXPECT_EQ(store.index_pending(), 2U);
    EXPECT_EQ(store.search("112 to doi", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.search("rung go lon", std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.save({keyed}, at(300))[0], SaveResult::unchanged);

    // A correction packs the record and keeps the version 5 text as a revision; the old words
    // leave the index (deleted with the plain text they were indexed with), the new ones are
    // found.
    Article corrected = keyed;
    corrected.body = {"Lực lượng kiểm lâm trực 24/24 giờ tại các điểm nóng."};
    corrected.html = "<p>Lực lượng kiểm lâm trực 24/24 giờ tại các điểm nóng.</p>";
    EXPECT_EQ(store.save({corrected}, at(400))[0], SaveResult::updated);
    EXPECT_EQ(store.find(keyed.canonical_url)->article, corrected);
    const std::vector<Article> earlier = store.revisions(keyed.canonical_url);
    ASSERT_EQ(earlier.size(), 2U);
    Article keyed_revision = keyed;
    keyed_revision.urls = {keyed.canonical_url};
    EXPECT_EQ(earlier[1], keyed_revision);
    EXPECT_EQ(store.search("112 to doi", std::nullopt, 0).size(), 0U);
    EXPECT_EQ(store.search("truc 24/24", std::nullopt, 0).size(), 1U);

    // Fields the version 5 row was saved without are filled in: the row is packed, its body
    // stays searchable and leaves the index when it is pruned.
    EXPECT_EQ(store.save({wire_copy(0)}, at(500))[0], SaveResult::unchanged);
    EXPECT_EQ(store.find(plain_wire.canonical_url)->article, wire_copy(0));
    EXPECT_EQ(store.find(plain_wire.canonical_url)->revisions, 0);
    EXPECT_EQ(store.search("rung go lon", std::nullopt, 0).size(), 1U);
    {
        Database check(path);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM articles WHERE packed IS NOT NULL AND "
                                  "body = '' AND html = ''"),
                  2);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM article_revisions WHERE packed IS NULL"),
                  2);
    }
    EXPECT_EQ(store.prune(at(150), at(0)).articles, 1U);
    EXPECT_EQ(store.search("rung go lon", std::nullopt, 0).size(), 0U);
    EXPECT_EQ(store.search("kiem lam", std::nullopt, 0).size(), 1U);
    expect_consistent(path);
}

TEST(Migrations, AVersion6FileKeepsItsRawPagesReadableAndGainsDictionaries) {
    TempDir dir;
    const std::string path = dir.file("v6.db");
    std::string html = "<html><head><title>Báo Bắc Kạn</title></head><body>";
    for (int i = 0; i < 300; ++i) {
        html += "<p>Đoạn " + std::to_string(i) + " của trang báo điện tử.</p>";
    }
    html += "</body></html>";
    const std::string second_page = html + "<!-- trang 2 -->";
    {
        Database db(path);
        configure_connection(db);
        ASSERT_EQ(apply_migrations(db, migrations().first(6)), 6);
        // As the version 6 program wrote them: one plain zstd frame each.
        const std::vector<std::string> texts = {html, second_page};
        for (std::size_t page = 1; page <= texts.size(); ++page) {
            RawPage raw;
            raw.html = texts[page - 1];
            const PreparedRawPage prepared = ArticleStore::prepare_raw_page(std::move(raw));
            Statement insert = db.prepare(
                "INSERT INTO raw_pages (canonical_url, page, site, url, fetched_at, size, html) "
                "VALUES (?1, ?2, 'baobackan', ?1, 1000, ?3, ?4)");
            insert.bind(1, "https://baobackan.vn/a.html");
            insert.bind(2, static_cast<std::int64_t>(page));
            insert.bind(3, static_cast<std::int64_t>(prepared.size));
            insert.bind_blob(4, std::as_bytes(std::span(prepared.compressed.data(),
                                                        prepared.compressed.size())));
            insert.run();
        }
    }
    ArticleStore store(path);
    EXPECT_EQ(store.schema_version(), 13);
    const std::vector<RawPage> pages = store.raw_pages("https://baobackan.vn/a.html");
    ASSERT_EQ(pages.size(), 2U);
    EXPECT_EQ(pages[0].html, html);
    EXPECT_EQ(pages[1].html, second_page);
    EXPECT_EQ(pages[1].site, "baobackan");
    EXPECT_FALSE(store.latest_raw_dictionary("baobackan").has_value());

    // New pages are compressed against a dictionary, next to the old rows.
    RawPageCompressor compressor(at(2000), std::chrono::hours(24));
    store.save_raw_pages(std::vector<PreparedRawPage>{
        ArticleStore::prepare_raw_page(RawPage{.canonical_url = "https://baobackan.vn/b.html",
                                               .site = "baobackan",
                                               .url = "https://baobackan.vn/b.html",
                                               .html = html + "<p>Bài mới</p>",
                                               .fetched_at = at(2000),
                                               .page = 1},
                                       compressor)});
    EXPECT_EQ(store.raw_pages("https://baobackan.vn/b.html").at(0).html, html + "<p>Bài mới</p>");
    EXPECT_EQ(store.raw_pages("https://baobackan.vn/a.html").at(0).html, html);
    {
        Database check(path);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM raw_pages WHERE dictionary IS NULL"), 2);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM raw_dictionaries"), 1);
    }
    EXPECT_EQ(store.prune(at(0), at(1500)).raw_pages, 2U);
    EXPECT_EQ(store.raw_page_articles(std::nullopt),
              std::vector<std::string>{"https://baobackan.vn/b.html"});
    expect_consistent(path);
}

// Inserts `a` as a version 7 program did: as version 5 did (identity keys, signature, LSH rows,
// its search index entry: the text with đ/Đ replaced, tokenized by unicode61), with its body and
// html packed into one frame as version 6 does. The index entry was made of the plain body JSON,
// which is the packed frame's body JSON, as the version 7 program's baofeed_body() read it.
std::int64_t insert_v7(Database& db, const Article& a, std::int64_t first_seen) {
    const std::int64_t id = insert_v5(db, a, first_seen);
    const std::string packed = pack_content(v1_content(a).body, a.html);
    Statement pack =
        db.prepare("UPDATE articles SET body = '', html = '', packed = ?2 WHERE id = ?1");
    pack.bind(1, id);
    pack.bind_blob(2, std::as_bytes(std::span(packed.data(), packed.size())));
    pack.run();
    return id;
}

std::vector<std::string> canonical_urls(const std::vector<StoredArticle>& stored) {
    std::vector<std::string> out;
    for (const StoredArticle& s : stored) {
        out.push_back(s.article.canonical_url);
    }
    return out;
}

TEST(Migrations, AVersion7FileHasItsSearchIndexRebuiltWithTheBaofeedTokenizer) {
    TempDir dir;
    const std::string path = dir.file("v7.db");
    const Article wire = wire_copy(0);
    const Article fire = forest_fire_story();
    const Article danang = make_article("https://baodanang.vn/cau-moi.html");
    {
        Database db(path);
        configure_connection(db);
        ASSERT_EQ(apply_migrations(db, migrations().first(7)), 7);
        insert_v7(db, wire, 100);
        insert_v7(db, fire, 200);
        // A correction the version 7 program saved but had not indexed yet: its old text left
        // the index (deleted with the text it was indexed with), and it waits in search_pending.
        const std::string id = std::to_string(insert_v5(db, danang, 300));
        db.exec(
            "INSERT INTO articles_fts (articles_fts, rowid, title, lead, body) SELECT "
            "'delete', id, " +
            v5_folded("title") + ", " + v5_folded("lead") + ", " + v5_folded("body") +
            " FROM articles WHERE id = " + id);
        db.exec("UPDATE articles SET title = 'Đà Nẵng thông xe cầu Rồng mới' WHERE id = " + id);
        db.exec("INSERT INTO search_pending (article_id) VALUES (" + id + ")");
        ASSERT_EQ(db.query_int("SELECT count(*) FROM articles_fts_docsize"), 2);
        ASSERT_EQ(db.query_int("SELECT indexed_upto FROM search_state"), 3);
    }
    ArticleStore store(path);
    EXPECT_EQ(store.schema_version(), 13);
    {
        // The index is empty and every article waits for index_pending().
        Database check(path);
        EXPECT_NE(check.query_text("SELECT sql FROM sqlite_schema WHERE name = 'articles_fts'")
                      .find("tokenize = 'baofeed'"),
                  std::string::npos);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM articles_fts_docsize"), 0);
        EXPECT_EQ(check.query_int("SELECT indexed_upto FROM search_state"), 0);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM search_pending"), 0);
        // A connection without the tokenizer (the sqlite3 shell) cannot use articles_fts; the
        // rest of the file reads as before.
        EXPECT_THROW(check.query_int("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH "
                                     "'rung'"),
                     StorageError);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM articles"), 3);
    }

    // An article corrected before the index is rebuilt is indexed once, by its new text.
    Article wire_corrected = wire;
    wire_corrected.lead = wire.lead_prefix +
                          "Chiều 20/12, hội nghị tổng kết trồng rừng gỗ lớn "
                          "(bản đã đính chính).";
    EXPECT_EQ(store.save({wire_corrected}, at(400))[0], SaveResult::updated);

    // Search finds every old article, by the words of its stored text, diacritics and đ folded.
    EXPECT_EQ(canonical_urls(store.search("kiem lam bac kan", std::nullopt, 0)),
              std::vector<std::string>{fire.canonical_url});
    EXPECT_EQ(canonical_urls(store.search("dong bao dan toc", std::nullopt, 0)),
              std::vector<std::string>{wire.canonical_url});
    EXPECT_EQ(canonical_urls(store.search("dinh chinh", std::nullopt, 0)),
              std::vector<std::string>{wire.canonical_url});
    EXPECT_TRUE(store.search("uy ban nhan dan", std::nullopt, 0).empty());  // its lead before
    EXPECT_EQ(canonical_urls(store.search("cau rong moi", std::nullopt, 0)),
              std::vector<std::string>{danang.canonical_url});
    EXPECT_TRUE(store.search("tieu de", std::nullopt, 0).empty());  // its title before
    EXPECT_EQ(store.index_pending(), 0U);

    // An article corrected after the rebuild is found by its new text only.
    Article fire_corrected = fire;
    fire_corrected.title = "Lạng Sơn ra quân trồng cây đầu xuân";
    fire_corrected.lead = "Sáng nay, tỉnh tổ chức Tết trồng cây.";
    fire_corrected.body = {"Hàng nghìn cây xanh được trồng ở Đình Lập."};
    EXPECT_EQ(store.save({fire_corrected}, at(500))[0], SaveResult::updated);
    EXPECT_TRUE(store.search("kiem lam", std::nullopt, 0).empty());
    EXPECT_TRUE(store.search("dot nuong lam ray", std::nullopt, 0).empty());
    EXPECT_EQ(canonical_urls(store.search("hang nghin cay dinh lap", std::nullopt, 0)),
              std::vector<std::string>{fire.canonical_url});
    EXPECT_EQ(store.search("rung go lon", std::nullopt, 0).size(), 1U);

    expect_consistent(path);
    Database check(path);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM articles_fts_docsize"), 3);
}

TEST(Migrations, AVersion8FileIsRehashedSoThatArticlesFetchedAgainUnchangedStayUnchanged) {
    TempDir dir;
    const std::string path = dir.file("v8.db");
    Article keyed = forest_fire_story();
    keyed.id_key = "baobackan#4711";
    keyed.section = "Môi trường";
    keyed.html = "<p>Toàn tỉnh hiện có hơn 370 nghìn ha rừng.</p>";
    keyed.images = {{"https://baobackan.vn/anh/rung.jpg", "Ảnh \"rừng\"\tthông"}};
    keyed.title = "Ngoặc \"kép\", gạch \\ chéo, tab\tvà\x01điều khiển";
    Article plain_wire = wire_copy(0);  // saved by a parser that gave no lead prefix
    plain_wire.lead_prefix.clear();
    Article unpacked = wire_copy(1);  // a version 5 row, never rewritten since
    {
        Database db(path);
        configure_connection(db);
        register_fts_tokenizer(db);
        ASSERT_EQ(apply_migrations(db, migrations().first(8)), 8);
        // Rows as versions 6 to 8 wrote them (the JSON-array content hash); their index entries
        // (made of đ-replaced text) are what the version 8 tokenizer makes of the plain text.
        insert_v7(db, keyed, 100);
        insert_v7(db, plain_wire, 100);
        insert_v5(db, unpacked, 100);
    }
    ArticleStore store(path);
    EXPECT_EQ(store.schema_version(), 13);
    {
        Database check(path);  // every row has a new hash
        EXPECT_EQ(check.query_int("SELECT count(*) FROM articles WHERE content_hash IN (" +
                                  std::to_string(v2_hash(keyed)) + ", " +
                                  std::to_string(v2_hash(plain_wire)) + ", " +
                                  std::to_string(v2_hash(unpacked)) + ")"),
                  0);
    }
    EXPECT_EQ(store.save({keyed, unpacked}, at(300)),
              (std::vector<SaveResult>{SaveResult::unchanged, SaveResult::unchanged}));
    // Only the fields the row was saved without are new: filled in, no revision.
    EXPECT_EQ(store.save({wire_copy(0)}, at(300))[0], SaveResult::unchanged);
    EXPECT_EQ(store.find(plain_wire.canonical_url)->article, wire_copy(0));
    EXPECT_EQ(store.find(plain_wire.canonical_url)->revisions, 0);
    Article corrected = keyed;
    corrected.html = "<p>Toàn tỉnh hiện có hơn 371 nghìn ha rừng.</p>";
    EXPECT_EQ(store.save({corrected}, at(400))[0], SaveResult::updated);
    EXPECT_EQ(store.find(keyed.canonical_url)->revisions, 1);
    expect_consistent(path);
}

// The forest fire story with a site ID and a mobile alias: three identity keys.
Article keyed_story() {
    Article keyed = forest_fire_story();
    keyed.id_key = "baobackan#4711";
    keyed.urls = {keyed.canonical_url, "https://m.baobackan.vn/rung.html"};
    return keyed;
}

// A file at schema `version` (9 or 10) holding `keyed`, its keys in identity_keys as those
// versions kept them.
void write_keyed_file(const std::string& path, int version, const Article& keyed) {
    Database db(path);
    configure_connection(db);
    register_fts_tokenizer(db);
    register_content_functions(db);
    ASSERT_EQ(apply_migrations(db, migrations().first(version)), version);
    insert_v7(db, keyed, 100);
}

TEST(Migrations, AVersion9FileKeepsItsIdentityKeysAndPutsNewOnesInTheRecentTable) {
    TempDir dir;
    const std::string path = dir.file("v9.db");
    const Article keyed = keyed_story();
    write_keyed_file(path, 9, keyed);
    ArticleStore store(path);
    EXPECT_EQ(store.schema_version(), 13);
    {
        Database check(path);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM identity_keys"), 3);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM identity_recent"), 0);
    }
    ASSERT_TRUE(store.find("https://m.baobackan.vn/rung.html").has_value());
    // Found by its site ID under a new URL: the new URL's key is the only new one.
    Article moved = keyed;
    moved.canonical_url = "https://baobackan.vn/?p=4711";
    moved.urls = {moved.canonical_url};
    EXPECT_NE(store.save({moved}, at(200))[0], SaveResult::inserted);
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 1U);
    EXPECT_EQ(store.find("https://baobackan.vn/?p=4711")->article.canonical_url,
              keyed.canonical_url);
    {
        Database check(path);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM identity_keys"), 3);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM identity_recent"), 1);
    }
    expect_consistent(path);
}

TEST(Migrations, AVersion10FileGetsAFilterOfAllItsKeysAtTheFirstMerge) {
    TempDir dir;
    const std::string path = dir.file("v10.db");
    const Article keyed = keyed_story();
    write_keyed_file(path, 10, keyed);
    ArticleStore store(path, StoreOptions{.identity_merge_rows = 2, .identity_filter_min_keys = 4});
    EXPECT_EQ(store.schema_version(), 13);
    {
        Database check(path);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM identity_filter"), 0);
    }
    // Found without a filter (every key is checked against identity_keys).
    Article by_alias = keyed;
    by_alias.id_key.clear();
    by_alias.canonical_url = keyed.urls[1];
    by_alias.urls = {keyed.urls[1]};
    EXPECT_NE(store.save({by_alias}, at(200))[0], SaveResult::inserted);
    // Two new articles (a key each), then the merge: the filter covers the keys of version 10
    // too.
    store.save({wire_copy(0), wire_copy(1)}, at(300));
    store.save({wire_copy(2)}, at(400));
    {
        Database check(path);
        EXPECT_EQ(keys_missing_from_filter(check), 0);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM identity_keys"), 3 + 2);
    }
    EXPECT_EQ(store.save({by_alias}, at(500))[0], SaveResult::unchanged);
    EXPECT_EQ(store.list(std::nullopt, 0).size(), 4U);
    expect_consistent(path);
}

TEST(Migrations, AVersion12FileKeepsTwelveLshRowsPerArticleAndItsClusters) {
    TempDir dir;
    const std::string path = dir.file("v12.db");
    std::int64_t wire_cluster = 0;
    {
        ArticleStore store(path);
        store.save({wire_copy(0), wire_copy(1), forest_fire_story()}, at(100));
        wire_cluster = store.find(wire_copy(0).canonical_url)->cluster;
        ASSERT_EQ(store.find(wire_copy(1).canonical_url)->cluster, wire_cluster);
    }
    {
        // As a version 12 program left it: 16 rows per signed article (bands 12 to 15 are rows
        // no band of version 13 gives).
        Database db(path);
        std::vector<std::int64_t> extra;
        Statement rows = db.prepare("SELECT max(key) FROM story_lsh GROUP BY key & 4294967295");
        while (rows.step()) {
            for (std::int64_t n = 1; n <= 4; ++n) {  // the next bucket hashes of the same week
                extra.push_back(rows.column_int64(0) + (n << 32));
            }
        }
        Statement add = db.prepare("INSERT INTO story_lsh (key) VALUES (?1)");
        for (const std::int64_t key : extra) {
            add.reset();
            add.bind(1, key);
            add.run();
        }
        ASSERT_EQ(db.query_int("SELECT count(*) FROM story_lsh"), 3 * (textkey::kBands + 4));
        db.exec("PRAGMA user_version = 12");
    }
    ArticleStore store(path);
    EXPECT_EQ(store.schema_version(), 13);
    {
        Database check(path);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM story_lsh"), 3 * textkey::kBands);
        EXPECT_EQ(check.query_int("SELECT count(*) FROM unsigned_articles"), 0);
    }
    EXPECT_EQ(store.find(wire_copy(0).canonical_url)->cluster, wire_cluster);
    EXPECT_EQ(store.find(wire_copy(1).canonical_url)->cluster, wire_cluster);
    EXPECT_EQ(store.near_duplicates(wire_copy(2), 0).size(), 2U);
    EXPECT_EQ(store.save({wire_copy(2)}, at(200))[0], SaveResult::inserted);
    EXPECT_EQ(store.find(wire_copy(2).canonical_url)->cluster, wire_cluster);
    expect_consistent(path);
}

// The content hash is persisted: pinned here as storage/content_hash.h defines it (length-
// prefixed fields, XXH3-64 seed 0), for an article with and without the version 2 fields.
TEST(ContentHash, IsTheDocumentedHashOfTheLengthPrefixedFields) {
    struct Hasher {
        XXH3_state_t* state = XXH3_createState();
        Hasher() { XXH3_64bits_reset(state); }
        ~Hasher() { XXH3_freeState(state); }
        Hasher(const Hasher&) = delete;
        Hasher& operator=(const Hasher&) = delete;
        void number(std::uint64_t v) {
            std::array<unsigned char, 8> le{};
            for (std::size_t i = 0; i < le.size(); ++i) {
                le[i] = static_cast<unsigned char>(v >> (8 * i));
            }
            XXH3_64bits_update(state, le.data(), le.size());
        }
        void text(const std::string& t) {
            number(t.size());
            XXH3_64bits_update(state, t.data(), t.size());
        }
        void time(const std::optional<Timestamp>& t) {
            const unsigned char present = t.has_value() ? 1 : 0;
            XXH3_64bits_update(state, &present, 1);
            if (t.has_value()) {
                number(static_cast<std::uint64_t>(unix_or_null(t)));
            }
        }
        std::int64_t digest() const {
            return std::bit_cast<std::int64_t>(XXH3_64bits_digest(state));
        }
    };
    const auto expected = [](const Article& a) {
        const V1Content c = v1_content(a);
        Hasher h;
        h.text(a.title);
        h.text(a.author);
        h.time(a.published);
        h.time(a.modified);
        h.text(a.lead);
        h.text(c.body);
        h.text(c.images);
        h.text(c.videos);
        if (!a.lead_prefix.empty() || !a.section.empty() || !a.html.empty()) {
            h.text(a.lead_prefix);
            h.text(a.section);
            h.text(a.html);
        }
        return h.digest();
    };
    TempDir dir;
    const std::string path = dir.file("hash.db");
    Article full = forest_fire_story();
    full.section = "Môi trường";
    full.html = "<p>Rừng \"thông\"</p>";
    Article undated = wire_copy(2);
    undated.lead_prefix.clear();
    undated.published.reset();
    undated.modified.reset();
    {
        ArticleStore store(path);
        store.save({full, undated}, at(100));
    }
    Database check(path);
    Statement hash = check.prepare("SELECT content_hash FROM articles WHERE canonical_url = ?1");
    for (const Article* a : {&full, &undated}) {
        ScopedReset guard(hash);
        hash.bind(1, a->canonical_url);
        ASSERT_TRUE(hash.step());
        EXPECT_EQ(hash.column_int64(0), expected(*a)) << a->canonical_url;
    }
}

}  // namespace
}  // namespace baofeed::storage
