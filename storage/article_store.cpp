#include "storage/article_store.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <set>
#include <span>
#include <stdexcept>
#include <utility>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "core/errors.h"
#include "core/text.h"
#include "core/textkey.h"
#include "storage/schema.h"
#include "storage/sqlite.h"

namespace baofeed::storage {

namespace {

using nlohmann::json;

std::int64_t to_unix(Timestamp t) {
    return static_cast<std::int64_t>(t.time_since_epoch().count());
}

Timestamp from_unix(std::int64_t seconds) {
    return Timestamp(std::chrono::seconds(seconds));
}

std::optional<std::int64_t> to_unix(const std::optional<Timestamp>& t) {
    if (!t.has_value()) {
        return std::nullopt;
    }
    return to_unix(*t);
}

std::optional<Timestamp> from_unix(const std::optional<std::int64_t>& seconds) {
    if (!seconds.has_value()) {
        return std::nullopt;
    }
    return from_unix(*seconds);
}

// LIMIT value: 0 means no limit (-1 in SQLite).
std::int64_t sql_limit(std::size_t limit) {
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    return limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(std::min(limit, kMax));
}

std::span<const std::byte> as_bytes(std::string_view text) {
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

// Text is UTF-8 by contract; should a stray invalid byte slip through, it becomes U+FFFD
// instead of an exception in the middle of a batch.
std::string dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Appends `text` as a JSON string, byte for byte as dump() writes it (the stored content hash
// of every schema version depends on these bytes): '"' and '\\' escaped, \b \f \n \r \t, other
// control characters as \u00xx, everything else (UTF-8 included) as is. Invalid UTF-8 goes
// through nlohmann, which replaces it.
void append_json_string(std::string& out, std::string_view text) {
    if (!text::is_valid_utf8(text)) {
        out += dump(json(std::string(text)));
        return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;  // start of the pending run of bytes that need no escape
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte != '"' && byte != '\\') {
            continue;
        }
        out.append(text.substr(run, i - run));
        run = i + 1;
        switch (byte) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += "\\u00";
                out.push_back(kHex[byte >> 4U]);
                out.push_back(kHex[byte & 0xFU]);
        }
    }
    out.append(text.substr(run));
    out.push_back('"');
}

std::string json_strings(const std::vector<std::string>& items) {
    std::size_t size = 2;
    for (const std::string& item : items) {
        size += item.size() + 3;
    }
    std::string out;
    out.reserve(size);
    out.push_back('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out.push_back(',');
        }
        append_json_string(out, items[i]);
    }
    out.push_back(']');
    return out;
}

// Objects as nlohmann writes them: keys in sorted order.
std::string images_json(const std::vector<Image>& images) {
    std::string out = "[";
    for (std::size_t i = 0; i < images.size(); ++i) {
        out += i > 0 ? ",{\"caption\":" : "{\"caption\":";
        append_json_string(out, images[i].caption);
        out += ",\"src\":";
        append_json_string(out, images[i].src);
        out.push_back('}');
    }
    out.push_back(']');
    return out;
}

std::string videos_json(const std::vector<Video>& videos) {
    std::string out = "[";
    for (std::size_t i = 0; i < videos.size(); ++i) {
        out += i > 0 ? ",{\"caption\":" : "{\"caption\":";
        append_json_string(out, videos[i].caption);
        out += ",\"poster\":";
        append_json_string(out, videos[i].poster);
        out += ",\"src\":";
        append_json_string(out, videos[i].src);
        out.push_back('}');
    }
    out.push_back(']');
    return out;
}

void append_json_time(std::string& out, const std::optional<Timestamp>& t) {
    out += t.has_value() ? std::to_string(to_unix(*t)) : std::string("null");
}

// The serialized content columns of one article, plus the hash that decides "changed?".
struct Content {
    std::string body;
    std::string images;
    std::string videos;
    std::int64_t hash = 0;
    // The hash without the fields added in schema version 2 (== hash when they are empty).
    std::int64_t core_hash = 0;
};

std::int64_t hash_text(std::string_view text) {
    return std::bit_cast<std::int64_t>(XXH3_64bits(text.data(), text.size()));
}

// The hash is XXH3 of the JSON array [title, author, published, modified, lead, body, images,
// videos] (+ [lead_prefix, section, html] when any is set), as nlohmann's dump() writes it: a
// JSON array keeps field boundaries unambiguous ("ab"+"c" differs from "a"+"bc"). Built from
// the already serialized columns.
Content serialize(const Article& article) {
    Content content;
    content.body = json_strings(article.body);
    content.images = images_json(article.images);
    content.videos = videos_json(article.videos);
    std::string fields;
    fields.reserve(content.body.size() + article.lead.size() + article.html.size() + 256);
    fields.push_back('[');
    append_json_string(fields, article.title);
    fields.push_back(',');
    append_json_string(fields, article.author);
    fields.push_back(',');
    append_json_time(fields, article.published);
    fields.push_back(',');
    append_json_time(fields, article.modified);
    fields.push_back(',');
    append_json_string(fields, article.lead);
    fields.push_back(',');
    fields += content.body;
    fields.push_back(',');
    fields += content.images;
    fields.push_back(',');
    fields += content.videos;
    content.core_hash = hash_text(fields + "]");
    content.hash = content.core_hash;
    // Fields added in schema version 2 join the hash only when set, so an article saved by
    // version 1 keeps its hash after the migration.
    if (!article.lead_prefix.empty() || !article.section.empty() || !article.html.empty()) {
        fields.push_back(',');
        append_json_string(fields, article.lead_prefix);
        fields.push_back(',');
        append_json_string(fields, article.section);
        fields.push_back(',');
        append_json_string(fields, article.html);
        fields.push_back(']');
        content.hash = hash_text(fields);
    }
    return content;
}

// Reads a JSON array of strings. Fast path for what json_strings() writes without escapes;
// anything else goes through nlohmann.
std::vector<std::string> parse_body(const std::string& text) {
    std::vector<std::string> out;
    if (text.find('\\') == std::string::npos && text.size() >= 2 && text.front() == '[' &&
        text.back() == ']') {
        std::size_t i = 1;
        const std::size_t end = text.size() - 1;
        bool ok = true;
        while (i < end) {
            if (text[i] != '"') {
                ok = false;
                break;
            }
            const std::size_t close = text.find('"', i + 1);
            if (close == std::string::npos || close >= end) {
                ok = false;
                break;
            }
            out.emplace_back(text, i + 1, close - i - 1);
            i = close + 1;
            if (i < end) {
                if (text[i] != ',') {
                    ok = false;
                    break;
                }
                ++i;
                if (i == end) {
                    ok = false;  // trailing comma
                }
            }
        }
        if (ok) {
            return out;
        }
    }
    return json::parse(text).get<std::vector<std::string>>();
}

std::vector<Image> parse_images(const std::string& text) {
    std::vector<Image> images;
    for (const json& item : json::parse(text)) {
        images.push_back(Image{.src = item.at("src").get<std::string>(),
                               .caption = item.at("caption").get<std::string>()});
    }
    return images;
}

std::vector<Video> parse_videos(const std::string& text) {
    std::vector<Video> videos;
    for (const json& item : json::parse(text)) {
        videos.push_back(Video{.src = item.at("src").get<std::string>(),
                               .poster = item.at("poster").get<std::string>(),
                               .caption = item.at("caption").get<std::string>()});
    }
    return videos;
}

// The story key of an article: its signature and its LSH buckets. A bucket mixes the band
// number into textkey's key (splitmix64 finaliser), so equal keys of different bands never
// meet, and keeps the high 32 bits; a story_lsh row is bucket | article id (schema version 4).
// Persisted: changing the mix or the packing needs a migration.
struct StoryKey {
    textkey::Signature signature;
    std::vector<std::int64_t> bands;  // buckets: the low 32 bits are zero
};

constexpr std::uint64_t kIdBits = 0xFFFF'FFFFULL;  // the article id part of a story_lsh key

std::int64_t mix_band(std::size_t band, std::int64_t key) {
    std::uint64_t x = std::bit_cast<std::uint64_t>(key) ^
                      ((static_cast<std::uint64_t>(band) + 1) * 0x9E3779B97F4A7C15ULL);
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    x = x ^ (x >> 31U);
    return std::bit_cast<std::int64_t>(x);
}

std::vector<std::int64_t> buckets_of(const textkey::Signature& signature) {
    std::vector<std::int64_t> buckets = textkey::band_keys(signature);
    for (std::size_t band = 0; band < buckets.size(); ++band) {
        const auto mixed = std::bit_cast<std::uint64_t>(mix_band(band, buckets[band]));
        buckets[band] = std::bit_cast<std::int64_t>(mixed & ~kIdBits);
    }
    return buckets;
}

StoryKey story_key(const Article& article) {
    StoryKey key;
    key.signature = textkey::signature(article);
    if (key.signature.empty) {
        return key;
    }
    key.bands = buckets_of(key.signature);
    return key;
}

// Folds đ/Đ to d/D as the articles_fts triggers do (schema version 2).
std::string fold_d(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool two_byte_d = text[i] == '\xC4' && i + 1 < text.size() &&
                                (text[i + 1] == '\x91' || text[i + 1] == '\x90');
        if (two_byte_d) {
            out.push_back(text[i + 1] == '\x91' ? 'd' : 'D');
            ++i;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

// Plain words -> an FTS5 query that can only mean "all these words": each white-space separated
// token becomes one quoted string (inner quotes doubled), so operators, column filters and
// prefix stars in the input are just text. "" when there is no token.
std::string fts_query(std::string_view words) {
    const std::string folded = fold_d(words);
    auto is_space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    };
    std::string query;
    std::size_t i = 0;
    for (;;) {
        while (i < folded.size() && is_space(folded[i])) {
            ++i;
        }
        if (i == folded.size()) {
            return query;
        }
        if (!query.empty()) {
            query.push_back(' ');
        }
        query.push_back('"');
        for (; i < folded.size() && !is_space(folded[i]); ++i) {
            if (folded[i] == '"') {
                query.push_back('"');
            }
            query.push_back(folded[i]);
        }
        query.push_back('"');
    }
}

// Level 1: raw pages are written on every run and read only by `reparse`; the fastest level
// compresses news HTML about 4x at a fraction of the default level's CPU.
std::vector<std::byte> compress_text(const std::string& text, const std::string& path) {
    uLongf size = compressBound(static_cast<uLong>(text.size()));
    std::vector<std::byte> out(size);
    const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                             reinterpret_cast<const Bytef*>(text.data()),
                             static_cast<uLong>(text.size()), Z_BEST_SPEED);
    if (rc != Z_OK) {
        throw StorageError(storage_message(path, "zlib compress failed", "raw page"));
    }
    out.resize(size);
    return out;
}

std::string decompress_text(const std::vector<std::byte>& data, std::int64_t size,
                            const std::string& path) {
    if (size < 0) {
        throw StorageError(storage_message(path, "corrupt raw page size", "raw page"));
    }
    std::string out(static_cast<std::size_t>(size), '\0');
    uLongf out_size = static_cast<uLongf>(out.size());
    const int rc =
        uncompress(reinterpret_cast<Bytef*>(out.data()), &out_size,
                   reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size()));
    if (rc != Z_OK || out_size != out.size()) {
        throw StorageError(storage_message(path, "corrupt raw page (zlib)", "raw page"));
    }
    return out;
}

