#include "parsers/extract.h"

#include <string>

#include <gtest/gtest.h>

#include "core/dates.h"

namespace baofeed::parsers {
namespace {

SiteRules basic_rules() {
    SiteRules r;
    r.title = "h1.title";
    r.lead = "div.sapo";
    r.body = "div.body";
    r.author = "p.author";
    r.caption = "figcaption, td.caption, p.pCaption";
    r.next_page = "div.paging a";
    r.remove = {"div.ads"};
    return r;
}

TEST(ExtractArticle, SplitsBlocksIntoParagraphsAndDropsJunk) {
    const Extraction e = extract_article(
        R"html(<html><body><h1 class="title"> Tiêu   đề </h1><div class="sapo">Sapo</div>
<div class="body">
<p>One &amp; <b>bold</b></p><div class="ads">Quảng cáo</div>
<script>evil()</script><form><label>Nhập mã</label><input value="x"></form><button>Chia sẻ</button>
<h2>Heading</h2><ul><li>Item 1</li><li>Item 2</li></ul>
<div>Inline only <span>div</span></div>
<table><tr><td>Cell A</td><td>Cell B</td></tr></table>
<p>&nbsp;</p><p class="author">Tác giả</p>
</div></body></html>)html",
        "http://x.test/a.html", basic_rules());
    ASSERT_TRUE(e.ok) << e.error;
    EXPECT_EQ(e.article.title, "Tiêu đề");
    EXPECT_EQ(e.article.lead, "Sapo");
    EXPECT_EQ(e.article.author, "Tác giả");
    EXPECT_EQ(e.article.body, (std::vector<std::string>{"One & bold", "Heading", "Item 1", "Item 2",
                                                        "Inline only div", "Cell A", "Cell B"}));
}

TEST(ExtractArticle, TextDirectlyInTheContainerSplitsAtDoubleBreaks) {
    const Extraction e = extract_article(
        "<h1 class=title>T</h1><div class=body><!-- GMT+0700 -->First line<br>same para<br />"
        "<br />Second <i>para</i><br/> <br/><br>Third</div>",
        "http://x.test/a", basic_rules());
    ASSERT_TRUE(e.ok);
    EXPECT_EQ(e.article.body,
              (std::vector<std::string>{"First line same para", "Second para", "Third"}));
}

TEST(ExtractArticle, LeadInsideTheBodyIsNotRepeated) {
    SiteRules r = basic_rules();
    r.lead = "div.body > p:first-child > strong";
    const Extraction e = extract_article(
        "<h1 class=title>T</h1><div class=body><p><strong>Lead text</strong></p>"
        "<p><strong>Intertitle</strong></p><p>Para</p></div>",
        "http://x.test/a", r);
    ASSERT_TRUE(e.ok);
    EXPECT_EQ(e.article.lead, "Lead text");
    EXPECT_EQ(e.article.body, (std::vector<std::string>{"Intertitle", "Para"}));
}

TEST(ExtractArticle, ImagesUseLazySourcesNoscriptAndNearestCaptionNeverAlt) {
    SiteRules r = basic_rules();
    r.image_src_attrs = {"data-src", "src"};
    const Extraction e = extract_article(
        R"html(<h1 class=title>T</h1><div class=body>
<figure><img src="data:image/gif;base64,AAA" data-src="/i/1.jpg" alt="ALT1" title="TITLE1">
<noscript><img src="/i/1.jpg"></noscript><figcaption><p>Cap 1</p></figcaption></figure>
<figure><img src="data:image/gif;base64,AAA" alt="ALT2"><noscript><img src="/i/2.jpg"></noscript>
<figcaption></figcaption></figure>
<p>Text</p>
<table class="x"><tr><td><img src="../u/3.jpg"></td></tr></table>
<p class="pCaption"><i>Cap 3</i></p>
<p><img src="/i/1.jpg" data-title="dup"></p>
<p><img src="/i/4.jpg" alt="no caption here"></p>
</div>)html",
        "http://x.test/news/a.html", r);
    ASSERT_TRUE(e.ok) << e.error;
    EXPECT_EQ(e.article.images, (std::vector<Image>{{"http://x.test/i/1.jpg", "Cap 1"},
                                                    {"http://x.test/i/2.jpg", ""},
                                                    {"http://x.test/u/3.jpg", "Cap 3"},
                                                    {"http://x.test/i/4.jpg", ""}}));
    EXPECT_EQ(e.article.body, (std::vector<std::string>{"Text"}));
}

