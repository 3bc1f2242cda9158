#include "app/pipeline.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "app/work_pool.h"
#include "core/charset.h"
#include "core/text.h"
#include "core/textkey.h"
#include "core/url.h"
#include "crawler/robots.h"
#include "parsers/extract.h"
#include "parsers/links.h"
#include "publish/atomic_file.h"
#include "publish/rss.h"

namespace baofeed::app {
namespace {

// Pages of one split article followed at most; protects against pager loops.
constexpr std::size_t kMaxArticlePages = 20;
// Articles saved per transaction while a run is in progress.
constexpr std::size_t kSaveBatch = 25;
// Pages (articles and sources) fetched and waiting for (or in) the parse pool, per pool thread,
// before no more are handed to the fetcher: enough to keep every thread busy, few enough to
// bound memory.
constexpr std::size_t kParseBacklogPerThread = 4;
// The parse pool's threads run at nice +10 (app/work_pool.h): one per core, they are never the
// serial stage; the fetch loop and the writer thread, which are, then get a core as soon as they
// have work. On two cores, bench/store-bench measured +11% articles/s with its prepare threads so.
constexpr int kParseNice = 10;
// How much the bound of requests in flight plus pages waiting to be parsed grows at a time when
// the parse pool runs dry (see Crawl::parsed()).
constexpr std::size_t kPipelineStep = 4;
// Requests the pipeline's bound always leaves room for beyond a full parse backlog: a page
// spends a round trip on the wire before it reaches the pool, so with a bound near the backlog
// the pool ran dry at every burst (the bound shrank while the backlog was full and the next
// pages were still a round trip away). 48 requests of ~90 KB bodies: ~4 MB more held at most;
// on the benchmark farm (20 ms) the parse threads' idle time fell from 7.5 s to 4.2 s a run.
constexpr std::size_t kMinRequestsInFlight = 48;
// Batches handed to the writer thread and not saved yet, before no more article pages are
// handed to the fetcher (each holds kSaveBatch compressed raw pages and articles, ~1 MB). Room
// for the writer's slow moments (a full-text index chunk, a checkpoint) without stalling the
// fetcher and the parse threads: 8 instead of 2 took the benchmark farm from 551 to 613 and
// from 517 to 575 pages/s in two runs side by side.
constexpr std::size_t kMaxWritesPending = 8;
// The writer brings the full-text index up to date (ArticleStore::index_pending) after every this
// many batches (500 articles), while the parse threads go on, rather than all of it at the end
// of the run. Each call commits an FTS5 segment that later merges rewrite: on the benchmark farm
// (5,000 articles) every 4 batches cost ~1 s more CPU a run than every 20.
constexpr std::size_t kIndexEveryBatches = 20;
// Problems kept per site for the report (the count goes on).
constexpr std::size_t kMaxProblems = 100;
// Sitemap indexes nest at most this deep.
constexpr int kMaxSitemapDepth = 2;
constexpr const char* kRobotsAgent = RobotsBook::kAgent;

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
    if (!s.empty() && !contains(v, s)) {
        v.push_back(s);
    }
}

std::string origin_of(const std::string& u) {
    return RobotsBook::origin_of(u);
}

std::string describe(const crawler::Response& r) {
    std::string why = crawler::to_string(r.outcome);
    if (!r.error.empty()) {
        why += ": " + r.error;
    }
    return why;
}

enum class SourceKind { feed, listing, sitemap };

const char* source_name(SourceKind k) {
    switch (k) {
        case SourceKind::feed:
            return "feed";
        case SourceKind::listing:
            return "listing";
        case SourceKind::sitemap:
            return "sitemap";
    }
    return "source";
}

// What the parse of a feed, listing or sitemap found (computed off the fetcher's thread).
struct SourceResult {
    bool ok = true;
    std::string error;
    std::vector<std::string> links;                           // candidate article URLs
    std::vector<std::pair<std::string, std::string>> titled;  // feed: (link, title)
    std::vector<std::string> next_listings;                   // pagination
    std::vector<std::string> listings;  // further listings (listing_url_pattern)
    std::vector<std::string> feeds;     // autodiscovered feeds
    std::vector<std::string> child_sitemaps;
};

// What the response of an article page was, without its body.
struct PageMeta {
    std::string url;
    std::string final_url;
    std::vector<std::string> redirects;
    std::string etag;
    std::string last_modified;
    int status = 0;
};

struct PageResult {
    parsers::Extraction extraction;
    // The decoded page, compressed for the store against its site's dictionary (its url, page
    // number and canonical URL are filled in on the fetcher's thread); none when raw pages are
    // not kept.
    std::optional<storage::PreparedRawPage> raw;
};

// An article whose page(s) are being fetched.
struct PendingArticle {
    std::size_t site = 0;   // the site that discovered it (its budget)
    std::size_t owner = 0;  // the site whose host served it (after redirects): rules and record
    std::string link;       // as discovered
    std::string run_key;    // its identity in this run (see consider())
    bool revisit = false;   // a stored article checked again
    std::vector<std::string> seen_urls;
    std::string first_final_url;
    PageMeta first;
    parsers::Extraction extraction;
    std::vector<std::string> remaining_pages;
    std::vector<std::string> visited_pages;
    std::size_t pages = 0;  // pages extracted so far
    std::vector<storage::PreparedRawPage> raw;
};

// An article ready for the writer: everything the store computes from it was computed on a
// parse thread (storage::ArticleStore::prepare), so that the writer only runs SQL.
struct SavedArticle {
    std::size_t owner = 0;  // the site whose report counts it
    storage::PreparedArticle prepared;
    std::vector<storage::PreparedRawPage> raw;
    PageMeta first;
    bool revisit = false;
};

// A batch on its way to the store, and what the store said of each article.
struct SaveJob {
    std::vector<SavedArticle> saved;
    std::vector<storage::SaveResult> results;
};

class Crawl {
  public:
    Crawl(const config::Config& config, crawler::Fetcher& fetcher, storage::ArticleStore& store,
          const CrawlOptions& options)
        : config_(config),
          fetcher_(fetcher),
          store_(store),
          reader_(options.reader),
          now_(options.now),
          robots_(options.robots != nullptr ? *options.robots : own_robots_) {
        unsigned threads = options.parse_threads;
        if (threads > 1) {
            pool_ = std::make_unique<WorkPool>(threads, kParseNice);
            max_parse_backlog_ = kParseBacklogPerThread * threads;
            min_pipeline_ = max_parse_backlog_ + kMinRequestsInFlight;
            max_pipeline_ = min_pipeline_;
            writer_ = std::make_unique<WorkPool>(1);
        }
        for (std::size_t i = 0; i < config_.sites.size(); ++i) {
            const auto& site = config_.sites[i];
            SiteState state;
            state.report.site = site.name;
            sites_.push_back(std::move(state));
            for (const auto& h : site.hosts()) {
                site_by_host_.emplace(h, i);  // the first site naming a host owns it
            }
        }
        start_raw_compressor();
    }

