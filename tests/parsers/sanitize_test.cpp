// sanitize_html: the allow-list serializer for republished article bodies. Every output is also
// checked for shape (allow-listed tags/attributes, balanced, escaped, http(s) URLs only) and for
// stability under a Gumbo round trip (re-parsing and re-sanitizing gives the same bytes).
#include "parsers/sanitize.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fuzz/sanitized_shape.h"
#include "parsers/html_document.h"
#include "parsers/select.h"

namespace baofeed::parsers {
namespace {

namespace fs = std::filesystem;
using baofeed::testing::sanitized_shape_error;

constexpr std::string_view kBase = "http://example.test/news/today/a.html";

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Sanitizes the children of <body> of `body_html`.
std::string clean(const std::string& body_html, std::string_view base = kBase,
                  const std::function<bool(const GumboNode*)>& skip = {},
                  const SanitizeOptions& options = {}) {
    const HtmlDocument doc("<!DOCTYPE html><html><head></head><body>" + body_html +
                           "</body></html>");
    EXPECT_EQ(doc.error(), "");
    return sanitize_html(doc.body(), base, skip, options);
}

// Shape, then the round trip: what an HTML parser reads back from the output sanitizes to the
// same bytes (a misnested or unbalanced output would be restructured by the parser).
::testing::AssertionResult well_formed(const std::string& out,
                                       const SanitizeOptions& options = {}) {
    if (const std::string e = sanitized_shape_error(out); !e.empty()) {
        return ::testing::AssertionFailure() << e << "\nin: " << out;
    }
    const std::string again = clean(out, kBase, {}, options);
    if (again != out) {
        return ::testing::AssertionFailure()
               << "round trip changed the output\nfirst:  " << out << "\nsecond: " << again;
    }
    return ::testing::AssertionSuccess();
}

// Errors xmllint --html reports for `html`, except its complaints about HTML5 element names
// (its parser knows HTML 4 only).
std::string xmllint_errors(const std::string& html) {
    // Test binaries run in parallel (ctest -j): the file names are this process's own.
    const fs::path dir = fs::path(::testing::TempDir());
    const std::string tag = std::to_string(::getpid());
    const fs::path in = dir / ("sanitize_xmllint_in." + tag + ".html");
    const fs::path err = dir / ("sanitize_xmllint_err." + tag + ".txt");
    {
        std::ofstream f(in, std::ios::binary);
        f << "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>t</title></head><body>\n"
          << html << "\n</body></html>\n";
    }
    const std::string cmd =
        "xmllint --html --noout '" + in.string() + "' 2> '" + err.string() + "'";
    const int rc = std::system(cmd.c_str());
    std::string problems;
    std::istringstream lines(read_file(err));
    for (std::string line; std::getline(lines, line);) {
        if (line.find("parser error") == std::string::npos &&
            line.find("parser warning") == std::string::npos) {
            continue;
        }
        bool html5_tag = false;
        for (const char* t : {"figure", "figcaption", "video", "source", "mark"}) {
            if (line.find(std::string("Tag ") + t + " invalid") != std::string::npos) {
                html5_tag = true;
            }
        }
        if (!html5_tag) {
            problems += line + "\n";
        }
    }
    if (rc != 0 && problems.empty()) {
        problems = "xmllint exit status " + std::to_string(rc);
    }
    return problems;
}

TEST(Sanitize, KeepsAllowedStructureAndEscapesText) {
    const std::string out =
        clean("<p class=x id=y>Hello <b>bold</b> &amp; <i>it</i> &lt;b&gt; 1 &gt; 0</p>");
    EXPECT_EQ(out, "<p>Hello <b>bold</b> &amp; <i>it</i> &lt;b&gt; 1 &gt; 0</p>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, DropsEveryEventHandlerAttribute) {
    const std::vector<std::string> handlers = {
        "onload",      "onerror",          "onclick",   "onmouseover",   "onfocus",
        "onblur",      "onanimationstart", "ontoggle",  "onpointerdown", "onbeforeprint",
        "onwheel",     "onkeydown",        "onsubmit",  "oninput",       "ONCLICK",
        "OnMouseOver", "onbegin",          "onfocusin", "onscroll",      "ontransitionend"};
    for (const std::string& h : handlers) {
        const std::string html = "<p " + h + "=\"alert(1)\">t <a href=/x " + h +
                                 "=alert(2)>l</a><img src=/i.jpg " + h + "='alert(3)'></p>" +
                                 "<div " + h + "=alert(4)>d</div>";
        const std::string out = clean(html);
        EXPECT_EQ(out.find("alert"), std::string::npos) << h << ": " << out;
        EXPECT_NE(out.find("<a href=\"http://example.test/x\">l</a>"), std::string::npos) << out;
        EXPECT_NE(out.find("<img src=\"http://example.test/i.jpg\">"), std::string::npos) << out;
        EXPECT_TRUE(well_formed(out));
    }
}

TEST(Sanitize, DropsScriptAndDataUrlsInAnyDisguise) {
    const std::vector<std::string> urls = {
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "\tjavascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;&#x61;vascript:alert(1)",
        "&#0000106;avascript:alert(1)",
        "javascript&colon;alert(1)",
        "&#x20;javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "DATA:image/svg+xml,<svg onload=alert(1)>",
        " data:image/gif;base64,R0lGOD",
        "vbscript:msgbox(1)",
        "VBScript:msgbox(1)",
        "livescript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.test/x",
    };
    for (const std::string& u : urls) {
        const std::string attr = "\"" + u + "\"";
        const std::string html = "<p><a href=" + attr + ">keep me</a></p><img src=" + attr +
                                 "><iframe src=" + attr + "></iframe><video src=" + attr +
                                 " poster=" + attr + "></video>";
        const std::string out = clean(html);
        EXPECT_EQ(out, "<p>keep me</p>") << "url: " << u;
        EXPECT_TRUE(well_formed(out));
    }
    // Gumbo turns a control character into U+FFFD, which makes the URL a harmless relative one.
    const std::string out = clean("<p><a href=\"\x01javascript:alert(1)\">k</a></p>");
    EXPECT_TRUE(well_formed(out));
    EXPECT_NE(out.find("href=\"http://example.test/news/today/%EF%BF%BDjavascript"),
              std::string::npos)
        << out;
}

TEST(Sanitize, DropsSvgMathAndTheirHandlers) {
    const std::string out = clean(
        "<p>a</p><svg width=1 onload=alert(1)><circle r=1></circle><script>alert(2)</script>"
        "<foreignObject><p>inner</p></foreignObject></svg><math><mi>x</mi></math><p>b</p>");
    EXPECT_EQ(out, "<p>a</p>\n<p>b</p>");
}

TEST(Sanitize, DropsIframesWithScriptUrlsAndFromHostsNotAllowed) {
    const std::string out = clean(
        "<iframe src=\"javascript:alert('x')\" style=display:none></iframe>"
        "<iframe src=\"https://evil.test/embed\"></iframe>"
        "<iframe src=\"https://www.youtube.com.evil.test/embed/x\"></iframe>"
        "<iframe src=\"https://eviltv.zing.vn/x\"></iframe>"
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>"
        "<iframe src=\"https://www.youtube.com/embed/abc\" width=560 height=315 allowfullscreen "
        "onload=alert(1) style=\"x\">fallback <b>text</b></iframe>"
        "<iframe src=\"//player.vimeo.com/video/1\" width=\"100%\" height=\"50px\"></iframe>"
        "<iframe src=\"https://a.tv.zing.vn/v/1\"></iframe>");
    EXPECT_EQ(out,
              "<p><iframe src=\"https://www.youtube.com/embed/abc\" width=\"560\" height=\"315\" "
              "allowfullscreen sandbox=\"allow-scripts allow-same-origin allow-popups\">"
              "</iframe><iframe src=\"http://player.vimeo.com/video/1\" width=\"100%\" "
              "sandbox=\"allow-scripts allow-same-origin allow-popups\"></iframe><iframe "
              "src=\"https://a.tv.zing.vn/v/1\" sandbox=\"allow-scripts allow-same-origin "
              "allow-popups\"></iframe></p>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, IframeHostsComeFromTheOptions) {
    SanitizeOptions options;
    options.iframe_hosts = {"video.baobackan.test"};
    const std::string html =
        "<iframe src=\"http://video.baobackan.test/embed/1\"></iframe>"
        "<iframe src=\"https://www.youtube.com/embed/abc\"></iframe>";
    const std::string out = clean(html, kBase, {}, options);
    EXPECT_NE(out.find("video.baobackan.test"), std::string::npos) << out;
    EXPECT_EQ(out.find("youtube"), std::string::npos) << out;
    EXPECT_TRUE(well_formed(out, options));
    options.iframe_hosts.clear();
    EXPECT_EQ(clean(html, kBase, {}, options), "");
}

TEST(Sanitize, DropsStyleAttributesAndStyleElements) {
    const std::string out = clean(
        "<style>p{background:url(javascript:alert(1))}</style>"
        "<p style=\"background:url(javascript:alert(1))\">t</p>"
        "<div style=\"behavior:url(x.htc)\"><span style=\"color:red\">u</span></div>");
    EXPECT_EQ(out, "<p>t</p>\n<p>u</p>");
}

TEST(Sanitize, DropsMetaRefreshBaseLinksFormsAndTheirControls) {
    const std::string out = clean(
        "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">"
        "<base href=\"http://evil.test/\"><link rel=stylesheet href=\"x.css\">"
        "<form action=\"http://evil.test/collect\"><input name=otp placeholder=\"OTP\">"
        "<button>Go</button><textarea>t</textarea><select><option>o</option></select>"
        "<label>Name</label></form><input type=image src=x.png><button>B</button>"
        "<object data=\"x.swf\"><embed src=\"x.swf\"></object>"
        "<p><a href=\"rel.html\">kept</a></p>");
    // The relative link resolves against the given base URL, never against an injected <base>.
    EXPECT_EQ(out, "<p><a href=\"http://example.test/news/today/rel.html\">kept</a></p>");
}

TEST(Sanitize, ClosesNestedAndUnclosedTagsIntoBalancedOutput) {
    // Unclosed formatting elements are reopened by the parser in every following block.
    const std::string out = clean(
        "<p><b><i>x</b> y<p>z<ul><li>a<li>b <em>c</ul><div><span>q<table><tr><td>1<td>2"
        "</table><blockquote><p>quote<h3>head</blockquote><ol><li><ul><li>deep</ul></ol>"
        "<a href=/1>one<a href=/2>two</a></a><h2>t<h3>u</h2>");
    EXPECT_TRUE(well_formed(out));
    for (const char* text : {"x", "y", "z", "a", "b", "c", "q", "1", "2", "quote", "head", "deep",
                             "one", "two", "t", "u"}) {
        EXPECT_NE(out.find(text), std::string::npos) << text;
    }
    EXPECT_EQ(out.find("<a href=\"http://example.test/1\">one<a"), std::string::npos) << out;
}

TEST(Sanitize, KeepsListsTablesAndQuotesWithImpliedEndTags) {
    const std::string out = clean(
        "<ul><li>a<li>b <em>c</em></ul><table><tr><td>1<td>2</table>"
        "<blockquote><p>quote<h3>head</h3></blockquote><ol><li><ul><li>deep</ul></ol>");
    EXPECT_EQ(out,
              "<ul><li>a</li>\n<li>b <em>c</em></li>\n</ul>\n<table><tbody><tr><td>1</td>\n"
              "<td>2</td>\n</tr>\n</tbody>\n</table>\n<blockquote><p>quote</p><h3>head</h3>"
              "</blockquote>\n<ol><li><ul><li>deep</li>\n</ul></li>\n</ol>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, KeepsBlocksOutOfParagraphsAndHeadings) {
    // Gumbo keeps a <div> inside <b> inside <p>... but a <p> written inside a <p> would be split
    // by any parser: such blocks are unwrapped into their text.
    // Without a doctype (quirks mode) Gumbo keeps a <table> inside <p>; a heading keeps a
    // <figure>, and <pre> a <div>.
    const HtmlDocument doc(
        "<p>x <b>b<table><tr><td>cell</td></tr></table></b> y</p>"
        "<h2>h <figure><img src=/f.jpg></figure></h2><pre>code\n  <div>x</div>\n</pre>");
    const std::string out = sanitize_html(doc.body(), kBase);
    EXPECT_EQ(out,
              "<p>x <b>b cell </b> y</p>\n<h2>h <img src=\"http://example.test/f.jpg\"> </h2>\n"
              "<pre>\ncode\n  x \n</pre>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, ResolvesRelativeUrls) {
    const std::string out = clean(
        "<p><a href=\"../b.html?x=1#f\">1</a> <a href=\"/c\">2</a> <a href=\"//cdn.test/d\">3"
        "</a> <a href=\"?page=2\">4</a> <a href=\"https://other.test/e\">5</a></p>"
        "<p><img src=\"img/x.jpg\"><img src=\"/y.jpg\"></p>");
    EXPECT_EQ(out,
              "<p><a href=\"http://example.test/news/b.html?x=1#f\">1</a> <a "
              "href=\"http://example.test/c\">2</a> <a href=\"http://cdn.test/d\">3</a> <a "
              "href=\"http://example.test/news/today/a.html?page=2\">4</a> <a "
              "href=\"https://other.test/e\">5</a></p>\n<p><img "
              "src=\"http://example.test/news/today/img/x.jpg\"><img "
              "src=\"http://example.test/y.jpg\"></p>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, DropsUrlsThatWouldComeBackAsInvalidUtf8) {
    // curl decodes %-escapes in host names; a lone byte must not reach the output (it would
    // break the RSS feed that carries this HTML).
    const std::string out = clean(
        "<p><a href=\"http://bao%ACkan.test/x\">t</a><img "
        "src=\"http://cdn.bao%ACkan.test/i.jpg\"></p>");
    EXPECT_EQ(out, "<p>t</p>");
}

TEST(Sanitize, WithoutAUsableBaseKeepsOnlyAbsoluteUrls) {
    const std::string out =
        clean("<p><a href=\"/rel\">r</a> <a href=\"http://x.test/abs\">a</a></p>", "");
    EXPECT_EQ(out, "<p>r <a href=\"http://x.test/abs\">a</a></p>");
}

TEST(Sanitize, DropsSrcsetAndUsesItOnlyWhenThereIsNoSrc) {
    const std::string out = clean(
        "<p><img src=\"a.jpg\" srcset=\"b.jpg 2x, c.jpg 3x\" sizes=\"100vw\"></p>"
        "<p><img srcset=\"d.jpg 480w, e.jpg 800w\"></p>"
        "<picture><source srcset=\"f.webp\" type=\"image/webp\"><img src=\"g.jpg\" alt=\"G\">"
        "</picture>");
    EXPECT_EQ(out,
              "<p><img src=\"http://example.test/news/today/a.jpg\"></p>\n"
              "<p><img src=\"http://example.test/news/today/d.jpg\"></p>\n"
              "<p><img src=\"http://example.test/news/today/g.jpg\" alt=\"G\"></p>");
}

TEST(Sanitize, LazyImagesTakeTheirRealSourceOnce) {
    const std::string out = clean(
        "<figure><img class=lazyload src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\" "
        "data-src=\"/real.jpg\" alt=\"Real\"><noscript><img src=\"/real.jpg\" alt=\"Real\">"
        "</noscript><figcaption>Cap</figcaption></figure>"
        "<p><img src=\"data:image/gif;base64,R0l\" data-original=\"/orig.jpg\"></p>"
        "<p><img data-photo-original-src=\"/photo.jpg\" src=\"/thumb.jpg\"></p>"
        "<div><img src=\"data:image/gif;base64,R0l\"><noscript><img src=\"/only-ns.jpg\">"
        "<span>enable js</span></noscript></div>"
        "<p><img src=\"data:image/gif;base64,R0l\" onerror=\"fetch('x')\" width=1 height=1></p>");
    EXPECT_EQ(out,
              "<figure><img src=\"http://example.test/real.jpg\" alt=\"Real\"><figcaption>Cap"
              "</figcaption></figure>\n"
              "<p><img src=\"http://example.test/orig.jpg\"></p>\n"
              "<p><img src=\"http://example.test/photo.jpg\"></p>\n"
              "<p><img src=\"http://example.test/only-ns.jpg\"></p>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, DropsEmptyElements) {
    EXPECT_EQ(clean("<p></p><p> &nbsp; </p><p><br><br></p><b></b><a href=\"/x\"> </a>"
                    "<figure><figcaption></figcaption></figure><ul><li></li></ul><div></div>"
                    "<h2> </h2><blockquote>\u200b</blockquote><table><tbody></tbody></table>"
                    "<video></video><br><hr2>"),
              "");
    EXPECT_EQ(clean("<p>x<b> </b>y<i></i>z</p>"), "<p>x yz</p>");
}

TEST(Sanitize, SkipDropsWholeSubtrees) {
    const Selector junk("div.ads, .lead");
    const std::string out = clean(
        "<p class=lead>Lead</p><p>Body <span class=lead>x</span>text</p>"
        "<div class=ads><p>Buy</p><img src=/ad.jpg></div><p>End</p>",
        kBase, [&junk](const GumboNode* n) { return junk.matches(n); });
    EXPECT_EQ(out, "<p>Body text</p>\n<p>End</p>");
}

TEST(Sanitize, LooseTopLevelTextBecomesParagraphs) {
    const std::string out = clean(
        "First line<br>second line<br><br><div>Block two <a href=/x>link</a></div>"
        "<span>Three</span><p>Four</p><br><div><div>Five</div>Six</div>");
    EXPECT_EQ(out,
              "<p>First line<br>second line<br><br></p>\n<p>Block two <a "
              "href=\"http://example.test/x\">link</a></p>\n<p>Three</p>\n<p>Four</p>\n"
              "<p>Five</p>\n<p>Six</p>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, MapsH1ToH2AndKeepsPreformattedText) {
    const std::string out = clean("<h1>Title</h1><pre>\n\nline 1\n  <b>line</b> 2</pre>");
    EXPECT_EQ(out, "<h2>Title</h2>\n<pre>\n\nline 1\n  <b>line</b> 2</pre>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, KeepsTablesWithSpansAndEmptyCells) {
    const std::string out = clean(
        "<table border=1 style=x><caption>C</caption><thead><tr><th colspan=2 "
        "style=y>H</th></tr></thead><tbody><tr><td rowspan=\"2\" width=9>a</td><td></td></tr>"
        "<tr><td colspan=\"x\">b</td></tr></tbody></table>");
    EXPECT_EQ(out,
              "<table><caption>C</caption>\n<thead><tr><th colspan=\"2\">H</th>\n</tr>\n"
              "</thead>\n<tbody><tr><td rowspan=\"2\">a</td>\n<td></td>\n</tr>\n<tr><td>b</td>\n"
              "</tr>\n</tbody>\n</table>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, KeepsVideosWithSourcesAndPosters) {
    const std::string out = clean(
        "<video poster=\"/p.jpg\" autoplay onplay=alert(1)><source src=\"/v.mp4\" "
        "type=\"video/mp4\"><track src=\"/t.vtt\">Your browser <b>cannot</b></video>"
        "<video src=\"/w.mp4\"></video><video poster=\"/only-poster.jpg\"></video>");
    EXPECT_EQ(out,
              "<p><video poster=\"http://example.test/p.jpg\" controls><source "
              "src=\"http://example.test/v.mp4\" type=\"video/mp4\"></video><video "
              "src=\"http://example.test/w.mp4\" controls></video></p>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, EscapesAttributeValues) {
    const std::string out = clean(
        "<p><img src=\"/a.jpg\" alt='say \"hi\" & <b>bye</b>'>"
        "<a href=\"/q?a=1&amp;b=2\" title=\"x&quot;y\">t</a></p>");
    EXPECT_EQ(out,
              "<p><img src=\"http://example.test/a.jpg\" alt=\"say &quot;hi&quot; &amp; "
              "&lt;b&gt;bye&lt;/b&gt;\"><a href=\"http://example.test/q?a=1&amp;b=2\" "
              "title=\"x&quot;y\">t</a></p>");
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, DropsNulAndControlCharacters) {
    std::string html = "<p>a";
    html += '\0';
    html += "b\x01\x08 c\x7f</p><p><img src=\"/x.jpg\" alt=\"n";
    html += '\0';
    html += "ul\x02\"></p>";
    const std::string out = clean(html);
    EXPECT_EQ(out.find('\0'), std::string::npos);
    EXPECT_EQ(out.find('\x01'), std::string::npos);
    EXPECT_EQ(out.find('\x7f'), std::string::npos);
    // Gumbo drops NUL in text and turns other controls into U+FFFD.
    EXPECT_NE(out.find("<p>ab"), std::string::npos) << out;
    EXPECT_TRUE(well_formed(out));
}

TEST(Sanitize, WalksDeepTreesWithoutRecursion) {
    std::string html;
    // Just below HtmlDocument's guard (what a page may have), walked without recursion.
    const int depth = static_cast<int>(HtmlDocument::kMaxDepth) - 10;
    for (int i = 0; i < depth; ++i) {
        html += i % 2 == 0 ? "<blockquote>" : "<div>";
    }
    html += "deep";
    for (int i = depth - 1; i >= 0; --i) {
        html += i % 2 == 0 ? "</blockquote>" : "</div>";
    }
    const std::string out = clean(html);
    EXPECT_TRUE(sanitized_shape_error(out).empty()) << sanitized_shape_error(out);
    EXPECT_NE(out.find("deep"), std::string::npos);
}

TEST(Sanitize, NullContainerGivesEmptyOutput) {
    EXPECT_EQ(sanitize_html(nullptr, kBase), "");
}

// The injected article in the baobackan fixture site, through the site's body selector.
class InjectionArticle : public ::testing::Test {
  protected:
    void SetUp() override {
        const fs::path site = fs::path(BAOFEED_FIXTURES_DIR) / "sites" / "baobackan";
        html_ = read_file(site / "www" /
                          "ban-doc-phan-anh-tuyen-duong-lien-xa-xuong-cap-post67940.html");
        expected_ = nlohmann::json::parse(
            read_file(site / "expected" / "ban-doc-phan-anh-tuyen-duong-lien-xa-xuong-cap.json"));
        config_ = nlohmann::json::parse(read_file(site / "site.json"));
        ASSERT_FALSE(html_.empty());
    }

    void check_expectations(const std::string& out) {
        const nlohmann::json& s = expected_.at("sanitize");
        for (const auto& el : s.at("forbidden_elements")) {
            const std::string tag = el.get<std::string>();
            EXPECT_EQ(out.find("<" + tag), std::string::npos) << tag << "\n" << out;
        }
        for (const auto& attr : s.at("forbidden_attributes")) {
            const std::string name = attr.get<std::string>();
            EXPECT_EQ(out.find(" " + name + "="), std::string::npos) << name << "\n" << out;
        }
        for (const auto& scheme : s.at("forbidden_url_schemes")) {
            const std::string text = scheme.get<std::string>();
            EXPECT_EQ(out.find(text), std::string::npos) << text << "\n" << out;
        }
        for (const auto& text : s.at("links_keep_text")) {
            EXPECT_NE(out.find(text.get<std::string>()), std::string::npos) << text << "\n" << out;
        }
        // Escaped markup in the source is text, and is escaped again in the output.
        EXPECT_NE(out.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << out;
        EXPECT_EQ(out.find("evil.test"), std::string::npos) << out;
        EXPECT_EQ(out.find("document.cookie"), std::string::npos) << out;
        EXPECT_EQ(out.find("OTP"), std::string::npos) << out;
        EXPECT_NE(out.find("Trao đổi với phóng viên"), std::string::npos) << out;
        EXPECT_TRUE(well_formed(out));
        EXPECT_EQ(xmllint_errors(out), "");
    }

    std::string html_;
    nlohmann::json expected_;
    nlohmann::json config_;
    const std::string url_ =
        "http://baobackan.test/ban-doc-phan-anh-tuyen-duong-lien-xa-xuong-cap-post67940.html";
};

TEST_F(InjectionArticle, LosesEveryActiveElementAndKeepsTheText) {
    const HtmlDocument doc(html_);
    ASSERT_EQ(doc.error(), "");
    const Selector body(config_.at("selectors").at("body").get<std::string>());
    const GumboNode* container = body.select_first(doc.root());
    ASSERT_NE(container, nullptr);
    const std::string out = sanitize_html(container, url_);
    check_expectations(out);
    // The lazy figure image comes once, from data-src, with its caption.
    const std::string img =
        "<img src=\"http://cdn.baobackan.test/images/2024/12/24/"
        "duong-lien-xa-na-vai.jpg\"";
    const std::size_t first = out.find(img);
    EXPECT_NE(first, std::string::npos) << out;
    EXPECT_EQ(out.find(img, first + 1), std::string::npos) << out;
    EXPECT_NE(out.find("<figcaption><p>Một đoạn đường liên xã bị sạt lở"), std::string::npos)
        << out;
}

TEST_F(InjectionArticle, WithTheSiteRemoveSelectorsAsSkip) {
    const HtmlDocument doc(html_);
    const Selector body(config_.at("selectors").at("body").get<std::string>());
    std::vector<Selector> remove;
    for (const auto& r : config_.at("selectors").at("remove")) {
        remove.emplace_back(r.get<std::string>());
    }
    const auto skip = [&remove](const GumboNode* n) {
        for (const Selector& s : remove) {
            if (s.matches(n)) {
                return true;
            }
        }
        return false;
    };
    const std::string out = sanitize_html(body.select_first(doc.root()), url_, skip);
    check_expectations(out);
    EXPECT_EQ(out.find("<figure"), std::string::npos) << out;
    // Every expected body paragraph is in the output, in order.
    std::size_t at = 0;
    for (const auto& paragraph : expected_.at("body")) {
        const std::string p = paragraph.get<std::string>();
        const std::string head = p.substr(0, 40);
        const std::size_t found = out.find(head, at);
        EXPECT_NE(found, std::string::npos) << head;
        if (found != std::string::npos) {
            at = found;
        }
    }
}

TEST(SanitizeXmllint, AcceptsAMixedBodyOfEveryAllowedElement) {
    const std::string out = clean(
        "<h1>T</h1><p>a <b>b</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <s>s</s> "
        "<sub>1</sub><sup>2</sup> <small>sm</small> <mark>m</mark> <code>c</code> "
        "<a href=\"/x?a=1&b=2\" title='q\"'>l</a></p><ul><li>1</li></ul><ol><li>2</li></ol>"
        "<blockquote><p>q</p></blockquote><pre>p\n p</pre><hr><figure><img src=/i.jpg alt=\"a&b\">"
        "<figcaption>c</figcaption></figure><table><caption>c</caption><tbody><tr><th>h</th>"
        "<td colspan=2>d</td></tr></tbody></table><video src=/v.mp4 poster=/p.jpg></video>"
        "<iframe src=\"https://www.youtube.com/embed/x\" allowfullscreen></iframe>"
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; \"quotes\"</p>");
    EXPECT_TRUE(well_formed(out));
    EXPECT_EQ(xmllint_errors(out), "");
}

}  // namespace
}  // namespace baofeed::parsers
