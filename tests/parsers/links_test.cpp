#include "parsers/links.h"

#include <algorithm>
#include <fstream>
#include <iconv.h>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/dates.h"
#include "core/selector.h"
#include "support/iconv_encode.h"

namespace baofeed::parsers {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string kSites = std::string(BAOFEED_FIXTURES_DIR) + "/sites/";

TEST(ParseFeed, ReadsTheBaobackanRssWithTitlesLinksAndDates) {
    const FeedParse feed = parse_feed(read_file(kSites + "baobackan/www/rss/home.rss"),
                                      "http://baobackan.test/rss/home.rss");
    ASSERT_TRUE(feed.ok) << feed.error;
    ASSERT_EQ(feed.items.size(), 8U);
    EXPECT_EQ(feed.items[0].title, "Tạm ngừng cấp điện một số khu vực ngày 29/12");
    EXPECT_EQ(feed.items[0].link,
              "http://baobackan.test/tam-ngung-cap-dien-mot-so-khu-vuc-ngay-29-12-post67981.html");
    ASSERT_TRUE(feed.items[0].published.has_value());
    EXPECT_EQ(dates::format_iso8601_vn(*feed.items[0].published), "2024-12-28T10:00:00+07:00");
    // &amp; in the XML is one '&' in the link.
    EXPECT_EQ(feed.items[1].link,
              "http://baobackan.test/san-pham-ocop-bac-kan-tim-duong-vao-sieu-thi-post67975.html"
              "?utm_source=rss&utm_medium=home&utm_campaign=feed");
}

TEST(ParseFeed, ReadsTheBaothainguyenRssWithCdataTitlesAndGmtPlus7Dates) {
    const FeedParse feed = parse_feed(read_file(kSites + "baothainguyen/www/rss/tin-moi-nhat.rss"),
                                      "http://baothainguyen.test/rss/tin-moi-nhat.rss");
    ASSERT_TRUE(feed.ok) << feed.error;
    ASSERT_EQ(feed.items.size(), 7U);
    EXPECT_EQ(feed.items[0].title, "Xã Ba Bể đón hơn 5.000 lượt khách dịp cuối tuần");
    EXPECT_EQ(feed.items[0].link,
              "http://baothainguyen.test/du-lich/202507/"
              "xa-ba-be-don-hon-5-000-luot-khach-dip-cuoi-tuan-1f0c9d2/");
    ASSERT_TRUE(feed.items[0].published.has_value());
    EXPECT_EQ(dates::format_iso8601_vn(*feed.items[0].published), "2025-07-06T19:10:00+07:00");
}

TEST(ParseFeed, FallsBackToAPermalinkGuidAndResolvesRelativeLinks) {
    const FeedParse feed = parse_feed(
        R"html(<?xml version="1.0"?><rss version="2.0"><channel><title>c</title>
<item><title>a</title><guid>http://x.test/a.html</guid></item>
<item><title>b</title><guid isPermaLink="false">123</guid></item>
<item><title>c</title><link>/c.html</link></item>
</channel></rss>)html",
        "http://x.test/feed.rss");
    ASSERT_TRUE(feed.ok);
    ASSERT_EQ(feed.items.size(), 2U);
    EXPECT_EQ(feed.items[0].link, "http://x.test/a.html");
    EXPECT_EQ(feed.items[1].link, "http://x.test/c.html");
}