    RunReport run() {
        start_sites();
        fetcher_.run();
        flush(/*wait=*/true);
        flush_frontier();
        record_extra_urls();
        RunReport report;
        for (auto& s : sites_) {
            report.sites.push_back(std::move(s.report));
        }
        return report;
    }

  private:
    // Article pages of one host waiting for the fetcher (see admit()).
    struct Lane {
        std::deque<std::function<void()>> waiting;  // submissions not made yet
        std::size_t submitted = 0;                  // article requests in the fetcher
        std::size_t limit = 2;                      // the host's connections + 1
        bool listed = false;                        // in ready_lanes_
    };

    struct SiteState {
        SiteReport report;
        std::size_t budget_used = 0;
        std::size_t revisits = 0;
        std::unordered_set<std::string> considered;  // links as met, by consider()
    };

    // --- plumbing -------------------------------------------------------------------------

    crawler::Request request(std::size_t site, const std::string& u) const {
        crawler::Request r;
        r.url = u;
        r.max_bytes = config_.crawler.max_page_bytes;
        r.allowed_domains = config_.sites[site].allowed_domains;
        return r;
    }

    // The store is used from this thread and, with a writer, from the writer's: every use holds
    // this lock (never across a callback that may take it again).
    std::unique_lock<std::mutex> lock_store() const { return std::unique_lock(store_mutex_); }

    // Reads on the fetcher's thread: `f(store)` on the reader connection when there is one (in
    // WAL mode it never waits for the writer's transactions), else on the store under its lock.
    // Sees what the writer has committed, not what is still queued for it.
    template <class F>
    auto read(F&& f) const {
        if (reader_ != nullptr) {
            return f(static_cast<const storage::ArticleStore&>(*reader_));
        }
        auto lock = lock_store();
        return f(static_cast<const storage::ArticleStore&>(store_));
    }

    // Writes from the fetcher's thread: queued for the writer thread when there is one, in order
    // with the batches handed to it (so the fetcher's thread never waits for a transaction),
    // else done here. An exception (StorageError) is rethrown on the fetcher's thread.
    void write(std::function<void(storage::ArticleStore&)> w) {
        if (!writer_) {
            auto lock = lock_store();
            w(store_);
            return;
        }
        auto token = fetcher_.hold();
        writer_->submit([this, w = std::move(w), token] {
            try {
                auto lock = lock_store();
                w(store_);
            } catch (...) {
                fetcher_.post(
                    [error = std::current_exception(), token] { std::rethrow_exception(error); });
            }
        });
    }

    // Raw pages are compressed against a dictionary per site: each site's newest stored one, so
    // that runs every few minutes do not add one each, unless it is half the raw-page retention
    // old (the site's first page of this run replaces it then, as it does when there is none).
    void start_raw_compressor() {
        if (config_.storage.raw_pages.count() <= 0) {
            return;
        }
        const auto retention =
            std::chrono::duration_cast<std::chrono::seconds>(config_.storage.raw_pages);
        raw_compressor_ = std::make_unique<storage::RawPageCompressor>(now_, retention / 2);
        for (const auto& site : config_.sites) {
            std::optional<storage::RawDictionary> stored =
                read([&](const storage::ArticleStore& store) {
                    return store.latest_raw_dictionary(site.name);
                });
            if (stored.has_value()) {
                raw_compressor_->adopt(*stored);
            }
        }
    }

    void conditional(crawler::Request& r, const std::string& state_url) const {
        if (auto state = read([&](const auto& store) { return store.fetch_state(state_url); })) {
            r.etag = state->etag;
            r.last_modified = state->last_modified;
        }
    }

    void remember(const std::string& state_url, const crawler::Response& r) {
        if (r.outcome != crawler::Outcome::ok && r.outcome != crawler::Outcome::not_modified) {
            return;
        }
        storage::FetchState state;
        state.url = state_url;
        state.fetched_at = now_;
        state.status = static_cast<int>(r.status);
        state.etag = r.etag;
        state.last_modified = r.last_modified;
        bool keep_old = r.outcome == crawler::Outcome::not_modified;
        write([state = std::move(state), keep_old](storage::ArticleStore& store) mutable {
            if (keep_old) {
                if (auto old = store.fetch_state(state.url)) {
                    if (state.etag.empty()) {
                        state.etag = old->etag;
                    }
                    if (state.last_modified.empty()) {
                        state.last_modified = old->last_modified;
                    }
                }
            }
            store.remember_fetch(state);
        });
    }

    static crawler::Response disallowed(const std::string& u) {
        crawler::Response r;
        r.outcome = crawler::Outcome::refused;
        r.url = u;
        r.final_url = u;
        r.error = "disallowed by robots.txt";
        return r;
    }

    void problem(std::size_t site, const std::string& u, const std::string& why) {
        spdlog::info("{}: {}: {}", config_.sites[site].name, u, why);
        auto& problems = sites_[site].report.problems;
        if (problems.size() < kMaxProblems) {
            problems.push_back(u + ": " + why);
        }
    }

    // Runs `work` on the pool (or here, without one) and `then` with its result on the
    // fetcher's thread. An exception in `work` (a bug) is rethrown on the fetcher's thread.
    template <class Result>
    void offload(std::function<Result()> work, std::function<void(Result)> then) {
        if (!pool_) {
            then(work());
            return;
        }
        auto token = fetcher_.hold();
        pool_->submit([this, work = std::move(work), then = std::move(then), token]() mutable {
            try {
                auto result = std::make_shared<Result>(work());
                fetcher_.post(
                    [then = std::move(then), result, token] { then(std::move(*result)); });
            } catch (...) {
                fetcher_.post(
                    [error = std::current_exception(), token] { std::rethrow_exception(error); });
            }
        });
    }

    // --- robots.txt -----------------------------------------------------------------------

    // Runs `then` once the robots.txt of `u`'s origin is known: from the book, the cache of
    // earlier runs, or a fetch (requests to one origin wait for that one fetch).
    void with_robots(std::size_t site, const std::string& u, std::function<void()> then) {
        std::string origin = origin_of(u);
        if (origin.empty() || robots_.has(origin)) {
            then();
            return;
        }
        auto& waiting = robots_waiting_[origin];
        waiting.push_back(std::move(then));
        if (waiting.size() > 1) {
            return;  // its robots.txt is on the way
        }
        std::optional<storage::CachedRobots> cached =
            read([&](const auto& store) { return store.robots(origin); });
        if (cached && cached->expires > now_) {
            crawler::Response r;
            r.outcome = cached->status >= 200 && cached->status < 300
                            ? crawler::Outcome::ok
                            : crawler::Outcome::http_error;
            r.status = cached->status;
            r.body = cached->body;
            use_robots(origin, crawler::robots_from_response(r));
            return;
        }
        crawler::Request req = request(site, origin + "/robots.txt");
        req.allowed_domains.clear();  // robots.txt may redirect (http -> https, www.)
        if (cached) {
            req.etag = cached->etag;
            req.last_modified = cached->last_modified;
        }
        fetcher_.submit(req, [this, origin, cached](crawler::Response r) {
            on_robots(origin, cached, std::move(r));
        });
    }

