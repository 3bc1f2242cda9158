#include "crawler/robots.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

namespace baofeed::crawler {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kAgent = "baofeed/0.1 (+https://baofeed.example/bot)";

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

RobotsTxt fixture(const std::string& site) {
    return RobotsTxt::parse(
        read_file(std::string(BAOFEED_FIXTURES_DIR) + "/sites/" + site + "/www/robots.txt"));
}

// --- The fixture sites -------------------------------------------------------------------------

TEST(RobotsFixtures, BaobackanDisallowsPrintAndApiButNotArticles) {
    const RobotsTxt r = fixture("baobackan");
    EXPECT_FALSE(r.allowed(kAgent, "/print/67912"));
    EXPECT_FALSE(r.allowed(kAgent, "/api/listing?page=2"));
    EXPECT_FALSE(r.allowed(kAgent, "/tim-kiem?q=bac+kan"));
    EXPECT_TRUE(
        r.allowed(kAgent, "/thuong-truc-hdnd-tinh-hop-phien-thuong-ky-thang-12-post67912.html"));
    EXPECT_TRUE(r.allowed(kAgent, "/"));
    EXPECT_TRUE(r.allowed(kAgent, "/printable"));  // "/print/" needs the slash
    EXPECT_FALSE(r.crawl_delay(kAgent).has_value());
    EXPECT_EQ(r.sitemaps(), (std::vector<std::string>{"http://baobackan.test/sitemap.xml"}));
}

TEST(RobotsFixtures, BaothainguyenAsksFiveSecondsAndShutsOutGptBotOnly) {
    const RobotsTxt r = fixture("baothainguyen");
    EXPECT_EQ(r.crawl_delay(kAgent), milliseconds(5000));
    EXPECT_TRUE(r.allowed(kAgent, "/du-lich/202507/xa-ba-be-don-hon-5-000-luot-khach-1f0c9d2/"));
    EXPECT_FALSE(r.allowed(kAgent, "/admin/login"));
    EXPECT_FALSE(r.allowed("GPTBot/1.1", "/du-lich/"));
    EXPECT_FALSE(r.allowed("gptbot", "/"));
    // GPTBot's own group has no Crawl-delay; the "*" group's is not inherited.
    EXPECT_FALSE(r.crawl_delay("GPTBot").has_value());
    EXPECT_TRUE(r.allowed("GPTBot", "/robots.txt"));
}

TEST(RobotsFixtures, BaosongloBlocksBadBotAndThePrintAndSearchPages) {
    const RobotsTxt r = fixture("baosonglo");
    EXPECT_FALSE(r.allowed(kAgent, "/In-bai/23150.aspx"));
    EXPECT_FALSE(r.allowed(kAgent, "/Search.aspx?q=lu"));
    EXPECT_TRUE(r.allowed(kAgent, "/in-bai/23150.aspx"));  // paths are case-sensitive
    EXPECT_TRUE(r.allowed(kAgent, "/Tin-tuc/23150/Bac_bo.aspx"));
    EXPECT_FALSE(r.allowed("BadBot", "/Tin-tuc.aspx"));
    EXPECT_FALSE(r.allowed("badbot/2.0", "/"));
}

// --- RFC 9309 examples -------------------------------------------------------------------------

constexpr std::string_view kRfcExample = R"(User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
)";

TEST(RobotsRfc9309, FoobotMayOnlyFetchItsTwoAllowedPaths) {
    const RobotsTxt r = RobotsTxt::parse(kRfcExample);
    EXPECT_TRUE(r.allowed("foobot", "/example/page.html"));
    EXPECT_TRUE(r.allowed("FooBot", "/example/allowed.gif"));
    EXPECT_FALSE(r.allowed("foobot", "/example/other.html"));
    EXPECT_FALSE(r.allowed("foobot", "/"));
}