TEST(ParseFeed, ReadsAtomAlternateLinksAndPublishedOrUpdated) {
    const FeedParse feed = parse_feed(
        R"html(<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>f</title>
<entry><title type="html">Bài một</title>
  <link rel="self" href="http://x.test/self"/><link rel="alternate" href="http://x.test/1"/>
  <published>2024-12-22T11:40:00+07:00</published><updated>2024-12-23T00:00:00Z</updated></entry>
<entry><title>Two</title><link href="/2"/><updated>2024-12-23T00:00:00Z</updated></entry>
</feed>)html",
        "http://x.test/atom.xml");
    ASSERT_TRUE(feed.ok) << feed.error;
    ASSERT_EQ(feed.items.size(), 2U);
    EXPECT_EQ(feed.items[0].title, "Bài một");
    EXPECT_EQ(feed.items[0].link, "http://x.test/1");
    EXPECT_EQ(dates::format_iso8601_vn(feed.items[0].published.value()),
              "2024-12-22T11:40:00+07:00");
    EXPECT_EQ(feed.items[1].link, "http://x.test/2");
    EXPECT_EQ(dates::format_iso8601_vn(feed.items[1].published.value()),
              "2024-12-23T07:00:00+07:00");
}

TEST(ParseFeed, ReadsRdfItemsBesideTheChannelWithDcDate) {
    const FeedParse feed = parse_feed(
        R"html(<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://x.test/"><title>c</title><link>http://x.test/</link></channel>
<item rdf:about="http://x.test/r1"><title>R1</title><link>http://x.test/other</link>
  <dc:date>2024-12-20T08:00:00+07:00</dc:date></item>
<item rdf:about="http://x.test/r2"><title>R2</title></item>
</rdf:RDF>)html",
        "http://x.test/index.rdf");
    ASSERT_TRUE(feed.ok) << feed.error;
    ASSERT_EQ(feed.items.size(), 2U);
    EXPECT_EQ(feed.items[0].link, "http://x.test/r1");
    EXPECT_EQ(feed.items[0].title, "R1");
    EXPECT_EQ(dates::format_iso8601_vn(feed.items[0].published.value()),
              "2024-12-20T08:00:00+07:00");
    EXPECT_EQ(feed.items[1].link, "http://x.test/r2");
    EXPECT_FALSE(feed.items[1].published.has_value());
}

TEST(ParseFeed, GarbageIsAValueNotACrash) {
    EXPECT_FALSE(parse_feed("", "http://x.test/").ok);
    const FeedParse garbage = parse_feed("\x01\x02 not xml at all <<<", "http://x.test/");
    EXPECT_FALSE(garbage.ok);
    EXPECT_FALSE(garbage.error.empty());
    const FeedParse html =
        parse_feed("<html><body><a href=x>x</a></body></html>", "http://x.test/");
    EXPECT_FALSE(html.ok);
    EXPECT_EQ(html.error, "not a feed");
}

TEST(ParseFeed, DoesNotExpandEntitiesOrFetchExternalOnes) {
    const FeedParse feed = parse_feed(
        R"html(<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY ext SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><title>x&b;&ext;</title><link>http://x.test/1</link></item>
</channel></rss>)html",
        "http://x.test/");
    ASSERT_TRUE(feed.ok) << feed.error;
    ASSERT_EQ(feed.items.size(), 1U);
    EXPECT_EQ(feed.items[0].title.find("aaaa"), std::string::npos);
    EXPECT_EQ(feed.items[0].title.find("root"), std::string::npos);
}

TEST(ParseFeed, TrustsValidUtf8OverALyingDeclaration) {
    const FeedParse feed = parse_feed(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><item><title>Bắc Kạn</title>"
        "<link>http://x.test/1</link></item></channel></rss>",
        "http://x.test/");
    ASSERT_TRUE(feed.ok) << feed.error;
    EXPECT_EQ(feed.items.at(0).title, "Bắc Kạn");
}

TEST(ParseFeed, DecodesADeclaredLegacyEncoding) {
    const FeedParse feed = parse_feed(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><item><title>caf\xE9</title>"
        "<link>http://x.test/1</link></item></channel></rss>",
        "http://x.test/");
    ASSERT_TRUE(feed.ok) << feed.error;
    EXPECT_EQ(feed.items.at(0).title, "café");
}