    void on_robots(const std::string& origin, const std::optional<storage::CachedRobots>& cached,
                   crawler::Response r) {
        storage::CachedRobots entry;
        entry.host = origin;
        entry.fetched_at = now_;
        entry.expires =
            now_ + std::chrono::duration_cast<std::chrono::seconds>(config_.crawler.robots_cache);
        if (r.outcome == crawler::Outcome::not_modified && cached) {
            entry.body = cached->body;
            entry.status = cached->status;
            entry.etag = cached->etag;
            entry.last_modified = cached->last_modified;
            r.outcome = crawler::Outcome::ok;
            r.status = cached->status;
            r.body = cached->body;
        } else {
            entry.status = static_cast<int>(r.status);
            entry.etag = r.etag;
            entry.last_modified = r.last_modified;
            if (r.ok()) {
                entry.body = r.body;
            }
        }
        crawler::RobotsTxt robots = crawler::robots_from_response(r);
        bool unreachable =
            r.outcome != crawler::Outcome::ok &&
            !(r.outcome == crawler::Outcome::http_error && r.status >= 400 && r.status < 500);
        if (unreachable) {
            // Not cached: the next run asks again. Meanwhile the site counts as disallowed.
            spdlog::info("{}/robots.txt: {}; treating the host as disallowed", origin, describe(r));
        } else {
            write([entry = std::move(entry)](storage::ArticleStore& store) {
                store.save_robots(entry);
            });
        }
        use_robots(origin, std::move(robots));
    }

    void use_robots(const std::string& origin, crawler::RobotsTxt robots) {
        std::string host = url::host(origin);
        // The host's policy: the strictest of the sites that name it, raised by Crawl-delay.
        crawler::HostPolicy policy;
        bool any = false;
        for (const auto& s : config_.sites) {
            if (!contains(s.hosts(), host)) {
                continue;
            }
            if (!any || s.crawl.max_connections_per_host < policy.max_connections) {
                policy.max_connections = s.crawl.max_connections_per_host;
            }
            policy.min_interval = std::max(policy.min_interval, s.crawl.request_interval);
            policy.max_retries = s.crawl.retries;
            policy.backoff_base = s.crawl.retry_backoff;
            policy.error_budget = s.crawl.error_budget;
            any = true;
        }
        if (auto delay = robots.crawl_delay(kRobotsAgent)) {
            policy.min_interval = std::max(policy.min_interval, *delay);
            // One request at a time: Crawl-delay is the gap between requests.
            policy.max_connections = 1;
        }
        fetcher_.set_host_policy(host, policy);
        Lane& lane = lanes_[host];
        lane.limit = static_cast<std::size_t>(policy.max_connections) + 1;
        list_lane(lane);
        robots_.set(origin, std::move(robots));
        auto waiting = std::move(robots_waiting_[origin]);
        robots_waiting_.erase(origin);
        for (auto& then : waiting) {
            then();
        }
    }

    // --- sources --------------------------------------------------------------------------

    void start_sites() {
        for (std::size_t i = 0; i < config_.sites.size(); ++i) {
            // Hosts a redirect may lead to get their robots.txt early too: the fetcher's
            // url_filter can only check hops against rules it already has.
            const auto& s = config_.sites[i];
            std::string scheme = s.home.substr(0, s.home.find("://") + 3);
            for (const auto& domain : s.allowed_domains) {
                with_robots(i, scheme + domain + "/", [] {});
            }
        }
        for (std::size_t i = 0; i < config_.sites.size(); ++i) {
            const auto& s = config_.sites[i];
            // Articles left from earlier runs first: they have waited longest.
            std::vector<storage::FrontierEntry> left = read([&](const auto& store) {
                return store.frontier(s.name, s.crawl.max_new_articles);
            });
            for (const auto& entry : left) {
                consider(i, entry.url, /*from_frontier=*/true);
            }
            start_revisits(i);
            for (const auto& f : s.feeds) {
                fetch_source(i, SourceKind::feed, f, 1);
            }
            bool discover = s.feeds.empty() && s.autodiscover_feeds;
            if (discover && !contains(s.listings, s.home)) {
                fetch_source(i, SourceKind::listing, s.home, s.crawl.max_listing_pages);
            }
            for (const auto& l : s.listings) {
                fetch_source(i, SourceKind::listing, l, 1);
            }
            if (!s.listing_page_url.empty()) {
                for (std::size_t n = 2; n <= s.crawl.max_listing_pages; ++n) {
                    std::string page = s.listing_page_url;
                    page.replace(page.find("{n}"), 3, std::to_string(n));
                    fetch_source(i, SourceKind::listing, page, s.crawl.max_listing_pages);
                }
            }
            for (const auto& m : s.sitemaps) {
                fetch_source(i, SourceKind::sitemap, m, 0);
            }
        }
    }

    // `level`: a listing's page number, a sitemap's depth.
    void fetch_source(std::size_t site, SourceKind kind, const std::string& u, std::size_t level) {
        if (!sources_seen_.insert(u).second) {
            return;
        }
        ++sites_[site].report.sources;
        with_robots(site, u, [this, site, kind, u, level] {
            if (!robots_.allowed(u)) {
                on_source(site, kind, level, disallowed(u));
                return;
            }
            // Ahead of the host's articles (discovery goes on), but through its lane like them,
            // so that bodies never wait for the parse pool in greater numbers than it can take.
            std::string host = url::host(u);
            admit(host, /*first=*/true, [this, site, kind, level, u, host] {
                crawler::Request req = request(site, u);
                conditional(req, u);
                fetcher_.submit(req, [this, site, kind, level, host](crawler::Response r) {
                    on_source(site, kind, level, std::move(r));
                    lane_done(host);
                });
            });
        });
    }

    void on_source(std::size_t site, SourceKind kind, std::size_t level, crawler::Response r) {
        SiteReport& report = sites_[site].report;
        if (r.outcome == crawler::Outcome::not_modified) {
            remember(r.url, r);
            ++report.not_modified;
            spdlog::debug("{}: {} {}: not modified", config_.sites[site].name, source_name(kind),
                          r.url);
            return;
        }
        if (!r.ok()) {
            ++report.sources_failed;
            if (r.outcome == crawler::Outcome::refused) {
                ++report.refused;
            }
            problem(site, r.url,
                    std::string(source_name(kind)) + " not fetched (" + describe(r) + ")");
            return;
        }
        const config::SiteConfig& cfg = config_.sites[site];
        bool discover = kind == SourceKind::listing && cfg.feeds.empty() && cfg.autodiscover_feeds;
        std::string listing_next = level < cfg.crawl.max_listing_pages ? cfg.listing_next : "";
        auto body = std::make_shared<std::string>(std::move(r.body));
        std::string content_type = std::move(r.content_type);
        std::string final_url = r.final_url;
        const config::SiteConfig* site_config = &cfg;
        std::function<SourceResult()> work = [kind, body, content_type, final_url, discover,
                                              listing_next, site_config]() {
            SourceResult out =
                parse_source(kind, *body, content_type, final_url, discover, listing_next);
            if (kind == SourceKind::listing && !site_config->listing_url_pattern.empty()) {
                for (const auto& link : out.links) {
                    auto key = url::canonical(link);
                    if (key && site_config->is_listing_url(*key)) {
                        out.listings.push_back(*key);
                    }
                }
            }
            return out;
        };
        std::string source_url = r.url;
        // The validators are stored only once the links are safe in the frontier: a run killed
        // in between must fetch the source in full again, not get a 304 and lose its links.
        crawler::Response validators;
        validators.outcome = r.outcome;
        validators.status = r.status;
        validators.etag = std::move(r.etag);
        validators.last_modified = std::move(r.last_modified);
        if (pool_) {
            ++parse_backlog_;
        }
        offload<SourceResult>(std::move(work), [this, site, kind, level, source_url,
                                                validators](SourceResult result) {
            parsed();
            bool readable = result.ok;
            on_source_parsed(site, kind, level, source_url, std::move(result));
            if (readable) {
                flush_frontier();
                remember(source_url, validators);
            }
            pump_lanes();
        });
    }

