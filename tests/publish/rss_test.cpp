#include "publish/rss.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/dates.h"
#include "publish/test_support.h"
#include "publish/xml_text.h"

namespace baofeed::publish {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using namespace std::chrono;
using namespace std::chrono_literals;

Timestamp at(year_month_day day, hours h, minutes m = 0min) {
    return Timestamp{sys_days{day}} + h + m;
}

Channel test_channel() {
    Channel channel;
    channel.title = "Báo Bắc Kạn";
    channel.link = "http://baobackan.test/";
    channel.description = "Tin mới nhất";
    channel.self_url = "http://feeds.test/baobackan.rss";
    return channel;
}

FeedEntry make_entry(std::string slug, std::optional<Timestamp> published,
                     Timestamp first_seen = at(2024y / 12 / 1, 0h)) {
    FeedEntry entry;
    Article& a = entry.article;
    a.canonical_url = "http://baobackan.test/" + slug + ".html";
    a.urls = {a.canonical_url};
    a.site = "baobackan";
    a.title = "Tiêu đề " + slug;
    a.author = "Thanh Tâm";
    a.published = published;
    a.lead = "BBK - Sáng 22/12, " + slug + ".";
    a.body = {"Đoạn một của " + slug + ".", "Đoạn hai."};
    a.images = {{"http://cdn.baobackan.test/images/" + slug + ".jpg", "Quang cảnh cuộc họp."}};
    entry.first_seen = first_seen;
    return entry;
}

std::size_t count_of(const std::string& haystack, std::string_view needle) {
    std::size_t count = 0;
    for (std::size_t pos = haystack.find(needle); pos != std::string::npos;
         pos = haystack.find(needle, pos + needle.size())) {
        ++count;
    }
    return count;
}

// ---- escaping helpers ----

TEST(XmlText, EscapesAllFiveSpecialCharacters) {
    EXPECT_EQ(escape_text(R"(<a href="x">Tom & Jerry's</a>)"),
              "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
}

TEST(XmlText, EscapesAmpersandsOfTextThatLooksLikeAnEntity) {
    EXPECT_EQ(escape_text("&amp; &#39;"), "&amp;amp; &amp;#39;");
}

TEST(XmlText, EscapingAlsoDropsWhatXmlForbidsAndReplacesInvalidUtf8) {
    EXPECT_EQ(escape_text(std::string("Đà\x01 <b>\xEF\xBF\xBE"
                                      "& \xFF'")),
              "Đà &lt;b&gt;&amp; \uFFFD&#39;");
    EXPECT_EQ(escape_text(""), "");
}

TEST(XmlText, DropsControlCharactersButKeepsTabNewlineAndReturn) {
    EXPECT_EQ(strip_xml_invalid(std::string("a\x01"
                                            "b\x08\x0b\x0c\x1f"
                                            "c\td\ne\rf",
                                            15)),
              "abc\td\ne\rf");
    EXPECT_EQ(strip_xml_invalid(std::string("x\0y", 3)), "xy");
}

TEST(XmlText, DropsNoncharactersFffeAndFfff) {
    EXPECT_EQ(strip_xml_invalid("a\xEF\xBF\xBE"
                                "b\xEF\xBF\xBF"
                                "c"),
              "abc");
    EXPECT_EQ(strip_xml_invalid("\xEF\xBF\xBD"), "\xEF\xBF\xBD");  // U+FFFD itself is fine
}

TEST(XmlText, LongTextsEscapeLikeShortOnesWhateverTheMix) {
    // Texts of 64 bytes and more take a faster path (validated once, scanned sixteen bytes at a
    // time): built from pieces whose escaped and stripped forms are known, they must come out as
    // the concatenation of those forms, with and without an invalid byte that sends them back.
    struct Piece {
        std::string text;
        std::string escaped;
        std::string stripped;
    };
    const std::vector<Piece> pieces = {
        {"a", "a", "a"},
        {"Bắc Kạn ", "Bắc Kạn ", "Bắc Kạn "},
        {"&", "&amp;", "&"},
        {"<", "&lt;", "<"},
        {">", "&gt;", ">"},
        {"\"", "&quot;", "\""},
        {"'", "&#39;", "'"},
        {"\t\n\r", "\t\n\r", "\t\n\r"},
        {"\x01", "", ""},
        {"\x1F", "", ""},
        {std::string(1, '\0'), "", ""},
        {"\xEF\xBF\xBE", "", ""},                          // U+FFFE
        {"\xEF\xBF\xBF", "", ""},                          // U+FFFF
        {"\xEF\xBF\xBD", "\xEF\xBF\xBD", "\xEF\xBF\xBD"},  // U+FFFD
        {"\xEF\xBB\xBF", "\xEF\xBB\xBF", "\xEF\xBB\xBF"},  // U+FEFF
        {"\xEF\xBC\x86", "\xEF\xBC\x86", "\xEF\xBC\x86"},  // U+FF06 fullwidth &
        {"😀", "😀", "😀"},
        {"0123456789abcdef", "0123456789abcdef", "0123456789abcdef"},
    };
    std::mt19937 rng(27);
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    for (int round = 0; round < 20'000; ++round) {
        Piece text;
        while (text.text.size() < 64 + static_cast<std::size_t>(round % 200)) {
            const Piece& p = pieces[pick(rng)];
            text.text += p.text;
            text.escaped += p.escaped;
            text.stripped += p.stripped;
        }
        ASSERT_EQ(escape_text(text.text), text.escaped) << ::testing::PrintToString(text.text);
        ASSERT_EQ(strip_xml_invalid(text.text), text.stripped);
        // One invalid byte at the end: the byte-by-byte path gives the same plus U+FFFD.
        ASSERT_EQ(escape_text(text.text + "\xFF"), text.escaped + "\xEF\xBF\xBD");
    }
}

TEST(XmlText, KeepsVietnameseAndReplacesInvalidUtf8) {
    EXPECT_EQ(strip_xml_invalid("Đại biểu thảo luận 🙂"),
              "Đại biểu thảo luận 🙂");
    // Stray continuation byte, Latin-1 byte, overlong '/', encoded surrogate, truncated sequence.
    EXPECT_EQ(strip_xml_invalid("a\x80"
                                "b\xE9"
                                "c\xC0\xAF"
                                "d\xED\xA0\x80"
                                "e\xE1\x80"),
              "a\uFFFDb\uFFFDc\uFFFD\uFFFDd\uFFFD\uFFFD\uFFFDe\uFFFD\uFFFD");
}

TEST(XmlText, SplitsCdataTerminator) {
    EXPECT_EQ(wrap_cdata("plain"), "<![CDATA[plain]]>");
    EXPECT_EQ(wrap_cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
    EXPECT_EQ(wrap_cdata("]]>]]>"), "<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>");
}

TEST(XmlText, AcceptsOnlyHttpAndHttpsUrls) {
    EXPECT_TRUE(is_http_url("http://a.test/x.jpg"));
    EXPECT_TRUE(is_http_url("HTTPS://a.test/x.jpg"));
    EXPECT_FALSE(is_http_url("javascript:alert(1)"));
    EXPECT_FALSE(is_http_url(" http://a.test/"));
    EXPECT_FALSE(is_http_url("data:image/png;base64,AAAA"));
    EXPECT_FALSE(is_http_url("//a.test/x.jpg"));
    EXPECT_FALSE(is_http_url("http://"));
    EXPECT_FALSE(is_http_url(""));
}

// ---- render_article_html ----

TEST(ArticleHtml, PutsLeadThenFiguresThenParagraphsThenVideos) {
    Article a;
    a.lead = "Lead";
    a.body = {"One", "", "Two"};
    a.images = {{"http://cdn.test/1.jpg", "Cap 1"}, {"https://cdn.test/2.jpg", ""}};
    a.videos = {{"http://video.test/v.mp4", "http://cdn.test/poster.jpg", "Clip"},
                {"http://video.test/w.mp4", "", ""}};
    EXPECT_EQ(render_article_html(a),
              "<p class=\"lead\">Lead</p>\n"
              "<figure><img src=\"http://cdn.test/1.jpg\" alt=\"\">"
              "<figcaption>Cap 1</figcaption></figure>\n"
              "<figure><img src=\"https://cdn.test/2.jpg\" alt=\"\"></figure>\n"
              "<p>One</p>\n"
              "<p>Two</p>\n"
              "<p><a href=\"http://video.test/v.mp4\"><img src=\"http://cdn.test/poster.jpg\" "
              "alt=\"\">Video</a> \u2014 Clip</p>\n"
              "<p><a href=\"http://video.test/w.mp4\">Video</a></p>\n");
}

TEST(ArticleHtml, SkipsImagesAndVideosWithNonHttpUrls) {
    Article a;
    a.body = {"Text"};
    a.images = {{"javascript:alert(1)", "x"}, {" JavaScript:alert(2)", ""}, {"data:,x", ""}};
    a.videos = {{"javascript:alert(3)", "", ""}, {"http://video.test/v", "javascript:x", ""}};
    const std::string html = render_article_html(a);
    EXPECT_THAT(html, Not(HasSubstr("javascript")));
    EXPECT_THAT(html, Not(HasSubstr("data:")));
    EXPECT_THAT(html, Not(HasSubstr("<figure")));
    EXPECT_EQ(html, "<p>Text</p>\n<p><a href=\"http://video.test/v\">Video</a></p>\n");
}

TEST(ArticleHtml, EscapesTextAndAttributeValues) {
    Article a;
    a.lead = "<script>alert(1)</script>";
    a.body = {"A & B \"quoted\" 'single'"};
    a.images = {{"http://cdn.test/x.jpg?a=1&b=\"2\"><script>", "<b>bold</b>"}};
    const std::string html = render_article_html(a);
    EXPECT_THAT(html, Not(HasSubstr("<script")));
    EXPECT_THAT(html, Not(HasSubstr("<b>")));
    EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
    EXPECT_THAT(html, HasSubstr("A &amp; B &quot;quoted&quot; &#39;single&#39;"));
    EXPECT_THAT(html, HasSubstr("src=\"http://cdn.test/x.jpg?a=1&amp;b=&quot;2&quot;&gt;"));
}

// ---- render_rss ----

TEST(RenderRss, DeclaresNamespacesAndChannelFields) {
    const std::string rss = render_rss(test_channel(), {make_entry("a", at(2024y / 12 / 22, 4h))});
    EXPECT_TRUE(
        rss.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\""));
    EXPECT_THAT(rss, HasSubstr("xmlns:content=\"http://purl.org/rss/1.0/modules/content/\""));
    EXPECT_THAT(rss, HasSubstr("xmlns:dc=\"http://purl.org/dc/elements/1.1/\""));
    EXPECT_THAT(rss, HasSubstr("xmlns:atom=\"http://www.w3.org/2005/Atom\""));
    EXPECT_THAT(rss, HasSubstr("<title>Báo Bắc Kạn</title>"));
    EXPECT_THAT(rss, HasSubstr("<link>http://baobackan.test/</link>"));
    EXPECT_THAT(rss, HasSubstr("<description>Tin mới nhất</description>"));
    EXPECT_THAT(rss, HasSubstr("<language>vi</language>"));
    EXPECT_THAT(rss, HasSubstr("<generator>baofeed</generator>"));
    EXPECT_THAT(rss, HasSubstr("<atom:link href=\"http://feeds.test/baobackan.rss\" rel=\"self\" "
                               "type=\"application/rss+xml\"/>"));
    EXPECT_THAT(rss, HasSubstr("<guid isPermaLink=\"true\">http://baobackan.test/a.html</guid>"));
    EXPECT_THAT(rss, HasSubstr("<dc:creator>Thanh Tâm</dc:creator>"));
    EXPECT_THAT(rss, HasSubstr("<description>BBK - Sáng 22/12, a.</description>"));
    EXPECT_THAT(rss, HasSubstr("<content:encoded><![CDATA[<p class=\"lead\">"));
}

TEST(RenderRss, OmitsAtomSelfLinkWhenNotSet) {
    Channel channel = test_channel();
    channel.self_url.clear();
    EXPECT_THAT(render_rss(channel, {make_entry("a", std::nullopt)}), Not(HasSubstr("atom:link")));
}

TEST(RenderRss, EscapesHostileTitleAndChannelText) {
    Channel channel = test_channel();
    channel.title = "News & <b>Views</b>";
    FeedEntry entry = make_entry("a", at(2024y / 12 / 22, 4h));
    entry.article.title = "<script>alert('x')</script> Lũ & lụt";
    entry.article.canonical_url = "http://baobackan.test/a.html?x=1&y=2";
    const std::string rss = render_rss(channel, {entry});
    EXPECT_THAT(rss, Not(HasSubstr("<script")));
    EXPECT_THAT(rss, Not(HasSubstr("<b>")));
    EXPECT_THAT(rss, HasSubstr("<title>News &amp; &lt;b&gt;Views&lt;/b&gt;</title>"));
    EXPECT_THAT(rss,
                HasSubstr("<title>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Lũ &amp; lụt"));
    EXPECT_THAT(rss, HasSubstr("<link>http://baobackan.test/a.html?x=1&amp;y=2</link>"));
}

TEST(RenderRss, DropsControlCharactersEverywhere) {
    FeedEntry entry = make_entry("a", at(2024y / 12 / 22, 4h));
    entry.article.title = "Bell\x07 and\x1b escape";
    entry.article.lead =
        "Form\x0c"
        "feed";
    entry.article.body = {"Nul\x01 byte\xEF\xBF\xBE"};
    const std::string rss = render_rss(test_channel(), {entry});
    for (char c = 0x01; c < 0x20; ++c) {
        if (c != '\n') {
            EXPECT_EQ(rss.find(c), std::string::npos) << "control character " << int{c};
        }
    }
    EXPECT_THAT(rss, Not(HasSubstr("\xEF\xBF\xBE")));
    EXPECT_THAT(rss, HasSubstr("<title>Bell and escape</title>"));
    EXPECT_THAT(rss, HasSubstr("<p>Nul byte</p>"));
}

TEST(RenderRss, SameInputGivesIdenticalBytes) {
    const std::vector<FeedEntry> entries = {make_entry("a", at(2024y / 12 / 22, 4h)),
                                            make_entry("b", std::nullopt)};
    EXPECT_EQ(render_rss(test_channel(), entries), render_rss(test_channel(), entries));
}

TEST(RenderRss, KeepsItemsInTheOrderGiven) {
    const FeedEntry older = make_entry("older", at(2024y / 12 / 20, 1h));
    const FeedEntry newer = make_entry("newer", at(2024y / 12 / 22, 1h));
    const std::string forward = render_rss(test_channel(), {older, newer});
    const std::string backward = render_rss(test_channel(), {newer, older});
    EXPECT_LT(forward.find("older.html"), forward.find("newer.html"));
    EXPECT_LT(backward.find("newer.html"), backward.find("older.html"));
    EXPECT_NE(forward, backward);
}

TEST(RenderRss, LastBuildDateIsTheNewestItemDate) {
    const Timestamp newest = at(2024y / 12 / 23, 9h, 5min);
    const std::string rss = render_rss(
        test_channel(), {make_entry("a", at(2024y / 12 / 20, 1h)), make_entry("b", newest),
                         make_entry("c", std::nullopt, at(2024y / 12 / 21, 1h))});
    EXPECT_THAT(rss,
                HasSubstr("<lastBuildDate>" + dates::format_rfc822(newest) + "</lastBuildDate>"));
    EXPECT_THAT(rss, HasSubstr("<lastBuildDate>Mon, 23 Dec 2024 09:05:00 +0000</lastBuildDate>"));
}

TEST(RenderRss, LastBuildDateCountsFirstSeenOfUndatedItems) {
    const Timestamp seen = at(2024y / 12 / 25, 2h);
    const std::string rss = render_rss(test_channel(), {make_entry("a", at(2024y / 12 / 20, 1h)),
                                                        make_entry("b", std::nullopt, seen)});
    EXPECT_THAT(rss, HasSubstr("<lastBuildDate>" + dates::format_rfc822(seen)));
}

TEST(RenderRss, EmptyFeedHasNoLastBuildDateAndNoItems) {
    const std::string rss = render_rss(test_channel(), {});
    EXPECT_THAT(rss, Not(HasSubstr("lastBuildDate")));
    EXPECT_THAT(rss, Not(HasSubstr("<item>")));
    EXPECT_THAT(rss, HasSubstr("</channel>\n</rss>\n"));
}

TEST(RenderRss, PubDateFallsBackToFirstSeen) {
    const Timestamp published = at(2024y / 12 / 22, 4h, 40min);
    const Timestamp seen = at(2024y / 12 / 24, 6h);
    const std::string rss = render_rss(
        test_channel(), {make_entry("a", published, seen), make_entry("b", std::nullopt, seen)});
    EXPECT_THAT(rss, HasSubstr("<pubDate>Sun, 22 Dec 2024 04:40:00 +0000</pubDate>"));
    EXPECT_THAT(rss, HasSubstr("<pubDate>" + dates::format_rfc822(seen) + "</pubDate>"));
    EXPECT_EQ(count_of(rss, "<pubDate>"), 2u);
}

TEST(RenderRss, ItemsWithoutAuthorHaveNoCreator) {
    FeedEntry anonymous = make_entry("anon", std::nullopt);
    anonymous.article.author.clear();
    FeedEntry controls_only = make_entry("ctl", std::nullopt);
    controls_only.article.author = "\x01\x02";
    const std::string rss =
        render_rss(test_channel(), {anonymous, controls_only, make_entry("named", std::nullopt)});
    EXPECT_EQ(count_of(rss, "<dc:creator>"), 1u);
    EXPECT_LT(rss.find("named.html"), rss.find("<dc:creator>"));
}

TEST(RenderRss, DescriptionFallsBackToFirstParagraphWhenNoLead) {
    FeedEntry entry = make_entry("a", std::nullopt);
    entry.article.lead.clear();
    entry.article.body = {"", "First real paragraph."};
    EXPECT_THAT(render_rss(test_channel(), {entry}),
                HasSubstr("<description>First real paragraph.</description>"));
}

// ---- independent parsers read what we wrote ----

constexpr std::string_view kFeedparserScript = R"PY(
import calendar, json, sys
import feedparser
d = feedparser.parse(sys.argv[1])
def ts(s):
    return calendar.timegm(s) if s else None
print(json.dumps({
    "bozo": bool(d.bozo),
    "bozo_exception": str(d.get("bozo_exception", "")),
    "title": d.feed.get("title"),
    "link": d.feed.get("link"),
    "updated": ts(d.feed.get("updated_parsed")),
    "entries": [{
        "title": e.get("title"),
        "link": e.get("link"),
        "id": e.get("id"),
        "author": e.get("author"),
        "published": ts(e.get("published_parsed")),
        "summary": e.get("summary"),
        "content": e.content[0].value if e.get("content") else None,
    } for e in d.entries],
}))
)PY";

class RenderRssExternal : public ::testing::Test {
  protected:
    // xmllint --noout on the feed; returns its output ("" when well-formed).
    std::string xmllint(const std::string& rss) {
        const auto path = dir_.path() / "feed.xml";
        testing::write_file(path, rss);
        const auto result =
            testing::run_command("xmllint --noout " + testing::shell_quote(path.string()));
        EXPECT_EQ(result.exit_code, 0) << result.output;
        return result.output;
    }