TEST(PageLinks, ResolvesAgainstBaseHrefDropsFragmentsAndNonHttpAndDeduplicates) {
    const auto links = page_links(
        R"html(<html><head><base href="/news/"></head><body>
<a href="a.html#top">a</a><a href="a.html">again</a><a href="javascript:alert(1)">js</a>
<a href=" JavaScript:void(0)">js2</a><a href="mailto:x@y">m</a><a href="#frag">f</a>
<a href="//cdn.x.test/b">b</a><a>no href</a><a href="https://y.test/c?x=1">c</a></body></html>)html",
        "http://x.test/page/1.html");
    EXPECT_EQ(links, (std::vector<std::string>{"http://x.test/news/a.html", "http://cdn.x.test/b",
                                               "https://y.test/c?x=1"}));
}

TEST(PageLinks, FindsArticleLinksOnAFixtureListing) {
    const auto links =
        page_links(read_file(kSites + "baobackan/www/index.html"), "http://baobackan.test/");
    EXPECT_NE(std::find(links.begin(), links.end(),
                        "http://baobackan.test/"
                        "thuong-truc-hdnd-tinh-hop-phien-thuong-ky-thang-12-post67912.html"),
              links.end());
}

// --- Feeds whose declared encoding lies ---------------------------------------------------------

using baofeed::testing::encode;

const std::string kTitle = "Thái Nguyên: rét đậm, thuỷ văn sông Cầu";
const std::string kFeedItems = "<rss version=\"2.0\"><channel><title>BNews</title><item><title>" +
                               kTitle +
                               "</title><link>http://x.test/a-1.html</link>"
                               "<pubDate>Sun, 22 Dec 2024 11:40:00 +0700</pubDate></item>"
                               "</channel></rss>";

void expect_one_item(const FeedParse& feed) {
    ASSERT_TRUE(feed.ok) << feed.error;
    ASSERT_EQ(feed.items.size(), 1U);
    EXPECT_EQ(feed.items[0].title, kTitle);
    EXPECT_EQ(feed.items[0].link, "http://x.test/a-1.html");
    ASSERT_TRUE(feed.items[0].published.has_value());
    EXPECT_EQ(dates::format_iso8601_vn(*feed.items[0].published), "2024-12-22T11:40:00+07:00");
}

TEST(ParseFeedEncodings, ReadsAUtf16LeFeedWithBom) {
    expect_one_item(parse_feed(
        "\xFF\xFE" + encode("<?xml version=\"1.0\" encoding=\"utf-16\"?>" + kFeedItems, "UTF-16LE"),
        "http://x.test/rss"));
}

