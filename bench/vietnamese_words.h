// The synthetic Vietnamese of the benchmarks (bench_store, bench_textkey): a deterministic
// random stream and a news vocabulary of common words plus every tone of a set of syllables.
// Header-only, for bench programs; nothing here is used by baofeed itself.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace baofeed::bench {

// Deterministic per-article randomness: every article is a pure function of (seed, index), so
// a copy can regenerate its source instead of keeping the corpus in memory.
class Rng {
  public:
    // Streams of nearby seeds are unrelated: the seed is hashed (a plain splitmix64 state of
    // seed + k * step would replay another stream shifted by k).
    explicit Rng(std::uint64_t seed) : state_(seed) { state_ = next(); }
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }
    // Uniform in [0, n).
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
    // Uniform in [lo, hi].
    int between(int lo, int hi) {
        return lo + static_cast<int>(below(static_cast<std::size_t>(hi - lo + 1)));
    }
    double unit() { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }

  private:
    std::uint64_t state_;
};

constexpr std::string_view kVocabulary =
    "của và các có được cho trong với là người những đã này một không năm ngày tỉnh huyện xã "
    "thành phố nhân dân ủy ban tổ chức hội nghị phát triển kinh tế xã hội công tác cán bộ đảng "
    "viên chính quyền địa phương nông nghiệp thôn bản đồng bào dân tộc thiểu số giáo dục y tế "
    "học sinh giáo viên trường bệnh viện giao thông đường dự án đầu tư vốn ngân sách nhà nước "
    "triệu tỷ sản xuất lúa ngô chè cây trồng vật nuôi rừng bảo vệ môi trường an ninh trật tự "
    "quân đội biên giới du lịch văn hóa lễ truyền thống mùa xuân mưa lũ sạt lở thiên tai hỗ trợ "
    "hộ nghèo việc làm lao động thu nhập doanh hợp sản phẩm chất lượng thị xuất khẩu kế hoạch "
    "mục tiêu nhiệm vụ giải pháp triển khai thực hiện kết quả đánh giá chỉ đạo lãnh đồng chí "
    "chủ tịch phó bí thư thường trực tham dự phát biểu nhấn mạnh yêu cầu đề nghị tăng cường "
    "nâng cao hiệu quả quản lý kiểm tra giám sát vi phạm xử trao tặng bằng khen giấy thành "
    "tích xuất sắc tập thể cá nhân gia đình trẻ em phụ nữ thanh niên cao tuổi cựu chiến binh "
    "hôm nay sáng chiều tối tuần tháng quý trước sau tới mới cũ lớn nhỏ nhiều ít hơn gần xa "
    "thấp Bắc Kạn Thái Nguyên Cao Bằng Lạng Sơn Hà Giang Tuyên Quang Lào Cai Yên Bái Điện Biên "
    "Sơn La Hòa Bình Phú Thọ Đà Nẵng Quảng Nam Huế Nghệ An khánh thành khởi công công trình "
    "cầu cống điện nước sạch nhà ở tái định cư đất đai quy hoạch chuyển đổi số điện tử trực "
    "tuyến dịch vụ hành chính cải cách thủ tục người dân hài lòng điểm báo in thông báo cắt "
    "điện lịch tiếp công dân khiếu nại tố cáo phòng chống tham nhũng lãng phí tiêu cực bầu cử "
    "đại biểu Quốc hội Hội đồng tiếp xúc cử tri kiến nghị giải quyết dứt điểm tồn đọng kéo dài";