    static SourceResult parse_source(SourceKind kind, const std::string& body,
                                     const std::string& content_type, const std::string& final_url,
                                     bool discover, const std::string& listing_next) {
        SourceResult out;
        switch (kind) {
            case SourceKind::feed: {
                parsers::FeedParse feed = parsers::parse_feed(body, final_url);
                if (!feed.ok) {
                    out.ok = false;
                    out.error = "feed not readable (" + feed.error + ")";
                    return out;
                }
                for (auto& item : feed.items) {
                    out.links.push_back(item.link);
                    out.titled.emplace_back(item.link, item.title);
                }
                return out;
            }
            case SourceKind::listing: {
                std::string html = charset::to_utf8(body, content_type);
                parsers::PageLinks found =
                    parsers::read_page_links(html, final_url, listing_next, discover);
                out.links = std::move(found.links);
                out.next_listings = std::move(found.selected);
                out.feeds = std::move(found.feeds);
                return out;
            }
            case SourceKind::sitemap: {
                parsers::SitemapParse map = parsers::parse_sitemap(body, final_url);
                if (!map.ok) {
                    out.ok = false;
                    out.error = "sitemap not readable (" + map.error + ")";
                    return out;
                }
                for (auto& e : map.entries) {
                    (map.is_index ? out.child_sitemaps : out.links).push_back(e.loc);
                }
                return out;
            }
        }
        return out;
    }

    void on_source_parsed(std::size_t site, SourceKind kind, std::size_t level,
                          const std::string& source_url, SourceResult result) {
        const config::SiteConfig& cfg = config_.sites[site];
        if (!result.ok) {
            ++sites_[site].report.sources_failed;
            problem(site, source_url, result.error);
            return;
        }
        spdlog::debug("{}: {} {}: {} links", cfg.name, source_name(kind), source_url,
                      result.links.size());
        for (const auto& f : result.feeds) {
            fetch_source(site, SourceKind::feed, f, 1);
        }
        for (const auto& listing : result.listings) {
            fetch_source(site, SourceKind::listing, listing, 1);
        }
        for (const auto& next : result.next_listings) {
            if (next != source_url) {
                fetch_source(site, SourceKind::listing, next, level + 1);
                break;  // the next page only; it leads to the one after
            }
        }
        if (level < kMaxSitemapDepth) {
            for (const auto& child : result.child_sitemaps) {
                fetch_source(site, SourceKind::sitemap, child, level + 1);
            }
        }
        for (const auto& [link, title] : result.titled) {
            revisit_if_retitled(site, link, title);
        }
        for (const auto& link : result.links) {
            consider(site, link, /*from_frontier=*/false);
        }
    }

    // --- articles -------------------------------------------------------------------------

    // A link found on a source (or left in the frontier): fetch it unless it is no article,
    // already stored, already seen in this run, or over the site's budget.
    void consider(std::size_t site, const std::string& link, bool from_frontier) {
        // The same link met again (every listing repeats the home page's links, feeds repeat
        // listings) decides nothing new: its URL is already the article's, or was refused.
        if (!sites_[site].considered.insert(link).second) {
            return;
        }
        const config::SiteConfig& cfg = config_.sites[site];
        // Patterns are matched against the normalised URL, so tracking parameters and host case
        // need no place in them.
        auto key = url::canonical(link);
        if (!key || !cfg.is_article_url(*key)) {
            return;
        }
        std::string folded = cfg.primary_host_url(*key);
        // One fetch per article per run, however many URLs reach it: the site's article ID when
        // it declares one, else the URL with alias hosts folded and no trailing slash.
        std::string run_key = cfg.id_key(folded);
        if (run_key.empty()) {
            run_key = folded;
            if (run_key.size() > 1 && run_key.back() == '/' &&
                run_key.find('/', run_key.find("://") + 3) != run_key.size() - 1) {
                run_key.pop_back();
            }
        }
        if (!run_keys_.insert(run_key).second) {
            // Another URL of an article already handled this run: not fetched again, but kept
            // as one of its URLs (tracking variants, alias hosts, the no-slash form).
            extra_urls_[run_key].push_back(link);
            return;
        }
        SiteState& state = sites_[site];
        ++state.report.links;
        bool skip = read([&](const storage::ArticleStore& store) {
            bool known = false;
            for (const std::string* u : std::array<const std::string*, 3>{&link, &*key, &folded}) {
                if (store.knows_url(*u)) {
                    known_by_key_[run_key] = *u;
                    known = true;
                    break;
                }
            }
            if (!known && !store.is_tombstoned(*key)) {
                return false;
            }
            if (known && !store.knows_url(link)) {
                extra_urls_[run_key].push_back(link);
            }
            return true;
        });
        if (skip) {
            ++state.report.known;
            if (from_frontier) {
                write([link](storage::ArticleStore& store) { store.remove_from_frontier(link); });
            }
            return;
        }
        if (!from_frontier) {
            frontier_additions_.push_back(storage::FrontierEntry{cfg.name, link, now_});
        }
        if (state.budget_used >= cfg.crawl.max_new_articles) {
            ++state.report.deferred;
            return;
        }
        ++state.budget_used;
        auto pending = std::make_shared<PendingArticle>();
        pending->site = site;
        pending->owner = site;
        pending->link = link;
        pending->run_key = run_key;
        fetch_article_page(pending, link);
    }

    // URLs met this run for articles already stored (or stored before the URL turned up)
    // become aliases of their records. REQUIRES: the batches are saved.
    void record_extra_urls() {
        std::vector<Article> updates;
        auto lock = lock_store();
        for (auto& [run_key, urls] : extra_urls_) {
            std::string stored_url;
            if (auto known = known_by_key_.find(run_key); known != known_by_key_.end()) {
                stored_url = known->second;
            } else if (auto done = finished_by_key_.find(run_key); done != finished_by_key_.end()) {
                stored_url = done->second;
            }
            if (stored_url.empty()) {
                continue;  // its article was not stored this run (failed, over budget)
            }
            auto stored = store_.find(stored_url);
            if (!stored) {
                continue;
            }
            bool added = false;
            for (const auto& u : urls) {
                if (!contains(stored->article.urls, u)) {
                    stored->article.urls.push_back(u);
                    added = true;
                }
            }
            if (added) {
                updates.push_back(std::move(stored->article));
            }
        }
        if (!updates.empty()) {
            store_.save(updates, now_);  // same content: unchanged, with the new aliases
        }
        extra_urls_.clear();
    }

