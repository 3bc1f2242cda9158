// How the pipeline hands article pages to the fetcher: a few per host at a time, so that a
// host's feeds and listings never wait behind a long run of its articles.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app/fake_fetcher.h"
#include "app/pipeline.h"
#include "config/config.h"

namespace baofeed::app {
namespace {

using namespace std::chrono_literals;

const Timestamp kNow = std::chrono::sys_days{std::chrono::year{2025} / 3 / 4} + 5h;

class TempDir {
  public:
    TempDir() {
        path_ =
            std::filesystem::temp_directory_path() /
            ("baofeed-admission-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::filesystem::path& path() const { return path_; }

  private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

std::string article(int n) {
    return "<html><head><meta charset='utf-8'></head><body><h1 class='t'>Bài số " +
           std::to_string(n) + "</h1><div class='b'><p>Nội dung của bài số " + std::to_string(n) +
           ".</p></div></body></html>";
}

std::string article_url(const std::string& host, int n) {
    return "http://" + host + "/tin/bai-" + std::to_string(n) + ".html";
}

class AdmissionTest : public ::testing::Test {
  protected:
    // One site per host: a feed of `feed_items` articles and a home page linking to a section
    // listing, which links to one more article.
    config::Config configure(const std::vector<std::string>& hosts) {
        std::string toml = "database = 'db/test.db'\noutput_dir = 'feeds'\n";
        for (const auto& host : hosts) {
            toml += "[[sites]]\nname = '" + host.substr(0, host.find('.')) + "'\nhome = 'http://" +
                    host + "/'\nfeeds = ['http://" + host + "/rss']\nlistings = ['http://" + host +
                    "/']\nlisting_url_pattern = '^http://" + host +
                    "/muc/[a-z]+$'\narticle_url_pattern = '^http://" + host +
                    "/tin/.+[.]html$'\n[sites.crawl]\nmax_connections_per_host = 2\n"
                    "[sites.rules]\ntitle = 'h1.t'\nbody = 'div.b'\n";
        }
        config::Config config = config::parse_config(toml, dir_.path() / "baofeed.toml");
        std::filesystem::create_directories(config.database.parent_path());
        store_ = std::make_unique<storage::ArticleStore>(config.database.string());
        return config;
    }

    void serve(const std::string& host, int feed_items) {
        std::string feed = "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>";
        for (int n = 1; n <= feed_items; ++n) {
            feed += "<item><title>Bài số " + std::to_string(n) + "</title><link>" +
                    article_url(host, n) + "</link></item>";
            fetcher_.page(article_url(host, n), article(n));
        }
        fetcher_.page("http://" + host + "/rss", feed + "</channel></rss>", "application/rss+xml");
        fetcher_.page("http://" + host + "/",
                      "<html><body><a href='/muc/thoisu'>Thời sự</a></body></html>");
        fetcher_.page(
            "http://" + host + "/muc/thoisu",
            "<html><body><a href='" + article_url(host, 1000) + "'>Bài mới</a></body></html>");
        fetcher_.page(article_url(host, 1000), article(1000));
    }

    std::size_t position(const std::string& url) const {
        auto requested = fetcher_.requested();
        return static_cast<std::size_t>(std::find(requested.begin(), requested.end(), url) -
                                        requested.begin());
    }

    TempDir dir_;
    std::unique_ptr<storage::ArticleStore> store_;
    testing::FakeFetcher fetcher_;
};

TEST_F(AdmissionTest, AListingFoundLateIsRequestedBeforeTheFeedsLongRunOfArticles) {
    config::Config config = configure({"a.test"});
    serve("a.test", 30);
    RunReport report = crawl(config, fetcher_, *store_,
                             CrawlOptions{.now = kNow, .parse_threads = 1, .robots = nullptr});
    ASSERT_EQ(report.sites.size(), 1u);
    EXPECT_EQ(report.sites[0].inserted, 31u);
    EXPECT_EQ(report.sites[0].failed, 0u);
    // robots.txt, the feed and the home page come first; the feed's 30 articles wait their turn
    // a few at a time, so the section listing found on the home page goes out after at most
    // the host's 2 connections + 1 of them.
    std::size_t listing = position("http://a.test/muc/thoisu");
    ASSERT_LT(listing, fetcher_.requested().size());
    EXPECT_LE(listing, 3u + 3u);
}

TEST_F(AdmissionTest, HostsTakeTurnsForTheirArticles) {
    config::Config config = configure({"a.test", "b.test"});
    serve("a.test", 20);
    serve("b.test", 20);
    RunReport report = crawl(config, fetcher_, *store_,
                             CrawlOptions{.now = kNow, .parse_threads = 1, .robots = nullptr});
    ASSERT_EQ(report.sites.size(), 2u);
    EXPECT_EQ(report.sites[0].inserted, 21u);
    EXPECT_EQ(report.sites[1].inserted, 21u);
    // Neither host's articles all go out before the other's start: the first articles of b
    // come before the last ones of a, and the other way round.
    EXPECT_LT(position(article_url("b.test", 1)), position(article_url("a.test", 20)));
    EXPECT_LT(position(article_url("a.test", 1)), position(article_url("b.test", 20)));
}

}  // namespace
}  // namespace baofeed::app