TEST(RobotsRfc9309, SeveralUserAgentLinesShareOneGroupThatReplacesTheStarGroup) {
    const RobotsTxt r = RobotsTxt::parse(kRfcExample);
    for (const char* agent : {"barbot", "bazbot"}) {
        EXPECT_FALSE(r.allowed(agent, "/example/page.html")) << agent;
        EXPECT_TRUE(r.allowed(agent, "/example/other.html")) << agent;  // not the * rules
        EXPECT_TRUE(r.allowed(agent, "/image.gif")) << agent;
    }
}

TEST(RobotsRfc9309, AnEmptyGroupAllowsEverything) {
    const RobotsTxt r = RobotsTxt::parse(kRfcExample);
    EXPECT_TRUE(r.allowed("quxbot", "/example/page.html"));
    EXPECT_TRUE(r.allowed("quxbot", "/a.gif"));
}

TEST(RobotsRfc9309, OtherAgentsFollowTheStarGroup) {
    const RobotsTxt r = RobotsTxt::parse(kRfcExample);
    EXPECT_FALSE(r.allowed(kAgent, "/example/x"));
    EXPECT_FALSE(r.allowed(kAgent, "/images/a.gif"));
    EXPECT_TRUE(r.allowed(kAgent, "/images/a.gif?size=2"));  // '$' ends the path
    EXPECT_TRUE(r.allowed(kAgent, "/publications/2024"));
    EXPECT_TRUE(r.allowed(kAgent, "/"));
}

TEST(RobotsRfc9309, TheLongestMatchWins) {
    const RobotsTxt r = RobotsTxt::parse(
        "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n");
    EXPECT_TRUE(r.allowed("foobot", "/example/page/"));
    EXPECT_TRUE(r.allowed("foobot", "/example/page/ok.gif"));
    EXPECT_FALSE(r.allowed("foobot", "/example/page/disallowed.gif"));
}

TEST(RobotsRfc9309, AllowWinsATieBetweenEquallyLongMatches) {
    const RobotsTxt r = RobotsTxt::parse("User-agent: *\nDisallow: /page\nAllow: /page\n");
    EXPECT_TRUE(r.allowed(kAgent, "/page"));
    const RobotsTxt reversed = RobotsTxt::parse("User-agent: *\nAllow: /p*e\nDisallow: /pag\n");
    EXPECT_TRUE(reversed.allowed(kAgent, "/page"));
}

TEST(RobotsRfc9309, PercentEncodingAndUtf8CompareAsTheSameOctets) {
    const RobotsTxt r = RobotsTxt::parse(
        "User-agent: *\n"
        "Disallow: /foo/bar/ツ\n"
        "Disallow: /baz/%62%61%72\n"
        "Disallow: /q/a%2fb\n"
        "Disallow: /path/file-with-a-%2A.html\n"
        "Disallow: /path/foo-%24\n");
    EXPECT_FALSE(r.allowed(kAgent, "/foo/bar/%E3%83%84"));
    EXPECT_FALSE(r.allowed(kAgent, "/foo/bar/%e3%83%84"));
    EXPECT_FALSE(r.allowed(kAgent, "/foo/bar/ツ"));
    EXPECT_FALSE(r.allowed(kAgent, "/baz/bar"));
    EXPECT_FALSE(r.allowed(kAgent, "/q/a%2Fb"));
    EXPECT_TRUE(r.allowed(kAgent, "/q/a/b"));  // an escaped '/' is not a '/'
    EXPECT_FALSE(r.allowed(kAgent, "/path/file-with-a-*.html"));
    EXPECT_TRUE(r.allowed(kAgent, "/path/file-with-a-x.html"));  // %2A is not a wildcard
    EXPECT_FALSE(r.allowed(kAgent, "/path/foo-$"));
    EXPECT_TRUE(r.allowed(kAgent, "/path/foo-"));  // %24 is not an anchor
}

// --- Patterns ----------------------------------------------------------------------------------

