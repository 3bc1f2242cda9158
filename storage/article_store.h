// The article database (SQLite, WAL). The only module that talks to SQLite.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/article.h"
#include "core/textkey.h"
#include "storage/raw_page_compressor.h"

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

// An article with everything save() computes from it, computed by ArticleStore::prepare() on
// any thread, so that the writer only runs SQL. A plain value (copy, move, keep in queues);
// the derived members are read-only for callers: save() trusts them to match `article`.
struct PreparedArticle {
    // The article as given, but for body and html, which are emptied: `packed` holds them.
    Article article;
    // Identity: canonical_url then every other URL of `urls` (distinct, non-empty, in order),
    // with their 64-bit hashes, and the hash of id_key (0 when it is empty).
    std::vector<std::string> identity_urls;
    std::vector<std::uint64_t> url_keys;
    std::uint64_t id_key_hash = 0;
    // Story key: the MinHash signature (textkey::signature) and its LSH band hashes (the top 32
    // bits of each band's key; story_lsh stores 20 of them).
    textkey::Signature signature;
    std::array<std::uint32_t, textkey::kBands> band_hashes{};
    // Serialized columns and the content hashes that decide "changed?". `packed` is the body
    // (JSON array of paragraphs) and the html in one zstd frame (storage/packed_content.h), as
    // the `packed` column stores them since schema version 6: the compression is done here, on
    // the caller's thread, not by the writer.
    std::string packed;
    std::string images_json;
    std::string videos_json;
    std::int64_t content_hash = 0;
    std::int64_t core_hash = 0;  // without the fields added in schema version 2
    bool valid = false;          // canonical_url and site non-empty
};

// A raw page compressed by ArticleStore::prepare_raw_page() on any thread. `page.html` is
// emptied (the compressed bytes replace it); `size` is its length in bytes.
struct PreparedRawPage {
    RawPage page;
    std::size_t size = 0;
    std::string compressed;
    // The dictionary `compressed` needs (null: none). Every page carries it, not only the first
    // one compressed against it, since that one may never be saved (its article failed on a later
    // page, the run ended): save_raw_pages inserts it with whichever page comes first.
    std::shared_ptr<const RawPageDictionary> dictionary;
};

struct PruneResult {
    std::size_t articles = 0;   // deleted, with their URLs, revisions and raw pages
    std::size_t raw_pages = 0;  // deleted raw pages of articles that stay
    std::size_t fetch_states = 0;
    std::size_t raw_dictionaries = 0;  // no raw page needed them any more
};

// Tuning of an ArticleStore. None of it changes what is stored or found.
struct StoreOptions {
    // New identity keys (URL and site ID hashes) go to a small table first and are moved to the
    // large one in key order once this many wait (schema version 10): ~4 MB of keys, so that a
    // batch of new articles writes to a few hundred pages instead of a page per key.
    std::int64_t identity_merge_rows = 131'072;
    // The Bloom filter of identity_keys (schema version 11) is built for twice the keys of
    // identity_keys, and for at least this many (12 bits each: 96 KiB at the default); it is
    // built again, twice as large, when a merge would fill it.
    std::size_t identity_filter_min_keys = 65'536;
    // The page cache of the connection that saves grows with the database file: at each save()
    // batch it is set to 1/cache_share of the file (with 8 KiB pages, about every interior page of
    // the B-trees, which a random insert or lookup reads on its way down), at least
    // configure_connection's 4 MiB and at most max_cache_bytes, in whole MiB. A file of 640 MiB
    // or less keeps 4 MiB; a million benchmark articles (4.2 GB) get 32 MiB (with 4 MiB, the
    // writer spent 9% of its time reading pages from the OS's cache).
    std::int64_t cache_share = 128;
    std::int64_t max_cache_bytes = std::int64_t{32} << 20;
};