    void start_revisits(std::size_t site) {
        const config::SiteConfig& cfg = config_.sites[site];
        if (cfg.crawl.revisit_window.count() == 0) {
            return;
        }
        auto due = read([&](const auto& store) {
            return store.due_for_revisit(
                cfg.name,
                now_ - std::chrono::duration_cast<std::chrono::seconds>(cfg.crawl.revisit_window),
                now_ - std::chrono::duration_cast<std::chrono::seconds>(cfg.crawl.revisit_interval),
                cfg.crawl.max_new_articles);
        });
        for (const auto& stored : due) {
            revisit(site, stored.article.canonical_url);
        }
    }

    // A stored article whose feed entry now carries another title: it was corrected.
    void revisit_if_retitled(std::size_t site, const std::string& link, const std::string& title) {
        std::string clean = text::clean(title);
        if (clean.empty()) {
            return;
        }
        std::optional<storage::StoredArticle> stored =
            read([&](const auto& store) -> std::optional<storage::StoredArticle> {
                if (!store.knows_url(link)) {
                    return std::nullopt;
                }
                return store.find(link);
            });
        if (stored && textkey::normalize(stored->article.title) != textkey::normalize(clean)) {
            spdlog::debug("{}: {}: the feed has a new title; checking the article again",
                          config_.sites[site].name, link);
            revisit(site, stored->article.canonical_url);
        }
    }

    void revisit(std::size_t site, const std::string& canonical) {
        if (!revisit_keys_.insert(canonical).second) {
            return;
        }
        SiteState& state = sites_[site];
        if (state.revisits >= config_.sites[site].crawl.max_new_articles) {
            return;
        }
        ++state.revisits;
        auto pending = std::make_shared<PendingArticle>();
        pending->site = site;
        pending->owner = site;
        pending->link = canonical;
        pending->revisit = true;
        fetch_article_page(pending, canonical);
    }

    void fetch_article_page(const std::shared_ptr<PendingArticle>& p, const std::string& u) {
        with_robots(p->site, u, [this, p, u] {
            if (!robots_.allowed(u)) {
                on_article_page(p, disallowed(u));
                return;
            }
            std::string host = url::host(u);
            // The next page of a split article goes first: its first pages wait for it.
            bool continuation = !p->visited_pages.empty();
            admit(host, continuation, [this, p, u, host] {
                crawler::Request req = request(p->site, u);
                if (p->revisit && p->visited_pages.empty()) {
                    conditional(req, u);
                }
                fetcher_.submit(req, [this, p, host](crawler::Response r) {
                    on_article_page(p, std::move(r));
                    lane_done(host);
                });
            });
        });
    }

    // --- admission --------------------------------------------------------------------------
    // Feeds, listings, sitemaps and article pages reach the fetcher a few at a time per host
    // (its connections plus one queued, so that a connection never waits for the pipeline),
    // hosts taking turns, and only while the parse pool keeps up. A host's sources go ahead of
    // its articles, so they never queue behind a hundred of them (discovery goes on while
    // articles are fetched), and bodies never pile up in memory faster than they can be parsed.

    void admit(const std::string& host, bool first, std::function<void()> submit) {
        Lane& lane = lanes_[host];
        if (first) {
            lane.waiting.push_front(std::move(submit));
        } else {
            lane.waiting.push_back(std::move(submit));
        }
        list_lane(lane);
        pump_lanes();
    }

    void list_lane(Lane& lane) {
        if (!lane.listed && !lane.waiting.empty() && lane.submitted < lane.limit) {
            lane.listed = true;
            ready_lanes_.push_back(&lane);
        }
    }

    void pump_lanes() {
        if (pumping_) {
            return;  // a submission re-entered: the loop below goes on
        }
        pumping_ = true;
        while (!ready_lanes_.empty() && parse_backlog_ < max_parse_backlog_ &&
               in_flight_ + parse_backlog_ < max_pipeline_ && writes_pending_ < kMaxWritesPending) {
            Lane& lane = *ready_lanes_.front();
            ready_lanes_.pop_front();
            lane.listed = false;
            if (lane.waiting.empty() || lane.submitted >= lane.limit) {
                continue;  // changed since it was listed
            }
            std::function<void()> submit = std::move(lane.waiting.front());
            lane.waiting.pop_front();
            ++lane.submitted;
            ++in_flight_;
            list_lane(lane);  // to the back: round robin
            try {
                submit();
            } catch (...) {
                pumping_ = false;
                throw;
            }
        }
        pumping_ = false;
    }

    // A page (article or source) is back from the parse pool. The pipeline's bound adapts: it
    // grows by a step when a pool thread ran dry while that bound held pages back (the network
    // needs more requests in flight to keep the pool busy: long latency, many slow hosts), and
    // shrinks by a share of itself towards its minimum while pages arrive faster than they are
    // parsed (they would only wait, holding their bodies).
    void parsed() {
        if (!pool_) {
            return;
        }
        const bool held_back = in_flight_ + parse_backlog_ >= max_pipeline_;
        --parse_backlog_;
        // At most two requests per host (one on the wire, one waiting for its connection)
        // beyond the parse backlog: what the slowest hosts need, and a bound on the bodies.
        const std::size_t ceiling = std::max(min_pipeline_, 2 * lanes_.size() + max_parse_backlog_);
        if (parse_backlog_ < pool_->size() && held_back && !ready_lanes_.empty() &&
            max_pipeline_ < ceiling) {
            max_pipeline_ = std::min(ceiling, max_pipeline_ + kPipelineStep);
        } else if (parse_backlog_ >= max_parse_backlog_ && max_pipeline_ > min_pipeline_) {
            // Down by a share of itself: a bound grown large during discovery comes back fast.
            max_pipeline_ -= std::min(max_pipeline_ - min_pipeline_,
                                      std::max<std::size_t>(1, max_pipeline_ / 64));
        }
    }

    void lane_done(const std::string& host) {
        Lane& lane = lanes_[host];
        --lane.submitted;
        --in_flight_;
        list_lane(lane);
        pump_lanes();
    }

