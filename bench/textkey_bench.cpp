// bench_textkey: textkey::signature() speed against the previous implementation
// (bench/textkey_reference.cpp), measured in one run, plus a differential check of the two.
//
//   bench_textkey [--articles N] [--rounds R] [--diff M] [--seed S]
//
// Timing: N articles shaped as bench_store's (title, a lead of 25-45 syllables, 5-20 paragraphs
// of 1-3 sentences of Zipf-drawn news Vietnamese with numbers and commas; a twentieth of them
// with a TTXVN lead prefix), signed R times by each implementation in alternation; the best
// round's thread CPU time per article is reported. Every signature is compared.
// Differential check: M random texts (Vietnamese syllables in both tone styles, any case, NFC and
// NFD, mixed with code points of every range, invalid bytes and part breaks), each compared
// through normalize() and signature() as a one-paragraph article, plus M / 4 random articles.
// Exit status 1 on any difference.
// Last line: old_us X new_us Y speedup Z diff_cases M mismatches K
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <time.h>
#include <vector>

#include "bench/textkey_reference.h"
#include "core/textkey.h"

namespace {

using baofeed::Article;
namespace textkey = baofeed::textkey;
namespace reference = baofeed::textkey_reference;

class Rng {
  public:
    explicit Rng(std::uint64_t seed) : state_(seed) { state_ = next(); }
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
    int between(int lo, int hi) {
        return lo + static_cast<int>(below(static_cast<std::size_t>(hi - lo + 1)));
    }
    double unit() { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }

  private:
    std::uint64_t state_;
};

// ---- bench_store's article shape (bench/store_bench.cpp) ----------------------------------

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
std::vector<std::string> vocabulary() {
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

class Corpus {
  public:
    Corpus() : words_(vocabulary()) {}

    Article article(Rng& rng) const {
        Article a;
        a.title = sentence(rng, rng.between(9, 16));
        a.lead = sentence(rng, rng.between(25, 45));
        if (rng.below(20) == 0) {
            a.lead_prefix = rng.below(2) == 0 ? "TTXVN - " : "(TTXVN) ";
            a.lead = a.lead_prefix + a.lead;
        }
        const int paragraphs = rng.between(5, 20);
        for (int p = 0; p < paragraphs; ++p) {
            std::string out;
            const int sentences = rng.between(1, 3);
            for (int s = 0; s < sentences; ++s) {
                if (s > 0) {
                    out.push_back(' ');
                }
                out += sentence(rng, rng.between(14, 32));
            }
            a.body.push_back(std::move(out));
        }
        return a;
    }

    const std::vector<std::string>& words() const { return words_; }

  private:
    std::string sentence(Rng& rng, int syllables) const {
        std::string out;
        for (int k = 0; k < syllables; ++k) {
            const auto index = static_cast<std::size_t>(
                std::exp(rng.unit() * std::log(static_cast<double>(words_.size()))) - 1.0);
            if (k > 0) {
                out.push_back(' ');
            }
            out += words_[std::min(index, words_.size() - 1)];
            if (k > 3 && k + 3 < syllables && rng.below(14) == 0) {
                out.push_back(',');
            }
            if (rng.below(40) == 0) {
                out += " " + std::to_string(rng.between(2, 2024));
            }
        }
        out.push_back('.');
        return out;
    }

    std::vector<std::string> words_;
};

// ---- random texts for the differential check ----------------------------------------------

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0U | (cp >> 6U)));
        out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0U | (cp >> 12U)));
        out.push_back(static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU)));
        out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
    } else {
        out.push_back(static_cast<char>(0xF0U | (cp >> 18U)));
        out.push_back(static_cast<char>(0x80U | ((cp >> 12U) & 0x3FU)));
        out.push_back(static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU)));
        out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
    }
}

