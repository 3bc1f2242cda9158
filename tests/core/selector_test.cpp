#include "core/selector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace baofeed::css {
namespace {

using ::testing::HasSubstr;

TEST(SelectorParse, ReadsTagClassesAndId) {
    const SelectorList list = parse_selector("DIV.article__body.cms-body#main");
    ASSERT_EQ(list.size(), 1U);
    ASSERT_EQ(list[0].compounds.size(), 1U);
    const Compound& c = list[0].compounds[0];
    EXPECT_EQ(c.tag, "div");
    EXPECT_EQ(c.classes, (std::vector<std::string>{"article__body", "cms-body"}));
    EXPECT_EQ(c.ids, (std::vector<std::string>{"main"}));
}

TEST(SelectorParse, ReadsDescendantAndChildCombinators) {
    const SelectorList list = parse_selector("div.detail-content >p:first-child  > strong em");
    ASSERT_EQ(list.size(), 1U);
    const Complex& cx = list[0];
    ASSERT_EQ(cx.compounds.size(), 4U);
    EXPECT_EQ(cx.combinators, (std::vector<Combinator>{Combinator::child, Combinator::child,
                                                       Combinator::descendant}));
    EXPECT_EQ(cx.compounds[1].tag, "p");
    ASSERT_EQ(cx.compounds[1].pseudos.size(), 1U);
    EXPECT_EQ(cx.compounds[1].pseudos[0].kind, PseudoClass::Kind::first_child);
    EXPECT_EQ(cx.compounds[3].tag, "em");
}

TEST(SelectorParse, ReadsEveryAttributeOperatorWithQuotedAndBareValues) {
    const SelectorList list = parse_selector(
        "a[href][rel=nofollow][class~='x y'][src^=\"http\"][src$='.jpg'][style*='right']");
    const auto& attrs = list.at(0).compounds.at(0).attributes;
    ASSERT_EQ(attrs.size(), 6U);
    EXPECT_EQ(attrs[0].op, AttributeTest::Op::exists);
    EXPECT_EQ(attrs[1].op, AttributeTest::Op::equals);
    EXPECT_EQ(attrs[1].value, "nofollow");
    EXPECT_EQ(attrs[2].op, AttributeTest::Op::includes_word);
    EXPECT_EQ(attrs[2].value, "x y");
    EXPECT_EQ(attrs[3].op, AttributeTest::Op::prefix);
    EXPECT_EQ(attrs[3].value, "http");
    EXPECT_EQ(attrs[4].op, AttributeTest::Op::suffix);
    EXPECT_EQ(attrs[4].value, ".jpg");
    EXPECT_EQ(attrs[5].op, AttributeTest::Op::contains);
    EXPECT_EQ(attrs[5].value, "right");
}

TEST(SelectorParse, LowerCasesAttributeNamesButNotValues) {
    const SelectorList list = parse_selector("meta[PROPERTY='Article:published_time']");
    const AttributeTest& a = list.at(0).compounds.at(0).attributes.at(0);
    EXPECT_EQ(a.name, "property");
    EXPECT_EQ(a.value, "Article:published_time");
}

TEST(SelectorParse, ReadsListsAndNegation) {
    const SelectorList list = parse_selector("figcaption, td.caption , p:not(.note, [hidden])");
    ASSERT_EQ(list.size(), 3U);
    EXPECT_EQ(list[1].compounds[0].classes, (std::vector<std::string>{"caption"}));
    const auto& pseudo = list[2].compounds[0].pseudos.at(0);
    EXPECT_EQ(pseudo.kind, PseudoClass::Kind::not_);
    ASSERT_EQ(pseudo.negated.size(), 2U);
    EXPECT_EQ(pseudo.negated[0].classes, (std::vector<std::string>{"note"}));
    EXPECT_EQ(pseudo.negated[1].attributes.at(0).name, "hidden");
}

TEST(SelectorParse, ReadsOfTypePseudoClassesAndUniversal) {
    const SelectorList list = parse_selector("* > p:last-of-type:first-of-type:last-child");
    const auto& c = list.at(0).compounds;
    EXPECT_EQ(c.at(0).tag, "*");
    ASSERT_EQ(c.at(1).pseudos.size(), 3U);
    EXPECT_EQ(c[1].pseudos[0].kind, PseudoClass::Kind::last_of_type);
    EXPECT_EQ(c[1].pseudos[1].kind, PseudoClass::Kind::first_of_type);
    EXPECT_EQ(c[1].pseudos[2].kind, PseudoClass::Kind::last_child);
}

std::string error_of(std::string_view text) {
    try {
        parse_selector(text);
    } catch (const SelectorError& e) {
        return e.what();
    }
    return "";
}

TEST(SelectorParse, RejectsUnsupportedSyntaxNamingTheOffset) {
    EXPECT_THAT(error_of("div + p"), HasSubstr("offset 4"));
    EXPECT_THAT(error_of("div ~ p"), HasSubstr("unexpected '~'"));
    EXPECT_THAT(error_of("p:nth-child(2)"), HasSubstr("unsupported pseudo-class ':nth-child'"));
    EXPECT_THAT(error_of("p:nth-child(2)"), HasSubstr("offset 2"));
    EXPECT_THAT(error_of("a[href|=en]"), HasSubstr("unsupported attribute operator '|'"));
    EXPECT_THAT(error_of("a[href='x]"), HasSubstr("unterminated string"));
    EXPECT_THAT(error_of("a[href"), HasSubstr("unterminated attribute selector"));
    EXPECT_THAT(error_of(""), HasSubstr("empty selector"));
    EXPECT_THAT(error_of("div,"), HasSubstr("selector expected after ','"));
    EXPECT_THAT(error_of("div >"), HasSubstr("selector expected after '>'"));
    EXPECT_THAT(error_of("p:not(div p)"), HasSubstr("in :not()"));
    EXPECT_THAT(error_of("p:not(:not(a))"), HasSubstr("nested :not()"));
    EXPECT_THAT(error_of("div)"), HasSubstr("unexpected ')'"));
    EXPECT_THAT(error_of("."), HasSubstr("class name expected"));
}

TEST(SelectorParse, ErrorMessageQuotesTheSelector) {
    EXPECT_THAT(error_of("div + p"), HasSubstr("\"div + p\""));
}

}  // namespace
}  // namespace baofeed::css