TEST(RobotsPatterns, StarMatchesAnyRunAndDollarAnchorsTheEnd) {
    const RobotsTxt r = RobotsTxt::parse(
        "User-agent: *\n"
        "Disallow: /*.php$\n"
        "Disallow: /fish*\n"
        "Disallow: /*?sessionid=\n"
        "Disallow: /a*b*c$\n"
        "Allow: /fish/ok$\n");
    EXPECT_FALSE(r.allowed(kAgent, "/index.php"));
    EXPECT_FALSE(r.allowed(kAgent, "/folder/any.php"));
    EXPECT_TRUE(r.allowed(kAgent, "/index.php?x=1"));
    EXPECT_TRUE(r.allowed(kAgent, "/index.php5"));
    EXPECT_FALSE(r.allowed(kAgent, "/fish"));
    EXPECT_FALSE(r.allowed(kAgent, "/fishheads/yummy.html"));
    EXPECT_TRUE(r.allowed(kAgent, "/Fish.asp"));
    EXPECT_TRUE(r.allowed(kAgent, "/fish/ok"));
    EXPECT_FALSE(r.allowed(kAgent, "/fish/ok/no"));
    EXPECT_FALSE(r.allowed(kAgent, "/list?sessionid=9"));
    EXPECT_TRUE(r.allowed(kAgent, "/list?page=2&sessionid=9"));  // '?' is literal
    EXPECT_TRUE(r.allowed(kAgent, "/list?page=2"));
    EXPECT_FALSE(r.allowed(kAgent, "/axxbyyc"));
    EXPECT_FALSE(r.allowed(kAgent, "/abcbc"));  // the last '*' has to backtrack
    EXPECT_TRUE(r.allowed(kAgent, "/axxbyycd"));
}

TEST(RobotsPatterns, AnEmptyDisallowAllowsAllAndAMissingSlashIsAdded) {
    const RobotsTxt empty = RobotsTxt::parse("User-agent: *\nDisallow:\n");
    EXPECT_TRUE(empty.allowed(kAgent, "/anything"));
    const RobotsTxt no_slash = RobotsTxt::parse("User-agent: *\nDisallow: private\n");
    EXPECT_FALSE(no_slash.allowed(kAgent, "/private/x"));
    EXPECT_TRUE(no_slash.allowed(kAgent, "/public"));
}

TEST(RobotsPatterns, RobotsTxtItselfIsAlwaysAllowed) {
    const RobotsTxt r = RobotsTxt::parse("User-agent: *\nDisallow: /\n");
    EXPECT_FALSE(r.allowed(kAgent, "/"));
    EXPECT_TRUE(r.allowed(kAgent, "/robots.txt"));
    EXPECT_TRUE(RobotsTxt::disallow_all().allowed(kAgent, "/robots.txt"));
    EXPECT_FALSE(RobotsTxt::disallow_all().allowed(kAgent, "/index.html"));
    EXPECT_TRUE(RobotsTxt::allow_all().allowed(kAgent, "/index.html"));
}

// --- Groups and agents -------------------------------------------------------------------------

TEST(RobotsGroups, TheMostSpecificAgentLineWinsAndMatchingIgnoresCase) {
    const RobotsTxt r = RobotsTxt::parse(
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: BAOFEED\nDisallow: /private/\n\n"
        "User-agent: baofeed-news\nDisallow: /news-off/\n\n"
        "User-agent: bao\nDisallow: /bao/\n");
    EXPECT_TRUE(r.allowed("baofeed", "/news-off/"));
    EXPECT_FALSE(r.allowed("baofeed", "/private/"));
    EXPECT_TRUE(r.allowed("baofeed", "/bao/"));  // "bao" is not baofeed's token
    // A family line applies to its members; the longer line is more specific.
    EXPECT_FALSE(r.allowed("Baofeed-News/2.0", "/news-off/"));
    EXPECT_TRUE(r.allowed("Baofeed-News/2.0", "/private/"));
    EXPECT_FALSE(r.allowed("baofeed-images", "/private/"));
    EXPECT_FALSE(r.allowed("otherbot", "/anything"));
}

