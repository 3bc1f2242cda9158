#include "app/commands.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <iostream>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app/article_json.h"
#include "app/pipeline.h"
#include "app/run_lock.h"
#include "config/config.h"
#include "core/dates.h"
#include "crawler/curl_fetcher.h"
#include "storage/article_store.h"

namespace baofeed::app {
namespace {

crawler::FetcherOptions fetcher_options(const config::Config& config, RobotsBook& robots) {
    crawler::FetcherOptions o;
    o.user_agent = config.crawler.user_agent;
    o.connect_to = config.connect_to;
    o.max_total_connections = config.crawler.max_connections;
    o.max_host_connections = config.crawler.policy.max_connections_per_host;
    o.connect_timeout = config.crawler.connect_timeout;
    o.total_timeout = config.crawler.timeout;
    o.allow_private_addresses = config.crawler.allow_private_addresses;
    o.default_host_policy.max_connections = config.crawler.policy.max_connections_per_host;
    o.default_host_policy.min_interval = config.crawler.policy.request_interval;
    o.default_host_policy.max_retries = config.crawler.policy.retries;
    o.default_host_policy.backoff_base = config.crawler.policy.retry_backoff;
    o.default_host_policy.error_budget = config.crawler.policy.error_budget;
    // Every redirect hop is checked against robots.txt too.
    o.url_filter = [&robots](const std::string& u) { return robots.allowed(u); };
    return o;
}

unsigned parse_threads(const config::Config& config) {
    if (config.crawler.parse_threads > 0) {
        return config.crawler.parse_threads;
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

Timestamp now_seconds() {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string first_problems(const SiteReport& site, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < site.problems.size() && i < n; ++i) {
        out += "\n  " + site.problems[i];
    }
    if (site.problems.size() > n) {
        out += fmt::format("\n  ... and {} more", site.problems.size() - n);
    }
    return out;
}

void log_report(const RunReport& report) {
    for (const auto& s : report.sites) {
        spdlog::info(
            "{}: {} new, {} updated, {} unchanged, {} already stored, {} failed, {} left "
            "for the next run, {} rechecked ({} of {} sources read, {} not modified)",
            s.site, s.inserted, s.updated, s.unchanged, s.known, s.failed, s.deferred, s.revisited,
            s.sources - s.sources_failed, s.sources, s.not_modified);
        if (s.broken()) {
            spdlog::error("site {}: nothing could be read this run:{}", s.site,
                          first_problems(s, 5));
        } else if (!s.problems.empty()) {
            spdlog::warn("site {}: {} problem(s):{}", s.site, s.problems.size(),
                         first_problems(s, 3));
        }
    }
    if (report.pruned.articles + report.pruned.raw_pages + report.pruned.raw_dictionaries > 0) {
        spdlog::info("pruned: {} articles, {} raw pages, {} raw page dictionaries",
                     report.pruned.articles, report.pruned.raw_pages,
                     report.pruned.raw_dictionaries);
    }
    spdlog::info("feeds: {} written, {} unchanged", report.feeds_written, report.feeds_unchanged);
}

nlohmann::json to_json(const storage::StoredArticle& stored) {
    const Article& a = stored.article;
    nlohmann::json out = article_fields_json(a);
    out["canonical_url"] = a.canonical_url;
    out["urls"] = a.urls;
    out["aliases"] =
        std::vector<std::string>(a.urls.begin() + (a.urls.empty() ? 0 : 1), a.urls.end());
    out["site"] = a.site;
    out["id_key"] = a.id_key.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.id_key);
    out["revisions"] = stored.revisions;
    out["cluster"] = stored.cluster;
    out["first_seen"] = dates::format_iso8601_vn(stored.first_seen);
    out["updated"] = dates::format_iso8601_vn(stored.updated);
    out["checked"] = dates::format_iso8601_vn(stored.checked);
    return out;
}

bool has_site(const config::Config& config, const std::string& name) {
    bool known = std::any_of(config.sites.begin(), config.sites.end(),
                             [&](const auto& s) { return s.name == name; });
    if (!known) {
        std::cerr << "baofeed: no site named '" << name << "' in " << config.file.string() << "\n";
    }
    return known;
}

void print_articles(const std::vector<storage::StoredArticle>& articles, bool json) {
    if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& a : articles) {
            out.push_back(to_json(a));
        }
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
    }
    for (const auto& stored : articles) {
        const Article& a = stored.article;
        std::string when = a.published ? dates::format_iso8601_vn(*a.published).substr(0, 16)
                                       : std::string(16, ' ');
        if (when[10] == 'T') {
            when[10] = ' ';
        }
        std::cout << when << "  " << a.site << "  " << a.title << "\n    " << a.canonical_url
                  << "\n";
    }
}

}  // namespace