TEST(ParseFeedEncodings, ReadsAUtf16LeFeedWithoutBom) {
    expect_one_item(parse_feed(
        encode("<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n" + kFeedItems, "UTF-16LE"),
        "http://x.test/rss"));
    // Declared UTF-8 but UTF-16LE all the same.
    expect_one_item(
        parse_feed(encode("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + kFeedItems, "UTF-16LE"),
                   "http://x.test/rss"));
}

TEST(ParseFeedEncodings, ReadsAUtf8FeedThatDeclaresUtf16) {
    expect_one_item(
        parse_feed("<?xml version=\"1.0\" encoding=\"utf-16\"?>" + kFeedItems, "http://x.test/"));
}

TEST(ParseFeedEncodings, ReadsAWindows1258FeedThatSaysSo) {
    const std::string bytes =
        "<?xml version=\"1.0\" encoding=\"windows-1258\"?>" + encode(kFeedItems, "WINDOWS-1258");
    ASSERT_EQ(bytes.find("thuỷ"), std::string::npos);  // really not UTF-8
    expect_one_item(parse_feed(bytes, "http://x.test/"));
}

TEST(ParseFeedEncodings, ToleratesBlankLinesBeforeTheXmlDeclaration) {
    expect_one_item(parse_feed("\n\n<?xml version=\"1.0\" encoding=\"utf-8\"?>" + kFeedItems,
                               "http://x.test/"));
}

// --- selected_links -----------------------------------------------------------------------------

TEST(SelectedLinks, FollowsTheBaosongloPagerBothWays) {
    const auto page1 = selected_links(read_file(kSites + "baosonglo/www/Tin-tuc.aspx"),
                                      "http://baosonglo.test/Tin-tuc.aspx", "div.paging a");
    EXPECT_EQ(page1, (std::vector<std::string>{"http://baosonglo.test/Tin-tuc/trang-2.aspx"}));
    const auto page2 = selected_links(read_file(kSites + "baosonglo/www/Tin-tuc/trang-2.aspx"),
                                      "http://baosonglo.test/Tin-tuc/trang-2.aspx", "div.paging a");
    EXPECT_EQ(page2, (std::vector<std::string>{"http://baosonglo.test/Tin-tuc.aspx"}));
}

TEST(SelectedLinks, TakesAnchorsThatMatchAndAnchorsInsideMatchesInDocumentOrder) {
    const std::string html = R"html(<html><head><base href="http://cdn.x.test/list/"></head><body>
<a class="next-page" href="p3.html#top">next</a>
<div class="paging"><span><a href="p1.html">1</a></span><a href="p2.html">2</a><a>none</a>
  <a href="mailto:x@x.test">m</a></div>
<a href="p9.html">outside</a>
<div class="paging"><a href="p2.html">2 again</a></div></body></html>)html";
    EXPECT_EQ(selected_links(html, "http://x.test/list/1", "div.paging, a.next-page"),
              (std::vector<std::string>{"http://cdn.x.test/list/p3.html",
                                        "http://cdn.x.test/list/p1.html",
                                        "http://cdn.x.test/list/p2.html"}));
    EXPECT_TRUE(selected_links(html, "http://x.test/", "nav.none a").empty());
}

TEST(SelectedLinks, ABadSelectorThrows) {
    EXPECT_THROW(selected_links("<a href=x>x</a>", "http://x.test/", "div[[["), css::SelectorError);
}

// --- discover_feeds -----------------------------------------------------------------------------

TEST(DiscoverFeeds, FindsTheFixtureHomePageFeeds) {
    EXPECT_EQ(
        discover_feeds(read_file(kSites + "baobackan/www/index.html"), "http://baobackan.test/"),
        (std::vector<std::string>{"http://baobackan.test/rss/home.rss"}));
    EXPECT_EQ(discover_feeds(read_file(kSites + "baothainguyen/www/index.html"),
                             "http://baothainguyen.test/"),
              (std::vector<std::string>{"http://baothainguyen.test/rss/tin-moi-nhat.rss"}));
    // baosonglo announces none (its footer "RSS" link is a 404, not a <link>).
    EXPECT_TRUE(
        discover_feeds(read_file(kSites + "baosonglo/www/index.html"), "http://baosonglo.test/")
            .empty());
}

TEST(DiscoverFeeds, KeepsOnlyAlternateFeedTypesResolvedInOrder) {
    const std::string html = R"html(<html><head>
<link rel="stylesheet" type="text/css" href="/s.css">
<link rel="alternate" media="only screen" href="http://m.x.test/">
<link rel="Alternate" type="application/atom+xml" href="/atom.xml">
<link rel="alternate" type="application/rss+xml" href="rss/home.rss">
<link rel="alternate nofollow" type="Application/RSS+XML; charset=utf-8" href="/rss/2.rss">
<link rel="alternate" type="application/feed+json" href="/feed.json">
<link rel="alternate" type="application/rss+xml" href="/atom.xml">
<link rel="alternate" type="text/html" href="/en/">
<link rel="alternatex" type="application/rss+xml" href="/no.rss">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
</head><body></body></html>)html";
    EXPECT_EQ(discover_feeds(html, "http://x.test/news/"),
              (std::vector<std::string>{"http://x.test/atom.xml", "http://x.test/news/rss/home.rss",
                                        "http://x.test/rss/2.rss", "http://x.test/feed.json"}));
}

}  // namespace
}  // namespace baofeed::parsers