    void on_article_page(const std::shared_ptr<PendingArticle>& p, crawler::Response r) {
        bool first_page = p->visited_pages.empty();
        p->visited_pages.push_back(r.url);
        SiteState& state = sites_[p->site];
        if (first_page && p->revisit) {
            remember(r.url, r);
            if (r.outcome == crawler::Outcome::not_modified) {
                ++state.report.revisited;
                write([link = p->link, now = now_](storage::ArticleStore& store) {
                    store.mark_checked(link, now);
                });
                return;
            }
        }
        if (!r.ok()) {
            if (r.outcome == crawler::Outcome::cancelled) {
                ++state.report.deferred;  // still in the frontier for the next run
                return;
            }
            if (r.outcome == crawler::Outcome::refused) {
                ++state.report.refused;
            }
            if (first_page && !p->revisit &&
                (r.status == 404 || r.status == 410 || r.outcome == crawler::Outcome::refused)) {
                // Gone for good: do not ask again.
                write([link = p->link](storage::ArticleStore& store) {
                    store.remove_from_frontier(link);
                });
            }
            fail_article(*p, r.url, "not fetched (" + describe(r) + ")");
            return;
        }
        if (first_page) {
            // A page that moved to another configured site (a merger redirect) is that site's
            // article, extracted with that site's rules.
            auto owner = site_by_host_.find(url::host(r.final_url));
            if (owner != site_by_host_.end()) {
                p->owner = owner->second;
            }
        }
        PageMeta meta{r.url,  r.final_url,     r.redirects,
                      r.etag, r.last_modified, static_cast<int>(r.status)};
        auto body = std::make_shared<std::string>(std::move(r.body));
        std::string content_type = std::move(r.content_type);
        const SiteRules* rules = &config_.sites[p->owner].rules;
        std::string final_url = r.final_url;
        storage::RawPageCompressor* compressor = raw_compressor_.get();  // null: not kept
        std::string site_name = config_.sites[p->owner].name;
        std::function<PageResult()> work = [body, content_type, final_url, rules, compressor,
                                            site_name]() {
            PageResult out;
            std::string html = charset::to_utf8_moved(std::move(*body), content_type);
            out.extraction = parsers::extract_article(html, final_url, *rules);
            if (out.extraction.ok && compressor != nullptr) {
                storage::RawPage raw;
                raw.site = site_name;
                raw.html = std::move(html);
                out.raw = storage::ArticleStore::prepare_raw_page(std::move(raw), *compressor);
            }
            return out;
        };
        if (pool_) {
            ++parse_backlog_;
        }
        offload<PageResult>(std::move(work), [this, p, meta = std::move(meta)](PageResult page) {
            parsed();
            on_article_parsed(p, meta, std::move(page));
            pump_lanes();
        });
    }

    void on_article_parsed(const std::shared_ptr<PendingArticle>& p, const PageMeta& meta,
                           PageResult page) {
        bool first_page = p->pages == 0;
        if (!page.extraction.ok) {
            fail_article(*p, meta.url,
                         std::string(first_page ? "not extracted (" : "page not extracted (") +
                             page.extraction.error + ")");
            return;
        }
        ++p->pages;
        if (page.raw) {
            storage::RawPage& raw = page.raw->page;  // site: set by the parse thread
            raw.url = meta.final_url;
            raw.fetched_at = now_;
            raw.page = static_cast<int>(p->pages);
            p->raw.push_back(std::move(*page.raw));
        }
        if (first_page) {
            add_unique(p->seen_urls, p->link);
            add_unique(p->seen_urls, meta.url);
            for (const auto& hop : meta.redirects) {
                add_unique(p->seen_urls, hop);
            }
            add_unique(p->seen_urls, meta.final_url);
            p->first_final_url = meta.final_url;
            p->first = meta;
            p->remaining_pages = page.extraction.next_pages;
            p->extraction = std::move(page.extraction);
        } else {
            add_unique(p->seen_urls, meta.url);  // further pages of a split article
            add_unique(p->seen_urls, meta.final_url);
            parsers::append_page(p->extraction, page.extraction);
            for (const auto& next : page.extraction.next_pages) {
                if (!contains(p->visited_pages, next) && !contains(p->remaining_pages, next)) {
                    p->remaining_pages.push_back(next);
                }
            }
        }
        while (!p->remaining_pages.empty()) {
            std::string next = p->remaining_pages.front();
            p->remaining_pages.erase(p->remaining_pages.begin());
            if (contains(p->visited_pages, next) || next == p->first_final_url) {
                continue;
            }
            if (p->visited_pages.size() >= kMaxArticlePages) {
                problem(p->site, p->link, "more than 20 pages; the rest is left out");
                break;
            }
            fetch_article_page(p, next);
            return;
        }
        finish_article(*p);
    }

    void fail_article(const PendingArticle& p, const std::string& u, const std::string& why) {
        ++sites_[p.site].report.failed;
        problem(p.site, u, why);
    }

    // The record key: the page's own rel=canonical/og:url when it points into the serving
    // site, else the normalised final URL; alias hosts folded to the site's home host.
    std::string canonical_for(const PendingArticle& p) const {
        const config::SiteConfig& owner = config_.sites[p.owner];
        const auto& declared = p.extraction.declared_canonical;
        std::string chosen;
        if (!declared.empty()) {
            std::string host = url::host(declared);
            if (host == url::host(p.first_final_url) || contains(owner.hosts(), host)) {
                if (auto c = url::canonical(declared)) {
                    chosen = *c;
                }
            }
        }
        if (chosen.empty()) {
            chosen = url::canonical(p.first_final_url).value_or(p.first_final_url);
        }
        return owner.primary_host_url(chosen);
    }

    void finish_article(PendingArticle& p) {
        const config::SiteConfig& owner = config_.sites[p.owner];
        Article article = std::move(p.extraction.article);
        article.site = owner.name;
        article.canonical_url = canonical_for(p);
        article.id_key = owner.id_key(article.canonical_url);
        if (article.id_key.empty()) {
            article.id_key = owner.id_key(p.first_final_url);
        }
        article.urls.clear();
        article.urls.push_back(article.canonical_url);
        for (const auto& u : p.seen_urls) {
            add_unique(article.urls, u);
        }
        if (!p.run_key.empty()) {
            finished_by_key_[p.run_key] = article.canonical_url;
        }
        for (auto& raw : p.raw) {
            raw.page.canonical_url = article.canonical_url;
        }
        if (p.revisit) {
            ++sites_[p.site].report.revisited;
        } else {
            ++sites_[p.site].report.fetched;
        }
        auto saved = std::make_shared<SavedArticle>();
        saved->owner = p.owner;
        saved->raw = std::move(p.raw);
        saved->first = std::move(p.first);
        saved->revisit = p.revisit;
        // The store's share of the work (keys, story signature, JSON) on a parse thread too.
        std::function<storage::PreparedArticle()> work =
            [article = std::make_shared<Article>(std::move(article))]() mutable {
                return storage::ArticleStore::prepare(std::move(*article));
            };
        offload<storage::PreparedArticle>(std::move(work),
                                          [this, saved](storage::PreparedArticle prepared) {
                                              saved->prepared = std::move(prepared);
                                              batch_.push_back(std::move(*saved));
                                              if (batch_.size() >= kSaveBatch) {
                                                  flush();
                                              }
                                          });
    }

