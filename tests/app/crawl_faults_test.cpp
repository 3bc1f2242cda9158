// The whole crawl (real CurlFetcher, real SQLite file) against a loopback server that misbehaves
// the ways real newspaper servers do: every case ends in its documented outcome.
#include <algorithm>
#include <chrono>
#include <filesystem>

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "app/pipeline.h"
#include "config/config.h"
#include "crawler/curl_fetcher.h"
#include "support/http_test_server.h"

namespace baofeed::app {
namespace {

using namespace std::chrono_literals;
using test::HttpReply;
using test::HttpTestServer;

class CurlEnvironment : public ::testing::Environment {
  public:
    void SetUp() override { curl_global_init(CURL_GLOBAL_DEFAULT); }
    void TearDown() override { curl_global_cleanup(); }
};
const auto* const kCurl = ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

std::string page(const std::string& title, const std::string& body) {
    return "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + title +
           "</title><meta property='article:published_time' content='2024-12-22T11:40:00+07:00'>"
           "</head><body><h1>" +
           title + "</h1><div class='b'><p>" + body + "</p></div></body></html>";
}

HttpReply html(std::string body) {
    return HttpReply{.headers = {{"Content-Type", "text/html; charset=utf-8"}},
                     .body = std::move(body)};
}

class CrawlFaultsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("baofeed-faults-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        config_ = config::parse_config(R"(
database = "test.db"
[crawler]
allow_private_addresses = true
request_interval = 0
retries = 2
retry_backoff = 0.02
max_page_bytes = 65536
timeout = 5
[[sites]]
name = "f"
home = "http://f.test/"
feeds = ["http://f.test/rss"]
article_url_pattern = '^http://f\.test/(a|private)/\d+\.html$'
[sites.rules]
title = "h1"
body = "div.b"
)",
                                       dir_ / "baofeed.toml");
        store_ = std::make_unique<storage::ArticleStore>(config_.database.string());
    }

    void TearDown() override { std::filesystem::remove_all(dir_); }

    RunReport crawl_once() {
        crawler::FetcherOptions options;
        options.connect_to = {"f.test::127.0.0.1:" + std::to_string(server_.port())};
        options.allow_private_addresses = true;
        options.total_timeout = 5s;
        options.url_filter = [this](const std::string& u) { return robots_.allowed(u); };
        crawler::CurlFetcher fetcher(options);
        // As `baofeed run` does: a parse pool, a writer thread, and a second connection for the
        // reads of the fetcher's thread.
        storage::ArticleStore reader(config_.database.string());
        return crawl(config_, fetcher, *store_,
                     CrawlOptions{.now = std::chrono::time_point_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now()),
                                  .parse_threads = 2,
                                  .robots = &robots_,
                                  .reader = &reader});
    }

    std::optional<storage::StoredArticle> stored(const std::string& path) {
        return store_->find("http://f.test" + path);
    }

    std::filesystem::path dir_;
    config::Config config_;
    std::unique_ptr<storage::ArticleStore> store_;
    RobotsBook robots_;
    HttpTestServer server_;
};

