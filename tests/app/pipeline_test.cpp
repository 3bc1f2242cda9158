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

std::string rss(const std::vector<std::string>& links) {
    std::string out =
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>";
    for (const auto& l : links) {
        out += "<item><title>x</title><link>" + l + "</link></item>";
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
        fetcher_.page(
            "http://a.test/rss",
            rss({"http://a.test/one-post1.html?utm_source=rss", "http://a.test/two-post2.html"}),
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
    RunReport report = crawl(config_, fetcher_, *store_, kNow);
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
    EXPECT_EQ(std::count_if(fetcher_.requested().begin(), fetcher_.requested().end(),
                            [](const std::string& u) { return u.find("one-post1") != u.npos; }),
              1);
}

TEST_F(PipelineTest, FollowsTheNextPageOfASplitArticleAndJoinsThePagesInOrder) {
    serve_site();
    crawl(config_, fetcher_, *store_, kNow);
    auto articles = stored();
    auto three = std::find_if(articles.begin(), articles.end(), [](const auto& s) {
        return s.article.canonical_url == "http://a.test/three-post3.html";
    });
    ASSERT_NE(three, articles.end());
    EXPECT_EQ(three->article.body, (std::vector<std::string>{"Trang một.", "Trang hai."}));
}

TEST_F(PipelineTest, ASecondCrawlFetchesNoStoredArticleAgain) {
    serve_site();
    crawl(config_, fetcher_, *store_, kNow);
    fetcher_.clear_requested();
    RunReport second = crawl(config_, fetcher_, *store_, kNow + 1h);
    EXPECT_EQ(second.sites[0].inserted, 0u);
    EXPECT_EQ(second.sites[0].known, 4u);
    EXPECT_EQ(fetcher_.requested(),
              (std::vector<std::string>{"http://a.test/rss", "http://a.test/"}));
}

TEST_F(PipelineTest, ASiteWhoseSourcesAllFailIsReportedBroken) {
    RunReport report = crawl(config_, fetcher_, *store_, kNow);
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
    RunReport report = crawl(config_, fetcher_, *store_, kNow);
    EXPECT_EQ(report.sites[0].inserted, 2u);
    EXPECT_EQ(report.sites[0].failed, 2u);
    EXPECT_FALSE(report.sites[0].broken());
    // Not stored, so the next run tries it again.
    EXPECT_FALSE(store_->knows_url("http://a.test/two-post2.html"));
}

TEST_F(PipelineTest, RespectsTheNewArticleBudgetPerSiteAndLeavesTheRestForTheNextRun) {
    serve_site();
    config_.crawler.max_new_articles_per_site = 2;
    RunReport first = crawl(config_, fetcher_, *store_, kNow);
    EXPECT_EQ(first.sites[0].inserted, 2u);
    EXPECT_EQ(first.sites[0].deferred, 2u);
    RunReport second = crawl(config_, fetcher_, *store_, kNow + 1h);
    EXPECT_EQ(second.sites[0].inserted, 1u);
    EXPECT_EQ(stored().size(), 3u);
}

TEST_F(PipelineTest, PublishWritesASiteFeedAndTheCombinedFeedAndRewritesNothingUnchanged) {
    serve_site();
    RunReport report = crawl(config_, fetcher_, *store_, kNow);
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

}  // namespace
}  // namespace baofeed::app