TEST(ExtractArticle, FindsIframeAndVideoWithPosterAndCaption) {
    const Extraction e = extract_article(
        R"html(<h1 class=title>T</h1><div class=body><p>x</p>
<figure class="video"><iframe src="//v.test/embed/1" data-poster="/p1.jpg"></iframe>
<figcaption>Video cap</figcaption></figure>
<iframe src="javascript:alert(1)"></iframe>
<div><video poster="/p2.jpg"><source src="/v2.mp4" type="video/mp4"></video></div></div>)html",
        "http://x.test/a", basic_rules());
    ASSERT_TRUE(e.ok);
    EXPECT_EQ(e.article.videos,
              (std::vector<Video>{{"http://v.test/embed/1", "http://x.test/p1.jpg", "Video cap"},
                                  {"http://x.test/v2.mp4", "http://x.test/p2.jpg", ""}}));
}

TEST(ExtractArticle, DatesFallBackFromRulesToMetaToJsonLdToTime) {
    SiteRules r = basic_rules();
    const std::string body = "<h1 class=title>T</h1><div class=body><p>x</p></div>";
    const auto published_of = [&](const std::string& head, const SiteRules& rules) {
        const Extraction e =
            extract_article("<head>" + head + "</head>" + body, "http://x.test/", rules);
        return e.article.published ? dates::format_iso8601_vn(*e.article.published) : "none";
    };
    EXPECT_EQ(published_of("<meta property='article:published_time' "
                           "content='2024-12-22T11:40:00+07:00'>",
                           r),
              "2024-12-22T11:40:00+07:00");
    EXPECT_EQ(published_of(R"html(<script type="application/ld+json">{"@graph":[{"@type":"WebPage"},
{"@type":["NewsArticle"],"datePublished":"2024-12-23T07:45:00"}]}</script>)html",
                           r),
              "2024-12-23T07:45:00+07:00");
    EXPECT_EQ(published_of(R"html(<script type="application/ld+json">[{"@type":"Article",
"datePublished":"2024-12-24T09:00:00+0700"}]</script>)html",
                           r),
              "2024-12-24T09:00:00+07:00");
    EXPECT_EQ(published_of("<script type='application/ld+json'>{broken</script>", r), "none");
    EXPECT_EQ(published_of("</head><body><time datetime='2024-12-25T08:00:00+07:00'>x</time>", r),
              "2024-12-25T08:00:00+07:00");
    r.published_text = "span.date";
    const Extraction e = extract_article(
        "<span class=date>Thứ năm, 19/12/2024 - 08:00</span>" + body, "http://x.test/", r);
    ASSERT_TRUE(e.article.published.has_value());
    EXPECT_EQ(dates::format_iso8601_vn(*e.article.published), "2024-12-19T08:00:00+07:00");
}

TEST(ExtractArticle, ModifiedOnlyWhenItDiffersFromPublished) {
    SiteRules r = basic_rules();
    r.published = "meta[property='article:published_time']";
    r.modified = "meta[property='article:modified_time']";
    const std::string body = "<h1 class=title>T</h1><div class=body><p>x</p></div>";
    const Extraction same = extract_article(
        "<meta property='article:published_time' content='2024-12-22T11:40:00+07:00'>"
        "<meta property='article:modified_time' content='2024-12-22T11:40:00+07:00'>" +
            body,
        "http://x.test/", r);
    EXPECT_TRUE(same.article.published.has_value());
    EXPECT_FALSE(same.article.modified.has_value());
    const Extraction changed = extract_article(
        "<meta property='article:published_time' content='2024-12-22T11:40:00+07:00'>"
        "<meta property='article:modified_time' content='2024-12-23T10:00:00+07:00'>" +
            body,
        "http://x.test/", r);
    ASSERT_TRUE(changed.article.modified.has_value());
    EXPECT_EQ(dates::format_iso8601_vn(*changed.article.modified), "2024-12-23T10:00:00+07:00");
}

