// The article database (SQLite, WAL). The only module that talks to SQLite.
#pragma once

#include <cstdint>
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
    Timestamp updated;         // last time the content changed (== first_seen until it does)
    int revisions = 0;         // earlier versions kept in the revisions table
    std::int64_t cluster = 0;  // story cluster id: articles with the same id tell the same story
                               // (syndicated copies across sites); its own id when alone
    Timestamp checked;         // last time the page was fetched (revisit policy)
};

// Conditional-GET state of a URL the crawler fetches again (feeds, listings, sitemaps,
// robots.txt, revisited articles).
struct FetchState {
    std::string url;
    std::string etag;
    std::string last_modified;
    Timestamp fetched_at;
    int status = 0;  // HTTP status of the last fetch, 0 when it failed before a response
};

// robots.txt of a host, cached across runs.
struct CachedRobots {
    std::string host;  // "scheme://host[:port]" origin, lower-case
    std::string body;  // as served (empty for a 4xx/5xx)
    int status = 0;
    Timestamp fetched_at;
    Timestamp expires;
    std::string etag;
    std::string last_modified;
};

// An article URL discovered but not fetched yet (over the per-run budget, or the run ended).
struct FrontierEntry {
    std::string site;
    std::string url;
    Timestamp discovered;
};

struct RawPage {
    std::string canonical_url;
    std::string site;
    std::string url;   // the URL it was fetched from (final URL after redirects)
    std::string html;  // UTF-8, as fed to the parser (decompressed)
    Timestamp fetched_at;
    int page = 1;  // page number for split articles (1, 2, ...)
};

struct PruneResult {
    std::size_t articles = 0;   // deleted, with their URLs, revisions and raw pages
    std::size_t raw_pages = 0;  // deleted raw pages of articles that stay
    std::size_t fetch_states = 0;
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

    // Saves each article in one transaction: all or nothing. REQUIRES: canonical_url and site
    // non-empty (else std::invalid_argument, and nothing of the batch is saved).
    // Identity: the record is the first found by (1) id_key (when non-empty), (2) canonical_url
    // as a record's canonical URL, (3) any of canonical_url and `urls` already recorded for a
    // record (alias), across hosts too. No record -> inserted, with its story cluster (the
    // cluster of the most similar stored article when textkey::similarity reaches
    // kSameStoryThreshold, else its own id). Found with the same content -> unchanged (only new
    // URLs are recorded). Found with changed title/lead/lead_prefix/section/author/dates/body/
    // images/videos/html -> updated: the previous version goes to the revisions table, the
    // record takes the new content (`modified` as given), `updated` = now, and its cluster is
    // chosen again. Either way `checked` = now, new URLs become aliases of the record (a URL
    // already recorded for another record stays there) and leave the frontier; the record keeps
    // its first canonical URL, site and id_key. Tombstones: an article that names no live record
    // but whose id_key, canonical_url or any URL belonged to a pruned article is NOT stored and
    // reports unchanged; tombstoned URLs never become aliases. A later duplicate in the same
    // batch is compared with the earlier one. Throws StorageError when the database cannot be
    // written.
    std::vector<SaveResult> save(const std::vector<Article>& articles, Timestamp now);

    // True when `url` is the canonical URL or an alias of a stored article.
    bool knows_url(std::string_view url) const;

    // Articles newest first (published, else first_seen; ties by canonical_url), at most `limit`
    // (0 = all), optionally of one site.
    std::vector<StoredArticle> list(std::optional<std::string_view> site, std::size_t limit) const;

    // One article by canonical URL or any alias.
    std::optional<StoredArticle> find(std::string_view url) const;
    // Earlier versions of an article (by canonical URL or alias), oldest first (the current one
    // is not included). Each has the record's canonical_url and site, urls = {canonical_url},
    // and the content and id_key it had before it was replaced.
    std::vector<Article> revisions(std::string_view canonical_url) const;
    // The newest `limit` articles of one story cluster (0 = all), ordered like list().
    // Clusters are kept as assigned: when a cluster's first article is later updated into
    // another story, the others keep their cluster id.
    std::vector<StoredArticle> cluster(std::int64_t cluster_id, std::size_t limit) const;

    // Canonical URLs of stored articles that tell the same story as `article` (similarity of
    // their signatures >= textkey::kSameStoryThreshold), most similar first, at most `limit`
    // (0 = all candidates). The article's own record (by canonical URL) is left out. Reads only
    // the LSH buckets of the article's signature, never all articles.
    std::vector<std::string> near_duplicates(const Article& article, std::size_t limit) const;

    // Full-text search (FTS5) over title, lead and body, diacritic- and case-insensitive
    // ("bac kan" finds "Bắc Kạn"); best matches first. `query` is plain words, not FTS syntax.
    std::vector<StoredArticle> search(std::string_view query, std::optional<std::string_view> site,
                                      std::size_t limit) const;

    // Conditional-GET state.
    std::optional<FetchState> fetch_state(std::string_view url) const;
    void remember_fetch(const FetchState& state);

    std::optional<CachedRobots> robots(std::string_view origin) const;
    void save_robots(const CachedRobots& robots);

    // Frontier of discovered article URLs. add_to_frontier ignores URLs already stored or
    // already in the frontier, and tombstoned ones; returns how many were added.
    std::size_t add_to_frontier(const std::vector<FrontierEntry>& entries);
    // Oldest first, at most `limit` of `site`.
    std::vector<FrontierEntry> frontier(std::string_view site, std::size_t limit) const;
    void remove_from_frontier(std::string_view url);

    // Raw pages, kept compressed (zlib). save_raw_pages replaces every page of the same
    // canonical URL, in one transaction; REQUIRES canonical_url non-empty and page >= 1 (else
    // std::invalid_argument and nothing is saved). raw_pages: ordered by page.
    void save_raw_pages(const std::vector<RawPage>& pages);
    std::vector<RawPage> raw_pages(std::string_view canonical_url) const;
    // Canonical URLs that have raw pages, optionally of one site.
    std::vector<std::string> raw_page_articles(std::optional<std::string_view> site) const;

    // Articles of `site` published (else first seen) after `published_after` and last checked
    // before `checked_before`: to fetch again for corrections. At most `limit` (0 = all),
    // newest first. `checked` is set by every save() and by mark_checked().
    std::vector<StoredArticle> due_for_revisit(std::string_view site, Timestamp published_after,
                                               Timestamp checked_before, std::size_t limit) const;
    // Records that the article's page was fetched (and found unchanged or updated) at `when`.
    // `canonical_url` may also be any alias; an unknown URL is ignored.
    void mark_checked(std::string_view canonical_url, Timestamp when);

    // Deletes articles first seen before `articles_before` (leaving a tombstone per URL so they
    // are never stored again as new), raw pages fetched before `raw_before`, and fetch states
    // older than `articles_before`. One transaction.
    PruneResult prune(Timestamp articles_before, Timestamp raw_before);
    // True when `url` belonged to a pruned article (save() will not store it again as new, so
    // fetching it is wasted work).
    bool is_tombstoned(std::string_view url) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace baofeed::storage