// Columns read by Impl::read_row, in this order, from `articles a`.
constexpr std::string_view kArticleColumns =
    "a.id, a.canonical_url, a.site, a.id_key, a.title, a.author, a.published, a.modified, "
    "a.lead, a.lead_prefix, a.section, a.body, a.images, a.videos, a.html, a.first_seen, "
    "a.updated, a.checked, a.cluster_id, "
    "(SELECT count(*) FROM article_revisions r WHERE r.article_id = a.id)";

std::string select_articles(std::string_view from_where_order) {
    std::string sql = "SELECT ";
    sql.append(kArticleColumns);
    sql.append(" ");
    sql.append(from_where_order);
    return sql;
}

// Must match the expression of the articles_newest / articles_site_newest /
// articles_cluster_newest indexes.
constexpr std::string_view kNewestFirst =
    "ORDER BY coalesce(a.published, a.first_seen) DESC, a.canonical_url ASC";

// One statement for the whole lookup: a rowid range of story_lsh per band (?1 .. ?kBands are
// the buckets), then the signatures of the articles found. The inner LIMIT bounds the work of
// one lookup even for a bucket crowded by boilerplate.
std::string candidates_sql() {
    std::string sql =
        "SELECT s.article_id, s.signature FROM story_signatures s WHERE s.article_id IN "
        "(SELECT key & 4294967295 FROM story_lsh WHERE ";
    for (int i = 1; i <= textkey::kBands; ++i) {
        const std::string p = "?" + std::to_string(i);
        if (i > 1) {
            sql.append(" UNION ALL SELECT key & 4294967295 FROM story_lsh WHERE ");
        }
        sql.append("key BETWEEN " + p + " AND " + p + " + 4294967295");
    }
    sql.append(" LIMIT 1000) AND s.article_id <> ?" + std::to_string(textkey::kBands + 1));
    return sql;
}

