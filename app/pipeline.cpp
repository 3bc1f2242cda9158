#include "app/pipeline.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "core/charset.h"
#include "core/url.h"
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

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
    if (!s.empty() && !contains(v, s)) {
        v.push_back(s);
    }
}

// An article whose page(s) are being fetched.
struct PendingArticle {
    std::size_t site = 0;
    std::string link;  // as discovered
    std::vector<std::string> seen_urls;
    std::string first_final_url;
    parsers::Extraction extraction;
    std::vector<std::string> remaining_pages;
    std::vector<std::string> visited_pages;
};

class Crawl {
  public:
    Crawl(const config::Config& config, crawler::Fetcher& fetcher, storage::ArticleStore& store,
          Timestamp now)
        : config_(config), fetcher_(fetcher), store_(store), now_(now) {
        for (const auto& site : config_.sites) {
            SiteState state;
            state.report.site = site.name;
            state.hosts = site.hosts();
            sites_.push_back(std::move(state));
        }
    }

    RunReport run() {
        for (std::size_t i = 0; i < config_.sites.size(); ++i) {
            const auto& site = config_.sites[i];
            for (const auto& feed : site.feeds) {
                ++sites_[i].report.sources;
                fetcher_.submit(request(feed),
                                [this, i](crawler::Response r) { on_feed(i, std::move(r)); });
            }
            for (const auto& listing : site.listings) {
                ++sites_[i].report.sources;
                fetcher_.submit(request(listing),
                                [this, i](crawler::Response r) { on_listing(i, std::move(r)); });
            }
        }
        fetcher_.run();
        for (std::size_t i = 0; i < sites_.size(); ++i) {
            flush(i);
        }
        RunReport report;
        for (auto& s : sites_) {
            report.sites.push_back(std::move(s.report));
        }
        return report;
    }

  private:
    struct SiteState {
        SiteReport report;
        std::vector<std::string> hosts;
        std::size_t queued = 0;
        std::vector<Article> batch;
    };

    crawler::Request request(const std::string& u) const {
        return crawler::Request{.url = u, .max_bytes = config_.crawler.max_page_bytes};
    }

    void problem(std::size_t site, const std::string& u, const std::string& why) {
        spdlog::info("{}: {}: {}", config_.sites[site].name, u, why);
        sites_[site].report.problems.push_back(u + ": " + why);
    }

    static std::string describe(const crawler::Response& r) {
        std::string why = crawler::to_string(r.outcome);
        if (!r.error.empty()) {
            why += ": " + r.error;
        }
        return why;
    }

    void on_feed(std::size_t site, crawler::Response r) {
        if (!r.ok()) {
            ++sites_[site].report.sources_failed;
            problem(site, r.url, "feed not fetched (" + describe(r) + ")");
            return;
        }
        parsers::FeedParse feed = parsers::parse_feed(r.body, r.final_url);
        if (!feed.ok) {
            ++sites_[site].report.sources_failed;
            problem(site, r.url, "feed not readable (" + feed.error + ")");
            return;
        }
        spdlog::debug("{}: feed {}: {} items", config_.sites[site].name, r.url, feed.items.size());
        for (const auto& item : feed.items) {
            consider(site, item.link);
        }
    }

    void on_listing(std::size_t site, crawler::Response r) {
        if (!r.ok()) {
            ++sites_[site].report.sources_failed;
            problem(site, r.url, "listing not fetched (" + describe(r) + ")");
            return;
        }
        std::string html = charset::to_utf8(r.body, r.content_type);
        auto links = parsers::page_links(html, r.final_url);
        spdlog::debug("{}: listing {}: {} links", config_.sites[site].name, r.url, links.size());
        for (const auto& link : links) {
            consider(site, link);
        }
    }

    // A link found on a feed or listing: fetch it unless it is no article, already stored,
    // already queued in this run, or over the per-site budget.
    void consider(std::size_t site, const std::string& link) {
        // Patterns are matched against the normalised URL, so tracking parameters and host case
        // need no place in them.
        auto key = url::canonical(link);
        if (!key || !config_.sites[site].is_article_url(*key)) {
            return;
        }
        if (!queued_keys_.insert(*key).second) {
            return;
        }
        SiteState& state = sites_[site];
        ++state.report.links;
        if (store_.knows_url(link) || store_.knows_url(*key)) {
            ++state.report.known;
            return;
        }
        if (state.queued >= config_.crawler.max_new_articles_per_site) {
            ++state.report.deferred;
            return;
        }
        ++state.queued;
        auto pending = std::make_shared<PendingArticle>();
        pending->site = site;
        pending->link = link;
        fetcher_.submit(request(link), [this, pending](crawler::Response r) {
            on_article_page(pending, std::move(r));
        });
    }