int run_command(const RunOptions& options) {
    config::Config config = config::load_config(options.config);
    std::filesystem::create_directories(config.database.parent_path());
    RunLock lock(config.lock_file);
    if (!lock.held()) {
        spdlog::warn("another baofeed run holds {}; this one did nothing",
                     config.lock_file.string());
        return kExitLocked;
    }
    storage::ArticleStore store(config.database.string());
    storage::ArticleStore reader(config.database.string());
    RobotsBook robots;
    crawler::CurlFetcher fetcher(fetcher_options(config, robots));
    fetcher.set_deadline(std::chrono::steady_clock::now() + config.crawler.run_deadline);
    RunReport report = crawl(config, fetcher, store,
                             CrawlOptions{.now = now_seconds(),
                                          .parse_threads = parse_threads(config),
                                          .robots = &robots,
                                          .reader = &reader});
    // The last articles join the search index on the writer's connection while two other
    // connections write the feeds.
    {
        std::exception_ptr index_error;
        std::jthread indexer([&] {
            try {
                store.index_pending();
            } catch (...) {
                index_error = std::current_exception();
            }
        });
        storage::ArticleStore second_reader(config.database.string());
        const storage::ArticleStore* const readers[] = {&reader, &second_reader};
        publish_feeds(config, readers, report);
        indexer.join();
        if (index_error) {
            std::rethrow_exception(index_error);
        }
    }
    log_report(report);
    return report.any_broken() ? kExitSiteBroken : kExitOk;
}

int reparse_command(const ReparseOptions& options) {
    config::Config config = config::load_config(options.config);
    if (options.site && !has_site(config, *options.site)) {
        return kExitUsage;
    }
    RunLock lock(config.lock_file);
    if (!lock.held()) {
        spdlog::warn("another baofeed run holds {}; nothing reparsed", config.lock_file.string());
        return kExitLocked;
    }
    storage::ArticleStore store(config.database.string());
    RunReport report = reparse(config, store, options.site, now_seconds());
    publish_feeds(config, store, report);
    for (const auto& s : report.sites) {
        std::cout << s.site << ": " << s.fetched << " reparsed, " << s.updated << " updated, "
                  << s.unchanged << " unchanged, " << s.failed << " failed\n";
        for (const auto& p : s.problems) {
            std::cout << "  " << p << "\n";
        }
    }
    return kExitOk;
}

int search_command(const SearchOptions& options) {
    config::Config config = config::load_config(options.config);
    if (options.site && !has_site(config, *options.site)) {
        return kExitUsage;
    }
    storage::ArticleStore store(config.database.string());
    std::optional<std::string_view> site;
    if (options.site) {
        site = *options.site;
    }
    print_articles(store.search(options.query, site, options.limit), options.json);
    return kExitOk;
}

int articles_command(const ArticlesOptions& options) {
    config::Config config = config::load_config(options.config);
    if (options.site && !has_site(config, *options.site)) {
        return kExitUsage;
    }
    storage::ArticleStore store(config.database.string());
    std::optional<std::string_view> site;
    if (options.site) {
        site = *options.site;
    }
    print_articles(store.list(site, options.limit), options.json);
    return kExitOk;
}

}  // namespace baofeed::app
