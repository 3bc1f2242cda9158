#include "core/textkey.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/text.h"

namespace baofeed::textkey {
namespace {

namespace fs = std::filesystem;

const fs::path kSites = fs::path(BAOFEED_FIXTURES_DIR) / "sites";

nlohmann::json load(const fs::path& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << path;
    return nlohmann::json::parse(in);
}

Article article_of(const nlohmann::json& j) {
    Article a;
    a.site = j.value("site", "");
    a.title = j.value("title", "");
    a.lead = j.value("lead", "");
    if (j.contains("lead_prefix") && j["lead_prefix"].is_string()) {
        a.lead_prefix = j["lead_prefix"].get<std::string>();
    }
    for (const auto& p : j.at("body")) {
        a.body.push_back(p.get<std::string>());
    }
    return a;
}

Article fixture(const std::string& site, const std::string& slug) {
    return article_of(load(kSites / site / "expected" / (slug + ".json")));
}

const std::string kBbkRet = "khong-khi-lanh-tang-cuong-bac-bo-ret-dam-tu-dem-24-12";
const std::string kBslRet = "bac_bo_ret_dam_vung_nui_co_noi_ret_hai_tu_ngay_25_12";
const std::string kBtnRet = "bac-bo-chuan-bi-don-dot-ret-dam-moi-tu-dem-24-12";

bool share_band(const Signature& a, const Signature& b) {
    const std::vector<std::int64_t> ka = band_keys(a);
    const std::vector<std::int64_t> kb = band_keys(b);
    for (std::size_t i = 0; i < ka.size() && i < kb.size(); ++i) {
        if (ka[i] == kb[i]) {
            return true;
        }
    }
    return false;
}

// ---- normalize ----------------------------------------------------------------------------

TEST(TextkeyNormalize, FoldsCaseDropsPunctuationAndLeavesOneSpaceBetweenWords) {
    EXPECT_EQ(normalize("  Bắc Kạn:  RÉT đậm,\trét hại!!  (24/12) "),
              "bắc kạn rét đậm rét hại 24 12");
    EXPECT_EQ(normalize("ĐIỆN LỰC"), "điện lực");
    EXPECT_EQ(normalize(""), "");
    EXPECT_EQ(normalize(" .,;-- "), "");
}

TEST(TextkeyNormalize, ComposesDecomposedTextToNfc) {
    // "Hoà Bình" typed as base letters plus combining marks (windows-1258 style).
    const std::string nfd = "Ho\x61\xCC\x80 Bi\xCC\x80nh";
    EXPECT_EQ(normalize(nfd), normalize("Hoà Bình"));
    EXPECT_EQ(normalize(nfd), "hòa bình");
}

TEST(TextkeyNormalize, FoldsLookAlikeCharacters) {
    EXPECT_EQ(normalize("\xC3\x90\xE1\xBA\xA3ng"), "đảng");  // U+00D0 Eth typed for Đ
    EXPECT_EQ(normalize("“Vào được siêu thị đã khó” – đại diện nói…"),
              "vào được siêu thị đã khó đại diện nói");
    EXPECT_EQ(normalize("Bắc\xE2\x80\x8BKạn"), "bắckạn");  // zero-width space inside a word
    EXPECT_EQ(normalize("Bắc \xE2\x80\x8B Kạn\xC2\xAD"), "bắc kạn");  // ...and a soft hyphen
    EXPECT_EQ(normalize("\xEF\xBB\xBFThái Nguyên"), "thái nguyên");   // BOM
}

TEST(TextkeyNormalize, MovesOldToneMarksInOpenSyllablesToTheNewPlace) {
    EXPECT_EQ(normalize("hoà hoá hoả hoã hoạ"), "hòa hóa hỏa hõa họa");
    EXPECT_EQ(normalize("khoè khoé khoẻ khoẽ khoẹ"), "khòe khóe khỏe khõe khọe");
    EXPECT_EQ(normalize("tuỳ thuý thuỷ huỹ huỵ"), "tùy thúy thủy hũy hụy");
    EXPECT_EQ(normalize("Uỷ ban, Thanh Hoá, oà khóc"), "ủy ban thanh hóa òa khóc");
}

TEST(TextkeyNormalize, LeavesClosedSyllablesAndTheQuOnsetAlone) {
    EXPECT_EQ(normalize("hoàng toàn ngoài khoản hoạch khuỷu"),
              "hoàng toàn ngoài khoản hoạch khuỷu");
    EXPECT_EQ(normalize("quý quỳnh Quỹ quýt"), "quý quỳnh quỹ quýt");
    // Already new style: unchanged.
    EXPECT_EQ(normalize("hòa thủy khỏe ủy"), "hòa thủy khỏe ủy");
}

TEST(TextkeyNormalize, RepairsInvalidUtf8InsteadOfFailing) {
    EXPECT_EQ(normalize("B\xFFKạn"), "b kạn");
}

TEST(TextkeyNormalize, GivesTheOldStyleFixtureTheSameTextAsTheNewStyleCopy) {
    const Article bsl = fixture("baosonglo", kBslRet);
    const Article bbk = fixture("baobackan", kBbkRet);
    // Body paragraph 1 differs only by "Thanh Hoá" / "Thanh Hóa".
    ASSERT_NE(bsl.body[0], bbk.body[0]);
    EXPECT_EQ(normalize(bsl.body[0]), normalize(bbk.body[0]));
    EXPECT_NE(normalize(bsl.lead).find("khí tượng thủy văn"), std::string::npos);
}

TEST(TextkeyNormalize, LeavesNoOldPlacementInAnyBaosongloFixtureText) {
    const std::set<std::string> old_style = {"hoà", "hoá", "hoạ", "thuỷ", "uỷ", "khoẻ", "tuỳ"};
    int checked = 0;
    bool saw_quy = false;
    for (const auto& entry : fs::directory_iterator(kSites / "baosonglo" / "expected")) {
        const Article a = article_of(load(entry.path()));
        std::string all = a.title + " " + a.lead;
        for (const auto& p : a.body) {
            all += " " + p;
        }
        const std::string n = normalize(all);
        std::size_t start = 0;
        while (start < n.size()) {
            const std::size_t end = std::min(n.find(' ', start), n.size());
            const std::string word = n.substr(start, end - start);
            EXPECT_EQ(old_style.count(word), 0U) << word << " in " << entry.path();
            saw_quy = saw_quy || word == "quý";
            ++checked;
            start = end + 1;
        }
    }
    EXPECT_GT(checked, 500);
    EXPECT_TRUE(saw_quy);  // "quý" kept its placement
}

// ---- signature ----------------------------------------------------------------------------

TEST(TextkeySignature, IsEmptyWhenThereIsNoText) {
    Article a;
    a.title = " -- ";
    a.body = {"", "…"};
    const Signature s = signature(a);
    EXPECT_TRUE(s.empty);
    EXPECT_TRUE(band_keys(s).empty());
    EXPECT_EQ(similarity(s, s), 0.0);
}

TEST(TextkeySignature, IsDeterministicAndIdenticalTextsAreFullySimilar) {
    const Article a = fixture("baobackan", kBbkRet);
    const Signature s1 = signature(a);
    const Signature s2 = signature(a);
    EXPECT_FALSE(s1.empty);
    EXPECT_EQ(s1.values, s2.values);
    EXPECT_EQ(similarity(s1, s2), 1.0);
    EXPECT_EQ(band_keys(s1), band_keys(s2));
}

TEST(TextkeySignature, IgnoresTheLeadPrefixAndTheToneStyle) {
    Article a = fixture("baobackan", kBbkRet);
    Article b = a;
    b.lead_prefix = "(TTXVN) - ";
    b.lead = b.lead_prefix + b.lead;
    EXPECT_EQ(signature(a).values, signature(b).values);
    b.body[0] =
        "Cơ quan khí tượng cho biết, hiện bộ phận không khí lạnh này đang di chuyển xuống "
        "phía Nam. Khoảng đêm 24/12, không khí lạnh sẽ ảnh hưởng đến phía Đông Bắc Bộ, "
        "sau đó ảnh hưởng đến các nơi khác ở Bắc Bộ và Thanh Hoá, Nghệ An.";
    EXPECT_EQ(signature(a).values, signature(b).values);
}

TEST(TextkeySignature, PutsTheThreeCopiesOfTheWireStoryTogether) {
    const Signature bbk = signature(fixture("baobackan", kBbkRet));
    const Signature bsl = signature(fixture("baosonglo", kBslRet));
    const Signature btn = signature(fixture("baothainguyen", kBtnRet));
    // Same body once tones are canonical; only the headlines differ.
    EXPECT_GE(similarity(bbk, bsl), 0.9);
    EXPECT_TRUE(share_band(bbk, bsl));
    // The edited copy (reworded lead, a paragraph cut, one added) joins through one of them.
    const bool joins_bbk = share_band(btn, bbk) && similarity(btn, bbk) >= kSameStoryThreshold;
    const bool joins_bsl = share_band(btn, bsl) && similarity(btn, bsl) >= kSameStoryThreshold;
    EXPECT_TRUE(joins_bbk || joins_bsl) << similarity(btn, bbk) << " " << similarity(btn, bsl);
}

TEST(TextkeySignature, KeepsDistinctFixtureArticlesApart) {
    std::vector<std::pair<std::string, Signature>> all;
    for (const char* site : {"baobackan", "baosonglo", "baothainguyen"}) {
        for (const auto& entry : fs::directory_iterator(kSites / site / "expected")) {
            const nlohmann::json j = load(entry.path());
            const std::string group = j.contains("dedup") && j["dedup"]["group"].is_string()
                                          ? j["dedup"]["group"].get<std::string>()
                                          : entry.path().string();
            all.emplace_back(group, signature(article_of(j)));
        }
    }
    ASSERT_GE(all.size(), 20U);
    for (std::size_t i = 0; i < all.size(); ++i) {
        for (std::size_t j = i + 1; j < all.size(); ++j) {
            if (all[i].first != all[j].first) {
                EXPECT_LT(similarity(all[i].second, all[j].second), kSameStoryThreshold)
                    << all[i].first << " vs " << all[j].first;
            }
        }
    }
}

TEST(TextkeySignature, EstimatesJaccardSimilarityOfTheShingleSets) {
    // 40 four-word shingles in common out of 40 + 2 * 20: Jaccard 0.5.
    auto words = [](int from, int count) {
        std::string s;
        for (int i = from; i < from + count; ++i) {
            s += "từ" + std::to_string(i) + " ";
        }
        return s;
    };
    Article a;
    Article b;
    a.body = {words(0, 43), words(1000, 23)};
    b.body = {words(0, 43), words(2000, 23)};
    const double sim = similarity(signature(a), signature(b));
    EXPECT_GT(sim, 0.3);
    EXPECT_LT(sim, 0.7);
}

// ---- band keys and storage form ---------------------------------------------------------

TEST(TextkeyBandKeys, GivesOneKeyPerBandMixedWithTheBandIndex) {
    Signature s;
    s.empty = false;
    s.values.fill(7);  // every band has the same rows
    const std::vector<std::int64_t> keys = band_keys(s);
    ASSERT_EQ(keys.size(), static_cast<std::size_t>(kBands));
    EXPECT_EQ(std::set<std::int64_t>(keys.begin(), keys.end()).size(), keys.size());

    Signature t = s;
    t.values[kRows] = 8;  // only band 1 changes
    const std::vector<std::int64_t> other = band_keys(t);
    for (int b = 0; b < kBands; ++b) {
        EXPECT_EQ(keys[static_cast<std::size_t>(b)] == other[static_cast<std::size_t>(b)], b != 1);
    }
}

TEST(TextkeyBytes, RoundTripsAndIsLittleEndian) {
    const Signature s = signature(fixture("baothainguyen", kBtnRet));
    const std::string bytes = to_bytes(s);
    ASSERT_EQ(bytes.size(), static_cast<std::size_t>(kSignatureSize) * 4);
    EXPECT_EQ(static_cast<unsigned char>(bytes[0]), s.values[0] & 0xFFU);
    EXPECT_EQ(static_cast<unsigned char>(bytes[3]), s.values[0] >> 24);
    const Signature back = from_bytes(bytes);
    EXPECT_FALSE(back.empty);
    EXPECT_EQ(back.values, s.values);
}

TEST(TextkeyBytes, StoresAnEmptySignatureAsNoBytesAndRejectsOtherSizes) {
    EXPECT_EQ(to_bytes(Signature{}), "");
    EXPECT_TRUE(from_bytes("").empty);
    EXPECT_THROW(from_bytes(std::string(255, 'x')), std::invalid_argument);
}

TEST(TextkeyBytes, KeepsThePersistedSignatureOfAKnownTextStable) {
    // Signatures are stored: a change of hash family, shingle size or normalisation must come
    // with a new kSignatureVersion and a migration. This pins the first values of version 2
    // (one-permutation hashing) for one fixed text.
    EXPECT_EQ(kSignatureVersion, 2);
    Article a;
    a.title = "Bắc Bộ rét đậm";
    a.body = {"Nhiệt độ thấp nhất phổ biến từ 10 đến 13 độ C, vùng núi có nơi dưới 4 độ C."};
    const Signature s = signature(a);
    const std::vector<std::uint32_t> first(s.values.begin(), s.values.begin() + 4);
    EXPECT_EQ(first, (std::vector<std::uint32_t>{898709867, 3499109754, 680008635, 2616525517}));
}

TEST(TextkeySignature, FillsEveryBinOfAOneShingleTextWithThatShingle) {
    // One shingle lands in one of the 128 bins; densification copies it into all the others,
    // so two texts of one (different) shingle each share no value.
    Article one;
    one.body = {"rét đậm rét hại"};
    Article other;
    other.body = {"mưa lớn kéo dài"};
    const Signature a = signature(one);
    const Signature b = signature(other);
    ASSERT_FALSE(a.empty);
    EXPECT_TRUE(std::all_of(a.values.begin(), a.values.end(),
                            [&](std::uint32_t v) { return v == a.values[0]; }));
    EXPECT_EQ(similarity(a, a), 1.0);
    EXPECT_EQ(similarity(a, b), 0.0);
}

TEST(TextkeySignature, EstimatesTheShareOfCommonShinglesOfLongTexts) {
    // Two texts of 400 distinct shingles each (no number) sharing the first 200: Jaccard 1/3.
    // The estimate over 128 bins has a standard deviation near 0.04.
    std::vector<std::string> words;
    for (int i = 0; i < 603; ++i) {
        words.push_back("t" + std::string(1, static_cast<char>('a' + i % 26)) +
                        std::string(1, static_cast<char>('a' + (i / 26) % 26)));
    }
    auto text = [&](int from, int count) {
        std::string out;
        for (int i = from; i < from + count + 3; ++i) {
            out += words[static_cast<std::size_t>(i)] + " ";
        }
        return out;
    };
    Article left;
    left.body = {text(0, 400)};
    Article right;
    right.body = {text(0, 200), text(400, 200)};  // two paragraphs: no shingle spans them
    const double s = similarity(signature(left), signature(right));
    EXPECT_GT(s, 0.20);
    EXPECT_LT(s, 0.47);
}

// ---- golden outputs -----------------------------------------------------------------------
// Signatures are persisted (kSignatureVersion) and cluster_eval_test's scores depend on them:
// any change of normalize() or signature() output, for any input, is a format change. These
// digests pin both over the fixture texts, crafted edge cases and a deterministic random corpus
// (Vietnamese syllables in both tone styles and any case, NFD, combining marks, look-alikes,
// code points of every range, invalid UTF-8, part breaks). They were produced by the
// implementation of signature version 2 before its fast path was rewritten; a failing digest
// means the output changed, not that the digest needs updating.

// FNV-1a 64 over length-prefixed records.
class Digest {
  public:
    void add(std::string_view bytes) {
        add_raw(std::to_string(bytes.size()) + ":");
        add_raw(bytes);
    }
    void add(const Signature& s) {
        add(s.empty ? std::string_view("E") : std::string_view("S"));
        add(to_bytes(s));
        std::string raw;
        for (std::uint32_t v : s.values) {  // an empty signature's values too (all 0)
            raw += std::to_string(v) + ",";
        }
        add(raw);
    }
    std::uint64_t value() const { return h_; }