// Code points that matter to the normalisation: tone-placement letters, q/u/o, Đ/ð, marks.
constexpr std::array<char32_t, 40> kHot = {
    U'o', U'u',   U'q',   U'a',   U'e',   U'y',   U'h',   U'Q',   U'O',   U'U',
    U'à', U'á',   U'ả',   U'ã',   U'ạ',   U'è',   U'é',   U'ẻ',   U'ẽ',   U'ẹ',
    U'ỳ', U'ý',   U'ỷ',   U'ỹ',   U'ỵ',   U'À',   U'Ỷ',   U'Ẻ',   U'Ð',   U'ð',
    U'Đ', 0x0300, 0x0301, 0x0309, 0x0303, 0x0323, 0x200B, 0x00AD, 0xFEFF, U'\n'};

class TextGen {
  public:
    TextGen(std::uint64_t seed, const std::vector<std::string>& words)
        : rng_(seed), words_(words) {}

    // One of several mixes: clean syllables (the fast path), syllables with rare odd code
    // points, dense hot letters (tone placement), or noise over the whole code space.
    std::string text() {
        std::string out;
        const std::size_t kind = rng_.below(8);
        const std::size_t tokens = rng_.below(kind == 0 ? 4 : 60);
        for (std::size_t i = 0; i < tokens; ++i) {
            const std::size_t pick = rng_.below(100);
            if (kind <= 2 || (kind <= 4 && pick < 97) || (kind == 5 && pick < 70)) {
                if (!out.empty() && rng_.below(8) != 0) {
                    out.push_back(rng_.below(30) == 0 ? '\n' : ' ');
                }
                out += syllable();
            } else if (kind == 6) {
                append_utf8(out, kHot[rng_.below(kHot.size())]);
            } else {
                odd(out);
            }
        }
        return out;
    }

  private:
    std::string syllable() {
        std::string s = words_[rng_.below(words_.size())];
        const std::size_t form = rng_.below(10);
        if (form == 0) {  // ASCII upper case of the first letter
            if (s[0] >= 'a' && s[0] <= 'z') {
                s[0] = static_cast<char>(s[0] - 'a' + 'A');
            }
        } else if (form == 1) {  // old tone placement
            for (const auto& [from, to] : kOldStyle) {
                const std::size_t at = s.find(from);
                if (at != std::string::npos) {
                    s.replace(at, from.size(), to);
                }
            }
        } else if (form == 2) {
            s += std::to_string(rng_.below(100));
        } else if (form == 3) {
            s = "q" + s;
        }
        return s;
    }

    void odd(std::string& out) {
        switch (rng_.below(12)) {
            case 0:
                append_utf8(out, static_cast<char32_t>(rng_.below(0x80)));
                break;
            case 1:
                append_utf8(out, static_cast<char32_t>(0x80 + rng_.below(0x200)));
                break;
            case 2:
                append_utf8(out, static_cast<char32_t>(0x280 + rng_.below(0x1E00 - 0x280)));
                break;
            case 3:
                append_utf8(out, static_cast<char32_t>(0x1E00 + rng_.below(0x280)));
                break;
            case 4:
                append_utf8(out, static_cast<char32_t>(0x300 + rng_.below(0x70)));
                break;
            case 5:
                append_utf8(out, static_cast<char32_t>(0x2080 + rng_.below(0xD800 - 0x2080)));
                break;
            case 6:
                append_utf8(out, static_cast<char32_t>(0xE000 + rng_.below(0x2000)));
                break;
            case 7:
                append_utf8(out, static_cast<char32_t>(0x10000 + rng_.below(0x100000)));
                break;
            case 8:
                out.push_back(static_cast<char>(0x80 + rng_.below(0x80)));
                break;
            case 9:
                out.push_back(static_cast<char>(0xC0 + rng_.below(0x40)));
                break;
            case 10:
                append_utf8(out, kHot[rng_.below(kHot.size())]);
                break;
            default:
                out.push_back(' ');
                break;
        }
    }

    static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kOldStyle = {
        {{"òa", "oà"}, {"óa", "oá"}, {"ỏa", "oả"}, {"ủy", "uỷ"}, {"ùy", "uỳ"}, {"ỏe", "oẻ"}}};