TEST_F(CrawlFaultsTest, EveryMisbehaviourEndsInItsDocumentedOutcome) {
    server_.route("/robots.txt", HttpReply{.body = "User-agent: *\nDisallow: /private/\n"});
    std::string feed = "<?xml version='1.0'?><rss version='2.0'><channel><title>F</title>";
    for (const char* path : {"/a/1.html", "/a/2.html", "/a/3.html", "/a/4.html", "/a/5.html",
                             "/a/6.html", "/private/7.html"}) {
        feed += std::string("<item><link>http://f.test") + path + "</link></item>";
    }
    server_.route("/rss", HttpReply{.body = feed + "</channel></rss>"});
    // A 500, then the page: retried.
    server_.route_sequence("/a/1.html", {HttpReply{.status = 500}, html(page("Một", "Đoạn 1."))});
    // 429 with Retry-After: 1, then the page: waited for.
    server_.route_sequence("/a/2.html",
                           {HttpReply{.status = 429, .headers = {{"Retry-After", "1"}}},
                            html(page("Hai", "Đoạn 2."))});
    // A body cut short (Content-Length promises more), then the page: retried.
    std::string full = page("Ba", "Đoạn 3.");
    server_.route_sequence("/a/3.html",
                           {HttpReply{.headers = {{"Content-Type", "text/html; charset=utf-8"}},
                                      .body = full,
                                      .close_after_bytes = full.size() / 3},
                            html(full)});
    // A charset label that lies: the bytes are UTF-8.
    server_.route("/a/4.html",
                  HttpReply{.headers = {{"Content-Type", "text/html; charset=iso-8859-1"}},
                            .body = page("Bốn: Thái Nguyên", "Đoạn bốn, tiếng Việt.")});
    // Endless chunked body: abandoned at max_page_bytes.
    server_.route(
        "/a/5.html",
        HttpReply{.body = std::string(1 << 20, 'x'), .chunked = true, .chunk_size = 4096});
    // A redirect loop.
    server_.route("/a/6.html", HttpReply{.status = 301, .headers = {{"Location", "/a/6b.html"}}});
    server_.route("/a/6b.html", HttpReply{.status = 301, .headers = {{"Location", "/a/6.html"}}});
    server_.route("/private/7.html", html(page("Bảy", "Không được lấy.")));

    RunReport report = crawl_once();
    ASSERT_EQ(report.sites.size(), 1u);
    const SiteReport& site = report.sites[0];

    EXPECT_EQ(site.inserted, 4u);
    EXPECT_EQ(site.failed, 3u);  // too large, redirect loop, robots
    EXPECT_EQ(site.refused, 1u);
    EXPECT_FALSE(site.broken());
    ASSERT_TRUE(stored("/a/1.html").has_value());
    EXPECT_EQ(stored("/a/1.html")->article.body, std::vector<std::string>{"Đoạn 1."});
    ASSERT_TRUE(stored("/a/2.html").has_value());
    ASSERT_TRUE(stored("/a/3.html").has_value());
    EXPECT_EQ(stored("/a/3.html")->article.body, std::vector<std::string>{"Đoạn 3."});
    ASSERT_TRUE(stored("/a/4.html").has_value());
    EXPECT_EQ(stored("/a/4.html")->article.title, "Bốn: Thái Nguyên");
    EXPECT_FALSE(stored("/a/5.html").has_value());
    EXPECT_FALSE(stored("/a/6.html").has_value());

    EXPECT_EQ(server_.hits("/private/7.html"), 0u);
    EXPECT_EQ(server_.hits("/a/1.html"), 2u);
    EXPECT_EQ(server_.hits("/a/3.html"), 2u);
    auto log = server_.requests();
    std::vector<std::chrono::steady_clock::time_point> second_page;
    for (const auto& r : log) {
        if (r.path == "/a/2.html") {
            second_page.push_back(r.received);
        }
    }
    ASSERT_EQ(second_page.size(), 2u);
    EXPECT_GE(second_page[1] - second_page[0], 950ms) << "Retry-After: 1 not honoured";
    auto robots_first =
        std::find_if(log.begin(), log.end(), [](const auto& r) { return r.path != "/robots.txt"; });
    ASSERT_NE(log.begin(), log.end());
    EXPECT_EQ(log.front().path, "/robots.txt");
    EXPECT_NE(robots_first, log.begin());
    for (const auto& r : log) {
        EXPECT_NE(r.header("User-Agent").find("baofeed/"), std::string::npos);
    }
}

TEST_F(CrawlFaultsTest, ADeadSiteIsGivenUpAfterItsErrorBudgetAndReportedBroken) {
    server_.route("/robots.txt", HttpReply{.status = 404});
    std::string feed = "<?xml version='1.0'?><rss version='2.0'><channel><title>F</title>";
    for (int i = 1; i <= 30; ++i) {
        feed += "<item><link>http://f.test/a/" + std::to_string(i) + ".html</link></item>";
        server_.route("/a/" + std::to_string(i) + ".html", HttpReply{.status = 503});
    }
    server_.route("/rss", HttpReply{.body = feed + "</channel></rss>"});
    RunReport report = crawl_once();
    const SiteReport& site = report.sites[0];
    EXPECT_TRUE(site.broken());
    EXPECT_EQ(site.inserted, 0u);
    // After the budget (8 failed requests with 2 retries each) the rest is not even asked for.
    std::size_t asked = 0;
    for (int i = 1; i <= 30; ++i) {
        asked += server_.hits("/a/" + std::to_string(i) + ".html");
    }
    EXPECT_LT(asked, 30u * 3u);
    EXPECT_GT(site.deferred + site.failed, 0u);
}

}  // namespace
}  // namespace baofeed::app