// Opens (creating if needed) and migrates the database at `path` (":memory:" for tests).
// Throws StorageError ("storage: <path>: <reason>") when it cannot be opened or migrated, or
// when the file's schema is newer than this program knows.
// Not thread-safe: one ArticleStore per thread; only the static prepare() and
// prepare_raw_page() may run on any thread. Several processes may open one file; writers wait
// up to busy_timeout for each other.
// Resources: SQLite's page cache (configure_connection: 4 MiB per connection; a store that saves
// grows it with the file, to at most StoreOptions::max_cache_bytes, 32 MiB, for a file of 4 GiB or
// more; during a save() batch it also holds the batch's changed pages, up to 16 MiB, before it
// writes them early); a writer
// that saves many articles of one week keeps that week's LSH rows in memory (at most 4 weeks,
// 192-384 bytes per article of those weeks, e.g. <= 16 MB for 4 weeks of 10,000 articles); a writer
// holds the Bloom filter of identity_keys (schema version 11: 12 bits per key of a capacity of
// twice the keys stored when it was built, so at most 3 bytes per key stored), read from the file
// at its first batch; every thread that uses SQLite keeps up to 8 MiB of SQLite's freed blocks
// for reuse (storage/sqlite_allocator.h), until it ends; once a
// commit leaves 4,000 pages (32 MiB with 8 KiB pages) in the WAL, a thread of the store checkpoints
// it (its own SQLite connection), so commits do not wait for the copy and the fsyncs; it is joined
// by the destructor. Each thread that calls prepare() keeps a zstd compression context (<= 0.6 MB),
// each thread that reads articles a decompression context (~0.1 MB), until it ends.
class ArticleStore {
  public:
    explicit ArticleStore(const std::string& path, StoreOptions options = {});
    ~ArticleStore();
    ArticleStore(const ArticleStore&) = delete;
    ArticleStore& operator=(const ArticleStore&) = delete;

    static int latest_schema_version();
    int schema_version() const;
    // The page cache's limit of this store's connection, in bytes (StoreOptions::cache_share).
    std::int64_t page_cache_bytes() const;

    // Saves each article in one transaction: all or nothing. REQUIRES: canonical_url and site
    // non-empty (else std::invalid_argument, and nothing of the batch is saved).
    // Identity: the record is the first found by (1) id_key (when non-empty), (2) canonical_url
    // as a record's canonical URL, (3) any of canonical_url and `urls` already recorded for a
    // record (alias), across hosts too; URLs compare byte for byte. No record -> inserted, with
    // its story cluster (the cluster of the most similar stored article when
    // textkey::similarity reaches kSameStoryThreshold, else its own id). Stories are compared
    // within a window of story dates (published, else first_seen = now): the article's week
    // (UTC, counted from 2000-01-01) and the weeks before and after, so stories less than 7
    // days apart are always compared and stories 14 or more days apart never (a copy
    // republished later starts its own cluster). Found with the same content -> unchanged (only new
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

    // Computes everything save() needs from `article` that is not in the database: identity
    // key hashes, the story signature and LSH band hashes, the JSON columns, the content hash
    // and the zstd frame of body and html (about as costly as the signature). Pure and
    // thread-safe (no store needed): the crawler's parse threads call it, the writer thread then
    // calls save(prepared, now). Does not validate: save() does. Throws StorageError if zstd
    // fails.
    static PreparedArticle prepare(Article article);
    // save() of articles prepared by prepare(): same contract and results as
    // save(const std::vector<Article>&, Timestamp), and the same transaction.
    std::vector<SaveResult> save(const std::vector<PreparedArticle>& articles, Timestamp now);

    // True when `url` is the canonical URL or an alias of a stored article.
    bool knows_url(std::string_view url) const;

    // Articles newest first (published, else first_seen; ties: the first saved first), at most
    // `limit` (0 = all), optionally of one site.
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
    // the LSH buckets of the article's signature in the window of save() (3 weeks x 12 bands:
    // 36 range probes), never all articles; the story date is `published`, else the stored
    // record's first_seen, else the current time.
    std::vector<std::string> near_duplicates(const Article& article, std::size_t limit) const;