    // Saves the articles of every site batched so far, with their raw pages, in one go: on the
    // writer thread when there is one (the fetcher's thread goes on serving sockets and the
    // parse pool meanwhile), else here. `wait`: here in any case (the fetcher has stopped).
    void flush(bool wait = false) {
        if (batch_.empty()) {
            return;
        }
        auto job = std::make_shared<SaveJob>();
        job->saved = std::move(batch_);
        batch_.clear();
        if (!writer_ || wait) {
            save_batch(*job);
            count_saved(*job);
            return;
        }
        ++writes_pending_;
        auto token = fetcher_.hold();
        writer_->submit([this, job, token] {
            try {
                save_batch(*job);
                fetcher_.post([this, job, token] {
                    --writes_pending_;
                    count_saved(*job);
                    pump_lanes();
                });
            } catch (...) {
                fetcher_.post(
                    [error = std::current_exception(), token] { std::rethrow_exception(error); });
            }
        });
    }

    // Any thread (touches nothing but the job and, under its lock, the store).
    void save_batch(SaveJob& job) {
        std::vector<storage::PreparedArticle> articles;
        articles.reserve(job.saved.size());
        for (auto& saved : job.saved) {
            articles.push_back(std::move(saved.prepared));
        }
        std::vector<storage::PreparedRawPage> raw;
        auto lock = lock_store();
        // One commit for the batch, its fetch states and raw pages (a commit each cost more
        // than the rest of the writer's work for small rows).
        store_.in_transaction([&] { save_batch_rows(job, articles, raw); });
        if (++batches_saved_ % kIndexEveryBatches == 0) {
            store_.index_pending();
        }
        lock.unlock();
        for (std::size_t i = 0; i < articles.size(); ++i) {
            job.saved[i].prepared = std::move(articles[i]);
            job.saved[i].raw.clear();
        }
    }

    void save_batch_rows(SaveJob& job, std::vector<storage::PreparedArticle>& articles,
                         std::vector<storage::PreparedRawPage>& raw) {
        job.results = store_.save(articles, now_);
        for (std::size_t i = 0; i < job.results.size(); ++i) {
            SavedArticle& saved = job.saved[i];
            const Article& a = articles[i].article;
            for (const auto& u : a.urls) {
                store_.remove_from_frontier(u);
            }
            store_.mark_checked(a.canonical_url, now_);
            storage::FetchState fetched;
            fetched.url = a.canonical_url;
            fetched.etag = saved.first.etag;
            fetched.last_modified = saved.first.last_modified;
            fetched.fetched_at = now_;
            fetched.status = saved.first.status;
            store_.remember_fetch(fetched);
            if (config_.storage.raw_pages.count() > 0) {
                for (auto& page : saved.raw) {
                    raw.push_back(std::move(page));
                }
            }
        }
        if (!raw.empty()) {
            store_.save_raw_pages(raw);
        }
    }

    // The fetcher's thread: the report's side of a saved batch.
    void count_saved(const SaveJob& job) {
        for (std::size_t i = 0; i < job.results.size(); ++i) {
            const SavedArticle& saved = job.saved[i];
            SiteReport& report = sites_[saved.owner].report;
            switch (job.results[i]) {
                case storage::SaveResult::inserted:
                    ++report.inserted;
                    spdlog::debug("{}: new: {}", report.site, saved.prepared.article.canonical_url);
                    break;
                case storage::SaveResult::updated:
                    ++report.updated;
                    spdlog::info("{}: updated: {}", report.site,
                                 saved.prepared.article.canonical_url);
                    break;
                case storage::SaveResult::unchanged:
                    ++report.unchanged;
                    break;
            }
        }
    }

    void flush_frontier() {
        if (!frontier_additions_.empty()) {
            write([entries = std::move(frontier_additions_)](storage::ArticleStore& store) {
                store.add_to_frontier(entries);
            });
            frontier_additions_.clear();
        }
    }

    const config::Config& config_;
    crawler::Fetcher& fetcher_;
    storage::ArticleStore& store_;
    storage::ArticleStore* reader_;  // see read(); null: store_ under the lock
    Timestamp now_;
    std::vector<SiteState> sites_;
    std::vector<SavedArticle> batch_;  // extracted articles of every site, not saved yet
    std::unordered_map<std::string, Lane> lanes_;  // by host; never erased (ready_lanes_)
    std::deque<Lane*> ready_lanes_;                // may submit now, round robin
    bool pumping_ = false;
    std::size_t parse_backlog_ = 0;  // pages handed to the pool, not back yet
    std::size_t max_parse_backlog_ = SIZE_MAX;
    std::size_t in_flight_ = 0;  // requests submitted through the lanes, not answered yet
    // Bound of in_flight_ + parse_backlog_ (see parsed()): what the pipeline holds, or will.
    std::size_t max_pipeline_ = SIZE_MAX;
    std::size_t min_pipeline_ = 0;
    std::size_t writes_pending_ = 0;  // batches handed to the writer, not counted yet
    std::size_t batches_saved_ = 0;   // by save_batch(), under the store's lock
    mutable std::mutex store_mutex_;  // see lock_store()
    std::unordered_map<std::string, std::size_t> site_by_host_;
    RobotsBook own_robots_;
    RobotsBook& robots_;
    std::map<std::string, std::vector<std::function<void()>>> robots_waiting_;  // by origin
    std::unordered_set<std::string> sources_seen_;  // feeds, listings, sitemaps of this run
    std::unordered_set<std::string> run_keys_;      // article keys seen this run
    // Further URLs of the articles behind run keys, and where their records are.
    std::unordered_map<std::string, std::vector<std::string>> extra_urls_;
    std::unordered_map<std::string, std::string> known_by_key_;     // stored before this run
    std::unordered_map<std::string, std::string> finished_by_key_;  // stored this run
    std::unordered_set<std::string> revisit_keys_;
    std::vector<storage::FrontierEntry> frontier_additions_;
    // Raw pages compressed against one dictionary per site (see start_raw_compressor()); null
    // when raw pages are not kept. Used by the parse threads: destroyed after the pool.
    std::unique_ptr<storage::RawPageCompressor> raw_compressor_;
    std::unique_ptr<WorkPool> writer_;  // one thread: saves batches in order (with a pool only)
    std::unique_ptr<WorkPool> pool_;    // last: its threads post into the members above
};

publish::Channel channel_for(const config::Config& config, const config::SiteConfig& site) {
    publish::Channel c;
    c.title = site.title;
    c.link = site.home;
    c.description = "Full-text articles of " + site.title + ", collected by baofeed";
    if (!config.publish.base_url.empty()) {
        c.self_url = config.publish.base_url + site.name + ".xml";
    }
    return c;
}

std::vector<publish::FeedEntry> entries(const storage::ArticleStore& store,
                                        std::optional<std::string_view> site, std::size_t limit) {
    std::vector<publish::FeedEntry> out;
    for (auto& stored : store.list(site, limit)) {
        out.push_back(publish::FeedEntry{std::move(stored.article), stored.first_seen});
    }
    return out;
}

}  // namespace

void RobotsBook::set(const std::string& origin, crawler::RobotsTxt robots) {
    by_origin_.insert_or_assign(origin, std::move(robots));
}