TEST(RobotsGroups, GroupsNamingTheSameAgentAreCombined) {
    const RobotsTxt r = RobotsTxt::parse(
        "User-agent: baofeed\nDisallow: /a/\n\n"
        "User-agent: other\nDisallow: /b/\n\n"
        "User-agent: baofeed\nDisallow: /c/\nCrawl-delay: 2\n");
    EXPECT_FALSE(r.allowed(kAgent, "/a/"));
    EXPECT_TRUE(r.allowed(kAgent, "/b/"));
    EXPECT_FALSE(r.allowed(kAgent, "/c/"));
    EXPECT_EQ(r.crawl_delay(kAgent), milliseconds(2000));
}

TEST(RobotsGroups, RulesBeforeAnyUserAgentAndUnknownLinesAreIgnored) {
    const RobotsTxt r = RobotsTxt::parse(
        "Disallow: /orphan/\n"
        "garbage line without colon\n"
        "User-agent: *\n"
        "Noindex: /x/\n"
        "Host: example.test\n"
        "Disallow: /y/\n");
    EXPECT_TRUE(r.allowed(kAgent, "/orphan/"));
    EXPECT_TRUE(r.allowed(kAgent, "/x/"));
    EXPECT_FALSE(r.allowed(kAgent, "/y/"));
}

TEST(RobotsGroups, CrawlDelayIsPerGroupFractionalAndValidated) {
    const RobotsTxt r = RobotsTxt::parse(
        "User-agent: a\nCrawl-delay: 0.5\n\n"
        "User-agent: b\nCrawl-delay: -3\n\n"
        "User-agent: c\nCrawl-delay: soon\n\n"
        "User-agent: d\ncrawl-delay: 10 # seconds\n\n"
        "User-agent: e\nCrawl-delay: 1e12\n");
    EXPECT_EQ(r.crawl_delay("a"), milliseconds(500));
    EXPECT_FALSE(r.crawl_delay("b").has_value());
    EXPECT_FALSE(r.crawl_delay("c").has_value());
    EXPECT_EQ(r.crawl_delay("d"), milliseconds(10000));
    EXPECT_EQ(r.crawl_delay("e"), milliseconds(86400000));  // capped at a day
    EXPECT_FALSE(r.crawl_delay("nobody").has_value());      // no "*" group
}

// --- Syntax ------------------------------------------------------------------------------------

TEST(RobotsSyntax, ToleratesBomCrlfCommentsAndOddSpacing) {
    const RobotsTxt r = RobotsTxt::parse(
        "\xEF\xBB\xBF# comment line\r\n"
        "USER-AGENT :  baofeed   # us\r\n"
        "\tdisallow\t:\t/tab/   \r\n"
        "Disallow: /hash#not-part-of-the-path\r"
        "Sitemap: http://x.test/a.xml\r\n"
        "sitemap: http://x.test/b.xml # second\r\n"
        "Sitemap: http://x.test/a.xml\r\n");
    EXPECT_FALSE(r.allowed(kAgent, "/tab/x"));
    EXPECT_FALSE(r.allowed(kAgent, "/hash"));
    EXPECT_TRUE(r.allowed(kAgent, "/other"));
    EXPECT_EQ(r.sitemaps(),
              (std::vector<std::string>{"http://x.test/a.xml", "http://x.test/b.xml"}));
}

TEST(RobotsSyntax, SitemapLinesDoNotEndAGroup) {
    const RobotsTxt r = RobotsTxt::parse(
        "User-agent: baofeed\nSitemap: http://x.test/s.xml\nUser-agent: other\nDisallow: /z/\n");
    EXPECT_FALSE(r.allowed("baofeed", "/z/"));
    EXPECT_FALSE(r.allowed("other", "/z/"));
}

