#include "core/text.h"

#include <array>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <utf8proc.h>

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

// The sequence-by-sequence definition is_valid_utf8 must agree with (valid_sequence_length).
bool valid_by_sequences(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = valid_sequence_length(s, i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

TEST(TextValidUtf8, AgreesWithTheSequenceDefinitionForEveryTwoBytesAtEveryBlockOffset) {
    // Every pair of bytes, at each position of a text longer than two 16-byte blocks, so that
    // it sits inside a block, across a block boundary and at the very end.
    for (std::size_t offset : {0U, 1U, 7U, 14U, 15U, 16U, 30U, 31U}) {
        std::string text(32, 'a');
        for (int b0 = 0; b0 < 256; ++b0) {
            for (int b1 = 0; b1 < 256; ++b1) {
                text[offset] = static_cast<char>(b0);
                text[offset + 1 < text.size() ? offset + 1 : offset] =
                    static_cast<char>(offset + 1 < text.size() ? b1 : b0);
                ASSERT_EQ(is_valid_utf8(text), valid_by_sequences(text))
                    << "offset " << offset << " bytes " << b0 << " " << b1;
            }
        }
    }
}

TEST(TextValidUtf8, AgreesWithTheSequenceDefinitionForEveryThreeAndFourByteSequence) {
    // Every lead of a longer sequence with every second and third byte (overlongs, surrogates,
    // code points past U+10FFFF, missing continuations), inside a block and across a boundary.
    for (std::size_t offset : {3U, 14U, 29U}) {
        std::string text(32, 'a');
        for (int b0 = 0xC0; b0 < 0x100; ++b0) {
            for (int b1 = 0; b1 < 256; ++b1) {
                for (int b2 = 0; b2 < 256; ++b2) {
                    text[offset] = static_cast<char>(b0);
                    text[offset + 1] = static_cast<char>(b1);
                    text[offset + 2] = static_cast<char>(b2);
                    for (char b3 : {'\x80', '\xBF', 'a'}) {
                        text[offset + 3 < text.size() ? offset + 3 : offset + 2] =
                            offset + 3 < text.size() ? b3 : static_cast<char>(b2);
                        ASSERT_EQ(is_valid_utf8(text), valid_by_sequences(text))
                            << "offset " << offset << " bytes " << b0 << " " << b1 << " " << b2
                            << " " << static_cast<int>(static_cast<unsigned char>(b3));
                    }
                }
            }
        }
    }
}

TEST(TextValidUtf8, AgreesWithTheSequenceDefinitionOnRandomTextsOfBoundaryBytes) {
    // Bytes at the edges of every UTF-8 rule (leads, continuation ranges, overlong and surrogate
    // limits), whole Vietnamese sequences and ASCII, in texts of 0 to 70 bytes.
    const std::vector<std::string> pieces = {"a",
                                             " ",
                                             std::string(1, '\0'),
                                             "\x7F",
                                             "\x80",
                                             "\x8F",
                                             "\x90",
                                             "\x9F",
                                             "\xA0",
                                             "\xBF",
                                             "\xC0",
                                             "\xC1",
                                             "\xC2",
                                             "\xDF",
                                             "\xE0",
                                             "\xE1",
                                             "\xEC",
                                             "\xED",
                                             "\xEE",
                                             "\xEF",
                                             "\xF0",
                                             "\xF1",
                                             "\xF3",
                                             "\xF4",
                                             "\xF5",
                                             "\xFF",
                                             "ạ",
                                             "ư",
                                             "Đ",
                                             "😀",
                                             "\xEF\xBF\xBD",
                                             "abcdefghijklmnop"};
    std::mt19937 rng(20261127);
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    std::uniform_int_distribution<int> count(0, 40);
    std::size_t valid = 0;
    for (int round = 0; round < 400'000; ++round) {
        std::string text;
        for (int n = count(rng); n > 0 && text.size() < 70; --n) {
            text += pieces[pick(rng)];
        }
        const bool expected = valid_by_sequences(text);
        valid += expected ? 1 : 0;
        ASSERT_EQ(is_valid_utf8(text), expected) << testing::PrintToString(text);
    }
    EXPECT_GT(valid, 1'000U);  // both outcomes were exercised
}

TEST(TextValidUtf8, FindsOneBadByteAnywhereInALongVietnameseText) {
    std::string text;
    while (text.size() < 1000) {
        text += "Tỉnh Bắc Kạn đẩy mạnh chuyển đổi số. ";
    }
    ASSERT_TRUE(is_valid_utf8(text));
    for (std::size_t i = 0; i < text.size(); ++i) {
        std::string broken = text;
        broken[i] = static_cast<char>(0xC0);
        ASSERT_EQ(is_valid_utf8(broken), valid_by_sequences(broken)) << i;
        broken.resize(i + 1);  // and cut right after it
        ASSERT_EQ(is_valid_utf8(broken), valid_by_sequences(broken)) << i;
    }
}

TEST(TextFindByte, FindsTheFirstByteBelowTheLimitOrInTheSetFromAnyStart) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> length(0, 70);
    const std::vector<std::string> sets = {"", "&", "&<>\"'", std::string("\xEF\0", 2), "abcdefgh"};
    for (int round = 0; round < 50'000; ++round) {
        std::string s(static_cast<std::size_t>(length(rng)), ' ');
        for (char& c : s) {
            const int b = byte(rng);
            c = static_cast<char>(b < 128 ? 'x' : b);  // mostly plain, some of everything
            if (b % 7 == 0) {
                c = static_cast<char>(byte(rng));
            }
        }
        const std::string& set = sets[static_cast<std::size_t>(round) % sets.size()];
        const auto below = static_cast<unsigned char>(round % 3 == 0 ? 0 : 0x20);
        const std::size_t from = s.empty() ? 0 : static_cast<std::size_t>(round) % (s.size() + 1);
        std::size_t expected = from;
        while (expected < s.size() && static_cast<unsigned char>(s[expected]) >= below &&
               set.find(s[expected]) == std::string::npos) {
            ++expected;
        }
        ASSERT_EQ(find_byte(s, from, below, set), expected)
            << ::testing::PrintToString(s) << " from " << from;
    }
}

// UTF-8 of one code point (REQUIRES a scalar value).
std::string utf8_of(char32_t cp) {
    std::string out;
    append_utf8(out, cp);
    return out;
}

TEST(TextQuickNfc, LongTextsAgreeWithTheCodePointByCodePointCheckForEveryCodePoint) {
    // Texts of 64 bytes and more are checked sixteen bytes at a time, code points outside a few
    // ranges known to be stable one by one. Every code point of the first three planes (and
    // some beyond), at each position of a block, inside Vietnamese text: quick exactly when the
    // code point alone is (texts under 64 bytes are checked code point by code point).
    const std::string before = "Tỉnh Bắc Kạn “đẩy mạnh” – chuyển đổi số… ";
    for (char32_t cp = 0; cp < 0x30100; ++cp) {
        if (cp >= 0xD800 && cp < 0xE000) {
            continue;  // surrogates are not scalar values
        }
        const std::string one = utf8_of(cp);
        const bool stable = is_quick_nfc("a" + one);
        const std::size_t shift = cp % 19;
        for (const std::string& text : {std::string(shift, 'x') + one + before + before,
                                        before + std::string(shift, 'x') + one + before,
                                        before + before + std::string(shift, 'x') + one}) {
            ASSERT_GE(text.size(), 64U);
            ASSERT_EQ(is_quick_nfc(text), stable) << std::hex << static_cast<unsigned>(cp);
        }
    }
}

TEST(TextQuickNfc, LongInvalidOrDecomposedTextsAreNotQuick) {
    std::string text;
    while (text.size() < 200) {
        text += "Thứ năm, 19/12/2024 – Bắc Kạn “tin” ";
    }
    EXPECT_TRUE(is_quick_nfc(text));
    EXPECT_FALSE(is_quick_nfc(text + kVietDecomposed));
    EXPECT_FALSE(is_quick_nfc(kVietDecomposed + text));
    EXPECT_FALSE(is_quick_nfc(text + "\xE1\xBB"));             // cut in the middle of a letter
    EXPECT_FALSE(is_quick_nfc(text + "\xC0\xAF" + text));      // overlong
    EXPECT_FALSE(is_quick_nfc(text + "\xE2\x80\x80" + text));  // U+2000, a singleton
    EXPECT_TRUE(is_quick_nfc(text + "\xE2\x80\x82" + text));   // U+2002
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

std::string encode(utf8proc_int32_t cp) {
    std::array<utf8proc_uint8_t, 4> buf{};
    const utf8proc_ssize_t n = utf8proc_encode_char(cp, buf.data());
    return std::string(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
}

// utf8proc's own NFC, the reference the fast path must agree with (input must be valid).
std::string reference_nfc(const std::string& s) {
    utf8proc_uint8_t* out = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(s.c_str()));
    if (out == nullptr) {
        return "<error>";
    }
    std::string result(reinterpret_cast<const char*>(out));
    std::free(out);
    return result;
}

// utf8proc_NFC stops at NUL, so the comparisons keep NUL out of the strings.
std::vector<utf8proc_int32_t> code_points_of(const std::string& s) {
    std::vector<utf8proc_int32_t> out;
    std::size_t i = 0;
    while (i < s.size()) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n =
            utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                             static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
        out.push_back(cp);
        i += static_cast<std::size_t>(n);
    }
    return out;
}

bool is_scalar(utf8proc_int32_t cp) {
    return cp > 0 && (cp < 0xD800 || cp > 0xDFFF) && cp <= 0x10FFFF;
}

TEST(TextNfc, AgreesWithUtf8procOnEveryCodePointAloneAndAfterALetter) {
    int mismatches = 0;
    for (utf8proc_int32_t cp = 1; cp <= 0x10FFFF; ++cp) {
        if (!is_scalar(cp) || utf8proc_category(cp) == UTF8PROC_CATEGORY_CN) {
            continue;  // unassigned code points have no properties to get wrong
        }
        const std::string c = encode(cp);
        for (const std::string& s : {c, "a" + c}) {
            if (nfc(s) != reference_nfc(s) && ++mismatches <= 10) {
                ADD_FAILURE() << "U+" << std::hex << cp;
            }
        }
    }
    EXPECT_EQ(mismatches, 0);
}

TEST(TextNfc, AgreesWithUtf8procOnEveryCompositionStep) {
    // For every character with a canonical decomposition: its NFD, and each partial
    // composition of it followed by the next mark (e.g. U+1EB9 + U+0302 -> U+1EC7), which is
    // where a character combining with the one before it would be missed.
    int mismatches = 0;
    int checked = 0;
    for (utf8proc_int32_t cp = 1; cp <= 0x10FFFF; ++cp) {
        if (!is_scalar(cp)) {
            continue;
        }
        const std::string c = encode(cp);
        const std::string d = [&c] {
            utf8proc_uint8_t* out =
                utf8proc_NFD(reinterpret_cast<const utf8proc_uint8_t*>(c.c_str()));
            std::string r(reinterpret_cast<const char*>(out));
            std::free(out);
            return r;
        }();
        if (d == c) {
            continue;
        }
        const std::vector<utf8proc_int32_t> parts = code_points_of(d);
        std::vector<std::string> cases{d, "x" + d};
        std::string prefix = encode(parts.front());
        for (std::size_t i = 1; i < parts.size(); ++i) {
            cases.push_back(reference_nfc(prefix) + encode(parts[i]));
            cases.push_back(prefix + encode(parts[i]));
            prefix += encode(parts[i]);
        }
        for (const std::string& s : cases) {
            ++checked;
            if (nfc(s) != reference_nfc(s) && ++mismatches <= 10) {
                ADD_FAILURE() << "from U+" << std::hex << cp;
            }
        }
    }
    EXPECT_GT(checked, 2000);
    EXPECT_EQ(mismatches, 0);
}

TEST(TextNfc, AgreesWithUtf8procOnVietnameseInEveryForm) {
    const std::vector<std::string> texts = {
        "Thứ sáu, 22/12/2023, 08:30 (GMT+7) Tỉnh Bắc Kạn tổ chức hội nghị",
        "Hoà Bình, thuỷ lợi, khoẻ mạnh, Thuý Kiều",  // old-style tone placement
        "Hòa Bình, thủy lợi, khỏe mạnh, Thúy Kiều",  // new-style tone placement
        "Người dân xã Đồng Hỷ ứng phó với mưa lũ; Nguyễn Ái Quốc", "Ả Ẩ Ẫ Ậ ặ ẵ ỡ ữ ự ỹ ỵ đ Đ ơ ư"};
    std::vector<std::string> forms;
    for (const std::string& t : texts) {
        forms.push_back(t);
        for (auto* f : {&utf8proc_NFD, &utf8proc_NFC, &utf8proc_NFKD}) {
            utf8proc_uint8_t* out = f(reinterpret_cast<const utf8proc_uint8_t*>(t.c_str()));
            forms.emplace_back(reinterpret_cast<const char*>(out));
            std::free(out);
        }
    }
    // Marks typed in the "wrong" order (dot below after circumflex, and before it).
    forms.push_back("Vi\x65\xCC\x82\xCC\xA3t Vi\x65\xCC\xA3\xCC\x82t");
    for (const std::string& s : forms) {
        EXPECT_EQ(nfc(s), reference_nfc(s)) << s;
        EXPECT_EQ(nfc(nfc(s)), nfc(s)) << s;
    }
    EXPECT_EQ(nfc(forms[1]), forms[2]);  // NFD composes back to the precomposed text
}

TEST(TextNfc, AgreesWithUtf8procOnRandomMixturesOfTrickyCodePoints) {
    std::vector<utf8proc_int32_t> pool = {
        'a',     'e',     'o',     'u',     ' ',     0x00E2,  0x00EA, 0x01A1, 0x01B0, 0x0103,
        0x1EB9,  0x1EC7,  0x0041,  0x0391,  0x03B1,  0x0418,  0x0415, 0x1100, 0x1161, 0x11A8,
        0xAC00,  0xAC01,  0x304B,  0x3099,  0x309A,  0x0B47,  0x0B3E, 0x0B57, 0x0BC6, 0x0BBE,
        0x0DD9,  0x0DCF,  0x1025,  0x102E,  0x0344,  0x0340,  0x212B, 0x2126, 0x0958, 0xF900,
        0x2F800, 0x1D15E, 0x11099, 0x110BA, 0x1133E, 0x11347, 0x05D0, 0x05B7};
    for (utf8proc_int32_t cp = 0x0300; cp <= 0x036F; ++cp) {
        pool.push_back(cp);
    }
    std::mt19937 rng(20240611);
    std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
    std::uniform_int_distribution<int> length(1, 12);
    int mismatches = 0;
    for (int i = 0; i < 30000; ++i) {
        std::string s;
        for (int k = length(rng); k > 0; --k) {
            s += encode(pool[pick(rng)]);
        }
        if (nfc(s) != reference_nfc(s) && ++mismatches <= 10) {
            ADD_FAILURE() << "case " << i;
        }
    }
    EXPECT_EQ(mismatches, 0);
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
