// One pass over every configured site: discover, fetch, extract, store, publish.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/article.h"
#include "crawler/fetcher.h"
#include "storage/article_store.h"

namespace baofeed::app {

struct SiteReport {
    std::string site;
    std::size_t sources = 0;         // feeds + listings requested
    std::size_t sources_failed = 0;  // of those, not fetched or not parseable
    std::size_t links = 0;           // distinct article URLs discovered
    std::size_t known = 0;           // of those, already stored: not fetched again
    std::size_t deferred = 0;        // over max_new_articles_per_site: left for the next run
    std::size_t fetched = 0;         // article pages fetched and extracted
    std::size_t failed = 0;          // article pages not fetched or not extractable
    std::size_t inserted = 0;
    std::size_t updated = 0;
    std::size_t unchanged = 0;
    std::vector<std::string> problems;  // "URL: reason", in the order they happened

    // Nothing could be read from the site this run: every source failed, or every article
    // attempted failed.
    bool broken() const;
};

struct RunReport {
    std::vector<SiteReport> sites;
    std::size_t feeds_written = 0;
    std::size_t feeds_unchanged = 0;

    bool any_broken() const;
};

// Discovers article links from each site's feeds and listings, fetches the ones not stored yet,
// extracts them with the site's rules and saves them. Outside-world failures are recorded in the
// report, never thrown; StorageError propagates. `now` stamps first_seen/updated.
RunReport crawl(const config::Config& config, crawler::Fetcher& fetcher,
                storage::ArticleStore& store, Timestamp now);

// Writes <output_dir>/<site>.xml for every site and <output_dir>/all.xml for all of them,
// atomically; files whose bytes would not change are left untouched. Throws PublishError.
void publish_feeds(const config::Config& config, const storage::ArticleStore& store,
                   RunReport& report);

}  // namespace baofeed::app