// "INSERT ... VALUES (?1), (?2), ..." or "DELETE ... IN (?1, ?2, ...)" over kBands keys.
std::string lsh_sql(std::string_view head, std::string_view open, std::string_view close,
                    std::string_view tail) {
    std::string sql(head);
    for (int i = 1; i <= textkey::kBands; ++i) {
        sql.append(i > 1 ? ", " : "");
        sql.append(open);
        sql.append("?" + std::to_string(i));
        sql.append(close);
    }
    sql.append(tail);
    return sql;
}

Database& open_and_migrate(Database& db) {
    configure_connection(db);
    migrate(db);
    return db;
}

struct Candidate {
    std::int64_t id = 0;
    double similarity = 0;
};

}  // namespace

struct ArticleStore::Impl {
    explicit Impl(const std::string& path)
        : db(path),
          owner_by_id_key(open_and_migrate(db).prepare(
              "SELECT id FROM articles WHERE id_key = ?1 AND id_key <> ''")),
          owner_by_canonical(db.prepare("SELECT id FROM articles WHERE canonical_url = ?1")),
          owner_by_url(db.prepare("SELECT article_id FROM article_urls WHERE url = ?1")),
          tombstoned(db.prepare("SELECT 1 FROM tombstones WHERE kind = ?1 AND key = ?2")),
          next_id(db.prepare("SELECT coalesce(max(id), 0) + 1 FROM articles")),
          insert_article(db.prepare(
              "INSERT INTO articles (id, canonical_url, site, id_key, title, author, published, "
              "modified, lead, lead_prefix, section, body, images, videos, html, content_hash, "
              "first_seen, updated, checked, cluster_id) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
              "?17, ?17, ?17, ?18)")),
          content_hash(db.prepare("SELECT content_hash FROM articles WHERE id = ?1")),
          keep_revision(db.prepare(
              "INSERT INTO article_revisions (article_id, replaced, id_key, title, author, "
              "published, modified, lead, lead_prefix, section, body, images, videos, html) "
              "SELECT id, ?2, id_key, title, author, published, modified, lead, lead_prefix, "
              "section, body, images, videos, html FROM articles WHERE id = ?1")),
          update_article(db.prepare(
              "UPDATE articles SET id_key = CASE WHEN id_key = '' THEN ?4 ELSE id_key END, "
              "title = ?5, author = ?6, published = ?7, modified = ?8, lead = ?9, "
              "lead_prefix = ?10, section = ?11, body = ?12, images = ?13, videos = ?14, "
              "html = ?15, content_hash = ?16, updated = ?17, checked = ?17, cluster_id = ?18 "
              "WHERE id = ?1")),
          enrich_article(db.prepare(
              "UPDATE articles SET lead_prefix = ?2, section = ?3, html = ?4, content_hash = ?5, "
              "checked = ?6, id_key = CASE WHEN id_key = '' THEN ?7 ELSE id_key END "
              "WHERE id = ?1")),
          touch_article(
              db.prepare("UPDATE articles SET checked = ?2, "
                         "id_key = CASE WHEN id_key = '' THEN ?3 ELSE id_key END WHERE id = ?1")),
          insert_url(db.prepare(
              "INSERT INTO article_urls (url, article_id, first_seen) SELECT ?1, ?2, ?3 "
              "WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE kind = 'url' AND key = ?1) "
              "ON CONFLICT (url) DO NOTHING")),
          leave_frontier(db.prepare("DELETE FROM frontier WHERE url = ?1")),
          candidates(db.prepare(candidates_sql())),
          cluster_of(db.prepare("SELECT cluster_id FROM articles WHERE id = ?1")),
          delete_lsh(db.prepare(lsh_sql("DELETE FROM story_lsh WHERE key IN (", "", "", ")"))),
          insert_lsh(
              db.prepare(lsh_sql("INSERT OR IGNORE INTO story_lsh (key) VALUES ", "(", ")", ""))),
          signature_of(db.prepare("SELECT signature FROM story_signatures WHERE article_id = ?1")),
          pruned_signatures(
              db.prepare("SELECT s.article_id, s.signature FROM story_signatures s "
                         "JOIN articles a ON a.id = s.article_id WHERE a.first_seen < ?1")),
          any_frontier(db.prepare("SELECT EXISTS (SELECT 1 FROM frontier)")),
          any_tombstone(db.prepare("SELECT EXISTS (SELECT 1 FROM tombstones)")),
          upsert_signature(
              db.prepare("INSERT INTO story_signatures (article_id, signature) VALUES (?1, ?2) "
                         "ON CONFLICT (article_id) DO UPDATE SET signature = excluded.signature")),
          delete_signature(db.prepare("DELETE FROM story_signatures WHERE article_id = ?1")),
          unsigned_batch(
              db.prepare("SELECT a.id, a.title, a.lead, a.lead_prefix, a.body, u.recluster "
                         "FROM unsigned_articles u "
                         "JOIN articles a ON a.id = u.article_id ORDER BY u.article_id LIMIT 200")),
          mark_signed(db.prepare("DELETE FROM unsigned_articles WHERE article_id = ?1")),
          set_cluster(db.prepare("UPDATE articles SET cluster_id = ?2 WHERE id = ?1")),
          knows_url(db.prepare("SELECT 1 FROM article_urls WHERE url = ?1")),
          list_all(db.prepare(
              select_articles("FROM articles a " + std::string(kNewestFirst) + " LIMIT ?2"))),
          list_site(db.prepare(select_articles("FROM articles a WHERE a.site = ?1 " +
                                               std::string(kNewestFirst) + " LIMIT ?2"))),
          list_cluster(db.prepare(select_articles("FROM articles a WHERE a.cluster_id = ?1 " +
                                                  std::string(kNewestFirst) + " LIMIT ?2"))),
          find_by_url(db.prepare(select_articles(
              "FROM article_urls u JOIN articles a ON a.id = u.article_id WHERE u.url = ?1"))),
          list_aliases(
              db.prepare("SELECT url FROM article_urls WHERE article_id = ?1 AND url <> ?2 "
                         "ORDER BY first_seen, url")),
          list_revisions(db.prepare(
              "SELECT a.canonical_url, a.site, r.id_key, r.title, r.author, r.published, "
              "r.modified, r.lead, r.lead_prefix, r.section, r.body, r.images, r.videos, r.html "
              "FROM article_urls u JOIN articles a ON a.id = u.article_id "
              "JOIN article_revisions r ON r.article_id = a.id WHERE u.url = ?1 ORDER BY r.id")),
          search_rows(db.prepare(
              select_articles("FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
                              "WHERE articles_fts MATCH ?1 AND (?2 IS NULL OR a.site = ?2) "
                              "ORDER BY bm25(articles_fts, 10.0, 4.0, 1.0), a.id LIMIT ?3"))),
          canonical_url_of(db.prepare("SELECT canonical_url FROM articles WHERE id = ?1")),
          get_fetch_state(db.prepare(
              "SELECT etag, last_modified, fetched_at, status FROM fetch_states WHERE url = ?1")),
          put_fetch_state(
              db.prepare("INSERT INTO fetch_states (url, etag, last_modified, fetched_at, status) "
                         "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (url) DO UPDATE SET "
                         "etag = excluded.etag, last_modified = excluded.last_modified, "
                         "fetched_at = excluded.fetched_at, status = excluded.status")),
          get_robots(db.prepare("SELECT body, status, fetched_at, expires, etag, last_modified "
                                "FROM robots WHERE origin = ?1")),
          put_robots(db.prepare(
              "INSERT INTO robots (origin, body, status, fetched_at, expires, etag, "
              "last_modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (origin) DO "
              "UPDATE SET body = excluded.body, status = excluded.status, "
              "fetched_at = excluded.fetched_at, expires = excluded.expires, "
              "etag = excluded.etag, last_modified = excluded.last_modified")),
          add_frontier(db.prepare(
              "INSERT INTO frontier (url, site, discovered) SELECT ?1, ?2, ?3 "
              "WHERE NOT EXISTS (SELECT 1 FROM article_urls WHERE url = ?1) "
              "AND NOT EXISTS (SELECT 1 FROM tombstones WHERE kind = 'url' AND key = ?1) "
              "ON CONFLICT (url) DO NOTHING")),
          list_frontier(db.prepare("SELECT site, url, discovered FROM frontier WHERE site = ?1 "
                                   "ORDER BY discovered, url LIMIT ?2")),
          delete_raw_pages(db.prepare("DELETE FROM raw_pages WHERE canonical_url = ?1")),
          insert_raw_page(db.prepare(
              "INSERT INTO raw_pages (canonical_url, page, site, url, fetched_at, size, html) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (canonical_url, page) DO UPDATE "
              "SET site = excluded.site, url = excluded.url, fetched_at = excluded.fetched_at, "
              "size = excluded.size, html = excluded.html")),
          list_raw_pages(db.prepare("SELECT canonical_url, site, url, fetched_at, page, size, html "
                                    "FROM raw_pages WHERE canonical_url = ?1 ORDER BY page")),
          raw_articles_all(
              db.prepare("SELECT DISTINCT canonical_url FROM raw_pages ORDER BY canonical_url")),
          raw_articles_site(db.prepare("SELECT DISTINCT canonical_url FROM raw_pages "
                                       "WHERE site = ?1 ORDER BY canonical_url")),
          due_rows(db.prepare(select_articles(
              "FROM articles a WHERE a.site = ?1 AND coalesce(a.published, a.first_seen) > ?2 "
              "AND a.checked < ?3 " +
              std::string(kNewestFirst) + " LIMIT ?4"))),
          set_checked(db.prepare("UPDATE articles SET checked = ?2 WHERE id = "
                                 "(SELECT article_id FROM article_urls WHERE url = ?1)")),
          url_tombstoned(db.prepare("SELECT 1 FROM tombstones WHERE kind = 'url' AND key = ?1")) {
        sign_unsigned();
    }

