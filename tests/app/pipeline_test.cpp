#include "app/pipeline.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "app/fake_fetcher.h"
#include "config/config.h"

namespace baofeed::app {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

const Timestamp kNow = sys_days{std::chrono::year{2025} / 1 / 2} + 3h;

CrawlOptions options(Timestamp now) {
    return CrawlOptions{.now = now, .parse_threads = 1, .robots = nullptr};
}

class TempDir {
  public:
    TempDir() {
        path_ =
            std::filesystem::temp_directory_path() /
            ("baofeed-pipeline-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::filesystem::path& path() const { return path_; }

  private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

std::string article_page(const std::string& title, const std::string& canonical,
                         const std::string& body, const std::string& extra = "") {
    return "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + title +
           " | Báo</title><link rel='canonical' href='" + canonical +
           "'><meta property='article:published_time' content='2024-12-22T11:40:00+07:00'>"
           "</head><body><h1 class='t'>" +
           title + "</h1><div class='sapo'>Tóm tắt " + title + "</div><div class='b'>" + body +
           "</div>" + extra + "</body></html>";
}

// A feed of (link, title) items.
std::string rss(std::initializer_list<std::pair<std::string, std::string>> items) {
    std::string out =
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>";
    for (const auto& [link, title] : items) {
        out += "<item><title>" + title + "</title><link>" + link + "</link></item>";
    }
    return out + "</channel></rss>";
}

class PipelineTest : public ::testing::Test {
  protected:
    void SetUp() override {
        config_ = config::parse_config(R"(
database = "db/test.db"
output_dir = "feeds"
[[sites]]
name = "a"
title = "Site A"
home = "http://a.test/"
feeds = ["http://a.test/rss"]
listings = ["http://a.test/"]
article_url_pattern = '^http://(m\.)?a\.test/.+-post\d+\.html$'
[sites.rules]
title = "h1.t"
lead = "div.sapo"
body = "div.b"
remove = ["div.junk"]
next_page = "div.pager a"
)",
                                       dir_.path() / "baofeed.toml");
        std::filesystem::create_directories(config_.database.parent_path());
        store_ = std::make_unique<storage::ArticleStore>(config_.database.string());
    }

    void serve_site() {
        fetcher_.page("http://a.test/rss",
                      rss({{"http://a.test/one-post1.html?utm_source=rss", "Một"},
                           {"http://a.test/two-post2.html", "Hai"}}),
                      "application/rss+xml");
        fetcher_.page("http://a.test/",
                      "<a href='/one-post1.html?utm_source=zalo'>1</a>"
                      "<a href='http://m.a.test/two-post2.html'>2</a>"
                      "<a href='/chinh-tri/'>section</a><a href='/three-post3.html'>3</a>");
        fetcher_.page(
            "http://a.test/one-post1.html?utm_source=rss",
            article_page("Một", "http://a.test/one-post1.html",
                         "<p>Đoạn một.</p><div class='junk'>Xem thêm</div><p>Đoạn hai.</p>"));
        fetcher_.page("http://a.test/two-post2.html",
                      article_page("Hai", "http://a.test/two-post2.html", "<p>Nội dung hai.</p>"));
        // The mobile host serves the same article, declaring the same canonical URL.
        fetcher_.page("http://m.a.test/two-post2.html",
                      article_page("Hai", "http://a.test/two-post2.html", "<p>Nội dung hai.</p>"));
        fetcher_.page(
            "http://a.test/three-post3.html",
            article_page("Ba", "http://a.test/three-post3.html", "<p>Trang một.</p>",
                         "<div class='pager'><a href='/three-post3/p2.html'>2</a></div>"));
        fetcher_.page("http://a.test/three-post3/p2.html",
                      article_page("Ba", "http://a.test/three-post3.html", "<p>Trang hai.</p>",
                                   "<div class='pager'><a href='/three-post3.html'>1</a></div>"));
    }

    std::vector<storage::StoredArticle> stored() const { return store_->list(std::nullopt, 0); }

    TempDir dir_;
    config::Config config_;
    std::unique_ptr<storage::ArticleStore> store_;
    testing::FakeFetcher fetcher_;
};

TEST_F(PipelineTest, StoresEachArticleOnceUnderItsCanonicalUrlWithEveryUrlSeen) {
    serve_site();
    RunReport report = crawl(config_, fetcher_, *store_, options(kNow));
    ASSERT_EQ(report.sites.size(), 1u);
    const SiteReport& site = report.sites[0];
    EXPECT_EQ(site.inserted, 3u);
    EXPECT_EQ(site.unchanged, 1u);  // m.a.test: the same article again
    EXPECT_EQ(site.failed, 0u) << (site.problems.empty() ? "" : site.problems[0]);
    EXPECT_FALSE(site.broken());

    auto articles = stored();
    ASSERT_EQ(articles.size(), 3u);
    auto one = std::find_if(articles.begin(), articles.end(), [](const auto& s) {
        return s.article.canonical_url == "http://a.test/one-post1.html";
    });
    ASSERT_NE(one, articles.end());
    EXPECT_EQ(one->article.title, "Một");
    EXPECT_EQ(one->article.lead, "Tóm tắt Một");
    EXPECT_EQ(one->article.body, (std::vector<std::string>{"Đoạn một.", "Đoạn hai."}));
    EXPECT_EQ(one->article.site, "a");
    EXPECT_NE(std::find(one->article.urls.begin(), one->article.urls.end(),
                        "http://a.test/one-post1.html?utm_source=rss"),
              one->article.urls.end());
    auto two = std::find_if(articles.begin(), articles.end(), [](const auto& s) {
        return s.article.canonical_url == "http://a.test/two-post2.html";
    });
    ASSERT_NE(two, articles.end());
    EXPECT_NE(std::find(two->article.urls.begin(), two->article.urls.end(),
                        "http://m.a.test/two-post2.html"),
              two->article.urls.end());
    // The zalo link is the same article after normalisation: fetched once, not twice.
    auto requested = fetcher_.requested();
    EXPECT_EQ(std::count_if(requested.begin(), requested.end(),
                            [](const std::string& u) { return u.find("one-post1") != u.npos; }),
              1);
}

TEST_F(PipelineTest, FollowsTheNextPageOfASplitArticleAndJoinsThePagesInOrder) {
    serve_site();
    crawl(config_, fetcher_, *store_, options(kNow));
    auto articles = stored();
    auto three = std::find_if(articles.begin(), articles.end(), [](const auto& s) {
        return s.article.canonical_url == "http://a.test/three-post3.html";
    });
    ASSERT_NE(three, articles.end());
    EXPECT_EQ(three->article.body, (std::vector<std::string>{"Trang một.", "Trang hai."}));
}

TEST_F(PipelineTest, ASecondCrawlFetchesNoStoredArticleAgain) {
    serve_site();
    crawl(config_, fetcher_, *store_, options(kNow));
    fetcher_.clear_requested();
    RunReport second = crawl(config_, fetcher_, *store_, options(kNow + 1h));
    EXPECT_EQ(second.sites[0].inserted, 0u);
    EXPECT_EQ(second.sites[0].known, 4u);
    // robots.txt is cached; the feed and the listing are asked for again, nothing else.
    EXPECT_EQ(fetcher_.requested(),
              (std::vector<std::string>{"http://a.test/rss", "http://a.test/"}));
}

TEST_F(PipelineTest, ASiteWhoseSourcesAllFailIsReportedBroken) {
    RunReport report = crawl(config_, fetcher_, *store_, options(kNow));
    EXPECT_TRUE(report.sites[0].broken());
    EXPECT_TRUE(report.any_broken());
    EXPECT_EQ(report.sites[0].sources_failed, 2u);
    ASSERT_EQ(report.sites[0].problems.size(), 2u);
    EXPECT_NE(report.sites[0].problems[0].find("http://a.test/rss: feed not fetched (http_error"),
              std::string::npos)
        << report.sites[0].problems[0];
}

TEST_F(PipelineTest, AnArticleThatCannotBeFetchedIsAProblemNotAnError) {
    serve_site();
    crawler::Response gone;
    gone.outcome = crawler::Outcome::timeout;
    gone.error = "Operation timed out";
    fetcher_.response("http://a.test/two-post2.html", gone);
    fetcher_.response("http://m.a.test/two-post2.html", gone);
    RunReport report = crawl(config_, fetcher_, *store_, options(kNow));
    EXPECT_EQ(report.sites[0].inserted, 2u);
    EXPECT_EQ(report.sites[0].failed, 2u);
    EXPECT_FALSE(report.sites[0].broken());
    // Not stored, so the next run tries it again.
    EXPECT_FALSE(store_->knows_url("http://a.test/two-post2.html"));
}

TEST_F(PipelineTest, RespectsTheNewArticleBudgetPerSiteAndLeavesTheRestForTheNextRun) {
    serve_site();
    config_.sites[0].crawl.max_new_articles = 2;
    RunReport first = crawl(config_, fetcher_, *store_, options(kNow));
    EXPECT_EQ(first.sites[0].inserted, 2u);
    EXPECT_EQ(first.sites[0].deferred, 2u);
    RunReport second = crawl(config_, fetcher_, *store_, options(kNow + 1h));
    EXPECT_EQ(second.sites[0].inserted, 1u);
    EXPECT_EQ(stored().size(), 3u);
}

TEST_F(PipelineTest, PublishWritesASiteFeedAndTheCombinedFeedAndRewritesNothingUnchanged) {
    serve_site();
    RunReport report = crawl(config_, fetcher_, *store_, options(kNow));
    publish_feeds(config_, *store_, report);
    EXPECT_EQ(report.feeds_written, 2u);
    auto site_feed = config_.output_dir / "a.xml";
    auto all_feed = config_.output_dir / "all.xml";
    ASSERT_TRUE(std::filesystem::exists(site_feed));
    ASSERT_TRUE(std::filesystem::exists(all_feed));
    std::ifstream in(site_feed);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find("<title>Site A</title>"), std::string::npos);
    EXPECT_NE(text.str().find("http://a.test/one-post1.html"), std::string::npos);

    RunReport again;
    publish_feeds(config_, *store_, again);
    EXPECT_EQ(again.feeds_written, 0u);
    EXPECT_EQ(again.feeds_unchanged, 2u);
}

TEST_F(PipelineTest, AskesForRobotsTxtFirstAndSkipsWhatItDisallows) {
    serve_site();
    fetcher_.page("http://a.test/robots.txt",
                  "User-agent: *\nDisallow: /two-post2.html\nDisallow: /three-\n", "text/plain");
    RunReport report = crawl(config_, fetcher_, *store_, options(kNow));
    auto requested = fetcher_.requested();
    ASSERT_FALSE(requested.empty());
    EXPECT_EQ(requested.front(), "http://a.test/robots.txt");
    EXPECT_EQ(std::count(requested.begin(), requested.end(), "http://a.test/two-post2.html"), 0);
    EXPECT_EQ(std::count(requested.begin(), requested.end(), "http://a.test/three-post3.html"), 0);
    EXPECT_EQ(report.sites[0].inserted, 2u);  // one, and two through m.a.test (its own host)
    EXPECT_EQ(report.sites[0].refused, 2u);
}

TEST_F(PipelineTest, CrawlDelayBecomesTheHostsSpacingWithOneConnection) {
    serve_site();
    fetcher_.page("http://a.test/robots.txt", "User-agent: baofeed\nCrawl-delay: 5\n",
                  "text/plain");
    crawl(config_, fetcher_, *store_, options(kNow));
    ASSERT_EQ(fetcher_.policies().count("a.test"), 1u);
    EXPECT_EQ(fetcher_.policies().at("a.test").min_interval, std::chrono::milliseconds(5000));
    EXPECT_EQ(fetcher_.policies().at("a.test").max_connections, 1);
}

TEST_F(PipelineTest, SendsConditionalRequestsForSourcesItHasSeenBefore) {
    serve_site();
    crawler::Response feed;
    feed.outcome = crawler::Outcome::ok;
    feed.status = 200;
    feed.etag = "\"feed-v1\"";
    feed.last_modified = "Sat, 28 Dec 2024 03:00:00 GMT";
    feed.content_type = "application/rss+xml";
    feed.body = rss({{"http://a.test/one-post1.html?utm_source=rss", "Một"}});
    fetcher_.response("http://a.test/rss", feed);
    crawl(config_, fetcher_, *store_, options(kNow));
    fetcher_.clear_requested();
    crawler::Response not_modified;
    not_modified.outcome = crawler::Outcome::not_modified;
    not_modified.status = 304;
    fetcher_.response("http://a.test/rss", not_modified);
    RunReport second = crawl(config_, fetcher_, *store_, options(kNow + 1h));
    const auto& requests = fetcher_.requests();
    auto rss_request = std::find_if(requests.begin(), requests.end(),
                                    [](const auto& r) { return r.url == "http://a.test/rss"; });
    ASSERT_NE(rss_request, requests.end());
    EXPECT_EQ(rss_request->etag, "\"feed-v1\"");
    EXPECT_EQ(rss_request->last_modified, "Sat, 28 Dec 2024 03:00:00 GMT");
    EXPECT_EQ(second.sites[0].not_modified, 1u);
    EXPECT_FALSE(second.sites[0].broken());
}

TEST_F(PipelineTest, ArticlesLeftOverBudgetWaitInTheFrontierEvenWhenTheSourceIsUnchanged) {
    serve_site();
    config_.sites[0].crawl.max_new_articles = 1;
    crawl(config_, fetcher_, *store_, options(kNow));
    EXPECT_EQ(stored().size(), 1u);
    crawler::Response not_modified;
    not_modified.outcome = crawler::Outcome::not_modified;
    not_modified.status = 304;
    fetcher_.response("http://a.test/rss", not_modified);
    fetcher_.response("http://a.test/", not_modified);
    crawl(config_, fetcher_, *store_, options(kNow + 1h));
    crawl(config_, fetcher_, *store_, options(kNow + 2h));
    crawl(config_, fetcher_, *store_, options(kNow + 3h));
    EXPECT_EQ(stored().size(), 3u);
}

TEST_F(PipelineTest, AFeedEntryWithANewTitleMakesItCheckTheArticleAgain) {
    serve_site();
    crawl(config_, fetcher_, *store_, options(kNow));
    fetcher_.page("http://a.test/rss",
                  "<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
                  "<item><title>Hai (đã sửa)</title><link>http://a.test/two-post2.html</link>"
                  "</item></channel></rss>",
                  "application/rss+xml");
    fetcher_.page("http://a.test/two-post2.html",
                  article_page("Hai (đã sửa)", "http://a.test/two-post2.html",
                               "<p>Nội dung hai, đã đính chính.</p>"));
    RunReport second = crawl(config_, fetcher_, *store_, options(kNow + 1h));
    EXPECT_EQ(second.sites[0].updated, 1u);
    EXPECT_EQ(second.sites[0].inserted, 0u);
    auto two = store_->find("http://a.test/two-post2.html");
    ASSERT_TRUE(two.has_value());
    EXPECT_EQ(two->article.title, "Hai (đã sửa)");
    EXPECT_EQ(two->revisions, 1);
    EXPECT_EQ(stored().size(), 3u);
}

TEST_F(PipelineTest, AnArticleRedirectedToAnotherConfiguredSiteBelongsToThatSite) {
    config_ = config::parse_config(R"(
database = "db/test.db"
[[sites]]
name = "old"
home = "http://old.test/"
allowed_domains = ["old.test", "new.test"]
feeds = ["http://old.test/rss"]
article_url_pattern = '^http://old\.test/.+\.html$'
[sites.rules]
body = "div.old-body"
[[sites]]
name = "new"
home = "http://new.test/"
listings = ["http://new.test/"]
article_url_pattern = '^http://new\.test/.+/$'
[sites.rules]
title = "h1.t"
body = "div.b"
)",
                                   dir_.path() / "baofeed.toml");
    fetcher_.page("http://old.test/rss", rss({{"http://old.test/moved.html", "Đã chuyển"}}),
                  "application/rss+xml");
    crawler::Response moved;
    moved.outcome = crawler::Outcome::ok;
    moved.status = 200;
    moved.final_url = "http://new.test/du-lich/moved/";
    moved.redirects = {"http://old.test/moved.html"};
    moved.content_type = "text/html; charset=utf-8";
    moved.body =
        article_page("Đã chuyển", "http://new.test/du-lich/moved/", "<p>Bài đã chuyển.</p>");
    fetcher_.response("http://old.test/moved.html", moved);
    crawl(config_, fetcher_, *store_, options(kNow));
    auto a = store_->find("http://old.test/moved.html");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->article.canonical_url, "http://new.test/du-lich/moved/");
    EXPECT_EQ(a->article.site, "new");
    EXPECT_EQ(a->article.body, std::vector<std::string>{"Bài đã chuyển."});
}

