// The article database (SQLite, WAL). The only module that talks to SQLite.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/article.h"

namespace baofeed::storage {

enum class SaveResult { inserted, updated, unchanged };

struct StoredArticle {
    Article article;  // urls: every URL seen for it, canonical first, then in order first seen
    Timestamp first_seen;
    Timestamp updated;  // last time the content changed (== first_seen until it does)
};

// Opens (creating if needed) and migrates the database at `path` (":memory:" for tests).
// Throws StorageError ("storage: <path>: <reason>") when it cannot be opened or migrated, or
// when the file's schema is newer than this program knows.
// Not thread-safe: one ArticleStore per thread. Several processes may open one file; writers
// wait up to busy_timeout for each other.
class ArticleStore {
  public:
    explicit ArticleStore(const std::string& path);
    ~ArticleStore();
    ArticleStore(const ArticleStore&) = delete;
    ArticleStore& operator=(const ArticleStore&) = delete;

    static int latest_schema_version();
    int schema_version() const;

    // Saves each article under its canonical_url, in one transaction: all or nothing. New
    // canonical URL -> inserted; same content -> unchanged (only new URLs are recorded); changed
    // title/lead/body/author/dates/images/videos -> updated. Every URL in `urls` becomes an
    // alias of the record. REQUIRES: canonical_url and site non-empty (else std::invalid_argument,
    // and nothing of the batch is saved). A later duplicate in the same batch is compared with
    // the earlier one. `site` is not content: it is kept from the first save. A URL that is
    // already an alias of another record stays with that record; a canonical URL always names
    // its own record. Throws StorageError when the database cannot be written.
    std::vector<SaveResult> save(const std::vector<Article>& articles, Timestamp now);

    // True when `url` is the canonical URL or an alias of a stored article.
    bool knows_url(std::string_view url) const;

    // Articles newest first (published, else first_seen; ties by canonical_url), at most `limit`
    // (0 = all), optionally of one site.
    std::vector<StoredArticle> list(std::optional<std::string_view> site, std::size_t limit) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace baofeed::storage