    SaveResult save_one(const Article& article, std::int64_t now);
    std::optional<std::int64_t> resolve(const Article& article);
    bool is_tombstoned(const Article& article);
    void add_urls(const Article& article, std::int64_t id, std::int64_t now);
    std::vector<Candidate> similar(const StoryKey& key, std::int64_t self);
    std::int64_t choose_cluster(const StoryKey& key, std::int64_t self);
    void store_story_key(const StoryKey& key, std::int64_t id, bool replace);
    void delete_lsh_rows(std::int64_t id, const std::vector<std::int64_t>& buckets);
    void remove_story_key(std::int64_t id);
    void begin_batch();
    void sign_unsigned();
    std::optional<std::int64_t> first_id(Statement& query);
    StoredArticle read_row(Statement& rows);
    std::vector<StoredArticle> read_rows(Statement& rows);

    // Declared first: destroyed after every statement below.
    Database db;
    Statement owner_by_id_key;
    Statement owner_by_canonical;
    Statement owner_by_url;
    Statement tombstoned;
    Statement next_id;
    Statement insert_article;
    Statement content_hash;
    Statement keep_revision;
    Statement update_article;
    Statement enrich_article;
    Statement touch_article;
    Statement insert_url;
    Statement leave_frontier;
    Statement candidates;
    Statement cluster_of;
    Statement delete_lsh;
    Statement insert_lsh;
    Statement signature_of;
    Statement pruned_signatures;
    Statement any_frontier;
    Statement any_tombstone;
    Statement upsert_signature;
    Statement delete_signature;
    Statement unsigned_batch;
    Statement mark_signed;
    Statement set_cluster;
    Statement knows_url;
    Statement list_all;
    Statement list_site;
    Statement list_cluster;
    Statement find_by_url;
    Statement list_aliases;
    Statement list_revisions;
    Statement search_rows;
    Statement canonical_url_of;
    Statement get_fetch_state;
    Statement put_fetch_state;
    Statement get_robots;
    Statement put_robots;
    Statement add_frontier;
    Statement list_frontier;
    Statement delete_raw_pages;
    Statement insert_raw_page;
    Statement list_raw_pages;
    Statement raw_articles_all;
    Statement raw_articles_site;
    Statement due_rows;
    Statement set_checked;
    Statement url_tombstoned;

    // Per save() transaction (BEGIN IMMEDIATE: no other connection writes meanwhile, and save()
    // itself adds no tombstone and no frontier entry): the next free article id, and whether
    // the tombstone and frontier tables have any row at all. Set by begin_batch().
    std::int64_t next_free_id = 0;
    bool has_tombstones = true;
    bool has_frontier = true;
};

// Runs a bound single-column query; its first row's integer, if any. Resets the statement.
std::optional<std::int64_t> ArticleStore::Impl::first_id(Statement& query) {
    std::optional<std::int64_t> id;
    if (query.step()) {
        id = query.column_int64(0);
    }
    query.reset();
    return id;
}

std::optional<std::int64_t> ArticleStore::Impl::resolve(const Article& article) {
    if (!article.id_key.empty()) {
        ScopedReset guard(owner_by_id_key);
        owner_by_id_key.bind(1, article.id_key);
        if (auto id = first_id(owner_by_id_key)) {
            return id;
        }
    }
    {
        ScopedReset guard(owner_by_canonical);
        owner_by_canonical.bind(1, article.canonical_url);
        if (auto id = first_id(owner_by_canonical)) {
            return id;
        }
    }
    ScopedReset guard(owner_by_url);
    auto owner = [&](const std::string& url) {
        owner_by_url.clear_bindings();
        owner_by_url.bind(1, url);
        return first_id(owner_by_url);
    };
    if (auto id = owner(article.canonical_url)) {
        return id;
    }
    for (const std::string& url : article.urls) {
        if (url.empty() || url == article.canonical_url) {
            continue;
        }
        if (auto id = owner(url)) {
            return id;
        }
    }
    return std::nullopt;
}

