#include "core/textkey.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace baofeed::textkey
