#include "parsers/select.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "parsers/html_document.h"

namespace baofeed::parsers {
namespace {

constexpr const char* kPage = R"(<!doctype html><html><head><title>t</title>
<meta property="article:published_time" content="2024-12-22T11:40:00+07:00"></head><body>
<div class="detail-content main" id="c">
  <p id="p1"><strong id="s1">Lead</strong> rest</p>
  <p id="p2"><strong id="s2">Intertitle</strong></p>
  <div id="d1"><p id="p3">inner</p></div>
  <picture id="pic"><source srcset="a.webp"><img id="img1" src="a.jpg" data-src="http://x.test/a.jpg"></picture>
  <p id="p4" style="text-align: right;"><strong>Author</strong></p>
  <span id="sp1">tail</span>
</div>
<ul class="list"><li id="li1" class="a b">1</li><li id="li2" class="b">2</li></ul>
</body></html>)";

std::vector<std::string> ids(const std::vector<const GumboNode*>& nodes) {
    std::vector<std::string> out;
    for (const GumboNode* n : nodes) {
        const char* id = attribute(n, "id");
        out.push_back(id == nullptr ? "?" + tag_name(n) : id);
    }
    return out;
}

std::vector<std::string> select(const HtmlDocument& doc, std::string_view selector) {
    return ids(Selector(selector).select_all(doc.root()));
}

class SelectorMatch : public ::testing::Test {
  protected:
    HtmlDocument doc_{kPage};
};

TEST_F(SelectorMatch, ChildCombinatorWithFirstChildFindsOnlyTheLeadStrong) {
    EXPECT_EQ(select(doc_, "div.detail-content > p:first-child > strong"),
              (std::vector<std::string>{"s1"}));
}

TEST_F(SelectorMatch, DescendantCombinatorReachesNestedElements) {
    EXPECT_EQ(select(doc_, "div.detail-content p"),
              (std::vector<std::string>{"p1", "p2", "p3", "p4"}));
    EXPECT_EQ(select(doc_, "#c > p"), (std::vector<std::string>{"p1", "p2", "p4"}));
}

TEST_F(SelectorMatch, DescendantCombinatorBacktracksPastAFalseFirstCandidate) {
    // p3's nearest div ancestor (d1) is not a child of body; the outer div is.
    EXPECT_EQ(select(doc_, "body > div p#p3"), (std::vector<std::string>{"p3"}));
    EXPECT_TRUE(select(doc_, "ul > div p").empty());
}

TEST_F(SelectorMatch, AttributeOperatorsCompareTheRawValue) {
    EXPECT_EQ(select(doc_, "p[style*='right']:last-of-type"), (std::vector<std::string>{"p4"}));
    EXPECT_EQ(select(doc_, "meta[property='article:published_time']").size(), 1U);
    EXPECT_EQ(select(doc_, "img[data-src^=http][src$='.jpg']"), (std::vector<std::string>{"img1"}));
    EXPECT_EQ(select(doc_, "[class~=main]"), (std::vector<std::string>{"c"}));
    EXPECT_TRUE(select(doc_, "[class~=mai]").empty());
    EXPECT_TRUE(select(doc_, "[class^='']").empty());
    EXPECT_EQ(select(doc_, "li[id]"), (std::vector<std::string>{"li1", "li2"}));
}

TEST_F(SelectorMatch, ClassListIsSpaceSeparated) {
    EXPECT_EQ(select(doc_, "li.b"), (std::vector<std::string>{"li1", "li2"}));
    EXPECT_EQ(select(doc_, "li.a.b"), (std::vector<std::string>{"li1"}));
    EXPECT_TRUE(select(doc_, ".detail").empty());
}

TEST_F(SelectorMatch, NotExcludesAnyOfItsCompounds) {
    EXPECT_EQ(select(doc_, "#c > :not(p, picture)"), (std::vector<std::string>{"d1", "sp1"}));
}

TEST_F(SelectorMatch, FirstAndLastOfTypeIgnoreOtherTags) {
    EXPECT_EQ(select(doc_, "#c > p:first-of-type"), (std::vector<std::string>{"p1"}));
    EXPECT_EQ(select(doc_, "#c > p:last-of-type"), (std::vector<std::string>{"p4"}));
    EXPECT_EQ(select(doc_, "#c > :last-child"), (std::vector<std::string>{"sp1"}));
    EXPECT_TRUE(select(doc_, "#c > p:last-child").empty());
}

TEST_F(SelectorMatch, UnknownTagsLikePictureMatchByName) {
    EXPECT_EQ(select(doc_, "picture > img"), (std::vector<std::string>{"img1"}));
    EXPECT_EQ(select(doc_, "picture"), (std::vector<std::string>{"pic"}));
}

TEST_F(SelectorMatch, ListsMatchInDocumentOrderOnce) {
    EXPECT_EQ(select(doc_, "#sp1, #p1, p#p1"), (std::vector<std::string>{"p1", "sp1"}));
}

TEST_F(SelectorMatch, SelectFirstAndScopeExcludeTheScopeItself) {
    const GumboNode* c = Selector("#c").select_first(doc_.root());
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(Selector("div").select_first(c), Selector("#d1").select_first(doc_.root()));
    EXPECT_EQ(Selector("ul").select_first(c), nullptr);
    EXPECT_TRUE(Selector("#c").matches(c));
}

TEST(SelectorConstruct, ThrowsOnBadSyntax) {
    EXPECT_THROW(Selector("div + p"), css::SelectorError);
}

}  // namespace
}  // namespace baofeed::parsers