bool ArticleStore::Impl::is_tombstoned(const Article& article) {
    if (!has_tombstones) {
        return false;
    }
    ScopedReset guard(tombstoned);
    auto check = [&](std::string_view kind, const std::string& key) {
        tombstoned.clear_bindings();
        tombstoned.bind(1, kind);
        tombstoned.bind(2, key);
        return first_id(tombstoned).has_value();
    };
    if (!article.id_key.empty() && check("id", article.id_key)) {
        return true;
    }
    if (check("url", article.canonical_url)) {
        return true;
    }
    return std::any_of(article.urls.begin(), article.urls.end(),
                       [&](const std::string& url) { return !url.empty() && check("url", url); });
}

std::vector<Candidate> ArticleStore::Impl::similar(const StoryKey& key, std::int64_t self) {
    std::vector<Candidate> found;
    if (key.signature.empty || key.bands.size() != static_cast<std::size_t>(textkey::kBands)) {
        return found;
    }
    ScopedReset guard(candidates);
    for (int i = 0; i < textkey::kBands; ++i) {
        candidates.bind(i + 1, key.bands[static_cast<std::size_t>(i)]);
    }
    candidates.bind(textkey::kBands + 1, self);
    while (candidates.step()) {
        const std::vector<std::byte> bytes = candidates.column_blob(1);
        const textkey::Signature other = textkey::from_bytes(
            std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        if (other.empty) {
            continue;
        }
        const double score = textkey::similarity(key.signature, other);
        if (score >= textkey::kSameStoryThreshold) {
            found.push_back(Candidate{.id = candidates.column_int64(0), .similarity = score});
        }
    }
    // Most similar first; the older record first among equals.
    std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
        return a.similarity != b.similarity ? a.similarity > b.similarity : a.id < b.id;
    });
    return found;
}

// The cluster an article with `key` joins: the best candidate's, else its own id `self`.
std::int64_t ArticleStore::Impl::choose_cluster(const StoryKey& key, std::int64_t self) {
    const std::vector<Candidate> found = similar(key, self);
    if (found.empty()) {
        return self;
    }
    ScopedReset guard(cluster_of);
    cluster_of.bind(1, found.front().id);
    return first_id(cluster_of).value_or(self);
}

void ArticleStore::Impl::begin_batch() {
    {
        ScopedReset guard(next_id);
        next_free_id = first_id(next_id).value_or(1);
    }
    {
        ScopedReset guard(any_tombstone);
        has_tombstones = first_id(any_tombstone).value_or(1) != 0;
    }
    ScopedReset guard(any_frontier);
    has_frontier = first_id(any_frontier).value_or(1) != 0;
}

// Deletes the story_lsh rows of article `id` in `buckets` (one per band, or none).
void ArticleStore::Impl::delete_lsh_rows(std::int64_t id,
                                         const std::vector<std::int64_t>& buckets) {
    if (buckets.size() != static_cast<std::size_t>(textkey::kBands)) {
        return;
    }
    ScopedReset guard(delete_lsh);
    for (int i = 0; i < textkey::kBands; ++i) {
        delete_lsh.bind(i + 1, buckets[static_cast<std::size_t>(i)] | id);
    }
    delete_lsh.run();
}

// Removes the LSH rows of article `id`, recomputed from its stored signature (the signature
// row itself stays: the caller replaces or deletes it).
void ArticleStore::Impl::remove_story_key(std::int64_t id) {
    std::string bytes;
    {
        ScopedReset guard(signature_of);
        signature_of.bind(1, id);
        if (!signature_of.step()) {
            return;
        }
        const std::vector<std::byte> blob = signature_of.column_blob(0);
        bytes.assign(reinterpret_cast<const char*>(blob.data()), blob.size());
    }
    delete_lsh_rows(id, buckets_of(textkey::from_bytes(bytes)));
}

void ArticleStore::Impl::store_story_key(const StoryKey& key, std::int64_t id, bool replace) {
    if (id <= 0 || static_cast<std::uint64_t>(id) > kIdBits) {
        throw StorageError(
            storage_message(db.path(), "article id out of the LSH key range", std::to_string(id)));
    }
    if (replace) {
        remove_story_key(id);
    }
    if (key.signature.empty) {
        ScopedReset guard(delete_signature);
        delete_signature.bind(1, id);
        delete_signature.run();
        return;
    }
    {
        ScopedReset guard(upsert_signature);
        const std::string bytes = textkey::to_bytes(key.signature);
        upsert_signature.bind(1, id);
        upsert_signature.bind_blob(2, as_bytes(bytes));
        upsert_signature.run();
    }
    if (key.bands.size() != static_cast<std::size_t>(textkey::kBands)) {
        return;
    }
    ScopedReset guard(insert_lsh);
    for (int i = 0; i < textkey::kBands; ++i) {
        insert_lsh.bind(i + 1, key.bands[static_cast<std::size_t>(i)] | id);
    }
    insert_lsh.run();
}

// Computes the signatures and clusters of rows migrated from schema version 1, oldest first,
// in batches of one transaction each (an interrupted run resumes where it stopped).
void ArticleStore::Impl::sign_unsigned() {
    // Checked outside a transaction first: opening an up-to-date file takes no write lock.
    if (db.query_int("SELECT EXISTS (SELECT 1 FROM unsigned_articles)") == 0) {
        return;
    }
    for (;;) {
        Transaction tx(db);
        struct Unsigned {
            std::int64_t id = 0;
            Article article;
            bool recluster = true;
        };
        std::vector<Unsigned> batch;
        {
            ScopedReset guard(unsigned_batch);
            while (unsigned_batch.step()) {
                Article article;
                article.title = unsigned_batch.column_text(1);
                article.lead = unsigned_batch.column_text(2);
                article.lead_prefix = unsigned_batch.column_text(3);
                try {
                    article.body = parse_body(unsigned_batch.column_text(4));
                } catch (const json::exception& e) {
                    throw StorageError(storage_message(
                        db.path(), std::string("corrupt JSON column: ") + e.what(), "sign"));
                }
                batch.push_back(Unsigned{.id = unsigned_batch.column_int64(0),
                                         .article = std::move(article),
                                         .recluster = unsigned_batch.column_int64(5) != 0});
            }
        }
        if (batch.empty()) {
            return;  // tx rolls back an empty transaction
        }
        for (const Unsigned& row : batch) {
            const std::int64_t id = row.id;
            const StoryKey key = story_key(row.article);
            store_story_key(key, id, true);
            if (row.recluster) {
                // Rows migrated from version 1 have no cluster yet. Re-signed rows (version 4)
                // keep theirs: clusters are kept as assigned.
                const std::int64_t cluster = choose_cluster(key, id);
                ScopedReset guard(set_cluster);
                set_cluster.bind(1, id);
                set_cluster.bind(2, cluster);
                set_cluster.run();
            }
            ScopedReset guard(mark_signed);
            mark_signed.bind(1, id);
            mark_signed.run();
        }
        tx.commit();
    }
}