TEST(ExtractArticle, TitleFallsBackToOgTitleThenH1ThenTitleWithoutSuffix) {
    SiteRules r = basic_rules();
    const std::string body = "<div class=body><p>x</p></div>";
    EXPECT_EQ(extract_article("<meta property='og:title' content='OG'><h1>H</h1>" + body,
                              "http://x.test/", r)
                  .article.title,
              "OG");
    EXPECT_EQ(extract_article("<title>Tit - Site</title><h1>H</h1>" + body, "http://x.test/", r)
                  .article.title,
              "H");
    EXPECT_EQ(extract_article("<title>Bài - phụ | Báo X</title>" + body, "http://x.test/", r)
                  .article.title,
              "Bài - phụ");
}

TEST(ExtractArticle, MissingTitleOrAnyBodyTextIsAnError) {
    const Extraction no_title =
        extract_article("<div class=body><p>x</p></div>", "http://x.test/", basic_rules());
    EXPECT_FALSE(no_title.ok);
    EXPECT_EQ(no_title.error, "no title");
    // The body rule matches nothing and the generic fallback finds no text either.
    const Extraction no_body = extract_article("<h1 class=title>T</h1><div class=other></div>",
                                               "http://x.test/", basic_rules());
    EXPECT_FALSE(no_body.ok);
    EXPECT_EQ(no_body.error, "no body");
}

TEST(ExtractArticle, RefusesPathologicalPagesAsAValue) {
    std::string page = "<h1 class=title>T</h1><div class=body>";
    for (int i = 0; i < 6000; ++i) {
        page += "<span>";
    }
    const Extraction e = extract_article(page, "http://x.test/", basic_rules());
    EXPECT_FALSE(e.ok);
    EXPECT_NE(e.error.find("too deeply"), std::string::npos);
}

TEST(ExtractArticle, CanonicalAndNextPagesAreResolvedAndExcludeThePageItself) {
    const Extraction e = extract_article(
        R"html(<head><link rel="Canonical" href="/c.html"><meta property="og:url" content="/og"></head>
<h1 class=title>T</h1><div class=body><p>x</p></div>
<div class=paging><a href="/a.html">1</a><a href="/a/p2.html">2</a><a href="/a/p2.html#x">2</a></div>)html",
        "http://x.test/a.html", basic_rules());
    EXPECT_EQ(e.declared_canonical, "http://x.test/c.html");
    EXPECT_EQ(e.next_pages, (std::vector<std::string>{"http://x.test/a/p2.html"}));
    const Extraction og = extract_article(
        "<meta property='og:url' content='/og'><h1 class=title>T</h1><div class=body>x</div>",
        "http://x.test/a.html", basic_rules());
    EXPECT_EQ(og.declared_canonical, "http://x.test/og");
}

TEST(NormalizeByline, KeepsTheNamesWithoutLabelsAgencyWordsOrBrackets) {
    EXPECT_EQ(normalize_byline("Theo TTXVN"), "TTXVN");
    EXPECT_EQ(normalize_byline(" (Theo TTXVN) "), "TTXVN");
    EXPECT_EQ(normalize_byline("Bài, ảnh, video: Ngọc Anh"), "Ngọc Anh");
    EXPECT_EQ(normalize_byline("Quang Huy - Minh Đức"), "Quang Huy, Minh Đức");
    EXPECT_EQ(normalize_byline("By Jane Doe and John Roe"), "Jane Doe, John Roe");
    EXPECT_EQ(normalize_byline("Thanh Tâm"), "Thanh Tâm");
    EXPECT_EQ(normalize_byline(""), "");
}

