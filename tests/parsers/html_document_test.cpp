#include "parsers/html_document.h"

#include <string>

#include <gtest/gtest.h>

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
