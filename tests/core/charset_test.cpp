#include "core/charset.h"

#include <fstream>
#include <iconv.h>
#include <iterator>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "support/iconv_encode.h"

namespace baofeed::charset {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

using baofeed::testing::encode;

const std::string kViet = "Việt Nam: Bắc Kạn, Thái Nguyên, sông Lô, rét đậm, thuỷ văn";

TEST(CharsetFixture, DecodesRealWindows1258PageFromMetaDeclaration) {
    const std::string bytes =
        read_file(BAOFEED_SOURCE_DIR "/tests/core/data/baosonglo_bac_bo_ret_dam.cp1258.html");
    ASSERT_FALSE(text::is_valid_utf8(bytes));
    // The fixture server sends plain "text/html"; only <meta http-equiv> names the charset.
    EXPECT_EQ(declared_charset(bytes, "text/html"), "windows-1258");
    const std::string page = to_utf8(bytes, "text/html");
    EXPECT_TRUE(text::is_valid_utf8(page));
    EXPECT_EQ(page, text::nfc(page));
    EXPECT_EQ(page.find(kReplacement), std::string::npos);

    const auto truth = nlohmann::json::parse(read_file(
        BAOFEED_FIXTURES_DIR
        "/sites/baosonglo/expected/bac_bo_ret_dam_vung_nui_co_noi_ret_hai_tu_ngay_25_12.json"));
    for (const std::string field : {"title", "lead"}) {
        const auto want = truth.at(field).get<std::string>();
        EXPECT_NE(page.find(want), std::string::npos) << field << ": " << want;
    }
    for (const auto& paragraph : truth.at("body")) {
        const auto want = paragraph.get<std::string>();
        EXPECT_NE(page.find(want), std::string::npos) << want;
    }
}

TEST(CharsetWindows1258, ComposesCombiningToneMarksToNfc) {
    const std::string bytes = encode(kViet, "WINDOWS-1258");
    ASSERT_NE(bytes.find('\xF2'), std::string::npos);  // the dot below went out as a combining mark
    EXPECT_EQ(to_utf8(bytes, "text/html; charset=windows-1258"), kViet);
}

TEST(CharsetWindows1258, AcceptsEveryLabelAlias) {
    const std::string bytes = encode(kViet, "WINDOWS-1258");
    for (const char* ct : {"text/html; charset=cp1258", "text/html;charset=\"Windows-1258\"",
                           "text/html; charset=x-cp1258", "text/html; CHARSET = windows-1258 "}) {
        EXPECT_EQ(to_utf8(bytes, ct), kViet) << ct;
    }
}

TEST(CharsetPolicy, ValidUtf8PassesThroughDespiteWrongLabel) {
    EXPECT_EQ(to_utf8(kViet, "text/html; charset=windows-1252"), kViet);
    EXPECT_EQ(to_utf8("<meta charset=\"windows-1258\">" + kViet, ""),
              "<meta charset=\"windows-1258\">" + kViet);
}

TEST(CharsetPolicy, ValidUtf8IsNormalisedToNfc) {
    EXPECT_EQ(to_utf8("Vi\x65\xCC\x82\xCC\xA3t", "text/html"), "Vi\xE1\xBB\x87t");
}

TEST(CharsetPolicy, DecodingBytesGivenUpGivesWhatDecodingACopyGives) {
    for (const std::string& bytes :
         {kViet, std::string("Vi\x65\xCC\x82\xCC\xA3t"), "\xEF\xBB\xBF" + kViet,
          std::string("caf\xE9"), std::string("<\0h\0t\0m\0l\0>\0", 12)}) {
        EXPECT_EQ(to_utf8_moved(bytes, "text/html"), to_utf8(bytes, "text/html"));
    }
}

TEST(CharsetPolicy, StripsUtf8Bom) {
    EXPECT_EQ(to_utf8("\xEF\xBB\xBF" + kViet, "text/html; charset=windows-1252"), kViet);
}

TEST(CharsetPolicy, DecodesUtf16ByBom) {
    const std::string le = encode(kViet, "UTF-16LE");
    const std::string be = encode(kViet, "UTF-16BE");
    EXPECT_EQ(to_utf8("\xFF\xFE" + le, "text/html; charset=utf-8"), kViet);
    EXPECT_EQ(to_utf8("\xFE\xFF" + be, ""), kViet);
}

TEST(CharsetPolicy, HttpHeaderWinsOverMeta) {
    const std::string bytes = "<meta charset=\"windows-1258\"><p>" + encode("café", "ISO-8859-1");
    EXPECT_EQ(declared_charset(bytes, "text/html; charset=ISO-8859-1"), "iso-8859-1");
    EXPECT_EQ(to_utf8(bytes, "text/html; charset=ISO-8859-1"),
              "<meta charset=\"windows-1258\"><p>café");
}

TEST(CharsetPolicy, ReadsMetaCharsetAndHttpEquiv) {
    const std::string body = encode(kViet, "WINDOWS-1258");
    EXPECT_EQ(to_utf8("<html><head><meta charset=windows-1258>" + body, "text/html"),
              "<html><head><meta charset=windows-1258>" + kViet);
    const std::string equiv =
        "<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=Windows-1258'>";
    EXPECT_EQ(declared_charset(equiv, ""), "windows-1258");
    EXPECT_EQ(to_utf8(equiv + body, ""), equiv + kViet);
}

TEST(CharsetPolicy, IgnoresMetaBeyondTheScanWindow) {
    const std::string late = std::string(3000, ' ') + "<meta charset=\"windows-1258\">";
    EXPECT_EQ(declared_charset(late, ""), "");
}

TEST(CharsetPolicy, ReadsXmlDeclaration) {
    const std::string decl = "<?xml version=\"1.0\" encoding=\"windows-1258\"?>";
    EXPECT_EQ(declared_charset(decl + "<rss/>", ""), "windows-1258");
    EXPECT_EQ(to_utf8(decl + encode(kViet, "WINDOWS-1258"), "application/rss+xml"), decl + kViet);
}

TEST(CharsetPolicy, FallsBackToWindows1252) {
    EXPECT_EQ(to_utf8("caf\xE9 \x93quoted\x94 \x80", ""), "café “quoted” €");
}

TEST(CharsetPolicy, UnknownLabelFallsThroughToNextRule) {
    const std::string bytes = "<meta charset=\"windows-1258\">" + encode(kViet, "WINDOWS-1258");
    EXPECT_EQ(to_utf8(bytes, "text/html; charset=no-such-charset"),
              "<meta charset=\"windows-1258\">" + kViet);
    EXPECT_EQ(to_utf8("caf\xE9", "text/html; charset=\"bad label; rm -rf\""), "café");
}

TEST(CharsetPolicy, DeclaredUtf8WithAFewBadBytesGetsReplacementCharacters) {
    EXPECT_EQ(to_utf8("Việt \xFF Nam", "text/html; charset=utf-8"),
              "Việt " + kReplacement + " Nam");
    // Truncated at the end of a buffer: the label and the rest of the bytes agree.
    EXPECT_EQ(to_utf8("<meta charset=utf-8>Bắc Kạn \xE1\xBA", ""),
              "<meta charset=utf-8>Bắc Kạn " + kReplacement + kReplacement);
}

TEST(CharsetPolicy, UndecodableBytesBecomeReplacementCharacters) {
    // 0x81 is unassigned in windows-1252 (glibc rejects it).
    const std::string out = to_utf8(
        "a\x81"
        "b\xE9",
        "text/html; charset=windows-1252");
    EXPECT_EQ(out, "a" + kReplacement + "bé");
    // Truncated UTF-16 input.
    EXPECT_TRUE(
        text::is_valid_utf8(to_utf8("\xFF\xFE"
                                    "a\0b",
                                    "")));
}

TEST(CharsetPolicy, DecodesOtherVietnameseCodePages) {
    EXPECT_EQ(to_utf8(encode(kViet, "VISCII"), "text/html; charset=viscii"), kViet);
    EXPECT_EQ(to_utf8(encode(kViet, "TCVN5712-1"), "text/html; charset=tcvn"), kViet);
}

TEST(CharsetPolicy, NeverThrowsOnGarbage) {
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all.push_back(static_cast<char>(i));
    }
    for (const char* ct : {"", "text/html; charset=", "text/html; charset=utf-16",
                           "text/html; charset=windows-1258", ";;;=", "charset=x"}) {
        std::string out;
        EXPECT_NO_THROW(out = to_utf8(all, ct)) << ct;
        EXPECT_TRUE(text::is_valid_utf8(out)) << ct;
    }
    EXPECT_EQ(to_utf8("", ""), "");
    EXPECT_EQ(declared_charset("", ""), "");
}

