#include "parsers/links.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/dates.h"

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

}  // namespace
}  // namespace baofeed::parsers
