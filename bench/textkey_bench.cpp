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
#include "bench/vietnamese_words.h"
#include "core/text.h"
#include "core/textkey.h"

namespace {

using baofeed::Article;
namespace textkey = baofeed::textkey;
namespace reference = baofeed::textkey_reference;
using baofeed::bench::Rng;
using baofeed::bench::vocabulary;

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
                baofeed::text::append_utf8(out, kHot[rng_.below(kHot.size())]);
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
                baofeed::text::append_utf8(out, static_cast<char32_t>(rng_.below(0x80)));
                break;
            case 1:
                baofeed::text::append_utf8(out, static_cast<char32_t>(0x80 + rng_.below(0x200)));
                break;
            case 2:
                baofeed::text::append_utf8(
                    out, static_cast<char32_t>(0x280 + rng_.below(0x1E00 - 0x280)));
                break;
            case 3:
                baofeed::text::append_utf8(out, static_cast<char32_t>(0x1E00 + rng_.below(0x280)));
                break;
            case 4:
                baofeed::text::append_utf8(out, static_cast<char32_t>(0x300 + rng_.below(0x70)));
                break;
            case 5:
                baofeed::text::append_utf8(
                    out, static_cast<char32_t>(0x2080 + rng_.below(0xD800 - 0x2080)));
                break;
            case 6:
                baofeed::text::append_utf8(out, static_cast<char32_t>(0xE000 + rng_.below(0x2000)));
                break;
            case 7:
                baofeed::text::append_utf8(out,
                                           static_cast<char32_t>(0x10000 + rng_.below(0x100000)));
                break;
            case 8:
                out.push_back(static_cast<char>(0x80 + rng_.below(0x80)));
                break;
            case 9:
                out.push_back(static_cast<char>(0xC0 + rng_.below(0x40)));
                break;
            case 10:
                baofeed::text::append_utf8(out, kHot[rng_.below(kHot.size())]);
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