bool RobotsBook::allowed(const std::string& u) const {
    auto found = by_origin_.find(origin_of(u));
    if (found == by_origin_.end()) {
        return true;
    }
    return found->second.allowed(kAgent, crawler::robots_path(u));
}

std::string RobotsBook::origin_of(const std::string& u) {
    auto canonical = url::canonical(u);
    if (!canonical) {
        return "";
    }
    auto scheme_end = canonical->find("://");
    if (scheme_end == std::string::npos) {
        return "";
    }
    auto path = canonical->find_first_of("/?#", scheme_end + 3);
    return canonical->substr(0, path);
}

bool SiteReport::broken() const {
    bool no_source = sources > 0 && sources_failed == sources;
    bool no_article = fetched == 0 && failed > 0;
    return no_source || no_article;
}

bool RunReport::any_broken() const {
    return std::any_of(sites.begin(), sites.end(), [](const SiteReport& s) { return s.broken(); });
}

RunReport crawl(const config::Config& config, crawler::Fetcher& fetcher,
                storage::ArticleStore& store, const CrawlOptions& options) {
    RunReport report;
    {
        Crawl crawl(config, fetcher, store, options);
        report = crawl.run();
    }
    Timestamp keep_articles_from =
        config.storage.retention.count() > 0
            ? options.now -
                  std::chrono::duration_cast<std::chrono::seconds>(config.storage.retention)
            : Timestamp{};
    Timestamp keep_raw_from =
        options.now - std::chrono::duration_cast<std::chrono::seconds>(config.storage.raw_pages);
    report.pruned = store.prune(keep_articles_from, keep_raw_from);
    return report;
}

RunReport reparse(const config::Config& config, storage::ArticleStore& store,
                  const std::optional<std::string>& site, Timestamp now) {
    RunReport report;
    std::map<std::string, std::size_t> index;
    for (const auto& s : config.sites) {
        if (!site || s.name == *site) {
            index[s.name] = report.sites.size();
            SiteReport r;
            r.site = s.name;
            report.sites.push_back(std::move(r));
        }
    }
    std::vector<Article> batch;
    std::vector<std::size_t> batch_sites;
    auto flush = [&] {
        if (batch.empty()) {
            return;
        }
        auto results = store.save(batch, now);
        for (std::size_t i = 0; i < results.size(); ++i) {
            SiteReport& r = report.sites[batch_sites[i]];
            if (results[i] == storage::SaveResult::updated) {
                ++r.updated;
            } else if (results[i] == storage::SaveResult::inserted) {
                ++r.inserted;
            } else {
                ++r.unchanged;
            }
        }
        batch.clear();
        batch_sites.clear();
    };
    std::optional<std::string_view> filter;
    if (site) {
        filter = *site;
    }
    for (const auto& canonical : store.raw_page_articles(filter)) {
        auto stored = store.find(canonical);
        if (!stored) {
            continue;
        }
        auto found = index.find(stored->article.site);
        if (found == index.end()) {
            continue;  // a site no longer configured (or filtered out)
        }
        SiteReport& r = report.sites[found->second];
        const config::SiteConfig* cfg = nullptr;
        for (const auto& s : config.sites) {
            if (s.name == stored->article.site) {
                cfg = &s;
            }
        }
        auto pages = store.raw_pages(canonical);
        std::sort(pages.begin(), pages.end(),
                  [](const auto& a, const auto& b) { return a.page < b.page; });
        std::optional<parsers::Extraction> joined;
        for (const auto& page : pages) {
            auto e = parsers::extract_article(page.html, page.url, cfg->rules);
            if (!e.ok) {
                ++r.failed;
                r.problems.push_back(page.url + ": not extracted (" + e.error + ")");
                joined.reset();
                break;
            }
            if (!joined) {
                joined = std::move(e);
            } else {
                parsers::append_page(*joined, e);
            }
        }
        if (!joined) {
            continue;
        }
        ++r.fetched;
        Article article = std::move(joined->article);
        article.canonical_url = stored->article.canonical_url;
        article.urls = stored->article.urls;
        article.site = stored->article.site;
        article.id_key = stored->article.id_key;
        batch.push_back(std::move(article));
        batch_sites.push_back(found->second);
        if (batch.size() >= kSaveBatch) {
            flush();
        }
    }
    flush();
    store.index_pending();
    return report;
}

void publish_feeds(const config::Config& config, const storage::ArticleStore& store,
                   RunReport& report) {
    const storage::ArticleStore* const readers[] = {&store};
    publish_feeds(config, readers, report);
}

void publish_feeds(const config::Config& config,
                   std::span<const storage::ArticleStore* const> readers, RunReport& report) {
    if (readers.empty()) {
        throw std::invalid_argument("publish_feeds: no store to read from");
    }
    publish::Channel all;
    all.title = "baofeed: all sites";
    all.link =
        config.publish.base_url.empty() ? config.sites.front().home : config.publish.base_url;
    all.description = "Full-text articles of every site in " + config.file.filename().string();
    if (!config.publish.base_url.empty()) {
        all.self_url = config.publish.base_url + std::string(config::kCombinedFeedName) + ".xml";
    }
    // Feed i < sites.size() is site i's, the last one the combined feed. Reading the articles
    // (JSON of the bodies) and rendering them is most of the work: each reader's thread takes
    // the next feed not taken yet.
    const std::size_t feeds = config.sites.size() + 1;
    std::vector<std::optional<publish::WriteResult>> results(feeds);
    std::vector<std::exception_ptr> errors(readers.size());
    std::atomic<std::size_t> next{0};
    auto work = [&](std::size_t reader) {
        try {
            const storage::ArticleStore& store = *readers[reader];
            for (std::size_t i = next++; i < feeds; i = next++) {
                const bool combined = i == config.sites.size();
                const std::string name =
                    combined ? std::string(config::kCombinedFeedName) : config.sites[i].name;
                const auto items = entries(
                    store,
                    combined ? std::nullopt : std::optional<std::string_view>(config.sites[i].name),
                    config.publish.items_per_feed);
                results[i] = publish::write_atomically(
                    config.output_dir / (name + ".xml"),
                    publish::render_rss(combined ? all : channel_for(config, config.sites[i]),
                                        items));
            }
        } catch (...) {
            errors[reader] = std::current_exception();
            next = feeds;  // the others stop after their current feed
        }
    };
    {
        std::vector<std::jthread> helpers;
        for (std::size_t r = 1; r < readers.size(); ++r) {
            helpers.emplace_back(work, r);
        }
        work(0);
    }
    for (const std::exception_ptr& error : errors) {
        if (error) {
            std::rethrow_exception(error);
        }
    }
    for (std::size_t i = 0; i < feeds; ++i) {
        if (results[i] == publish::WriteResult::written) {
            ++report.feeds_written;
            const std::string name = i == config.sites.size()
                                         ? std::string(config::kCombinedFeedName)
                                         : config.sites[i].name;
            spdlog::debug("wrote {}", (config.output_dir / (name + ".xml")).string());
        } else if (results[i].has_value()) {
            ++report.feeds_unchanged;
        }
    }
}

}  // namespace baofeed::app