    void on_article_page(const std::shared_ptr<PendingArticle>& p, crawler::Response r) {
        const auto& cfg = config_.sites[p->site];
        bool first_page = p->visited_pages.empty();
        p->visited_pages.push_back(r.url);
        if (!r.ok()) {
            fail_article(*p, r.url, "not fetched (" + describe(r) + ")");
            return;
        }
        std::string html = charset::to_utf8(r.body, r.content_type);
        parsers::Extraction page = parsers::extract_article(html, r.final_url, cfg.rules);
        if (first_page) {
            if (!page.ok) {
                fail_article(*p, r.url, "not extracted (" + page.error + ")");
                return;
            }
            add_unique(p->seen_urls, p->link);
            add_unique(p->seen_urls, r.url);
            for (const auto& hop : r.redirects) {
                add_unique(p->seen_urls, hop);
            }
            add_unique(p->seen_urls, r.final_url);
            p->first_final_url = r.final_url;
            p->remaining_pages = page.next_pages;
            p->extraction = std::move(page);
        } else if (page.ok) {
            parsers::append_page(p->extraction, page);
            for (const auto& next : page.next_pages) {
                if (!contains(p->visited_pages, next) && !contains(p->remaining_pages, next)) {
                    p->remaining_pages.push_back(next);
                }
            }
        } else {
            fail_article(*p, r.url, "page not extracted (" + page.error + ")");
            return;
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
            fetcher_.submit(request(next), [this, p](crawler::Response next_response) {
                on_article_page(p, std::move(next_response));
            });
            return;
        }
        finish_article(*p);
    }

    void fail_article(const PendingArticle& p, const std::string& u, const std::string& why) {
        ++sites_[p.site].report.failed;
        problem(p.site, u, why);
    }

    // The record key: the page's own rel=canonical/og:url when it points into this site,
    // else the normalised final URL.
    std::string canonical_for(const PendingArticle& p) const {
        const auto& declared = p.extraction.declared_canonical;
        if (!declared.empty()) {
            std::string host = url::host(declared);
            const auto& hosts = sites_[p.site].hosts;
            if (host == url::host(p.first_final_url) || contains(hosts, host)) {
                if (auto c = url::canonical(declared)) {
                    return *c;
                }
            }
        }
        return url::canonical(p.first_final_url).value_or(p.first_final_url);
    }

    void finish_article(PendingArticle& p) {
        SiteState& state = sites_[p.site];
        ++state.report.fetched;
        Article article = std::move(p.extraction.article);
        article.site = config_.sites[p.site].name;
        article.canonical_url = canonical_for(p);
        article.urls.clear();
        article.urls.push_back(article.canonical_url);
        for (const auto& u : p.seen_urls) {
            add_unique(article.urls, u);
        }
        state.batch.push_back(std::move(article));
        if (state.batch.size() >= kSaveBatch) {
            flush(p.site);
        }
    }

    void flush(std::size_t site) {
        SiteState& state = sites_[site];
        if (state.batch.empty()) {
            return;
        }
        auto results = store_.save(state.batch, now_);
        for (std::size_t i = 0; i < results.size(); ++i) {
            switch (results[i]) {
                case storage::SaveResult::inserted:
                    ++state.report.inserted;
                    spdlog::debug("{}: new: {}", state.report.site, state.batch[i].canonical_url);
                    break;
                case storage::SaveResult::updated:
                    ++state.report.updated;
                    spdlog::debug("{}: updated: {}", state.report.site,
                                  state.batch[i].canonical_url);
                    break;
                case storage::SaveResult::unchanged:
                    ++state.report.unchanged;
                    break;
            }
        }
        state.batch.clear();
    }

    const config::Config& config_;
    crawler::Fetcher& fetcher_;
    storage::ArticleStore& store_;
    Timestamp now_;
    std::vector<SiteState> sites_;
    std::unordered_set<std::string> queued_keys_;  // canonical forms of links seen this run
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

bool SiteReport::broken() const {
    bool no_source = sources > 0 && sources_failed == sources;
    bool no_article = fetched == 0 && failed > 0;
    return no_source || no_article;
}

bool RunReport::any_broken() const {
    return std::any_of(sites.begin(), sites.end(), [](const SiteReport& s) { return s.broken(); });
}

RunReport crawl(const config::Config& config, crawler::Fetcher& fetcher,
                storage::ArticleStore& store, Timestamp now) {
    return Crawl(config, fetcher, store, now).run();
}

void publish_feeds(const config::Config& config, const storage::ArticleStore& store,
                   RunReport& report) {
    auto write = [&](const std::string& name, const publish::Channel& channel,
                     const std::vector<publish::FeedEntry>& items) {
        auto path = config.output_dir / (name + ".xml");
        auto result = publish::write_atomically(path, publish::render_rss(channel, items));
        if (result == publish::WriteResult::written) {
            ++report.feeds_written;
            spdlog::debug("wrote {}", path.string());
        } else {
            ++report.feeds_unchanged;
        }
    };
    for (const auto& site : config.sites) {
        write(site.name, channel_for(config, site),
              entries(store, site.name, config.publish.items_per_feed));
    }
    publish::Channel all;
    all.title = "baofeed: all sites";
    all.link =
        config.publish.base_url.empty() ? config.sites.front().home : config.publish.base_url;
    all.description = "Full-text articles of every site in " + config.file.filename().string();
    if (!config.publish.base_url.empty()) {
        all.self_url = config.publish.base_url + std::string(config::kCombinedFeedName) + ".xml";
    }
    write(std::string(config::kCombinedFeedName), all,
          entries(store, std::nullopt, config.publish.items_per_feed));
}

}  // namespace baofeed::app