// Tone forms of each vowel: level, grave, acute, hook, tilde, dot.
struct Vowel {
    std::string_view base;
    std::array<std::string_view, 6> tones;
};
constexpr std::array<Vowel, 12> kVowels = {{
    {"a", {"a", "à", "á", "ả", "ã", "ạ"}},
    {"ă", {"ă", "ằ", "ắ", "ẳ", "ẵ", "ặ"}},
    {"â", {"â", "ầ", "ấ", "ẩ", "ẫ", "ậ"}},
    {"e", {"e", "è", "é", "ẻ", "ẽ", "ẹ"}},
    {"ê", {"ê", "ề", "ế", "ể", "ễ", "ệ"}},
    {"i", {"i", "ì", "í", "ỉ", "ĩ", "ị"}},
    {"o", {"o", "ò", "ó", "ỏ", "õ", "ọ"}},
    {"ô", {"ô", "ồ", "ố", "ổ", "ỗ", "ộ"}},
    {"ơ", {"ơ", "ờ", "ớ", "ở", "ỡ", "ợ"}},
    {"u", {"u", "ù", "ú", "ủ", "ũ", "ụ"}},
    {"ư", {"ư", "ừ", "ứ", "ử", "ữ", "ự"}},
    {"y", {"y", "ỳ", "ý", "ỷ", "ỹ", "ỵ"}},
}};

// Rhymes as (before, tone-bearing vowel, after).
struct Rhyme {
    std::string_view before;
    std::string_view vowel;
    std::string_view after;
};
constexpr std::array<Rhyme, 52> kRhymes = {{
    {"", "a", ""},   {"", "a", "n"},  {"", "a", "ng"}, {"", "a", "nh"}, {"", "a", "ch"},
    {"", "a", "i"},  {"", "a", "o"},  {"", "a", "m"},  {"", "a", "t"},  {"", "a", "c"},
    {"", "ă", "n"},  {"", "ă", "ng"}, {"", "ă", "m"},  {"", "ă", "t"},  {"", "â", "m"},
    {"", "â", "n"},  {"", "â", "t"},  {"", "â", "u"},  {"", "â", "y"},  {"", "e", ""},
    {"", "e", "n"},  {"", "e", "m"},  {"", "e", "o"},  {"", "e", "t"},  {"", "ê", ""},
    {"", "ê", "n"},  {"", "ê", "nh"}, {"", "ê", "ch"}, {"", "i", ""},   {"", "i", "n"},
    {"", "i", "nh"}, {"", "i", "ch"}, {"i", "ê", "u"}, {"i", "ê", "n"}, {"", "o", ""},
    {"", "o", "n"},  {"", "o", "ng"}, {"", "o", "c"},  {"", "o", "i"},  {"", "ô", ""},
    {"", "ô", "n"},  {"", "ô", "ng"}, {"", "ô", "i"},  {"", "ơ", ""},   {"", "ơ", "n"},
    {"", "ơ", "i"},  {"", "u", "ng"}, {"", "u", "i"},  {"", "ư", "ng"}, {"ư", "ơ", "ng"},
    {"ư", "ơ", "c"}, {"o", "a", "n"},
}};

constexpr std::array<std::string_view, 22> kOnsets = {"",  "b",  "c", "ch", "d",  "đ",  "g",  "gi",
                                                      "h", "kh", "l", "m",  "n",  "ng", "nh", "ph",
                                                      "r", "s",  "t", "th", "tr", "v"};

// The vocabulary, most frequent first: real news words, then every onset x rhyme x tone
// syllable in a fixed shuffled order (~6,900 syllables, about as many as Vietnamese has).
inline std::vector<std::string> vocabulary() {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < kVocabulary.size()) {
        std::size_t end = kVocabulary.find(' ', start);
        if (end == std::string_view::npos) {
            end = kVocabulary.size();
        }
        if (end > start) {
            words.emplace_back(kVocabulary.substr(start, end - start));
        }
        start = end + 1;
    }
    std::vector<std::string> syllables;
    for (const std::string_view onset : kOnsets) {
        for (const Rhyme& rhyme : kRhymes) {
            const auto vowel = std::find_if(kVowels.begin(), kVowels.end(),
                                            [&](const Vowel& v) { return v.base == rhyme.vowel; });
            for (const std::string_view toned : vowel->tones) {
                std::string syllable(onset);
                syllable += rhyme.before;
                syllable += toned;
                syllable += rhyme.after;
                syllables.push_back(std::move(syllable));
            }
        }
    }
    Rng shuffle(7);
    for (std::size_t i = syllables.size() - 1; i > 0; --i) {
        std::swap(syllables[i], syllables[shuffle.below(i + 1)]);
    }
    words.insert(words.end(), syllables.begin(), syllables.end());
    return words;
}

}  // namespace baofeed::bench