    // Full-text search (FTS5) over title, lead and body, diacritic- and case-insensitive
    // ("bac kan" finds "Bắc Kạn"); best matches first. `query` is plain words, not FTS syntax.
    // Calls index_pending() first, so every stored article is searched (which takes the write
    // lock when there is anything to index).
    std::vector<StoredArticle> search(std::string_view query, std::optional<std::string_view> site,
                                      std::size_t limit) const;

    // Runs `work`, which calls this store's writing methods (save, save_raw_pages,
    // remember_fetch, mark_checked, remove_from_frontier, ...), in one transaction: all of it
    // is committed, or nothing (work throws: rolled back, rethrown). One commit for a batch
    // instead of one per call: the crawler's writer saves a batch and its fetch states this way.
    // Reading methods called inside see the uncommitted writes.
    void in_transaction(const std::function<void()>& work);

    // save() keeps the full-text index off its path: new articles and new versions of updated
    // ones are indexed here, all pending at once, in transactions of 50,000 articles (a
    // correction's old text leaves the index when it is saved; prune() removes the index
    // entries of what it deletes). Returns how many articles were indexed. The crawler calls it at
    // the end of a run; search() calls it too. Throws StorageError when the database cannot be
    // written.
    std::size_t index_pending();

    // Copies the WAL into the database file now, on the store's checkpointer thread, and returns
    // once that thread has no checkpoint running or requested; at once for a store without a WAL
    // (":memory:"). A file database in WAL mode otherwise does so after commits of many pages
    // (kWalCheckpointPages, storage/schema.h), and SQLite when the last connection closes. For
    // benchmarks, which stop their clock only once no work of the store is left, the copy of
    // the last commits included. Not inside in_transaction().
    void checkpoint();

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

    // Raw pages, kept compressed: zstd level 1 frames, against their site's dictionary when they
    // were prepared with a RawPageCompressor (schema version 7), else without one; zlib rows of
    // earlier versions are read too.
    // save_raw_pages replaces every page of the same canonical URL, in one transaction; REQUIRES
    // canonical_url non-empty and page >= 1 (else std::invalid_argument and nothing is saved).
    // This overload compresses without a dictionary.
    void save_raw_pages(const std::vector<RawPage>& pages);
    // Compresses a raw page for save_raw_pages(prepared): the crawler's parse threads do it, so
    // the writer only inserts. Without a dictionary. Pure and thread-safe. Throws StorageError if
    // zstd fails.
    static PreparedRawPage prepare_raw_page(RawPage page);
    // The same against the dictionary of `page.site` in `compressor` (RawPageCompressor::
    // compress: the page may become the site's dictionary). Thread-safe.
    static PreparedRawPage prepare_raw_page(RawPage page, RawPageCompressor& compressor);
    // The same as save_raw_pages(pages) (same contract, one transaction) for pages prepared by
    // prepare_raw_page(). A page's dictionary is inserted (raw_dictionaries) in the same
    // transaction unless it is stored already (a primary-key lookup per distinct dictionary and
    // call, never a second copy of its bytes).
    void save_raw_pages(const std::vector<PreparedRawPage>& pages);
    // Ordered by page. Throws StorageError naming the database and the page's URL when a frame
    // or its dictionary is missing or corrupt. The dictionaries read are kept digested for the
    // next pages (at most 16, each the dictionary's size + ~30 KB, until the store is destroyed).
    std::vector<RawPage> raw_pages(std::string_view canonical_url) const;
    // The newest dictionary of `site` (largest `created`, then largest id), for
    // RawPageCompressor::adopt at the start of a run; nullopt when the site has none. Throws
    // StorageError when its row is corrupt (not a zstd frame, or bytes that do not match its id).
    std::optional<RawDictionary> latest_raw_dictionary(std::string_view site) const;
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
    // are never stored again as new), raw pages fetched before `raw_before`, fetch states
    // older than `articles_before`, and the raw-page dictionaries that no raw page references
    // any more, except each site's newest (the next run's compressor reuses it). One
    // transaction.
    PruneResult prune(Timestamp articles_before, Timestamp raw_before);
    // True when `url` belonged to a pruned article (save() will not store it again as new, so
    // fetching it is wasted work).
    bool is_tombstoned(std::string_view url) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace baofeed::storage