SaveResult ArticleStore::Impl::save_one(const Article& article, std::int64_t now) {
    if (article.canonical_url.empty() || article.site.empty()) {
        throw std::invalid_argument("storage: save: an article needs a canonical_url and a site (" +
                                    article.canonical_url + ")");
    }
    const std::optional<std::int64_t> found = resolve(article);
    if (!found.has_value() && is_tombstoned(article)) {
        return SaveResult::unchanged;  // pruned once: never stored again as new
    }
    const Content content = serialize(article);
    auto bind_content = [&](Statement& stmt) {
        stmt.bind(4, article.id_key);
        stmt.bind(5, article.title);
        stmt.bind(6, article.author);
        stmt.bind(7, to_unix(article.published));
        stmt.bind(8, to_unix(article.modified));
        stmt.bind(9, article.lead);
        stmt.bind(10, article.lead_prefix);
        stmt.bind(11, article.section);
        stmt.bind(12, content.body);
        stmt.bind(13, content.images);
        stmt.bind(14, content.videos);
        stmt.bind(15, article.html);
        stmt.bind(16, content.hash);
        stmt.bind(17, now);
    };

    if (!found.has_value()) {
        const std::int64_t id = next_free_id++;
        const StoryKey key = story_key(article);
        const std::int64_t cluster = choose_cluster(key, id);
        {
            ScopedReset guard(insert_article);
            insert_article.bind(1, id);
            insert_article.bind(2, article.canonical_url);
            insert_article.bind(3, article.site);
            bind_content(insert_article);
            insert_article.bind(18, cluster);
            insert_article.run();
        }
        store_story_key(key, id, false);
        add_urls(article, id, now);
        return SaveResult::inserted;
    }

    const std::int64_t id = *found;
    std::int64_t stored_hash = 0;
    {
        ScopedReset guard(content_hash);
        content_hash.bind(1, id);
        stored_hash = first_id(content_hash).value_or(0);
    }
    SaveResult result = SaveResult::unchanged;
    if (stored_hash != content.hash && stored_hash == content.core_hash) {
        // The record was saved without lead_prefix/section/html (by schema version 1, or by a
        // parser that did not produce them) and only those are new: fill them in, no revision.
        {
            ScopedReset guard(enrich_article);
            enrich_article.bind(1, id);
            enrich_article.bind(2, article.lead_prefix);
            enrich_article.bind(3, article.section);
            enrich_article.bind(4, article.html);
            enrich_article.bind(5, content.hash);
            enrich_article.bind(6, now);
            enrich_article.bind(7, article.id_key);
            enrich_article.run();
        }
        store_story_key(story_key(article), id, true);  // the lead prefix is not story text
    } else if (stored_hash == content.hash) {
        ScopedReset guard(touch_article);
        touch_article.bind(1, id);
        touch_article.bind(2, now);
        touch_article.bind(3, article.id_key);
        touch_article.run();
    } else {
        {
            ScopedReset guard(keep_revision);
            keep_revision.bind(1, id);
            keep_revision.bind(2, now);
            keep_revision.run();
        }
        const StoryKey key = story_key(article);
        const std::int64_t cluster = choose_cluster(key, id);
        {
            ScopedReset guard(update_article);
            update_article.bind(1, id);
            bind_content(update_article);
            update_article.bind(18, cluster);
            update_article.run();
        }
        store_story_key(key, id, true);
        result = SaveResult::updated;
    }
    add_urls(article, id, now);
    return result;
}

void ArticleStore::Impl::add_urls(const Article& article, std::int64_t id, std::int64_t now) {
    auto add = [&](const std::string& url) {
        {
            ScopedReset guard(insert_url);
            insert_url.bind(1, url);
            insert_url.bind(2, id);
            insert_url.bind(3, now);
            insert_url.run();
        }
        if (has_frontier) {
            ScopedReset guard(leave_frontier);
            leave_frontier.bind(1, url);
            leave_frontier.run();
        }
    };
    add(article.canonical_url);
    for (const std::string& url : article.urls) {
        if (url.empty() || url == article.canonical_url) {
            continue;
        }
        add(url);
    }
}

StoredArticle ArticleStore::Impl::read_row(Statement& rows) {
    StoredArticle stored;
    Article& article = stored.article;
    const std::int64_t id = rows.column_int64(0);
    article.canonical_url = rows.column_text(1);
    article.site = rows.column_text(2);
    article.id_key = rows.column_text(3);
    article.title = rows.column_text(4);
    article.author = rows.column_text(5);
    article.published = from_unix(rows.column_optional_int64(6));
    article.modified = from_unix(rows.column_optional_int64(7));
    article.lead = rows.column_text(8);
    article.lead_prefix = rows.column_text(9);
    article.section = rows.column_text(10);
    try {
        article.body = parse_body(rows.column_text(11));
        article.images = parse_images(rows.column_text(12));
        article.videos = parse_videos(rows.column_text(13));
    } catch (const json::exception& e) {
        throw StorageError(storage_message(
            db.path(), std::string("corrupt JSON column: ") + e.what(), article.canonical_url));
    }
    article.html = rows.column_text(14);
    stored.first_seen = from_unix(rows.column_int64(15));
    stored.updated = from_unix(rows.column_int64(16));
    stored.checked = from_unix(rows.column_int64(17));
    stored.cluster = rows.column_int64(18);
    stored.revisions = static_cast<int>(rows.column_int64(19));

    article.urls.push_back(article.canonical_url);
    ScopedReset guard(list_aliases);
    list_aliases.bind(1, id);
    list_aliases.bind(2, article.canonical_url);
    while (list_aliases.step()) {
        article.urls.push_back(list_aliases.column_text(0));
    }
    return stored;
}

std::vector<StoredArticle> ArticleStore::Impl::read_rows(Statement& rows) {
    std::vector<StoredArticle> out;
    while (rows.step()) {
        out.push_back(read_row(rows));
    }
    return out;
}

ArticleStore::ArticleStore(const std::string& path) : impl_(std::make_unique<Impl>(path)) {}

ArticleStore::~ArticleStore() = default;

int ArticleStore::latest_schema_version() {
    return latest_version();
}

int ArticleStore::schema_version() const {
    return user_version(impl_->db);
}

std::vector<SaveResult> ArticleStore::save(const std::vector<Article>& articles, Timestamp now) {
    std::vector<SaveResult> results;
    results.reserve(articles.size());
    Transaction tx(impl_->db);
    impl_->begin_batch();
    const std::int64_t seconds = to_unix(now);
    for (const Article& article : articles) {
        results.push_back(impl_->save_one(article, seconds));
    }
    tx.commit();
    return results;
}

