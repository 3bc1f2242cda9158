#include "app/commands.h"

#include <chrono>
#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app/pipeline.h"
#include "app/run_lock.h"
#include "config/config.h"
#include "core/dates.h"
#include "crawler/curl_fetcher.h"
#include "storage/article_store.h"

namespace baofeed::app {
namespace {

crawler::FetcherOptions fetcher_options(const config::Config& config) {
    crawler::FetcherOptions o;
    o.user_agent = config.crawler.user_agent;
    o.connect_to = config.connect_to;
    o.max_total_connections = config.crawler.max_connections;
    o.max_host_connections = config.crawler.max_connections_per_host;
    o.connect_timeout = config.crawler.connect_timeout;
    o.total_timeout = config.crawler.timeout;
    return o;
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
            "for the next run ({} of {} sources read)",
            s.site, s.inserted, s.updated, s.unchanged, s.known, s.failed, s.deferred,
            s.sources - s.sources_failed, s.sources);
        if (s.broken()) {
            spdlog::error("site {}: nothing could be read this run:{}", s.site,
                          first_problems(s, 5));
        } else if (!s.problems.empty()) {
            spdlog::warn("site {}: {} problem(s):{}", s.site, s.problems.size(),
                         first_problems(s, 3));
        }
    }
    spdlog::info("feeds: {} written, {} unchanged", report.feeds_written, report.feeds_unchanged);
}

nlohmann::json optional_time(const std::optional<Timestamp>& t) {
    if (!t) {
        return nullptr;
    }
    return dates::format_iso8601_vn(*t);
}

nlohmann::json to_json(const storage::StoredArticle& stored) {
    const Article& a = stored.article;
    nlohmann::json images = nlohmann::json::array();
    for (const auto& i : a.images) {
        images.push_back({{"src", i.src}, {"caption", i.caption}});
    }
    nlohmann::json videos = nlohmann::json::array();
    for (const auto& v : a.videos) {
        videos.push_back({{"src", v.src}, {"poster", v.poster}, {"caption", v.caption}});
    }
    return {
        {"canonical_url", a.canonical_url},
        {"urls", a.urls},
        {"site", a.site},
        {"title", a.title},
        {"author", a.author.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.author)},
        {"published", optional_time(a.published)},
        {"modified", optional_time(a.modified)},
        {"lead", a.lead},
        {"body", a.body},
        {"images", images},
        {"videos", videos},
        {"first_seen", dates::format_iso8601_vn(stored.first_seen)},
        {"updated", dates::format_iso8601_vn(stored.updated)},
    };
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
    crawler::CurlFetcher fetcher(fetcher_options(config));
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    RunReport report = crawl(config, fetcher, store, now);
    publish_feeds(config, store, report);
    log_report(report);
    return report.any_broken() ? kExitSiteBroken : kExitOk;
}

int articles_command(const ArticlesOptions& options) {
    config::Config config = config::load_config(options.config);
    if (options.site) {
        bool known = std::any_of(config.sites.begin(), config.sites.end(),
                                 [&](const auto& s) { return s.name == *options.site; });
        if (!known) {
            std::cerr << "baofeed: no site named '" << *options.site << "' in "
                      << config.file.string() << "\n";
            return kExitUsage;
        }
    }
    storage::ArticleStore store(config.database.string());
    std::optional<std::string_view> site;
    if (options.site) {
        site = *options.site;
    }
    auto articles = store.list(site, options.limit);
    if (options.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& a : articles) {
            out.push_back(to_json(a));
        }
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return kExitOk;
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
    return kExitOk;
}

}  // namespace baofeed::app
