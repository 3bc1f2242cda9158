#include "storage/article_store.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "core/errors.h"
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

// Text is UTF-8 by contract; should a stray invalid byte slip through, it becomes U+FFFD
// instead of an exception in the middle of a batch.
std::string dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json optional_json(const std::optional<std::int64_t>& value) {
    return value.has_value() ? json(*value) : json(nullptr);
}

json images_json(const std::vector<Image>& images) {
    json out = json::array();
    for (const Image& image : images) {
        out.push_back({{"src", image.src}, {"caption", image.caption}});
    }
    return out;
}

json videos_json(const std::vector<Video>& videos) {
    json out = json::array();
    for (const Video& video : videos) {
        out.push_back({{"src", video.src}, {"poster", video.poster}, {"caption", video.caption}});
    }
    return out;
}

// The serialized content columns of one article, plus the hash that decides "changed?".
struct Content {
    std::string body;
    std::string images;
    std::string videos;
    std::int64_t hash = 0;
};

Content serialize(const Article& article) {
    Content content;
    const json body = article.body;
    const json images = images_json(article.images);
    const json videos = videos_json(article.videos);
    content.body = dump(body);
    content.images = dump(images);
    content.videos = dump(videos);
    // A JSON array keeps field boundaries unambiguous ("ab"+"c" differs from "a"+"bc").
    const json fields =
        json::array({article.title, article.author, optional_json(to_unix(article.published)),
                     optional_json(to_unix(article.modified)), article.lead, body, images, videos});
    const std::string canonical = dump(fields);
    content.hash = std::bit_cast<std::int64_t>(XXH3_64bits(canonical.data(), canonical.size()));
    return content;
}

std::vector<std::string> parse_body(const std::string& text) {
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

constexpr std::string_view kArticleColumns =
    "id, canonical_url, site, title, author, published, modified, lead, body, images, videos, "
    "first_seen, updated";

std::string list_sql(bool by_site) {
    std::string sql = "SELECT ";
    sql.append(kArticleColumns);
    sql.append(" FROM articles ");
    if (by_site) {
        sql.append("WHERE site = ?1 ");
    }
    // Must match the expression of the articles_newest / articles_site_newest indexes.
    sql.append("ORDER BY coalesce(published, first_seen) DESC, canonical_url ASC LIMIT ?2");
    return sql;
}

Database& open_and_migrate(Database& db) {
    configure_connection(db);
    migrate(db);
    return db;
}

}  // namespace

struct ArticleStore::Impl {
    explicit Impl(const std::string& path)
        : db(path),
          insert_article(open_and_migrate(db).prepare(
              "INSERT INTO articles (canonical_url, site, title, author, published, modified, "
              "lead, body, images, videos, content_hash, first_seen, updated) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) "
              "ON CONFLICT (canonical_url) DO NOTHING RETURNING id")),
          find_article(
              db.prepare("SELECT id, content_hash FROM articles WHERE canonical_url = ?1")),
          update_article(
              db.prepare("UPDATE articles SET site = ?2, title = ?3, author = ?4, published = ?5, "
                         "modified = ?6, lead = ?7, body = ?8, images = ?9, videos = ?10, "
                         "content_hash = ?11, updated = ?12 WHERE id = ?1")),
          // A canonical URL always names its own record, even if it was once another's alias.
          insert_canonical_url(db.prepare(
              "INSERT INTO article_urls (url, article_id, first_seen) VALUES (?1, ?2, ?3) "
              "ON CONFLICT (url) DO UPDATE SET article_id = excluded.article_id "
              "WHERE article_id <> excluded.article_id")),
          // An alias keeps the record that claimed it first.
          insert_alias_url(db.prepare(
              "INSERT INTO article_urls (url, article_id, first_seen) VALUES (?1, ?2, ?3) "
              "ON CONFLICT (url) DO NOTHING")),
          knows_url(db.prepare("SELECT 1 FROM article_urls WHERE url = ?1")),
          list_all(db.prepare(list_sql(false))),
          list_site(db.prepare(list_sql(true))),
          list_aliases(
              db.prepare("SELECT url FROM article_urls WHERE article_id = ?1 AND url <> ?2 "
                         "ORDER BY first_seen, url")) {}

    SaveResult save_one(const Article& article, std::int64_t now);
    void add_urls(const Article& article, std::int64_t id, std::int64_t now);
    StoredArticle read_row(Statement& rows);