TEST(RobotsSyntax, OnlyTheFirst500KibAreRead) {
    std::string text = "User-agent: *\nDisallow: /early/\n";
    constexpr std::size_t kCap = 500 * 1024;
    while (text.size() < kCap - 200) {
        text += "# padding padding padding padding padding padding padding padding\n";
    }
    text += "#" + std::string(kCap - 15 - text.size() - 2, 'x') + "\n";
    ASSERT_EQ(text.size(), kCap - 15);  // the next line straddles the cap
    text += "Disallow: /straddling-the-cap/\nDisallow: /late/\n";
    const RobotsTxt r = RobotsTxt::parse(text);
    EXPECT_FALSE(r.allowed(kAgent, "/early/"));
    EXPECT_TRUE(r.allowed(kAgent, "/straddling-the-cap/"));
    EXPECT_TRUE(r.allowed(kAgent, "/straddling"));  // no half-read rule either
    EXPECT_TRUE(r.allowed(kAgent, "/late/"));
}

TEST(RobotsSyntax, BinaryGarbageNeverThrowsAndAllowsAll) {
    std::string junk;
    for (int i = 0; i < 4096; ++i) {
        junk.push_back(static_cast<char>((i * 131) % 256));
    }
    RobotsTxt r = RobotsTxt::allow_all();
    EXPECT_NO_THROW(r = RobotsTxt::parse(junk));
    EXPECT_TRUE(r.allowed(kAgent, "/x"));
}

// --- Fetch results and URLs --------------------------------------------------------------------

Response response(Outcome outcome, long status, std::string body = {}) {
    Response r;
    r.outcome = outcome;
    r.status = status;
    r.body = std::move(body);
    return r;
}

TEST(RobotsFromResponse, MapsEachOutcomeAsRfc9309Says) {
    const std::string body = "User-agent: *\nDisallow: /private/\n";
    const RobotsTxt ok = robots_from_response(response(Outcome::ok, 200, body));
    EXPECT_FALSE(ok.allowed(kAgent, "/private/a"));
    EXPECT_TRUE(ok.allowed(kAgent, "/public"));

    for (long status : {400L, 401L, 403L, 404L, 410L, 310L}) {
        EXPECT_TRUE(robots_from_response(response(Outcome::http_error, status, "<html>"))
                        .allowed(kAgent, "/private/a"))
            << status;
    }
    for (long status : {429L, 500L, 503L}) {
        EXPECT_FALSE(
            robots_from_response(response(Outcome::http_error, status)).allowed(kAgent, "/a"))
            << status;
    }
    for (Outcome o : {Outcome::timeout, Outcome::network_error, Outcome::refused,
                      Outcome::cancelled, Outcome::not_modified}) {
        EXPECT_FALSE(robots_from_response(response(o, 0)).allowed(kAgent, "/a")) << to_string(o);
    }
    EXPECT_FALSE(robots_from_response(response(Outcome::too_large, 200)).allowed(kAgent, "/a"));
    const RobotsTxt partial = robots_from_response(response(Outcome::too_large, 200, body));
    EXPECT_FALSE(partial.allowed(kAgent, "/private/a"));
    EXPECT_TRUE(partial.allowed(kAgent, "/a"));
}

TEST(RobotsPath, IsThePathAndQueryWithoutTheFragment) {
    EXPECT_EQ(robots_path("http://x.test/a/b?c=d#frag"), "/a/b?c=d");
    EXPECT_EQ(robots_path("https://x.test"), "/");
    EXPECT_EQ(robots_path("https://x.test:8080?q=1"), "/?q=1");
    EXPECT_EQ(robots_path("https://x.test#top"), "/");
    EXPECT_EQ(robots_path("http://user@x.test/p%20q"), "/p%20q");
}

}  // namespace
}  // namespace baofeed::crawler
