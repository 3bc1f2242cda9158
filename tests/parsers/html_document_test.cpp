#include "parsers/html_document.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/text.h"

namespace baofeed::parsers {
namespace {

TEST(HtmlDocument, RawTextSkipsScriptsStylesCommentsAndTurnsBrIntoNewline) {
    const HtmlDocument doc(
        "<html><body><div id=x>A<script>bad()</script><style>.x{}</style><!-- c -->"
        "<noscript>ns</noscript><template>tpl</template>B<br>C <b>D</b>\n<i>E</i></div>"
        "</body></html>");
    ASSERT_TRUE(doc.error().empty());
    const auto all = descendants(doc.body());
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(raw_text(all.front()), "AB\nC D E");
}

TEST(HtmlDocument, DecodesEntitiesAndKeepsEscapedMarkupAsText) {
    const HtmlDocument doc("<p>Th&aacute;i&nbsp;Nguy&ecirc;n &lt;script&gt;</p>");
    EXPECT_EQ(raw_text(doc.body()), "Thái\u00a0Nguyên <script>");
}

TEST(HtmlDocument, GivesHeadBodyAndLowerCaseTagNamesForUnknownTags) {
    const HtmlDocument doc("<title>T</title><PICTURE><img src=a></PICTURE><Dialog>x</Dialog>");
    ASSERT_NE(doc.head(), nullptr);
    ASSERT_NE(doc.body(), nullptr);
    const auto kids = element_children(doc.body());
    ASSERT_EQ(kids.size(), 2U);
    EXPECT_EQ(tag_name(kids[0]), "picture");
    EXPECT_EQ(tag_name(kids[1]), "dialog");
    EXPECT_EQ(tag_name(element_children(kids[0]).at(0)), "img");
    EXPECT_STREQ(attribute(element_children(kids[0]).at(0), "SRC"), "a");
    EXPECT_EQ(attribute(kids[0], "src"), nullptr);
}

TEST(HtmlDocument, DescendantsAreInDocumentOrder) {
    const HtmlDocument doc("<div id=a><p id=b><span id=c></span></p><p id=d></p></div>");
    std::string order;
    for (const GumboNode* n : descendants(doc.body())) {
        order += attribute(n, "id");
    }
    EXPECT_EQ(order, "abcd");
}

TEST(HtmlDocumentCheck, AcceptsOrdinaryPagesAndManyUnclosedParagraphs) {
    std::string page = "<html><body>";
    for (int i = 0; i < 10000; ++i) {
        page += "<p>x<li>y<br><img src=a>";
    }
    EXPECT_EQ(HtmlDocument::check(page), "");
}

TEST(HtmlDocumentCheck, RefusesDeepNestingWithoutParsing) {
    std::string page;
    for (int i = 0; i < 5000; ++i) {
        page += "<div>";
    }
    EXPECT_NE(HtmlDocument::check(page).find("too deeply"), std::string::npos);
    const HtmlDocument doc(page);
    EXPECT_NE(doc.error(), "");
    EXPECT_TRUE(descendants(doc.body()).empty());
}

TEST(HtmlDocumentCheck, IgnoresTagsInsideScriptsAndComments) {
    std::string page = "<script>";
    for (int i = 0; i < 5000; ++i) {
        page += "<div>";
    }
    page += "</script><!--";
    for (int i = 0; i < 5000; ++i) {
        page += "<span>";
    }
    page += "-->";
    EXPECT_EQ(HtmlDocument::check(page), "");
}

TEST(HtmlDocumentCheck, RefusesPagesOverTheByteCap) {
    const std::string page(HtmlDocument::kMaxBytes + 1, 'a');
    EXPECT_NE(HtmlDocument::check(page).find("too large"), std::string::npos);
}

TEST(HtmlDocumentCheck, BalancedNestingIsNotCountedTwice) {
    std::string page;
    for (int i = 0; i < 20000; ++i) {
        page += "<div><span>x</span></div>";
    }
    EXPECT_EQ(HtmlDocument::check(page), "");
}

}  // namespace
}  // namespace baofeed::parsers