TEST(ExtractArticle, LeadPrefixIsDetectedWhileTheLeadKeepsItsText) {
    const auto prefix_of = [](const std::string& lead) {
        return extract_article("<h1 class=title>T</h1><div class=sapo>" + lead +
                                   "</div><div class=body><p>x</p></div>",
                               "http://x.test/", basic_rules());
    };
    for (const auto& [lead, prefix] : std::vector<std::pair<std::string, std::string>>{
             {"BBK - Sáng 22/12, cuộc họp.", "BBK - "},
             {"(TTXVN) - Trung tâm dự báo.", "(TTXVN) - "},
             {"(Chinhphu.vn) - Thủ tướng.", "(Chinhphu.vn) - "},
             {"Hà Nội (TTXVN) – Sáng nay.", "Hà Nội (TTXVN) – "},
             {"Theo Trung tâm Dự báo - nhiệt độ giảm.", ""},
             {"Năm 2025 - năm bản lề.", ""}}) {
        const Extraction e = prefix_of(lead);
        EXPECT_EQ(e.article.lead, lead);
        EXPECT_EQ(e.article.lead_prefix, prefix) << lead;
    }
}

TEST(ExtractArticle, WithoutRulesTheGenericExtractorFindsBodyLeadBylineSectionAndDate) {
    const Extraction e = extract_article(
        R"html(<html><head><title>Báo X - Tiêu đề bài</title>
<meta name="description" content="Sapo của bài viết, đủ dài để so sánh với đoạn đầu."></head><body>
<div class="menu"><a href="/">Trang chủ</a><a href="/kt/">Kinh tế</a></div>
<div class="breadcrumb"><a href="/">Trang chủ</a> › <a href="/kt/">Kinh tế</a></div>
<h1>Tiêu đề bài</h1><span class="date">Thứ sáu, 22/12/2023, 08:30 (GMT+7)</span>
<div class="noidung">
<p><strong>Sapo của bài viết, đủ dài để so sánh với đoạn đầu.</strong></p>
<p>Đoạn thứ nhất của bài, có dấu phẩy, có nhiều chữ, và đủ dài để được chấm điểm.</p>
<p>Đoạn thứ hai của bài, cũng dài, có dấu phẩy, để bộ chấm điểm chọn khối này.</p>
<p style="text-align: right"><b>Quang Huy - Minh Đức</b></p></div>
<div class="tin-lien-quan"><a href="/a">Tin khác một</a><a href="/b">Tin khác hai</a></div>
</body></html>)html",
        "http://x.test/kt/a.html", SiteRules{});
    ASSERT_TRUE(e.ok) << e.error;
    EXPECT_TRUE(e.generic);
    EXPECT_EQ(e.article.title, "Tiêu đề bài");
    EXPECT_EQ(e.article.lead, "Sapo của bài viết, đủ dài để so sánh với đoạn đầu.");
    EXPECT_EQ(e.article.author, "Quang Huy, Minh Đức");
    EXPECT_EQ(e.article.section, "Kinh tế");
    ASSERT_TRUE(e.article.published.has_value());
    EXPECT_EQ(dates::format_iso8601_vn(*e.article.published), "2023-12-22T08:30:00+07:00");
    EXPECT_EQ(e.article.body,
              (std::vector<std::string>{
                  "Đoạn thứ nhất của bài, có dấu phẩy, có nhiều chữ, và đủ dài để được chấm điểm.",
                  "Đoạn thứ hai của bài, cũng dài, có dấu phẩy, để bộ chấm điểm chọn khối này."}));
    EXPECT_EQ(e.article.html.find("Tin khác"), std::string::npos);
    EXPECT_NE(e.article.html.find("Đoạn thứ hai"), std::string::npos);
}

TEST(AppendPage, AppendsParagraphsAndDeduplicatesImagesBySrc) {
    Extraction first;
    first.article.body = {"a"};
    first.article.images = {{"http://x.test/1.jpg", "c1"}};
    Extraction second;
    second.article.body = {"b", "c"};
    second.article.images = {{"http://x.test/1.jpg", "other"}, {"http://x.test/2.jpg", ""}};
    append_page(first, second);
    EXPECT_EQ(first.article.body, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(first.article.images,
              (std::vector<Image>{{"http://x.test/1.jpg", "c1"}, {"http://x.test/2.jpg", ""}}));
}

}  // namespace
}  // namespace baofeed::parsers