  private:
    void add_raw(std::string_view bytes) {
        for (char c : bytes) {
            h_ = (h_ ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
        }
    }
    std::uint64_t h_ = 0xCBF29CE484222325ULL;
};

void add_article(Digest& d, const Article& a) {
    d.add(normalize(a.title));
    d.add(normalize(a.lead));
    for (const std::string& p : a.body) {
        d.add(normalize(p));
    }
    d.add(signature(a));
}

std::vector<Article> fixture_corpus() {
    std::vector<fs::path> files;
    for (const auto& site : fs::directory_iterator(fs::path(BAOFEED_FIXTURES_DIR) / "sites")) {
        if (fs::is_directory(site.path() / "expected")) {
            for (const auto& f : fs::directory_iterator(site.path() / "expected")) {
                files.push_back(f.path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<Article> out;
    for (const fs::path& f : files) {
        out.push_back(article_of(load(f)));
    }
    const nlohmann::json generated =
        load(fs::path(BAOFEED_FIXTURES_DIR) / "clusters" / "articles.json");
    for (const auto& j : generated.at("articles")) {
        out.push_back(article_of(j));
    }
    return out;
}

const std::vector<std::string>& crafted_texts() {
    static const std::vector<std::string> texts = {
        "",
        " ",
        "\n",
        "\n\n a \n\n b c d e \n",
        "Hoà Bình hoá thuỷ khoẻ tuỳ uỷ oà oè uỳ",
        "HOÀ HOÁ THUỶ KHOẺ TUỲ UỶ QUÝ QUỲNH QUỸ QUÝT",
        "hoàng toàn ngoài khoản hoạch khuỷu quý quỳnh quỹ quýt qoà quà qùy",
        "hòa thủy khỏe ủy hoà-bình hoà.bình hoà1 1hoà ohoà uoà",
        "o oà uỳ u ỳ à oà\nuỷ",
        "Ho\x61\xCC\x80 Bi\xCC\x80nh tho\x61\xCC\x81 thuy\xCC\x89 qu\x79\xCC\x81",  // NFD
        "a\xCC\x80\xCC\xA3 e\xCC\xA3\xCC\x82 \xCC\x81start \xE1\xBA\xA1\xCC\x80",   // marks
        "Ð Đ đ ð \xC3\x90\xE1\xBA\xA3ng ĐIỆN LỰC Ðiện",
        "“Vào được” ‘siêu thị’ – — … «khó» „x“ ‹y›",
        "Bắc\xE2\x80\x8BKạn Bắc \xE2\x80\x8B Kạn\xC2\xAD x\xE2\x80\x8Cy\xE2\x80\x8Dz "
        "\xEF\xBB\xBFThái \xE2\x81\xA0Nguyên",
        "24/12 10,5 1.000.000 đồng 3,14% 2024-12-24 08:30 ½ ² ³ ①",
        "nhiệt độ 15°C ℃ € $ 100₫ ™ → ★ 🙂 👍🏽 🇻🇳 emoji😀giữa",
        "B\xFFKạn \xC3 \xE1\xBA \xF0\x9F\x99 \xED\xA0\x80 \xC0\xAF \x80\x80 end\xE1",
        std::string("nul\0byte here", 13),
        "ß straße ΣΑΣ ﬁ ﬀ İstanbul ǅ ǈ Å Ω K ﬃ",
        "Ελληνικά Русский العربية 中文 日本語 한국어 ภาษาไทย",
        "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8 \xEA\xB0\x80\xE1\x86\xA8",  // Hangul jamo
        "tab\there\r\nCR\rLF\vVT\fFF\xC2\x85NEL\xE2\x80\xA8LS\xE2\x80\xA9PS",
        "ÀÁẢÃẠ ĂẰẮẲẴẶ ÂẦẤẨẪẬ ÈÉẺẼẸ ÊỀẾỂỄỆ ÌÍỈĨỊ ÒÓỎÕỌ ÔỒỐỔỖỘ ƠỜỚỞỠỢ ÙÚỦŨỤ ƯỪỨỬỮỰ ỲÝỶỸỴ",
        "a b c",
        "a b c d",
        "a b c d e",
        "1 a b c",
        "a 1 b c d e f 2",
        "x\xCC\x80\xCC\x80\xCC\x80\xCC\x80\xCC\x80 ho\xCC\x80"
        "a",
        "kháchsạnngoàitrờiquáđẹpvàrấtdàimộtchữkhôngcókhoảngtrắngnàocảđểkiểmtraxửlýtừdài",
    };
    return texts;
}

// Deterministic text generator: Vietnamese syllables (old and new tone placement, any case,
// NFC or NFD) mixed with code points of every range, invalid bytes and part breaks.
class TextGen {
  public:
    explicit TextGen(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

    std::string text(std::size_t tokens, int mix) {
        std::string out;
        for (std::size_t i = 0; i < tokens; ++i) {
            if (i > 0 && below(6) != 0) {
                out += below(20) == 0 ? ", " : " ";
            }
            const std::size_t pick = below(100);
            if (pick < 100 - static_cast<std::size_t>(mix)) {
                out += syllable(mix > 0);
            } else if (pick % 7 == 0) {
                out += std::to_string(below(3000));
            } else {
                out += odd();
            }
        }
        return out;
    }

  private:
    std::string syllable(bool decomposed) {
        static const std::vector<std::string> kSyllables = {
            "hoà", "hòa", "hoá",   "hóa",   "thuỷ", "thủy",  "khoẻ",    "khỏe",
            "tuỳ", "tùy", "uỷ",    "ủy",    "oà",   "hoàng", "quý",     "quỳnh",
            "quà", "qùy", "ngoài", "khuỷu", "đảng", "Đà",    "Nẵng",    "bắc",
            "kạn", "rét", "đậm",   "của",   "và",   "người", "nghiêng", "trường",
            "ước", "yêu", "gì",    "giữa",  "xã",   "huyện", "tỉnh",    "ăn",
            "ơi",  "ư",   "a",     "o",     "u",    "y",     "q",       "qu",
            "hoạ", "hoã", "hoả",   "loè",   "loẹ",  "huỵ",   "huỹ"};
        std::string s = kSyllables[below(kSyllables.size())];
        const std::size_t form = below(8);
        if (form == 0 || form == 2) {
            s = upper(s);
        }
        if (decomposed && (form == 1 || form == 2)) {
            s = nfd(s);  // upper() knows composed letters only
        }
        return s;
    }

    // Rough uppercasing of the syllables above (enough to exercise case folding).
    static std::string upper(const std::string& s) {
        static const std::vector<std::pair<std::string, std::string>> kPairs = {
            {"à", "À"}, {"ò", "Ò"}, {"á", "Á"}, {"ó", "Ó"}, {"ỷ", "Ỷ"}, {"ủ", "Ủ"}, {"ẻ", "Ẻ"},
            {"ỏ", "Ỏ"}, {"ỳ", "Ỳ"}, {"ù", "Ù"}, {"đ", "Đ"}, {"ả", "Ả"}, {"ắ", "Ắ"}, {"ạ", "Ạ"},
            {"é", "É"}, {"ậ", "Ậ"}, {"ư", "Ư"}, {"ờ", "Ờ"}, {"ơ", "Ơ"}, {"ê", "Ê"}, {"ữ", "Ữ"},
            {"ẵ", "Ẵ"}, {"ã", "Ã"}, {"ệ", "Ệ"}, {"ì", "Ì"}, {"ỹ", "Ỹ"}, {"ý", "Ý"}, {"ẹ", "Ẹ"},
            {"ỵ", "Ỵ"}, {"ặ", "Ặ"}, {"ă", "Ă"}, {"ẫ", "Ẫ"}, {"ỉ", "Ỉ"}};
        std::string out;
        for (std::size_t i = 0; i < s.size();) {
            bool done = false;
            for (const auto& [lower, up] : kPairs) {
                if (s.compare(i, lower.size(), lower) == 0) {
                    out += up;
                    i += lower.size();
                    done = true;
                    break;
                }
            }
            if (!done) {
                const char c = s[i++];
                out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
            }
        }
        return out;
    }

    // Replaces the first toned vowel by base + combining tone (a partial NFD).
    static std::string nfd(const std::string& s) {
        static const std::vector<std::pair<std::string, std::string>> kPairs = {
            {"à", "a\xCC\x80"},
            {"á", "a\xCC\x81"},
            {"ả", "a\xCC\x89"},
            {"ã", "a\xCC\x83"},
            {"ạ", "a\xCC\xA3"},
            {"ỷ", "y\xCC\x89"},
            {"ỳ", "y\xCC\x80"},
            {"ẻ", "e\xCC\x89"},
            {"è", "e\xCC\x80"},
            {"ý", "y\xCC\x81"},
            {"À", "A\xCC\x80"},
            {"Ỷ", "Y\xCC\x89"},
            {"ậ", "\xE1\xBA\xA1\xCC\x82"},
            {"ủ", "u\xCC\x89"}};
        for (const auto& [composed, decomposed] : kPairs) {
            const std::size_t at = s.find(composed);
            if (at != std::string::npos) {
                return s.substr(0, at) + decomposed + s.substr(at + composed.size());
            }
        }
        return s;
    }

    static std::string utf8(char32_t cp) {
        std::string out;
        text::append_utf8(out, cp);
        return out;
    }

    // A code point or byte sequence off the beaten path.
    std::string odd() {
        switch (below(14)) {
            case 0:
                return utf8(static_cast<char32_t>(1 + below(0x7F)));  // ASCII, controls
            case 1:
                return utf8(static_cast<char32_t>(0x80 + below(0x180)));  // Latin-1, Ext-A
            case 2:
                return utf8(static_cast<char32_t>(0x180 + below(0xD0)));  // Latin Ext-B
            case 3:
                return utf8(static_cast<char32_t>(0x300 + below(0x70)));  // combining
            case 4:
                return utf8(static_cast<char32_t>(0x1E00 + below(0x100)));  // Latin Ext Add.
            case 5:
                return utf8(static_cast<char32_t>(0x2000 + below(0x70)));  // punctuation
            case 6:
                return utf8(static_cast<char32_t>(0x370 + below(0x1D00)));  // other scripts
            case 7:
                return utf8(static_cast<char32_t>(0x2070 + below(0xD800 - 0x2070)));
            case 8:
                return utf8(static_cast<char32_t>(0xE000 + below(0x2000)));  // PUA, FFxx
            case 9:
                return utf8(static_cast<char32_t>(0x10000 + below(0x100000)));
            case 10:
                return std::string(1, static_cast<char>(0x80 + below(0x80)));  // bad byte
            case 11:
                return "\n";
            case 12:
                return utf8(static_cast<char32_t>(0x1100 + below(0x100)));  // jamo
            default:
                return std::string(1, below(2) == 0 ? '\xE1' : '\xC3');  // truncated
        }
    }

    std::uint64_t state_;
};

Article random_article(TextGen& gen, int mix) {
    Article a;
    a.title = gen.text(gen.below(12), mix);
    if (gen.below(3) == 0) {
        a.lead_prefix = gen.below(2) == 0 ? "TTXVN - " : "(TTXVN) ";
    }
    a.lead = (gen.below(4) != 0 ? a.lead_prefix : std::string()) + gen.text(gen.below(30), mix);
    const std::size_t paragraphs = gen.below(7);
    for (std::size_t p = 0; p < paragraphs; ++p) {
        a.body.push_back(gen.text(gen.below(40), mix));
    }
    return a;
}

TEST(TextkeyGolden, FixtureArticlesKeepTheirNormalFormsAndSignatures) {
    Digest d;
    const std::vector<Article> corpus = fixture_corpus();
    ASSERT_GT(corpus.size(), 100U);
    for (const Article& a : corpus) {
        add_article(d, a);
    }
    EXPECT_EQ(d.value(), 10831407397056956725ULL);
}

TEST(TextkeyGolden, CraftedEdgeCasesKeepTheirNormalFormsAndSignatures) {
    Digest d;
    const std::vector<std::string>& texts = crafted_texts();
    for (const std::string& t : texts) {
        d.add(normalize(t));
        Article a;
        a.body = {t};
        d.add(signature(a));
    }
    // Every pair as lead + paragraph, and all of them as one article.
    Article all;
    for (const std::string& x : texts) {
        for (const std::string& y : texts) {
            Article a;
            a.lead_prefix = "TTXVN - ";
            a.lead = "TTXVN - " + x;
            a.body = {y, x + " rét đậm rét hại " + y};
            d.add(signature(a));
        }
        all.body.push_back(x);
    }
    d.add(signature(all));
    EXPECT_EQ(d.value(), 393914079831970724ULL);
}

TEST(TextkeyGolden, RandomTextsKeepTheirNormalFormsAndSignatures) {
    Digest d;
    TextGen gen(20250101);
    for (int i = 0; i < 4000; ++i) {
        // Mostly clean Vietnamese (the fast path), some with a rare odd code point, some noisy.
        const int mix = i % 4 == 0 ? 0 : (i % 4 == 1 ? 1 : (i % 4 == 2 ? 5 : 30));
        add_article(d, random_article(gen, mix));
    }
    EXPECT_EQ(d.value(), 18430399361782301099ULL);
}

}  // namespace
}  // namespace baofeed::textkey