    // Declared first: destroyed after every statement below.
    Database db;
    Statement insert_article;
    Statement find_article;
    Statement update_article;
    Statement insert_canonical_url;
    Statement insert_alias_url;
    Statement knows_url;
    Statement list_all;
    Statement list_site;
    Statement list_aliases;
};

SaveResult ArticleStore::Impl::save_one(const Article& article, std::int64_t now) {
    if (article.canonical_url.empty() || article.site.empty()) {
        throw std::invalid_argument("storage: save: an article needs a canonical_url and a site (" +
                                    article.canonical_url + ")");
    }
    const Content content = serialize(article);
    auto bind_content = [&](Statement& stmt) {
        stmt.bind(2, article.site);
        stmt.bind(3, article.title);
        stmt.bind(4, article.author);
        stmt.bind(5, to_unix(article.published));
        stmt.bind(6, to_unix(article.modified));
        stmt.bind(7, article.lead);
        stmt.bind(8, content.body);
        stmt.bind(9, content.images);
        stmt.bind(10, content.videos);
        stmt.bind(11, content.hash);
        stmt.bind(12, now);
    };

    {
        ScopedReset guard(insert_article);
        insert_article.bind(1, article.canonical_url);
        bind_content(insert_article);
        if (insert_article.step()) {
            const std::int64_t id = insert_article.column_int64(0);
            insert_article.run();  // finish the statement before touching other tables
            add_urls(article, id, now);
            return SaveResult::inserted;
        }
    }

    std::int64_t id = 0;
    std::int64_t stored_hash = 0;
    {
        ScopedReset guard(find_article);
        find_article.bind(1, article.canonical_url);
        if (!find_article.step()) {
            throw StorageError(
                storage_message(db.path(), "article vanished during save", article.canonical_url));
        }
        id = find_article.column_int64(0);
        stored_hash = find_article.column_int64(1);
    }

    SaveResult result = SaveResult::unchanged;
    if (stored_hash != content.hash) {
        ScopedReset guard(update_article);
        update_article.bind(1, id);
        bind_content(update_article);
        update_article.run();
        result = SaveResult::updated;
    }
    add_urls(article, id, now);
    return result;
}

void ArticleStore::Impl::add_urls(const Article& article, std::int64_t id, std::int64_t now) {
    {
        ScopedReset guard(insert_canonical_url);
        insert_canonical_url.bind(1, article.canonical_url);
        insert_canonical_url.bind(2, id);
        insert_canonical_url.bind(3, now);
        insert_canonical_url.run();
    }
    for (const std::string& url : article.urls) {
        if (url.empty() || url == article.canonical_url) {
            continue;
        }
        ScopedReset guard(insert_alias_url);
        insert_alias_url.bind(1, url);
        insert_alias_url.bind(2, id);
        insert_alias_url.bind(3, now);
        insert_alias_url.run();
    }
}

StoredArticle ArticleStore::Impl::read_row(Statement& rows) {
    StoredArticle stored;
    Article& article = stored.article;
    const std::int64_t id = rows.column_int64(0);
    article.canonical_url = rows.column_text(1);
    article.site = rows.column_text(2);
    article.title = rows.column_text(3);
    article.author = rows.column_text(4);
    article.published = from_unix(rows.column_optional_int64(5));
    article.modified = from_unix(rows.column_optional_int64(6));
    article.lead = rows.column_text(7);
    try {
        article.body = parse_body(rows.column_text(8));
        article.images = parse_images(rows.column_text(9));
        article.videos = parse_videos(rows.column_text(10));
    } catch (const json::exception& e) {
        throw StorageError(storage_message(
            db.path(), std::string("corrupt JSON column: ") + e.what(), article.canonical_url));
    }
    stored.first_seen = from_unix(rows.column_int64(11));
    stored.updated = from_unix(rows.column_int64(12));

    article.urls.push_back(article.canonical_url);
    ScopedReset guard(list_aliases);
    list_aliases.bind(1, id);
    list_aliases.bind(2, article.canonical_url);
    while (list_aliases.step()) {
        article.urls.push_back(list_aliases.column_text(0));
    }
    return stored;
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
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    // LIMIT -1 means no limit.
    rows.bind(2, limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(std::min(limit, kMax)));
    std::vector<StoredArticle> out;
    while (rows.step()) {
        out.push_back(impl_->read_row(rows));
    }
    return out;
}

}  // namespace baofeed::storage