// --- Labels that lie (HTML) ---------------------------------------------------------------------

TEST(CharsetLyingLabels, Utf8BytesUnderAnIso88591HeaderStayUtf8) {
    const std::string page = "<html><head><title>" + kViet + "</title></head></html>";
    EXPECT_EQ(to_utf8(page, "text/html; charset=iso-8859-1"), page);
}

TEST(CharsetLyingLabels, Windows1252BytesUnderAMetaUtf8AreDecodedAsWindows1252) {
    const std::string meta = "<html><head><meta charset=\"utf-8\"></head><body>";
    const std::string bytes = meta + encode("Café “Sài Gòn” — 5€", "WINDOWS-1252");
    ASSERT_FALSE(text::is_valid_utf8(bytes));
    EXPECT_EQ(to_utf8(bytes, "text/html"), meta + "Café “Sài Gòn” — 5€");
    EXPECT_EQ(to_utf8(bytes, "text/html; charset=UTF-8"), meta + "Café “Sài Gòn” — 5€");
}

TEST(CharsetLyingLabels, AUtf16HeaderOnWindows1258BytesFallsThroughToTheMeta) {
    const std::string meta =
        "<meta http-equiv=\"Content-Type\" content=\"text/html; "
        "charset=windows-1258\">";
    const std::string bytes = meta + encode(kViet, "WINDOWS-1258");
    EXPECT_EQ(to_utf8(bytes, "text/html; charset=utf-16"), meta + kViet);
}

