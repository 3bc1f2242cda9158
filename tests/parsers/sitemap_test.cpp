#include <fstream>
#include <iconv.h>
#include <memory>
#include <sstream>
#include <string>
#include <zlib.h>

#include <gtest/gtest.h>

#include "core/dates.h"
#include "parsers/links.h"

namespace baofeed::parsers {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string kSites = std::string(BAOFEED_FIXTURES_DIR) + "/sites/";

// gzip (not zlib, not raw deflate) of `data`, as a .xml.gz file holds it.
std::string gzip(const std::string& data) {
    z_stream zs{};
    EXPECT_EQ(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
              Z_OK);
    std::string out(deflateBound(&zs, data.size()) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

std::string iso(const std::optional<Timestamp>& t) {
    return t ? dates::format_iso8601_vn(*t) : "(none)";
}

TEST(ParseSitemap, ReadsTheBaobackanIndexAsFurtherSitemaps) {
    const SitemapParse index =
        parse_sitemap(read_file(kSites + "baobackan/www/sitemap.xml"), "http://baobackan.test/");
    ASSERT_TRUE(index.ok) << index.error;
    EXPECT_TRUE(index.error.empty());
    EXPECT_TRUE(index.is_index);
    ASSERT_EQ(index.entries.size(), 3U);
    EXPECT_EQ(index.entries[0].loc, "http://baobackan.test/sitemaps/categories.xml");
    EXPECT_FALSE(index.entries[0].lastmod.has_value());
    EXPECT_EQ(index.entries[2].loc, "http://baobackan.test/sitemaps/news-2024-12.xml");
    EXPECT_EQ(iso(index.entries[2].lastmod), "2024-12-28T10:00:00+07:00");
}

TEST(ParseSitemap, ReadsAMonthlyUrlsetWithLastmodAsAnEditTimeOnly) {
    const SitemapParse month =
        parse_sitemap(read_file(kSites + "baobackan/www/sitemaps/news-2024-12.xml"),
                      "http://baobackan.test/sitemaps/news-2024-12.xml");
    ASSERT_TRUE(month.ok) << month.error;
    EXPECT_FALSE(month.is_index);
    ASSERT_EQ(month.entries.size(), 8U);
    const SitemapEntry& first = month.entries[0];
    EXPECT_EQ(first.loc,
              "http://baobackan.test/tam-ngung-cap-dien-mot-so-khu-vuc-ngay-29-12-post67981.html");
    // The article was published 10:00 (feed); the sitemap says when it was last edited.
    EXPECT_EQ(iso(first.lastmod), "2024-12-28T11:00:00+07:00");
    EXPECT_FALSE(first.published.has_value());
    EXPECT_TRUE(first.title.empty());
    EXPECT_EQ(month.entries[7].loc,
              "http://baobackan.test/"
              "thuong-truc-hdnd-tinh-hop-phien-thuong-ky-thang-12-post67912.html");
}

TEST(ParseSitemap, ReadsGoogleNewsPublicationDatesAndTitles) {
    const SitemapParse news = parse_sitemap(
        R"xml(<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc> /thoi-su/202412/ret-dam-9b3f0a1/ </loc>
    <lastmod>2024-12-24T09:00:00+07:00</lastmod>
    <image:image><image:loc>http://x.test/a.jpg</image:loc><image:title>Ảnh</image:title></image:image>
    <news:news>
      <news:publication><news:name>Báo X</news:name><news:language>vi</news:language></news:publication>
      <news:publication_date>2024-12-23T20:15:00+07:00</news:publication_date>
      <news:title><![CDATA[Bắc Bộ chuẩn bị đón   đợt rét đậm & mới]]></news:title>
    </news:news>
  </url>
  <url><loc>http://x.test/b.html</loc><news:news><news:publication_date>2024-12-22</news:publication_date><news:title>B &amp; C</news:title></news:news></url>
  <url><lastmod>2024-12-22</lastmod></url>
  <url><loc>javascript:alert(1)</loc></url>
  <url/>
</urlset>)xml",
        "http://x.test/sitemap-news.xml");
    ASSERT_TRUE(news.ok) << news.error;
    ASSERT_EQ(news.entries.size(), 2U);
    EXPECT_EQ(news.entries[0].loc, "http://x.test/thoi-su/202412/ret-dam-9b3f0a1/");
    EXPECT_EQ(iso(news.entries[0].lastmod), "2024-12-24T09:00:00+07:00");
    EXPECT_EQ(iso(news.entries[0].published), "2024-12-23T20:15:00+07:00");
    EXPECT_EQ(news.entries[0].title, "Bắc Bộ chuẩn bị đón đợt rét đậm & mới");
    EXPECT_EQ(news.entries[1].title, "B & C");
    EXPECT_EQ(iso(news.entries[1].published), "2024-12-22T00:00:00+07:00");
    EXPECT_FALSE(news.entries[1].lastmod.has_value());
}

TEST(ParseSitemap, GunzipsARawXmlGzBody) {
    const std::string xml = read_file(kSites + "baobackan/www/sitemaps/news-2024-12.xml");
    const SitemapParse plain = parse_sitemap(xml, "http://baobackan.test/");
    const SitemapParse gz = parse_sitemap(gzip(xml), "http://baobackan.test/");
    ASSERT_TRUE(gz.ok) << gz.error;
    ASSERT_EQ(gz.entries.size(), plain.entries.size());
    EXPECT_EQ(gz.entries.back().loc, plain.entries.back().loc);
    // Two gzip members back to back (cat a.gz b.gz) are one document.
    const std::string half1 = xml.substr(0, xml.size() / 2);
    const std::string half2 = xml.substr(xml.size() / 2);
    EXPECT_EQ(parse_sitemap(gzip(half1) + gzip(half2), "http://baobackan.test/").entries.size(),
              8U);
}

TEST(ParseSitemap, RefusesCorruptTruncatedAndOversizedGzip) {
    const std::string gz = gzip(read_file(kSites + "baobackan/www/sitemaps/news-2024-12.xml"));
    const SitemapParse truncated = parse_sitemap(gz.substr(0, gz.size() / 2), "http://x.test/");
    EXPECT_FALSE(truncated.ok);
    EXPECT_EQ(truncated.error, "gzip stream truncated");
    std::string corrupt = gz;
    corrupt[12] = static_cast<char>(corrupt[12] ^ 0x5A);
    corrupt[13] = static_cast<char>(corrupt[13] ^ 0xA5);
    const SitemapParse bad = parse_sitemap(corrupt, "http://x.test/");
    EXPECT_FALSE(bad.ok);
    EXPECT_FALSE(bad.error.empty());
    // A gzip bomb: 13 members of 4 MiB of spaces (~4 KiB each); decompression stops at 50 MiB.
    const std::string member = gzip(std::string(std::size_t{4} << 20, ' '));
    std::string bomb_bytes = gzip("<urlset>");
    for (int i = 0; i < 13; ++i) {
        bomb_bytes += member;
    }
    ASSERT_LT(bomb_bytes.size(), std::size_t{1} << 20);
    const SitemapParse bomb = parse_sitemap(bomb_bytes, "http://x.test/");
    EXPECT_FALSE(bomb.ok);
    EXPECT_EQ(bomb.error, "sitemap larger than 50 MiB decompressed");
}

TEST(ParseSitemap, StopsAfterFiftyThousandEntries) {
    std::string xml = "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">";
    for (int i = 0; i < 50002; ++i) {
        xml += "<url><loc>/a/" + std::to_string(i) + "</loc></url>";
    }
    xml += "</urlset>";
    const SitemapParse big = parse_sitemap(xml, "http://x.test/");
    EXPECT_TRUE(big.ok);
    EXPECT_EQ(big.error, "more than 50000 entries: the rest is ignored");
    ASSERT_EQ(big.entries.size(), 50000U);
    EXPECT_EQ(big.entries.back().loc, "http://x.test/a/49999");
}

TEST(ParseSitemap, ExactlyFiftyThousandEntriesIsNoWarning) {
    std::string xml = "<urlset>";
    for (int i = 0; i < 50000; ++i) {
        xml += "<url><loc>/a/" + std::to_string(i) + "</loc></url>";
    }
    xml += "</urlset>";
    const SitemapParse full = parse_sitemap(xml, "http://x.test/");
    EXPECT_TRUE(full.ok);
    EXPECT_TRUE(full.error.empty()) << full.error;
    EXPECT_EQ(full.entries.size(), 50000U);
}

TEST(ParseSitemap, KeepsTheEntriesBeforeATruncation) {
    const std::string xml = read_file(kSites + "baobackan/www/sitemaps/news-2024-12.xml");
    const std::size_t cut = xml.find("<url>", xml.find("post67960"));  // after 3 entries
    const SitemapParse part = parse_sitemap(xml.substr(0, cut + 12), "http://baobackan.test/");
    EXPECT_TRUE(part.ok);
    EXPECT_NE(part.error.find("line "), std::string::npos) << part.error;  // libxml2 says where
    EXPECT_EQ(part.entries.size(), 3U);
}

TEST(ParseSitemap, DecodesEncodingsThatLie) {
    const std::string body =
        "<urlset><url><loc>http://x.test/bắc-kạn</loc><news:news "
        "xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\"><news:title>Thuỷ văn sông "
        "Cầu</news:title></news:news></url></urlset>";
    // UTF-8 declaring UTF-16.
    const SitemapParse liar =
        parse_sitemap("<?xml version=\"1.0\" encoding=\"UTF-16\"?>" + body, "http://x.test/");
    ASSERT_TRUE(liar.ok) << liar.error;
    ASSERT_EQ(liar.entries.size(), 1U);
    EXPECT_EQ(liar.entries[0].title, "Thuỷ văn sông Cầu");
    EXPECT_EQ(liar.entries[0].loc, "http://x.test/b%E1%BA%AFc-k%E1%BA%A1n");
    // UTF-16LE without a BOM.
    struct Closer {
        void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
    };
    const std::string utf8 = "<?xml version=\"1.0\" encoding=\"utf-16\"?>" + body;
    std::unique_ptr<void, Closer> cd(iconv_open("UTF-16LE", "UTF-8"));
    std::string utf16(utf8.size() * 2, '\0');
    char* in = const_cast<char*>(utf8.data());
    std::size_t in_left = utf8.size();
    char* out = utf16.data();
    std::size_t out_left = utf16.size();
    ASSERT_NE(iconv(static_cast<iconv_t>(cd.get()), &in, &in_left, &out, &out_left),
              static_cast<std::size_t>(-1));
    utf16.resize(utf16.size() - out_left);
    const SitemapParse wide = parse_sitemap(utf16, "http://x.test/");
    ASSERT_TRUE(wide.ok) << wide.error;
    ASSERT_EQ(wide.entries.size(), 1U);
    EXPECT_EQ(wide.entries[0].title, "Thuỷ văn sông Cầu");
}

TEST(ParseSitemap, OtherDocumentsAreValuesNotCrashes) {
    EXPECT_EQ(parse_sitemap("", "http://x.test/").error, "empty document");
    const SitemapParse feed =
        parse_sitemap(read_file(kSites + "baobackan/www/rss/home.rss"), "http://x.test/");
    EXPECT_FALSE(feed.ok);
    EXPECT_EQ(feed.error, "not a sitemap");
    const SitemapParse garbage = parse_sitemap("\x01\x02 <<< not xml", "http://x.test/");
    EXPECT_FALSE(garbage.ok);
    EXPECT_FALSE(garbage.error.empty());
    const SitemapParse entities = parse_sitemap(
        R"xml(<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY ext SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>http://x.test/&ext;</loc></url></urlset>)xml",
        "http://x.test/");
    ASSERT_TRUE(entities.ok) << entities.error;
    ASSERT_EQ(entities.entries.size(), 1U);
    EXPECT_EQ(entities.entries[0].loc.find("root"), std::string::npos);
}

}  // namespace
}  // namespace baofeed::parsers