    nlohmann::json feedparser(const std::string& rss) {
        const auto feed = dir_.path() / "feed.xml";
        const auto script = dir_.path() / "read_feed.py";
        testing::write_file(feed, rss);
        testing::write_file(script, kFeedparserScript);
        const auto result =
            testing::run_command("/usr/bin/python3 " + testing::shell_quote(script.string()) + " " +
                                 testing::shell_quote(feed.string()));
        EXPECT_EQ(result.exit_code, 0) << result.output;
        return nlohmann::json::parse(result.output);
    }

    testing::TempDir dir_;
};

std::vector<FeedEntry> hostile_entries() {
    FeedEntry a = make_entry("hostile", at(2024y / 12 / 22, 4h, 40min));
    a.article.title = "<script>alert('x')</script> Lũ & lụt \x01miền núi";
    a.article.lead = "Lead with ]]> inside & <i>tags</i>";
    a.article.body = {"Body ]]> end", "Bell\x07 char", "\xEF\xBF\xBF nonchar"};
    a.article.images.push_back({"javascript:alert(1)", "bad"});
    a.article.videos.push_back({"https://video.test/v?a=1&b=2", "http://cdn.test/p.jpg", "Clip"});
    FeedEntry b = make_entry("undated", std::nullopt, at(2024y / 12 / 24, 6h));
    b.article.author.clear();
    return {a, b};
}

TEST_F(RenderRssExternal, HostileFeedIsWellFormedForXmllint) {
    EXPECT_EQ(xmllint(render_rss(test_channel(), hostile_entries())), "");
}

TEST_F(RenderRssExternal, XmllintRejectsABrokenFeed) {
    // The check itself must be able to fail.
    const auto path = dir_.path() / "broken.xml";
    testing::write_file(path, "<rss><channel><title>a & b</title></channel></rss>");
    EXPECT_NE(
        testing::run_command("xmllint --noout " + testing::shell_quote(path.string())).exit_code,
        0);
}

TEST_F(RenderRssExternal, FeedparserReadsBackWhatWeWrote) {
    const auto entries = hostile_entries();
    const nlohmann::json feed = feedparser(render_rss(test_channel(), entries));
    ASSERT_FALSE(feed["bozo"].get<bool>()) << feed["bozo_exception"];
    EXPECT_EQ(feed["title"], "Báo Bắc Kạn");
    EXPECT_EQ(feed["link"], "http://baobackan.test/");
    EXPECT_EQ(feed["updated"], 1735020000);  // 2024-12-24T06:00:00Z: the newest item date
    ASSERT_EQ(feed["entries"].size(), 2u);

    const auto& first = feed["entries"][0];
    EXPECT_EQ(first["link"], "http://baobackan.test/hostile.html");
    EXPECT_EQ(first["id"], "http://baobackan.test/hostile.html");
    EXPECT_EQ(first["author"], "Thanh Tâm");
    EXPECT_EQ(first["published"], 1734842400);  // 2024-12-22T04:40:00Z
    const std::string title = first["title"];
    EXPECT_THAT(title, HasSubstr("Lũ & lụt miền núi"));
    EXPECT_THAT(title, Not(HasSubstr("\x01")));
    const std::string content = first["content"];
    EXPECT_THAT(content, HasSubstr("Body ]]&gt; end"));
    EXPECT_THAT(content, HasSubstr("Lead with ]]&gt; inside &amp; &lt;i&gt;tags&lt;/i&gt;"));
    EXPECT_THAT(content, HasSubstr("<figcaption>Quang cảnh cuộc họp.</figcaption>"));
    EXPECT_THAT(content, HasSubstr("href=\"https://video.test/v?a=1&amp;b=2\""));
    EXPECT_THAT(content, Not(HasSubstr("javascript")));
    EXPECT_THAT(content, Not(HasSubstr("<script")));
    EXPECT_THAT(content, Not(HasSubstr("<i>")));

    const auto& second = feed["entries"][1];
    EXPECT_EQ(second["title"], "Tiêu đề undated");
    EXPECT_EQ(second["published"], 1735020000);  // first_seen 2024-12-24T06:00:00Z
    EXPECT_TRUE(second["author"].is_null());
}

// Every ground-truth article of the fixture sites, as the extractor should produce it.
std::vector<FeedEntry> fixture_entries() {
    std::vector<fs::path> files;
    for (const auto& site : fs::directory_iterator(fs::path(BAOFEED_FIXTURES_DIR) / "sites")) {
        if (!site.is_directory() || !fs::is_directory(site.path() / "expected")) {
            continue;
        }
        for (const auto& file : fs::directory_iterator(site.path() / "expected")) {
            if (file.path().extension() == ".json") {
                files.push_back(file.path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<FeedEntry> entries;
    for (const fs::path& file : files) {
        const nlohmann::json truth = nlohmann::json::parse(testing::read_file(file));
        FeedEntry entry;
        Article& a = entry.article;
        a.canonical_url = truth.at("canonical_url");
        a.site = truth.at("site");
        a.title = truth.at("title");
        a.author = truth.value("author", nlohmann::json()).is_string()
                       ? truth.at("author").get<std::string>()
                       : "";
        if (truth.at("published").is_string()) {
            a.published = dates::parse_iso8601(truth.at("published").get<std::string>());
        }
        a.lead = truth.at("lead");
        a.body = truth.at("body").get<std::vector<std::string>>();
        for (const auto& image : truth.at("images")) {
            a.images.push_back({image.at("src"), image.at("caption")});
        }
        for (const auto& video : truth.at("videos")) {
            a.videos.push_back({video.at("src"), video.at("poster"), video.at("caption")});
        }
        entry.first_seen = at(2025y / 1 / 1, 0h);
        entries.push_back(std::move(entry));
    }
    return entries;
}

// Text as feedparser re-serialises it after reading our HTML: like escape_text, but with a bare '.
std::string as_feedparser_writes(std::string_view text) {
    std::string out = escape_text(text);
    for (std::size_t pos = out.find("&#39;"); pos != std::string::npos; pos = out.find("&#39;")) {
        out.replace(pos, 5, "'");
    }
    return out;
}

TEST_F(RenderRssExternal, FixtureArticlesRoundTripThroughXmllintAndFeedparser) {
    const std::vector<FeedEntry> entries = fixture_entries();
    ASSERT_GE(entries.size(), 20u);
    const std::string rss = render_rss(test_channel(), entries);
    EXPECT_EQ(xmllint(rss), "");
    const nlohmann::json feed = feedparser(rss);
    ASSERT_FALSE(feed["bozo"].get<bool>()) << feed["bozo_exception"];
    ASSERT_EQ(feed["entries"].size(), entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const Article& a = entries[i].article;
        const auto& parsed = feed["entries"][i];
        SCOPED_TRACE(a.canonical_url);
        ASSERT_TRUE(a.published.has_value());
        EXPECT_EQ(parsed["title"], a.title);
        EXPECT_EQ(parsed["link"], a.canonical_url);
        EXPECT_EQ(parsed["published"], a.published->time_since_epoch().count());
        if (a.author.empty()) {
            EXPECT_TRUE(parsed["author"].is_null());
        } else {
            EXPECT_EQ(parsed["author"], a.author);
        }
        const std::string content = parsed["content"];
        for (const std::string& paragraph : a.body) {
            EXPECT_THAT(content, HasSubstr("<p>" + as_feedparser_writes(paragraph) + "</p>"));
        }
        for (const Image& image : a.images) {
            EXPECT_THAT(content, HasSubstr(as_feedparser_writes(image.src)));
        }
    }
}

TEST(RenderRss, InjectionFixtureKeepsLiteralScriptAsTextOnly) {
    const std::vector<FeedEntry> entries = fixture_entries();
    const auto it = std::find_if(entries.begin(), entries.end(), [](const FeedEntry& e) {
        return e.article.canonical_url.ends_with("-post67940.html");
    });
    ASSERT_NE(it, entries.end());
    const std::string rss = render_rss(test_channel(), {*it});
    // The paragraph quoting "<script>alert(1)</script>" is escaped once for HTML; CDATA keeps it.
    EXPECT_THAT(rss, HasSubstr("dán nguyên văn đoạn mã lạ &lt;script&gt;alert(1)&lt;/script&gt;"));
    for (const char* element : {"<script", "<iframe", "<svg", "<form", "<input", "<meta", "<object",
                                "<embed", "<style"}) {
        EXPECT_THAT(rss, Not(HasSubstr(element)));
    }
    for (const char* attribute :
         {"onerror", "onload", "onclick", "style=", "javascript:", "data:"}) {
        EXPECT_THAT(rss, Not(HasSubstr(attribute)));
    }
}

}  // namespace
}  // namespace baofeed::publish
