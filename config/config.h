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

struct CrawlerConfig {
    std::string user_agent = "baofeed/0.1 (+https://github.com/baofeed/baofeed)";
    long max_connections = 16;
    long max_connections_per_host = 2;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds timeout{60'000};
    std::size_t max_page_bytes = std::size_t{8} << 20;
    std::size_t max_new_articles_per_site = 100;  // per run; the rest waits for the next run
};

struct PublishConfig {
    std::size_t items_per_feed = 50;
    std::string base_url;  // public URL of output_dir, for the feeds' self links; may be empty
};

struct SiteConfig {
    std::string name;                   // [a-z0-9_-]+, the feed file name
    std::string title;                  // channel title
    std::string home;                   // absolute URL of the home page
    std::vector<std::string> aliases;   // further host names serving the same site
    std::vector<std::string> feeds;     // RSS/Atom URLs
    std::vector<std::string> listings;  // HTML pages linking to articles
    std::string article_url_pattern;    // ECMAScript regex, matched against whole URLs
    std::regex article_url;             // compiled article_url_pattern
    SiteRules rules;

    // Host names of home, feeds, listings and aliases, lower-case, without duplicates.
    std::vector<std::string> hosts() const;
    bool is_article_url(const std::string& url) const;
};

struct Config {
    std::filesystem::path file;      // the file it was read from
    std::filesystem::path database;  // absolute (relative paths resolve against file's folder)
    std::filesystem::path output_dir;
    std::filesystem::path lock_file;  // database + ".lock"
    CrawlerConfig crawler;
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