TEST_F(PipelineTest, ReparseAppliesFixedRulesToStoredPagesWithoutFetching) {
    serve_site();
    config_.sites[0].rules.remove.clear();  // the junk box now stays in the body
    crawl(config_, fetcher_, *store_, options(kNow));
    auto before = store_->find("http://a.test/one-post1.html");
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(before->article.body.size(), 3u);
    config_.sites[0].rules.remove = {"div.junk"};  // the rule fix
    fetcher_.clear_requested();
    RunReport report = reparse(config_, *store_, std::nullopt, kNow + 1h);
    EXPECT_TRUE(fetcher_.requested().empty());
    EXPECT_EQ(report.sites[0].updated, 1u);
    auto after = store_->find("http://a.test/one-post1.html");
    EXPECT_EQ(after->article.body, (std::vector<std::string>{"Đoạn một.", "Đoạn hai."}));
}

TEST_F(PipelineTest, RawPagesShareTheirSitesDictionaryAcrossRunsAndReparseReadsThem) {
    // Pages of a real size: the site's template (menus, scripts) around each article.
    std::string chrome = "<div class='menu'>";
    for (int i = 0; i < 120; ++i) {
        chrome +=
            "<a href='/muc-" + std::to_string(i) + "/'>Chuyên mục số " + std::to_string(i) + "</a>";
    }
    chrome += "</div><script>var site = {name: 'Báo A', sections: 120};</script>";
    auto serve = [&](int count) {
        std::string feed =
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>";
        for (int n = 1; n <= count; ++n) {
            const std::string url =
                "http://a.test/bai-" + std::to_string(n) + "-post" + std::to_string(n) + ".html";
            feed +=
                "<item><title>Bài " + std::to_string(n) + "</title><link>" + url + "</link></item>";
            fetcher_.page(
                url, article_page("Bài " + std::to_string(n), url,
                                  "<p>Nội dung bài số " + std::to_string(n) + ".</p>", chrome));
        }
        fetcher_.page("http://a.test/rss", feed + "</channel></rss>", "application/rss+xml");
        fetcher_.page("http://a.test/", "<p>Trang chủ</p>");
    };
    serve(2);
    crawl(config_, fetcher_, *store_, options(kNow));
    const std::optional<storage::RawDictionary> first = store_->latest_raw_dictionary("a");
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->created, kNow);

    // Ten minutes later, a new article: compressed against the same dictionary, none added.
    serve(3);
    crawl(config_, fetcher_, *store_, options(kNow + 10min));
    ASSERT_EQ(store_->raw_pages("http://a.test/bai-3-post3.html").size(), 1u);
    EXPECT_EQ(store_->latest_raw_dictionary("a")->id, first->id);
    EXPECT_EQ(store_->latest_raw_dictionary("a")->created, kNow);

    RunReport report = reparse(config_, *store_, std::nullopt, kNow + 1h);
    EXPECT_EQ(report.sites[0].fetched, 3u);
    EXPECT_EQ(report.sites[0].failed, 0u);
    EXPECT_EQ(report.sites[0].unchanged, 3u);

    // Half the raw-page retention later, the run's first page becomes the new dictionary (a
    // revisited page may have the old one's bytes: then that one counts as new again).
    serve(4);
    const Timestamp later = kNow + std::chrono::days(15);
    crawl(config_, fetcher_, *store_, options(later));
    EXPECT_EQ(store_->latest_raw_dictionary("a")->created, later);
    EXPECT_EQ(reparse(config_, *store_, std::nullopt, later).sites[0].failed, 0u);
}

}  // namespace
}  // namespace baofeed::app