bool ArticleStore::knows_url(std::string_view url) const {
    Statement& query = impl_->knows_url;
    ScopedReset guard(query);
    query.bind(1, url);
    return query.step();
}

std::vector<StoredArticle> ArticleStore::list(std::optional<std::string_view> site,
                                              std::size_t limit) const {
    Statement& rows = site.has_value() ? impl_->list_site : impl_->list_all;
    ScopedReset guard(rows);
    if (site.has_value()) {
        rows.bind(1, *site);
    }
    rows.bind(2, sql_limit(limit));
    return impl_->read_rows(rows);
}

std::optional<StoredArticle> ArticleStore::find(std::string_view url) const {
    Statement& rows = impl_->find_by_url;
    ScopedReset guard(rows);
    rows.bind(1, url);
    if (!rows.step()) {
        return std::nullopt;
    }
    return impl_->read_row(rows);
}

std::vector<Article> ArticleStore::revisions(std::string_view canonical_url) const {
    Statement& rows = impl_->list_revisions;
    ScopedReset guard(rows);
    rows.bind(1, canonical_url);
    std::vector<Article> out;
    while (rows.step()) {
        Article article;
        article.canonical_url = rows.column_text(0);
        article.urls = {article.canonical_url};
        article.site = rows.column_text(1);
        article.id_key = rows.column_text(2);
        article.title = rows.column_text(3);
        article.author = rows.column_text(4);
        article.published = from_unix(rows.column_optional_int64(5));
        article.modified = from_unix(rows.column_optional_int64(6));
        article.lead = rows.column_text(7);
        article.lead_prefix = rows.column_text(8);
        article.section = rows.column_text(9);
        try {
            article.body = parse_body(rows.column_text(10));
            article.images = parse_images(rows.column_text(11));
            article.videos = parse_videos(rows.column_text(12));
        } catch (const json::exception& e) {
            throw StorageError(storage_message(impl_->db.path(),
                                               std::string("corrupt JSON column: ") + e.what(),
                                               article.canonical_url));
        }
        article.html = rows.column_text(13);
        out.push_back(std::move(article));
    }
    return out;
}

std::vector<StoredArticle> ArticleStore::cluster(std::int64_t cluster_id, std::size_t limit) const {
    Statement& rows = impl_->list_cluster;
    ScopedReset guard(rows);
    rows.bind(1, cluster_id);
    rows.bind(2, sql_limit(limit));
    return impl_->read_rows(rows);
}

std::vector<std::string> ArticleStore::near_duplicates(const Article& article,
                                                       std::size_t limit) const {
    std::int64_t self = 0;  // no article has id 0
    {
        ScopedReset guard(impl_->owner_by_canonical);
        impl_->owner_by_canonical.bind(1, article.canonical_url);
        self = impl_->first_id(impl_->owner_by_canonical).value_or(0);
    }
    const std::vector<Candidate> found = impl_->similar(story_key(article), self);
    std::vector<std::string> urls;
    Statement& query = impl_->canonical_url_of;
    ScopedReset guard(query);
    for (const Candidate& candidate : found) {
        if (limit != 0 && urls.size() >= limit) {
            break;
        }
        query.reset();
        query.bind(1, candidate.id);
        if (query.step()) {
            urls.push_back(query.column_text(0));
        }
    }
    return urls;
}

std::vector<StoredArticle> ArticleStore::search(std::string_view query,
                                                std::optional<std::string_view> site,
                                                std::size_t limit) const {
    const std::string match = fts_query(query);
    if (match.empty()) {
        return {};
    }
    Statement& rows = impl_->search_rows;
    ScopedReset guard(rows);
    rows.bind(1, match);
    if (site.has_value()) {
        rows.bind(2, *site);
    } else {
        rows.bind_null(2);
    }
    rows.bind(3, sql_limit(limit));
    return impl_->read_rows(rows);
}

std::optional<FetchState> ArticleStore::fetch_state(std::string_view url) const {
    Statement& query = impl_->get_fetch_state;
    ScopedReset guard(query);
    query.bind(1, url);
    if (!query.step()) {
        return std::nullopt;
    }
    return FetchState{.url = std::string(url),
                      .etag = query.column_text(0),
                      .last_modified = query.column_text(1),
                      .fetched_at = from_unix(query.column_int64(2)),
                      .status = static_cast<int>(query.column_int64(3))};
}

void ArticleStore::remember_fetch(const FetchState& state) {
    Statement& stmt = impl_->put_fetch_state;
    ScopedReset guard(stmt);
    stmt.bind(1, state.url);
    stmt.bind(2, state.etag);
    stmt.bind(3, state.last_modified);
    stmt.bind(4, to_unix(state.fetched_at));
    stmt.bind(5, std::int64_t{state.status});
    stmt.run();
}

std::optional<CachedRobots> ArticleStore::robots(std::string_view origin) const {
    Statement& query = impl_->get_robots;
    ScopedReset guard(query);
    query.bind(1, origin);
    if (!query.step()) {
        return std::nullopt;
    }
    return CachedRobots{.host = std::string(origin),
                        .body = query.column_text(0),
                        .status = static_cast<int>(query.column_int64(1)),
                        .fetched_at = from_unix(query.column_int64(2)),
                        .expires = from_unix(query.column_int64(3)),
                        .etag = query.column_text(4),
                        .last_modified = query.column_text(5)};
}

void ArticleStore::save_robots(const CachedRobots& robots) {
    Statement& stmt = impl_->put_robots;
    ScopedReset guard(stmt);
    stmt.bind(1, robots.host);
    stmt.bind(2, robots.body);
    stmt.bind(3, std::int64_t{robots.status});
    stmt.bind(4, to_unix(robots.fetched_at));
    stmt.bind(5, to_unix(robots.expires));
    stmt.bind(6, robots.etag);
    stmt.bind(7, robots.last_modified);
    stmt.run();
}

std::size_t ArticleStore::add_to_frontier(const std::vector<FrontierEntry>& entries) {
    std::size_t added = 0;
    Transaction tx(impl_->db);
    Statement& stmt = impl_->add_frontier;
    ScopedReset guard(stmt);
    for (const FrontierEntry& entry : entries) {
        if (entry.url.empty()) {
            continue;
        }
        stmt.reset();
        stmt.bind(1, entry.url);
        stmt.bind(2, entry.site);
        stmt.bind(3, to_unix(entry.discovered));
        stmt.run();
        added += static_cast<std::size_t>(sqlite3_changes(impl_->db.handle()));
    }
    stmt.reset();
    tx.commit();
    return added;
}

