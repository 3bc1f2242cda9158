// One pass over every configured site: robots.txt, discovery, fetch, extract, store, publish.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/article.h"
#include "crawler/fetcher.h"
#include "crawler/robots.h"
#include "storage/article_store.h"

namespace baofeed::app {

struct SiteReport {
    std::string site;
    std::size_t sources = 0;         // feeds, listings and sitemaps requested
    std::size_t sources_failed = 0;  // of those, not fetched or not readable
    std::size_t not_modified = 0;    // of those, 304: nothing new since the last run
    std::size_t links = 0;           // distinct article URLs discovered
    std::size_t known = 0;           // of those, already stored: not fetched again
    std::size_t deferred = 0;        // left in the frontier: over budget, or the run ended
    std::size_t fetched = 0;         // article pages fetched and extracted
    std::size_t failed = 0;          // article pages not fetched or not extractable
    std::size_t revisited = 0;       // stored articles checked again for corrections
    std::size_t refused = 0;         // not fetched: robots.txt, other hosts, private addresses
    std::size_t inserted = 0;
    std::size_t updated = 0;
    std::size_t unchanged = 0;
    std::vector<std::string> problems;  // "URL: reason", in the order they happened (capped)

    // Nothing could be read from the site this run: every source failed, or every article
    // attempted failed.
    bool broken() const;
};

struct RunReport {
    std::vector<SiteReport> sites;
    std::size_t feeds_written = 0;
    std::size_t feeds_unchanged = 0;
    storage::PruneResult pruned;

    bool any_broken() const;
};

// robots.txt rules by origin ("http://host[:port]"): the crawl fills it, the fetcher's
// url_filter reads it for every redirect hop. Used on the fetcher's thread only.
class RobotsBook {
  public:
    // The product token robots.txt groups are matched against.
    static constexpr const char* kAgent = "baofeed";

    void set(const std::string& origin, crawler::RobotsTxt robots);
    bool has(const std::string& origin) const { return by_origin_.count(origin) > 0; }
    // Allowed when the URL's origin has no robots.txt in the book (not fetched this run).
    bool allowed(const std::string& url) const;
    static std::string origin_of(const std::string& url);

  private:
    std::map<std::string, crawler::RobotsTxt> by_origin_;
};

struct CrawlOptions {
    Timestamp now;  // stamps first_seen/updated/checked; the revisit and retention clock
    // Threads for decoding and extraction. 0 or 1: on the fetcher's thread (tests with a
    // single-threaded fetcher need that).
    unsigned parse_threads = 0;
    // Where robots.txt rules go; share it with the fetcher's url_filter. Null: a private one.
    RobotsBook* robots = nullptr;
    // A second connection to the store's database, for the reads of the fetcher's thread (which
    // then never waits for the writer thread's transactions; the writes of the fetcher's thread
    // go to the writer thread). Null: both use the store, taking turns.
    storage::ArticleStore* reader = nullptr;
};

// robots.txt first (cached across runs, Crawl-delay applied to the host's policy), then each
// site's feeds, listings (with pagination) and sitemaps, conditionally; discovered article URLs
// go to the frontier, and up to the site's budget of them are fetched, extracted with the site's
// rules (or the generic extractor) and saved with their raw pages; recent articles are checked
// again for corrections; old ones are pruned. The full-text index is kept up to date while the
// run saves (every 20 batches); the articles of the last ones are left to the caller
// (ArticleStore::index_pending: `baofeed run` does it while it writes the feeds; search() does
// it first anyway). Decoding, extraction and the store's own computations
// (ArticleStore::prepare, prepare_raw_page) run on the parse threads; with more than one, a
// writer thread runs the SQL. Outside-world failures are recorded in the report, never thrown;
// StorageError propagates.
RunReport crawl(const config::Config& config, crawler::Fetcher& fetcher,
                storage::ArticleStore& store, const CrawlOptions& options);

// Re-extracts every stored article that has raw pages (optionally of one site) with the current
// rules, without fetching, and saves the results (updated / unchanged counted in the report),
// full-text index included.
RunReport reparse(const config::Config& config, storage::ArticleStore& store,
                  const std::optional<std::string>& site, Timestamp now);

// Writes <output_dir>/<site>.xml for every site and <output_dir>/all.xml for all of them,
// atomically; files whose bytes would not change are left untouched. Throws PublishError (or
// StorageError) after the feeds in progress are finished; feeds written before stay written.
void publish_feeds(const config::Config& config, const storage::ArticleStore& store,
                   RunReport& report);

// The same, with the feeds shared among one thread per reader (readers[0] on the calling
// thread): each reader is a connection to the same database, used by its thread only until the
// call returns. REQUIRES: at least one reader.
void publish_feeds(const config::Config& config,
                   std::span<const storage::ArticleStore* const> readers, RunReport& report);

}  // namespace baofeed::app