TEST(CharsetLyingLabels, AUtf16PageWithoutBomIsToldByItsNulPattern) {
    const std::string page = "<html><body><p>" + kViet + "</p></body></html>";
    EXPECT_EQ(to_utf8(encode(page, "UTF-16LE"), "text/html"), page);
    EXPECT_EQ(to_utf8(encode(page, "UTF-16BE"), "text/html; charset=iso-8859-1"), page);
}

// --- XML documents: to_utf8_xml -----------------------------------------------------------------

const std::string kFeedBody =
    "<rss version=\"2.0\"><channel><item><title>" + kViet + "</title></item></channel></rss>";

TEST(CharsetXml, Utf16LeFeedWithBomIsDecodedAndRelabelled) {
    const std::string bytes =
        "\xFF\xFE" + encode("<?xml version=\"1.0\" encoding=\"utf-16\"?>" + kFeedBody, "UTF-16LE");
    EXPECT_EQ(to_utf8_xml(bytes), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + kFeedBody);
}

TEST(CharsetXml, Utf16LeFeedWithoutBomIsDecodedByItsNulPattern) {
    const std::string bytes =
        encode("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n" + kFeedBody, "UTF-16LE");
    ASSERT_EQ(bytes.substr(0, 4), std::string("<\0?\0", 4));
    EXPECT_EQ(to_utf8_xml(bytes, "application/rss+xml"),
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + kFeedBody);
    // Big-endian, and with no declaration at all.
    EXPECT_EQ(to_utf8_xml(encode(kFeedBody, "UTF-16BE")), kFeedBody);
}

TEST(CharsetXml, Utf8FeedDeclaringUtf16StaysUtf8) {
    const std::string feed = "<?xml version='1.0' encoding='utf-16'?>" + kFeedBody;
    EXPECT_EQ(to_utf8_xml(feed, "text/xml; charset=utf-16"),
              "<?xml version='1.0' encoding='UTF-8'?>" + kFeedBody);
}

TEST(CharsetXml, Windows1258FeedDeclaringWindows1258IsDecoded) {
    const std::string decl = "<?xml version=\"1.0\" encoding=\"windows-1258\" standalone=\"yes\"?>";
    const std::string bytes = decl + encode(kFeedBody, "WINDOWS-1258");
    ASSERT_FALSE(text::is_valid_utf8(bytes));
    EXPECT_EQ(to_utf8_xml(bytes),
              "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>" + kFeedBody);
}

TEST(CharsetXml, DropsSpaceBeforeTheDeclarationAndLeavesOtherTextAlone) {
    EXPECT_EQ(to_utf8_xml("\n\n  <?xml version=\"1.0\"?><a>encoding=\"x\"</a>"),
              "<?xml version=\"1.0\"?><a>encoding=\"x\"</a>");
    EXPECT_EQ(to_utf8_xml("<a>no declaration</a>"), "<a>no declaration</a>");
    EXPECT_EQ(to_utf8_xml("<?xml-stylesheet href=\"a.xsl\"?><a/>"),
              "<?xml-stylesheet href=\"a.xsl\"?><a/>");
    EXPECT_EQ(to_utf8_xml("<?xml version=\"1.0\" encoding=\"utf-8"),
              "<?xml version=\"1.0\" encoding=\"utf-8");
    EXPECT_EQ(to_utf8_xml(""), "");
}

}  // namespace
}  // namespace baofeed::charset