namespace baofeed::parsers {
namespace {

TEST(StripInert, EmptiesScriptsAndStylesKeepsJsonLdAndDropsComments) {
    EXPECT_EQ(strip_inert("<p>a<!-- 20/12/2024 GMT+0700 -->b</p><SCRIPT>var x=1;</SCRIPT>"
                          "<style type=text/css>p{}</style><script type=\"application/ld+json\">"
                          "{\"a\":1}</script>"),
              "<p>ab</p><SCRIPT></SCRIPT><style type=text/css></style>"
              "<script type=\"application/ld+json\">{\"a\":1}</script>");
}

TEST(StripInert, FollowsTheTokenizerNotTheScriptLanguage) {
    // "</script" inside a JS string still ends the element, as in every HTML parser.
    EXPECT_EQ(strip_inert("<script>s='</script>';</script>"), "<script></script>';</script>");
    // <!--<script> hides the next </script> (the double-escaped state).
    EXPECT_EQ(strip_inert("<script><!--<script>x</script>y--></script>z"), "<script></script>z");
    // A </scriptx> is no end tag; an unterminated script runs to the end.
    EXPECT_EQ(strip_inert("<script>a</scriptx>b"), "<script>");
    // Tags inside attribute values, <title> and <textarea> are text, and so are comments there.
    EXPECT_EQ(strip_inert("<a title=\"<script>\">t</a><title><!--x--></title>"),
              "<a title=\"<script>\">t</a><title><!--x--></title>");
    EXPECT_EQ(strip_inert("<textarea><style>k</style></textarea>"),
              "<textarea><style>k</style></textarea>");
    // Abrupt and unterminated comments, "<" in text, doctype and CDATA kept.
    EXPECT_EQ(strip_inert("<!DOCTYPE html>a<!-->b<!--->c < d<![CDATA[x]]><!-- open"),
              "<!DOCTYPE html>abc < d<![CDATA[x]]>");
    EXPECT_EQ(strip_inert("a--!><!--x--!>b"), "a--!>b");
}

std::string strip_skipping(std::string_view html, std::vector<std::string> selectors) {
    return strip_inert(html, skip_patterns(selectors));
}

TEST(StripInertWithSkipRegions, EmptiesAMatchedBlockButKeepsItsTags) {
    EXPECT_EQ(strip_skipping("<div class='top mega-menu'><ul><li><a href=/a>A</a><li>B</ul>"
                             "<div>C</div></div><p>kept</p>",
                             {"div.mega-menu"}),
              "<div class='top mega-menu'></div><p>kept</p>");
    EXPECT_EQ(strip_skipping("<aside id=side><p>x<p>y</aside><FOOTER class=f>z</FOOTER>",
                             {"#side", "footer.f"}),
              "<aside id=side></aside><FOOTER class=f></FOOTER>");
}

TEST(StripInertWithSkipRegions, ReadsScriptsCommentsAndRawTextInsideARegionAsAParserDoes) {
    EXPECT_EQ(strip_skipping("<div class=c><script>'</div>'</script><!--</div>-->"
                             "<textarea></div></textarea></div>t",
                             {".c"}),
              "<div class=c></div>t");
}

TEST(StripInertWithSkipRegions, KeepsARegionWhoseEmptyingWouldChangeTheRestOfTheTree) {
    // An element left open inside (a <b> would be reconstructed after the region).
    const std::string unclosed = "<div class=c><b>x</div><p>y</p>";
    EXPECT_EQ(strip_skipping(unclosed, {".c"}), unclosed);
    // An end tag of an element opened before the region.
    const std::string closes_outer = "<section><div class=c>x</section></div>";
    EXPECT_EQ(strip_skipping(closes_outer, {".c"}), closes_outer);
    // A list item with no list of its own in the region closes the one outside.
    const std::string item = "<ul><li>a<div class=c><li>b</div></ul>";
    EXPECT_EQ(strip_skipping(item, {".c"}), item);
    // A link inside an open link closes the outer one.
    const std::string link = "<a href=/x><div class=c><a href=/y>y</a></div>z</a>";
    EXPECT_EQ(strip_skipping(link, {".c"}), link);
    // A form, a non-block element, and a region running to the end of the page.
    for (const std::string page : {"<div class=c><form><input></form></div>",
                                   "<span class=c>x</span>", "<div class=c><div>x</div>"}) {
        EXPECT_EQ(strip_skipping(page, {".c"}), page) << page;
    }
}

TEST(StripInertWithSkipRegions, MatchesTagIdAndEveryClassOfTheSelector) {
    const std::string page =
        "<div class='a b' id=i>x</div><div class=a>y</div><nav class=b>z</nav>";
    EXPECT_EQ(strip_skipping(page, {"div.a.b"}),
              "<div class='a b' id=i></div><div class=a>y</div>"
              "<nav class=b>z</nav>");
    EXPECT_EQ(strip_skipping(page, {"div#i.a"}),
              "<div class='a b' id=i></div><div class=a>y</div>"
              "<nav class=b>z</nav>");
    EXPECT_EQ(strip_skipping(page, {".b"}),
              "<div class='a b' id=i></div><div class=a>y</div>"
              "<nav class=b></nav>");
}

TEST(StripInertWithSkipRegions, RefusesSelectorsBeyondTagIdAndClass) {
    EXPECT_THROW(skip_patterns({"div .menu"}), css::SelectorError);
    EXPECT_THROW(skip_patterns({"div[hidden]"}), css::SelectorError);
    EXPECT_THROW(skip_patterns({"li:first-child"}), css::SelectorError);
    EXPECT_EQ(skip_patterns({"div.menu, #comments"}).size(), 2u);
}

// Visible text of the page as Gumbo parses the bytes as they are, white space collapsed (a
// dropped comment joins the white space around it).
std::string text_of_unstripped(const std::string& html) {
    GumboOutput* out = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
    std::string text = text::clean(raw_text(out->root));
    gumbo_destroy_output(&kGumboDefaultOptions, out);
    return text;
}

TEST(StripInert, LeavesTheVisibleTextOfRealPagesUnchanged) {
    namespace fs = std::filesystem;
    std::vector<fs::path> pages;
    for (const auto& e :
         fs::recursive_directory_iterator(fs::path(BAOFEED_FIXTURES_DIR) / "sites")) {
        const std::string ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".html" || ext == ".aspx")) {
            pages.push_back(e.path());
        }
    }
    ASSERT_GT(pages.size(), 10U);
    std::size_t before = 0;
    std::size_t after = 0;
    for (const fs::path& page : pages) {
        std::ifstream in(page, std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        const std::string html = s.str();
        const std::string stripped = strip_inert(html);
        before += html.size();
        after += stripped.size();
        EXPECT_EQ(text_of_unstripped(stripped), text_of_unstripped(html)) << page;
    }
    EXPECT_LT(after, before);
}

}  // namespace
}  // namespace baofeed::parsers