std::vector<FrontierEntry> ArticleStore::frontier(std::string_view site, std::size_t limit) const {
    Statement& rows = impl_->list_frontier;
    ScopedReset guard(rows);
    rows.bind(1, site);
    rows.bind(2, sql_limit(limit));
    std::vector<FrontierEntry> out;
    while (rows.step()) {
        out.push_back(FrontierEntry{.site = rows.column_text(0),
                                    .url = rows.column_text(1),
                                    .discovered = from_unix(rows.column_int64(2))});
    }
    return out;
}

void ArticleStore::remove_from_frontier(std::string_view url) {
    Statement& stmt = impl_->leave_frontier;
    ScopedReset guard(stmt);
    stmt.bind(1, url);
    stmt.run();
}

void ArticleStore::save_raw_pages(const std::vector<RawPage>& pages) {
    Transaction tx(impl_->db);
    std::set<std::string> replaced;
    for (const RawPage& page : pages) {
        if (page.canonical_url.empty() || page.page < 1) {
            throw std::invalid_argument(
                "storage: save_raw_pages: a page needs a canonical_url and a page number >= 1");
        }
        if (replaced.insert(page.canonical_url).second) {
            Statement& del = impl_->delete_raw_pages;
            ScopedReset guard(del);
            del.bind(1, page.canonical_url);
            del.run();
        }
        const std::vector<std::byte> compressed = compress_text(page.html, impl_->db.path());
        Statement& stmt = impl_->insert_raw_page;
        ScopedReset guard(stmt);
        stmt.bind(1, page.canonical_url);
        stmt.bind(2, std::int64_t{page.page});
        stmt.bind(3, page.site);
        stmt.bind(4, page.url);
        stmt.bind(5, to_unix(page.fetched_at));
        stmt.bind(6, static_cast<std::int64_t>(page.html.size()));
        stmt.bind_blob(7, compressed);
        stmt.run();
    }
    tx.commit();
}

std::vector<RawPage> ArticleStore::raw_pages(std::string_view canonical_url) const {
    Statement& rows = impl_->list_raw_pages;
    ScopedReset guard(rows);
    rows.bind(1, canonical_url);
    std::vector<RawPage> out;
    while (rows.step()) {
        RawPage page;
        page.canonical_url = rows.column_text(0);
        page.site = rows.column_text(1);
        page.url = rows.column_text(2);
        page.fetched_at = from_unix(rows.column_int64(3));
        page.page = static_cast<int>(rows.column_int64(4));
        page.html = decompress_text(rows.column_blob(6), rows.column_int64(5), impl_->db.path());
        out.push_back(std::move(page));
    }
    return out;
}

std::vector<std::string> ArticleStore::raw_page_articles(
    std::optional<std::string_view> site) const {
    Statement& rows = site.has_value() ? impl_->raw_articles_site : impl_->raw_articles_all;
    ScopedReset guard(rows);
    if (site.has_value()) {
        rows.bind(1, *site);
    }
    std::vector<std::string> out;
    while (rows.step()) {
        out.push_back(rows.column_text(0));
    }
    return out;
}

std::vector<StoredArticle> ArticleStore::due_for_revisit(std::string_view site,
                                                         Timestamp published_after,
                                                         Timestamp checked_before,
                                                         std::size_t limit) const {
    Statement& rows = impl_->due_rows;
    ScopedReset guard(rows);
    rows.bind(1, site);
    rows.bind(2, to_unix(published_after));
    rows.bind(3, to_unix(checked_before));
    rows.bind(4, sql_limit(limit));
    return impl_->read_rows(rows);
}

void ArticleStore::mark_checked(std::string_view canonical_url, Timestamp when) {
    Statement& stmt = impl_->set_checked;
    ScopedReset guard(stmt);
    stmt.bind(1, canonical_url);
    stmt.bind(2, to_unix(when));
    stmt.run();
}

PruneResult ArticleStore::prune(Timestamp articles_before, Timestamp raw_before) {
    Database& db = impl_->db;
    PruneResult result;
    Transaction tx(db);
    auto run = [&db](std::string_view sql, std::int64_t when) {
        Statement stmt = db.prepare(sql);
        stmt.bind(1, when);
        stmt.run();
        return static_cast<std::size_t>(sqlite3_changes64(db.handle()));
    };
    const std::int64_t articles_cut = to_unix(articles_before);
    run("INSERT OR IGNORE INTO tombstones (kind, key) SELECT 'url', u.url FROM article_urls u "
        "JOIN articles a ON a.id = u.article_id WHERE a.first_seen < ?1",
        articles_cut);
    run("INSERT OR IGNORE INTO tombstones (kind, key) SELECT 'url', canonical_url FROM articles "
        "WHERE first_seen < ?1",
        articles_cut);
    run("INSERT OR IGNORE INTO tombstones (kind, key) SELECT 'id', id_key FROM articles "
        "WHERE first_seen < ?1 AND id_key <> ''",
        articles_cut);
    run("DELETE FROM raw_pages WHERE canonical_url IN (SELECT u.url FROM article_urls u "
        "JOIN articles a ON a.id = u.article_id WHERE a.first_seen < ?1)",
        articles_cut);
    run("DELETE FROM frontier WHERE url IN (SELECT u.url FROM article_urls u "
        "JOIN articles a ON a.id = u.article_id WHERE a.first_seen < ?1)",
        articles_cut);
    // story_lsh has no foreign key: the LSH rows of the pruned articles go first, recomputed
    // from their signatures.
    std::vector<std::pair<std::int64_t, std::string>> signed_rows;
    {
        Statement& rows = impl_->pruned_signatures;
        ScopedReset guard(rows);
        rows.bind(1, articles_cut);
        while (rows.step()) {
            const std::vector<std::byte> blob = rows.column_blob(1);
            signed_rows.emplace_back(
                rows.column_int64(0),
                std::string(reinterpret_cast<const char*>(blob.data()), blob.size()));
        }
    }
    for (const auto& [id, bytes] : signed_rows) {
        impl_->delete_lsh_rows(id, buckets_of(textkey::from_bytes(bytes)));
    }
    // Foreign keys cascade to article_urls, article_revisions, story_signatures and
    // unsigned_articles; the articles_fts_delete trigger removes the index entries.
    result.articles = run("DELETE FROM articles WHERE first_seen < ?1", articles_cut);
    result.raw_pages = run("DELETE FROM raw_pages WHERE fetched_at < ?1", to_unix(raw_before));
    result.fetch_states = run("DELETE FROM fetch_states WHERE fetched_at < ?1", articles_cut);
    tx.commit();
    return result;
}

bool ArticleStore::is_tombstoned(std::string_view url) const {
    Statement& query = impl_->url_tombstoned;
    ScopedReset guard(query);
    query.bind(1, url);
    return query.step();
}

}  // namespace baofeed::storage
