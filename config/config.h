// The configuration file (TOML) as values. See README "Configuration reference".
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/article.h"

namespace baofeed::config {

// The file name (without .xml) of the feed of all sites together; no site may use it.
inline constexpr std::string_view kCombinedFeedName = "all";

// Crawl settings a site may override in its [sites.crawl] table; [crawler] gives the defaults.
struct CrawlPolicy {
    long max_connections_per_host = 2;
    // Minimum time between two requests to one host; robots.txt Crawl-delay raises it.
    std::chrono::milliseconds request_interval{500};
    std::size_t max_new_articles = 100;            // per run; the rest stays in the frontier
    int retries = 3;                               // for 5xx, 429, timeouts, resets
    std::chrono::milliseconds retry_backoff{500};  // first wait; doubles per retry, with jitter
    int error_budget = 8;  // consecutive failed requests to a host before the run gives up on it
    // Articles first seen less than revisit_window ago are fetched again (conditionally) when
    // last checked more than revisit_interval ago, to pick up corrections.
    std::chrono::hours revisit_window{48};
    std::chrono::hours revisit_interval{6};
    std::size_t max_listing_pages = 3;  // per listing, following listing_next / listing_page_url
    // Sitemap entries and child sitemaps whose lastmod is older than this are skipped; 0: none.
    std::chrono::hours sitemap_max_age{72};
};

struct CrawlerConfig {
    std::string contact = "https://github.com/baofeed/baofeed";
    std::string user_agent;  // default "baofeed/<version> (+<contact>)"
    long max_connections = 16;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds timeout{60'000};
    std::size_t max_page_bytes = std::size_t{8} << 20;
    // After this long the run stops fetching, stores what it has and publishes.
    std::chrono::seconds run_deadline{600};
    bool allow_private_addresses = false;  // loopback/private/link-local targets (tests, LANs)
    std::chrono::hours robots_cache{24};   // how long a robots.txt is trusted
    unsigned parse_threads = 0;            // extraction threads; 0 = one per core
    CrawlPolicy policy;                    // defaults for every site
};

struct StorageConfig {
    std::chrono::days retention{0};   // articles first seen longer ago are pruned; 0: keep all
    std::chrono::days raw_pages{30};  // raw HTML kept this long (for `baofeed reparse`)
};

struct PublishConfig {
    std::size_t items_per_feed = 50;
    std::string base_url;  // public URL of output_dir, for the feeds' self links; may be empty
};

struct SiteConfig {
    std::string name;                  // [a-z0-9_-]+, the feed file name
    std::string title;                 // channel title
    std::string home;                  // absolute URL of the home page
    std::vector<std::string> aliases;  // further host names serving the same site
    // Hosts the crawl of this site may reach, with their subdomains (redirects included):
    // default the hosts of home, feeds, listings, sitemaps and aliases.
    std::vector<std::string> allowed_domains;
    std::vector<std::string> feeds;     // RSS/Atom URLs
    bool autodiscover_feeds = true;     // with no feeds: read <link rel=alternate> of home
    std::vector<std::string> listings;  // HTML pages linking to articles
    std::string listing_next;           // selector of the next-page link of a listing
    std::string listing_page_url;       // or a URL template with {n} for pages 2, 3, ...
    // Links on listings whose normalised URL matches this ECMAScript regex are listings too
    // (section pages found from the home page's menu). Empty: only the configured listings.
    std::string listing_url_pattern;
    std::regex listing_url;
    std::vector<std::string> sitemaps;  // sitemap or sitemap index URLs
    std::string article_url_pattern;    // ECMAScript regex, matched against whole URLs
    std::regex article_url;             // compiled article_url_pattern
    // Optional regex with one capture group: the article's ID in its URL, its strongest key.
    std::string article_id_pattern;
    std::regex article_id;
    std::string family;  // the [families.NAME] its rules start from, or ""
    SiteRules rules;     // the family's rules overridden field by field by [sites.rules]
    CrawlPolicy crawl;   // [crawler] defaults overridden by [sites.crawl]

    // Host names of home, feeds, listings, sitemaps and aliases, lower-case, no duplicates.
    std::vector<std::string> hosts() const;
    bool is_article_url(const std::string& url) const;
    bool is_listing_url(const std::string& url) const;
    // "<name>#<id>" when article_id_pattern matches `url`, else "".
    std::string id_key(const std::string& url) const;
    // `url` with an alias host replaced by the host of `home` (m., www., a second domain).
    std::string primary_host_url(const std::string& url) const;
};

struct Config {
    std::filesystem::path file;      // the file it was read from
    std::filesystem::path database;  // absolute (relative paths resolve against file's folder)
    std::filesystem::path output_dir;
    std::filesystem::path lock_file;  // database + ".lock"
    CrawlerConfig crawler;
    StorageConfig storage;
    PublishConfig publish;
    std::vector<std::string> connect_to;  // CURLOPT_CONNECT_TO form, from [network] connect_to
    std::vector<SiteConfig> sites;
};

// Reads and validates a configuration file. Throws ConfigError "FILE:LINE: KEY: reason" for a
// syntax error, a missing required key, a wrong type, an unknown key, a bad URL, regex or CSS
// selector.
Config load_config(const std::filesystem::path& file);

// The same from text; `file` is used for messages and to resolve relative paths.
Config parse_config(std::string_view toml_text, const std::filesystem::path& file);

}  // namespace baofeed::config