    Rng rng_;
    const std::vector<std::string>& words_;
};

double cpu_us() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

bool same(const textkey::Signature& a, const textkey::Signature& b) {
    return a.empty == b.empty && a.values == b.values;
}

std::string escaped(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", u);
            out += buf;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    long articles = 2000;
    int rounds = 7;
    long diff = 200000;
    std::uint64_t seed = 20241222;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) {
            std::fprintf(stderr, "usage: %s [--articles N] [--rounds R] [--diff M] [--seed S]\n",
                         argv[0]);
            return 2;
        }
        if (arg == "--articles") {
            articles = std::stol(argv[++i]);
        } else if (arg == "--rounds") {
            rounds = std::stoi(argv[++i]);
        } else if (arg == "--diff") {
            diff = std::stol(argv[++i]);
        } else if (arg == "--seed") {
            seed = std::stoull(argv[++i]);
        } else {
            std::fprintf(stderr, "unknown argument: %s\n", arg.c_str());
            return 2;
        }
    }
    const Corpus corpus;
    std::vector<Article> set;
    Rng rng(seed);
    for (long i = 0; i < articles; ++i) {
        set.push_back(corpus.article(rng));
    }

    long mismatches = 0;
    std::uint32_t sink = 0;
    double best_old = articles > 0 ? 1e300 : 0.0;
    double best_new = articles > 0 ? 1e300 : 0.0;
    for (int r = 0; r < rounds && articles > 0; ++r) {
        double start = cpu_us();
        for (const Article& a : set) {
            sink ^= reference::signature(a).values[0];
        }
        best_old = std::min(best_old, (cpu_us() - start) / static_cast<double>(articles));
        start = cpu_us();
        for (const Article& a : set) {
            sink ^= textkey::signature(a).values[0];
        }
        best_new = std::min(best_new, (cpu_us() - start) / static_cast<double>(articles));
    }
    for (const Article& a : set) {
        if (!same(reference::signature(a), textkey::signature(a))) {
            ++mismatches;
        }
    }

    TextGen gen(seed ^ 0xD1FFULL, corpus.words());
    long reported = 0;
    for (long i = 0; i < diff; ++i) {
        const std::string t = gen.text();
        const std::string n_old = reference::normalize(t);
        const std::string n_new = textkey::normalize(t);
        Article a;
        a.body = {t};
        const bool sig_same = same(reference::signature(a), textkey::signature(a));
        if (n_old != n_new || !sig_same) {
            ++mismatches;
            if (reported++ < 10) {
                std::printf("MISMATCH text \"%s\"\n  old \"%s\"\n  new \"%s\"%s\n",
                            escaped(t).c_str(), escaped(n_old).c_str(), escaped(n_new).c_str(),
                            sig_same ? "" : " (signature differs)");
            }
        }
        if (i % 4 == 0) {  // a multi-part article: lead with a prefix, several paragraphs
            Article m;
            m.title = gen.text();
            m.lead_prefix = i % 8 == 0 ? "TTXVN - " : "";
            m.lead = "TTXVN - " + gen.text();
            for (std::size_t p = 0; p < static_cast<std::size_t>(i % 7); ++p) {
                m.body.push_back(gen.text());
            }
            if (!same(reference::signature(m), textkey::signature(m))) {
                ++mismatches;
                if (reported++ < 10) {
                    std::printf("MISMATCH article %ld (lead \"%s\")\n", i, escaped(m.lead).c_str());
                }
            }
        }
    }
    std::printf("articles %ld rounds %d: old %.2f us, new %.2f us per article (sink %u)\n",
                articles, rounds, best_old, best_new, static_cast<unsigned>(sink));
    std::printf("old_us %.2f new_us %.2f speedup %.2f diff_cases %ld mismatches %ld\n", best_old,
                best_new, best_new > 0 ? best_old / best_new : 0.0, diff, mismatches);
    return mismatches == 0 ? 0 : 1;
}
