// Hostile pages through extract_article, with no rules (generic extractor) and with site rules:
// each gives a result or a clear per-page error, never a crash or a hang. Gumbo 0.10.1 is
// quadratic on deep nesting and recursive on teardown, so every page whose tree would be deeper
// than HtmlDocument::kMaxDepth must be refused by the pre-scan BEFORE Gumbo sees it: those tests
// assert the refusal first and stop there if it is missing (instead of hanging for minutes).
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fuzz/sanitized_shape.h"
#include "parsers/extract.h"
#include "parsers/html_document.h"

namespace baofeed::parsers {
namespace {

using baofeed::testing::sanitized_shape_error;
using baofeed::testing::shape_detail::valid_utf8;

constexpr std::string_view kUrl = "http://baobackan.test/bai-viet-post1.html";

std::string repeat(std::string_view s, std::size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (std::size_t i = 0; i < n; ++i) {
        out += s;
    }
    return out;
}

std::string page(std::string_view body) {
    return "<!DOCTYPE html><html><head><meta charset=utf-8><title>Tiêu đề</title>"
           "<meta property=\"article:published_time\" content=\"2024-12-24T09:05:00+07:00\">"
           "</head><body><h1 class=title>Tiêu đề</h1><div class=body>" +
           std::string(body) + "</div></body></html>";
}

SiteRules site_rules() {
    SiteRules rules;
    rules.title = "h1.title";
    rules.body = "div.body";
    rules.author = "p.author, .byline strong";
    rules.published = "meta[property='article:published_time']";
    rules.caption = "figcaption";
    rules.next_page = "a.next";
    rules.remove = {"script", "div.ads", "figure:not(.keep) span", "table.related"};
    return rules;
}

// Whatever came out is clean: valid UTF-8 without NUL in every text field, sanitized HTML.
void expect_clean(const Extraction& e) {
    if (!e.ok) {
        EXPECT_FALSE(e.error.empty()) << "a failed extraction says why";
        return;
    }
    std::vector<std::string> texts = {e.article.title, e.article.author, e.article.lead,
                                      e.article.html};
    texts.insert(texts.end(), e.article.body.begin(), e.article.body.end());
    for (const Image& img : e.article.images) {
        texts.push_back(img.src);
        texts.push_back(img.caption);
    }
    for (const std::string& t : texts) {
        EXPECT_TRUE(valid_utf8(t)) << t.substr(0, 80);
        EXPECT_EQ(t.find('\0'), std::string::npos) << t.substr(0, 80);
    }
    EXPECT_EQ(sanitized_shape_error(e.article.html), "") << e.article.html.substr(0, 200);
}

// A page the pre-scan must refuse: refused by check(), and by extract_article with and without
// rules, with an error naming the reason.
void expect_refused(const std::string& html, std::string_view reason) {
    const std::string why = HtmlDocument::check(html);
    ASSERT_NE(why, "") << "the guard let it through: Gumbo would now parse it for a long time";
    EXPECT_NE(why.find(reason), std::string::npos) << why;
    for (const SiteRules& rules : {SiteRules{}, site_rules()}) {
        const Extraction e = extract_article(html, kUrl, rules);
        EXPECT_FALSE(e.ok);
        EXPECT_NE(e.error.find(reason), std::string::npos) << e.error;
    }
}

// A page that may be parsed: extract_article with and without rules returns something clean.
void expect_survives(const std::string& html) {
    for (const SiteRules& rules : {SiteRules{}, site_rules()}) {
        expect_clean(extract_article(html, kUrl, rules));
    }
}

TEST(Robustness, TwentyThousandUnclosedSpansAreRefusedBeforeParsing) {
    expect_refused(page(repeat("<span>x", 20000)), "deep");
}

TEST(Robustness, AHundredThousandNestedDivsAreRefusedBeforeParsing) {
    expect_refused(page(repeat("<div>", 100000) + "x" + repeat("</div>", 100000)), "deep");
}

TEST(Robustness, SelfClosingSyntaxDoesNotHideNesting) {
    // In HTML "<div/>" opens a div: a hundred thousand of them nest as deep as above.
    expect_refused(page(repeat("<div/>", 100000)), "deep");
}

TEST(Robustness, DeeplyNestedTablesAreRefusedBeforeParsing) {
    // Each level is table > tbody > tr > td in the tree, four deep, though only <table> is
    // written with an end tag that nests.
    const std::size_t levels = HtmlDocument::kMaxDepth / 4 + 10;
    expect_refused(page(repeat("<table><tr><td>", levels) + "x"), "deep");
}

TEST(Robustness, DeeplyNestedListsAreRefusedBeforeParsing) {
    const std::size_t levels = HtmlDocument::kMaxDepth / 2 + 10;
    expect_refused(page(repeat("<ul><li>", levels) + "x"), "deep");
    expect_refused(page(repeat("<dl><dd>", levels) + "x"), "deep");
}

TEST(Robustness, UnclosedFormattingElementsAreRefusedBeforeParsing) {
    expect_refused(page(repeat("<b id=x><i class=y>", 20000) + "x"), "deep");
    expect_refused(page(repeat("<font><p>text", 20000)), "deep");
}

TEST(Robustness, ATenMegabytePageIsRefusedBeforeParsing) {
    const std::string huge = page(repeat("<p>Nội dung bài viết rất dài.</p>\n", 300000));
    ASSERT_GT(huge.size(), 10'000'000U);
    expect_refused(huge, "large");
}

TEST(Robustness, NestingJustUnderTheLimitIsParsedAndExtracted) {
    // Deep but allowed: exercises the iterative traversals and Gumbo's recursive teardown at the
    // deepest tree the guard lets through.
    const std::size_t depth = HtmlDocument::kMaxDepth - 20;
    const std::string html = page(repeat("<div>", depth) + "<p>Đoạn văn sâu nhất trong trang.</p>" +
                                  repeat("</div>", depth));
    ASSERT_EQ(HtmlDocument::check(html), "");
    expect_survives(html);
    const Extraction e = extract_article(html, kUrl, site_rules());
    ASSERT_TRUE(e.ok) << e.error;
    EXPECT_NE(e.article.html.find("Đoạn văn sâu nhất"), std::string::npos);
}

TEST(Robustness, APageOfOnlyEntitiesIsTextNotMarkup) {
    const std::string body =
        "<p>" +
        repeat("&lt;script&gt;alert(1)&lt;/script&gt; &amp;&#65;&#x42;&eacute;&nbsp;", 8000) +
        "</p>";
    expect_survives(page(body));
    const Extraction e = extract_article(page(body), kUrl, site_rules());
    ASSERT_TRUE(e.ok) << e.error;
    EXPECT_EQ(e.article.html.find("<script"), std::string::npos);
    EXPECT_NE(e.article.html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp;ABé"),
              std::string::npos)
        << e.article.html.substr(0, 200);
    // And a page that is nothing but entities, no markup at all.
    expect_survives(repeat("&amp;&lt;&gt;&#0;&#xD800;&#x110000;&bogus;&", 8000));
}

TEST(Robustness, NulBytesAnywhereNeverLeakIntoTheOutput) {
    std::string body = "<p>Trư";
    body += '\0';
    body += "ớc <b";
    body += '\0';
    body += ">đậm</b> <img src=\"/a";
    body += '\0';
    body += ".jpg\" alt=\"x";
    body += '\0';
    body += "\"> <a hr";
    body += '\0';
    body += "ef=\"/b\">liên kết</a></p>";
    body += repeat(std::string(1, '\0'), 1000);
    body += "<p>Đoạn hai.</p>";
    const std::string html = page(body);
    expect_survives(html);
    const Extraction e = extract_article(html, kUrl, site_rules());
    ASSERT_TRUE(e.ok) << e.error;
    EXPECT_NE(e.article.html.find("Đoạn hai."), std::string::npos);
}

TEST(Robustness, InvalidUtf8IsReplacedNotPassedOn) {
    const std::string bad[] = {"\xff\xfe",
                               "\xc0\xaf",
                               "\x80\x80",
                               "\xe1\x80",
                               "\xf4\x90\x80\x80",
                               "\xed\xa0\x80",
                               "\xf8\x88\x80\x80\x80",
                               "\xc3"};
    std::string body = "<p>Bắt đầu ";
    for (const std::string& b : bad) {
        body += b + " chữ <a href=\"/x" + b + "\" title=\"" + b + "\">" + b + "</a> ";
    }
    body += "kết thúc.</p>";
    expect_survives(page(body));
    const Extraction e = extract_article(page(body), kUrl, site_rules());
    ASSERT_TRUE(e.ok) << e.error;
    EXPECT_NE(e.article.html.find("kết thúc."), std::string::npos);
}

TEST(Robustness, AGiantAttributeIsHandled) {
    const std::string giant(1'000'000, 'a');
    const std::string body = "<p data-x=\"" + giant + "\">Đoạn <a href=\"/" + giant +
                             "\">liên kết</a> <img src=\"/" + giant.substr(0, 100000) +
                             ".jpg\" alt=\"" + giant.substr(0, 100000) +
                             "\"></p><p title=" + giant + ">" + "Đoạn hai.</p>";
    expect_survives(page(body));
}

TEST(Robustness, ManyUnclosedParagraphsAndListItemsStayFlat) {
    // Implied end tags keep these flat: the guard must accept them, and they parse quickly.
    const std::string html = page(repeat("<p>đoạn<li>mục<dd>định nghĩa<option>x", 2000));
    ASSERT_EQ(HtmlDocument::check(html), "");
    expect_survives(html);
}

TEST(Robustness, AFormAroundATableOfBareTextGivesAResult) {
    // The fuzzer's std::out_of_range (generic_test.cpp explains it), behind a title so that
    // the extraction goes all the way through.
    constexpr char kPage[] =
        "<title>B\xE1\xBA\xA3ng gi\xC3\xA1</title>"
        "<form><table><td><a>Tanc\xBB</a>|<a>K\xFF\xFF\xFF\xFF\xFF\xFF\x00|\x03"
        "79\x05"
        "A!--tr><tr><td \x22><a>T\xFF"
        "d.c\xFF\x95\x95"
        "a>|nho\xC3</a>|<a>T\xACm k\xBA\xACm<><tr>ricle__tiiod\x95\x95";
    const std::string html(kPage, sizeof(kPage) - 1);
    expect_survives(html);
    const Extraction e = extract_article(html, kUrl, SiteRules{});
    ASSERT_TRUE(e.ok) << e.error;
    EXPECT_EQ(e.article.title, "Bảng giá");
    EXPECT_FALSE(e.article.body.empty());
}

TEST(Robustness, EmptyTruncatedAndRandomInputsGiveAResultOrAnError) {
    std::vector<std::string> inputs = {
        "",         " ",       "<",        "<!--",           "<html",   "</",          "<![CDATA[",
        "<script>", "<style>", "<svg><p>", "<table><tr><td", "<p>a</p", "\xef\xbb\xbf"};
    std::mt19937 rng(20241224);
    std::uniform_int_distribution<int> byte(0, 255);
    const std::string alphabet = "<>/=\"' abcdivspantbl!-&#;x\n";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    for (int n = 0; n < 20; ++n) {
        std::string noise;
        std::string markup;
        for (int i = 0; i < 2000; ++i) {
            noise += static_cast<char>(byte(rng));
            markup += alphabet[pick(rng)];
        }
        inputs.push_back(noise);
        inputs.push_back(markup);
    }
    for (const std::string& in : inputs) {
        expect_survives(in);
    }
}

}  // namespace
}  // namespace baofeed::parsers
