#include "core/text.h"

#include <string>

#include <gtest/gtest.h>

namespace baofeed::text {
namespace {

// "Việt" with the tone mark as a combining character (e + U+0302 + U+0323 in various orders).
const std::string kVietDecomposed = "Vi\x65\xCC\x82\xCC\xA3t";  // e + circumflex + dot below
const std::string kVietComposed = "Vi\xE1\xBB\x87t";            // U+1EC7
const std::string kReplacement = "\xEF\xBF\xBD";

TEST(TextValidUtf8, AcceptsAsciiVietnameseEmojiAndEmpty) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("Thứ năm, 19/12/2024 - Bắc Kạn"));
    EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x93\xB0"));  // U+1F4F0 newspaper
    EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));
}

TEST(TextValidUtf8, RejectsStrayContinuationTruncatedOverlongAndSurrogates) {
    EXPECT_FALSE(is_valid_utf8("\x80"));
    EXPECT_FALSE(is_valid_utf8("caf\xE9"));           // Latin-1 é
    EXPECT_FALSE(is_valid_utf8("\xE1\xBB"));          // truncated 3-byte sequence
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // U+D800 surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(TextNfc, ComposesCombiningToneMarks) {
    EXPECT_EQ(nfc(kVietDecomposed), kVietComposed);
    // Canonical reordering: dot below before circumflex gives the same result.
    EXPECT_EQ(nfc("Vi\x65\xCC\xA3\xCC\x82t"), kVietComposed);
}

TEST(TextNfc, LeavesComposedTextAndAsciiUnchanged) {
    EXPECT_EQ(nfc("Bắc Kạn, Thái Nguyên"), "Bắc Kạn, Thái Nguyên");
    EXPECT_EQ(nfc("abc"), "abc");
    EXPECT_EQ(nfc(""), "");
}

TEST(TextNfc, DoesNotApplyCompatibilityMappings) {
    EXPECT_EQ(nfc("\xEF\xAC\x81"), "\xEF\xAC\x81");  // U+FB01 ligature fi stays
    EXPECT_EQ(nfc("\xC2\xA0"), "\xC2\xA0");          // no-break space stays
}

TEST(TextNfc, ReplacesInvalidBytesBeforeNormalising) {
    EXPECT_EQ(nfc("caf\xE9"), "caf" + kReplacement);
    EXPECT_EQ(nfc("\xFF" + kVietDecomposed), kReplacement + kVietComposed);
    EXPECT_TRUE(is_valid_utf8(nfc("\xC0\xAF\xED\xA0\x80\xE1\xBB")));
}

TEST(TextNfc, KeepsEmbeddedNul) {
    EXPECT_EQ(nfc(std::string("a\0\xE1\xBB\x87", 5)), std::string("a\0\xE1\xBB\x87", 5));
}

TEST(TextCollapse, CollapsesAsciiRunsAndTrims) {
    EXPECT_EQ(collapse_whitespace("  a \t\n b\r\n\r\nc  "), "a b c");
    EXPECT_EQ(collapse_whitespace("one"), "one");
    EXPECT_EQ(collapse_whitespace(""), "");
    EXPECT_EQ(collapse_whitespace(" \n\t "), "");
}

TEST(TextCollapse, TreatsUnicodeSpacesAsWhitespace) {
    const char* spaces[] = {"\xC2\xA0",      // U+00A0 no-break space (&nbsp;)
                            "\xE2\x80\x80",  // U+2000 en quad
                            "\xE2\x80\x89",  // U+2009 thin space
                            "\xE2\x80\x8A",  // U+200A hair space
                            "\xE2\x80\x8B",  // U+200B zero width space
                            "\xE2\x80\xAF",  // U+202F narrow no-break space
                            "\xE2\x81\x9F",  // U+205F medium mathematical space
                            "\xE3\x80\x80",  // U+3000 ideographic space
                            "\xEF\xBB\xBF",  // U+FEFF BOM
                            "\xE2\x80\xA8",  // U+2028 line separator
                            "\xC2\x85",      // U+0085 next line
                            "\x0B",         "\x0C"};
    for (const char* sp : spaces) {
        EXPECT_EQ(collapse_whitespace(std::string(sp) + "Bắc" + sp + sp + " Kạn" + sp), "Bắc Kạn")
            << "space bytes: " << sp;
        EXPECT_TRUE(is_blank(sp));
    }
}

TEST(TextCollapse, KeepsZeroWidthJoinersAndInvalidBytes) {
    EXPECT_EQ(collapse_whitespace("a\xE2\x80\x8D"
                                  "b"),
              "a\xE2\x80\x8D"
              "b");  // U+200D ZWJ
    EXPECT_EQ(collapse_whitespace(" \xFF  x "), "\xFF x");
}

TEST(TextClean, NormalisesAndCollapses) {
    EXPECT_EQ(clean("\xC2\xA0 " + kVietDecomposed + "\n\n Nam\xE2\x80\x8B"),
              kVietComposed + " Nam");
}

TEST(TextClean, NeverReturnsInvalidUtf8) {
    EXPECT_EQ(clean(" caf\xE9 \xC2\xA0"), "caf" + kReplacement);
}

TEST(TextBlank, DetectsBlankStrings) {
    EXPECT_TRUE(is_blank(""));
    EXPECT_TRUE(is_blank(" \t\r\n\xC2\xA0\xE2\x80\x8B"));
    EXPECT_FALSE(is_blank(" . "));
    EXPECT_FALSE(is_blank("\xFF"));
    EXPECT_FALSE(is_blank("\xE2\x80\x8D"));  // ZWJ is not white space
}

}  // namespace
}  // namespace baofeed::text
