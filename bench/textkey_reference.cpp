// Signature version 2 as implemented before the fast path was rewritten (core/textkey.cpp at
// f8caff5): the reference of bench_textkey's timing and differential check.
#include "bench/textkey_reference.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>

#include <utf8proc.h>
#include <xxhash.h>

#include "core/text.h"

namespace baofeed::textkey_reference {
using namespace baofeed::textkey;  // constants and Signature
namespace {

static_assert(kBands * kRows <= kSignatureSize, "the bands are made of signature values");

// Syllables per shingle. Chosen on the labelled set tests/fixtures/clusters (cluster_eval_test,
// exact weighted Jaccard for k = 3, 4, 5): 3 lets power-cut notices of different days reach
// 0.58, 5 drops reworded syndicated copies; 4 keeps the widest margin.
constexpr std::size_t kShingleWords = 4;

// A shingle with a number in it (a date, an hour, an amount) counts this many times in the set
// (weighted MinHash by replication). Copies of one story keep their numbers while template texts
// of different days (power-cut notices, schedules, digests) differ mainly in them.
constexpr int kDigitWeight = 16;

// Separates the parts (title, lead, paragraphs) inside the working buffer: a shingle never spans
// two parts, so a cut or added paragraph only changes its own shingles.
constexpr char kPartBreak = '\n';

struct FreeDeleter {
    void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};
using MallocBuffer = std::unique_ptr<utf8proc_uint8_t, FreeDeleter>;

const utf8proc_uint8_t* bytes_of(std::string_view s) {
    return reinterpret_cast<const utf8proc_uint8_t*>(s.data());
}

// ---- hash family --------------------------------------------------------------------------

constexpr std::uint64_t splitmix64(std::uint64_t& state) {
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// The two seeds of the MinHash family (see add_shingle), fixed at compile time from one seed:
// signatures are persisted.
struct HashFamily {
    std::uint64_t first = 0;
    std::uint64_t second = 0;
};

constexpr HashFamily make_family() {
    std::uint64_t state = 0x62616F66'65656421ULL;  // "baofeed!"
    HashFamily f;
    f.first = splitmix64(state);
    f.second = splitmix64(state);
    return f;
}

constexpr HashFamily kFamily = make_family();

constexpr std::uint64_t fmix64(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDULL;
    k ^= k >> 33;
    k *= 0xC4CEB9FE1A85EC53ULL;
    k ^= k >> 33;
    return k;
}

// ---- normalisation ------------------------------------------------------------------------

// Old -> new tone placement: the same tone (huyền, sắc, hỏi, ngã, nặng) on each base vowel.
constexpr std::array<char32_t, 5> kTonedA = {U'à', U'á', U'ả', U'ã', U'ạ'};
constexpr std::array<char32_t, 5> kTonedE = {U'è', U'é', U'ẻ', U'ẽ', U'ẹ'};
constexpr std::array<char32_t, 5> kTonedY = {U'ỳ', U'ý', U'ỷ', U'ỹ', U'ỵ'};
constexpr std::array<char32_t, 5> kTonedO = {U'ò', U'ó', U'ỏ', U'õ', U'ọ'};
constexpr std::array<char32_t, 5> kTonedU = {U'ù', U'ú', U'ủ', U'ũ', U'ụ'};

int tone_of(const std::array<char32_t, 5>& toned, char32_t cp) {
    for (std::size_t i = 0; i < toned.size(); ++i) {
        if (toned[i] == cp) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

// Decodes one code point below U+10000 from 1-3 bytes of well-formed UTF-8 (no overlong form,
// no surrogate) into `cp`; returns the bytes used, or 0 for anything else (4-byte sequences and
// invalid bytes: the caller falls back to utf8proc). Inline: the fast path of normalize_into
// runs it for every character of every article.
std::size_t decode_bmp(const unsigned char* p, std::size_t left, char32_t& cp) {
    const unsigned char b0 = p[0];
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    if (b0 >= 0xC2 && b0 < 0xE0) {
        if (left < 2 || (p[1] & 0xC0U) != 0x80) {
            return 0;
        }
        cp = (static_cast<char32_t>(b0 & 0x1FU) << 6U) | (p[1] & 0x3FU);
        return 2;
    }
    if (b0 >= 0xE0 && b0 < 0xF0) {
        if (left < 3 || (p[1] & 0xC0U) != 0x80 || (p[2] & 0xC0U) != 0x80) {
            return 0;
        }
        cp = (static_cast<char32_t>(b0 & 0x0FU) << 12U) |
             (static_cast<char32_t>(p[1] & 0x3FU) << 6U) | (p[2] & 0x3FU);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        return 3;
    }
    return 0;
}

bool is_word_code_point(utf8proc_int32_t cp) {
    if (cp < 0x80) {
        return (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9');  // input is case folded
    }
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
            return true;
        default:
            return false;
    }
}

// Emits words of NFC, case-folded UTF-8 into `out`: one ' ' between words, kPartBreak kept (once)
// where the input has one, everything else that is not a letter, mark or digit dropped.
class WordWriter {
  public:
    explicit WordWriter(std::string& out) : out_(out) {}

    void feed(utf8proc_int32_t cp_signed) {
        const auto cp = static_cast<char32_t>(cp_signed);
        if (cp == kPartBreak) {
            end_word();
            if (!out_.empty() && out_.back() != kPartBreak) {
                if (out_.back() == ' ') {
                    out_.back() = kPartBreak;
                } else {
                    out_.push_back(kPartBreak);
                }
            }
            return;
        }
        if (!is_word_code_point(cp_signed)) {
            end_word();
            return;
        }
        feed_word(cp);
    }

    // A code point known to be a letter, mark or digit (the fast path's table says so).
    void feed_word(char32_t cp) {
        char32_t folded = cp;
        if (folded == U'ð') {
            folded = U'đ';  // Ð (U+00D0, case folded to U+00F0) typed for Đ
        }
        if (length_ == 0 && !out_.empty() && out_.back() != kPartBreak) {
            out_.push_back(' ');
        }
        last_[0] = last_[1];
        last_[1] = last_[2];
        last_[2] = folded;
        offset_[0] = offset_[1];
        offset_[1] = offset_[2];
        offset_[2] = out_.size();
        ++length_;
        text::append_utf8(out_, folded);
    }

    void finish() {
        end_word();
        while (!out_.empty() && (out_.back() == ' ' || out_.back() == kPartBreak)) {
            out_.pop_back();
        }
    }

  private:
    // New tone placement for a word ending in an open oa/oe/uy syllable: the tone moves from the
    // last vowel to the one before (hoà -> hòa, thuỷ -> thủy). Closed syllables (hoàng) never
    // reach here because the pair must end the word; after "q" the "u" is part of the onset.
    void end_word() {
        if (length_ >= 2 && last_[0] != U'q') {  // last_[0] is 0 in a two-letter word
            int tone = -1;
            char32_t first = 0;
            char32_t second = 0;
            if (last_[1] == U'o' && (tone = tone_of(kTonedA, last_[2])) >= 0) {
                second = U'a';
            } else if (last_[1] == U'o' && (tone = tone_of(kTonedE, last_[2])) >= 0) {
                second = U'e';
            } else if (last_[1] == U'u' && (tone = tone_of(kTonedY, last_[2])) >= 0) {
                second = U'y';
            }
            if (tone >= 0) {
                first = last_[1] == U'o' ? kTonedO[static_cast<std::size_t>(tone)]
                                         : kTonedU[static_cast<std::size_t>(tone)];
                out_.resize(offset_[1]);
                text::append_utf8(out_, first);
                text::append_utf8(out_, second);
            }
        }
        length_ = 0;
        last_ = {};
    }

    std::string& out_;
    std::array<char32_t, 3> last_{};       // the word's last three code points, oldest first
    std::array<std::size_t, 3> offset_{};  // their byte offsets in out_
    std::size_t length_ = 0;               // code points in the current word
};

// Case-folded NFC of valid UTF-8 with default-ignorable characters (zero-width spaces and
// joiners, soft hyphen, BOM) removed. Invalid input is repaired first (U+FFFD).
MallocBuffer fold(std::string_view s, std::size_t& length) {
    std::string repaired;
    if (!text::is_valid_utf8(s)) {
        repaired = text::nfc(s);
        s = repaired;
    }
    utf8proc_uint8_t* raw = nullptr;
    const utf8proc_ssize_t n =
        utf8proc_map(bytes_of(s), static_cast<utf8proc_ssize_t>(s.size()), &raw,
                     static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                                    UTF8PROC_CASEFOLD | UTF8PROC_IGNORE));
    MallocBuffer owned(raw);
    if (n == UTF8PROC_ERROR_NOMEM) {
        throw std::bad_alloc();
    }
    if (n < 0 || !owned) {
        throw std::logic_error("textkey: utf8proc_map rejected valid UTF-8");
    }
    length = static_cast<std::size_t>(n);
    return owned;
}

// Fast path for text made of code points below U+2070 (Latin, Vietnamese, punctuation) with no
// combining mark: each code point folds on its own, from a table built once with utf8proc, so
// no utf8proc_map (decompose + recompose) runs. Anything else takes the utf8proc_map path.
enum class Kind : unsigned char { kSeparator, kWord, kIgnorable, kSlow };
struct Folded {
    char32_t cp = 0;
    Kind kind = Kind::kSlow;
};
constexpr char32_t kTableSize = 0x2070;

std::array<Folded, kTableSize> make_fold_table() {
    std::array<Folded, kTableSize> table{};
    for (char32_t cp = 0; cp < kTableSize; ++cp) {
        Folded& f = table[cp];
        const auto signed_cp = static_cast<utf8proc_int32_t>(cp);
        if (cp == kPartBreak) {
            f = {cp, Kind::kSeparator};  // handled by WordWriter
            continue;
        }
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x1100 && cp <= 0x11FF)) {
            continue;  // NUL, surrogates, Hangul jamo (compose with each other): slow path
        }
        const utf8proc_category_t category = utf8proc_category(signed_cp);
        if (category == UTF8PROC_CATEGORY_MN || category == UTF8PROC_CATEGORY_MC ||
            category == UTF8PROC_CATEGORY_ME) {
            continue;  // combining: the text needs real normalisation
        }
        std::array<utf8proc_uint8_t, 4> utf8{};
        const utf8proc_ssize_t len = utf8proc_encode_char(signed_cp, utf8.data());
        utf8proc_uint8_t* raw = nullptr;
        const utf8proc_ssize_t n =
            utf8proc_map(utf8.data(), len, &raw,
                         static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                                        UTF8PROC_CASEFOLD | UTF8PROC_IGNORE));
        const MallocBuffer owned(raw);
        if (n == 0) {
            f.kind = Kind::kIgnorable;
            continue;
        }
        utf8proc_int32_t folded = 0;
        if (n < 0 || !owned || utf8proc_iterate(owned.get(), n, &folded) != n) {
            continue;  // folds to several code points (ß -> ss): slow path
        }
        f.cp = static_cast<char32_t>(folded);
        f.kind = is_word_code_point(folded) ? Kind::kWord : Kind::kSeparator;
    }
    return table;
}

const std::array<Folded, kTableSize>& fold_table() {
    static const std::array<Folded, kTableSize> table = make_fold_table();
    return table;
}

// normalize() into `out` (cleared first); kPartBreak characters of `s` survive as part breaks.
void normalize_into(std::string_view s, std::string& out) {
    out.clear();
    const std::array<Folded, kTableSize>& table = fold_table();
    {
        WordWriter writer(out);
        const auto* p = bytes_of(s);
        auto left = static_cast<utf8proc_ssize_t>(s.size());
        bool fast = true;
        while (left > 0) {
            char32_t cp32 = 0;
            const std::size_t n = decode_bmp(p, static_cast<std::size_t>(left), cp32);
            if (n == 0) {
                fast = false;  // invalid UTF-8 or beyond U+FFFF: the slow path
                break;
            }
            const auto cp = static_cast<utf8proc_int32_t>(cp32);
            if (cp == 0xFEFF) {
                // BOM / zero width no-break space: ignorable
            } else if (static_cast<char32_t>(cp) >= kTableSize ||
                       table[static_cast<std::size_t>(cp)].kind == Kind::kSlow) {
                fast = false;
                break;
            } else {
                const Folded& f = table[static_cast<std::size_t>(cp)];
                if (f.kind == Kind::kWord) {
                    writer.feed_word(f.cp);
                } else if (cp == kPartBreak) {
                    writer.feed(static_cast<utf8proc_int32_t>(f.cp));
                } else if (f.kind == Kind::kSeparator) {
                    writer.feed(' ');
                }
            }
            p += n;
            left -= static_cast<utf8proc_ssize_t>(n);
        }
        if (fast) {
            writer.finish();
            return;
        }
    }
    out.clear();
    WordWriter writer(out);
    std::size_t length = 0;
    const MallocBuffer folded = fold(s, length);
    const utf8proc_uint8_t* p = folded.get();
    auto left = static_cast<utf8proc_ssize_t>(length);
    while (left > 0) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {
            break;  // cannot happen: utf8proc_map emits valid UTF-8
        }
        writer.feed(cp);
        p += n;
        left -= n;
    }
    writer.finish();
}

// ---- signature ----------------------------------------------------------------------------

// Working buffers of signature(), reused by every call on the thread: no allocation per shingle
// and, after warm-up, none per article except utf8proc's output buffer.
struct Scratch {
    std::string joined;
    std::string normalized;
    std::vector<std::uint64_t> words;  // word hashes of one part
    std::vector<unsigned char> digit;  // per word: 1 when it contains an ASCII digit
};

void append_part(std::string& joined, std::string_view part) {
    // A stray part break inside a field would only split a shingle; keep the text as it is.
    joined.append(part);
    joined.push_back(kPartBreak);
}

// One-permutation hashing (Li, Owen, Zhang 2012): one 64-bit hash per shingle; its top 7 bits
// choose one of the kSignatureSize bins, its low 32 bits compete for that bin's minimum. Each
// bin is a MinHash over the shingles that fall into it, so the share of equal bins estimates the
// Jaccard similarity as k independent hash functions would, at 1/k of the cost. Empty bins are
// filled by densify().
static_assert(kSignatureSize == 128, "the bin is the top 7 bits of the shingle hash");
constexpr unsigned kBinShift = 57;

struct Bins {
    std::array<std::uint32_t, kSignatureSize> values{};
    std::array<std::uint64_t, 2> filled{};  // bit i: bin i received a shingle
};

void add_shingle(std::uint64_t shingle, Bins& bins) {
    const std::uint64_t h = fmix64(shingle ^ kFamily.first);
    const auto bin = static_cast<std::size_t>(h >> kBinShift);
    const auto v = static_cast<std::uint32_t>(h);
    bins.values[bin] = std::min(bins.values[bin], v);
    bins.filled[bin / 64] |= std::uint64_t{1} << (bin % 64);
}

bool is_filled(const Bins& bins, std::size_t bin) {
    return ((bins.filled[bin / 64] >> (bin % 64)) & 1U) != 0;
}

// Optimal densification (Shrivastava, ICML 2017): an empty bin i takes the value of the first
// filled bin on a probe sequence that depends only on (i, attempt), the same for every text. Two
// texts whose bin i is empty in both then copy the same source bin as long as their filled
// bins agree, which keeps P(equal value) equal to the Jaccard similarity even for short texts
// with fewer shingles than bins. REQUIRES: at least one filled bin.
void densify(Bins& bins) {
    const std::array<std::uint32_t, kSignatureSize> original = bins.values;
    for (std::size_t bin = 0; bin < static_cast<std::size_t>(kSignatureSize); ++bin) {
        if (is_filled(bins, bin)) {
            continue;
        }
        std::uint64_t state = kFamily.second ^ (static_cast<std::uint64_t>(bin) << 32U);
        for (;;) {
            const auto source = static_cast<std::size_t>(splitmix64(state) >> kBinShift);
            if (is_filled(bins, source)) {
                bins.values[bin] = original[source];
                break;
            }
        }
    }
}

// Shingles of one part: every run of kShingleWords consecutive words, or the whole part when it
// is shorter; one with a digit is added kDigitWeight times (as distinct replicas).
void add_part_shingles(const Scratch& scratch, Bins& bins) {
    const std::vector<std::uint64_t>& words = scratch.words;
    if (words.empty()) {
        return;
    }
    const std::size_t width = std::min(words.size(), kShingleWords);
    std::size_t digits_in_window = 0;
    for (std::size_t j = 0; j + 1 < width; ++j) {
        digits_in_window += scratch.digit[j];
    }
    for (std::size_t start = 0; start + width <= words.size(); ++start) {
        digits_in_window += scratch.digit[start + width - 1];
        std::uint64_t h = width;
        for (std::size_t j = 0; j < width; ++j) {
            h = fmix64(h ^ words[start + j]) + 0x9E3779B97F4A7C15ULL;
        }
        const int replicas = digits_in_window > 0 ? kDigitWeight : 1;
        for (int r = 0; r < replicas; ++r) {
            add_shingle(fmix64(h + static_cast<std::uint64_t>(r) * 0xD6E8FEB86659FD93ULL), bins);
        }
        digits_in_window -= scratch.digit[start];
    }
}

}  // namespace

std::string normalize(std::string_view text) {
    std::string out;
    normalize_into(text, out);
    // Part breaks are an internal device of signature(); in the public form they are spaces.
    std::replace(out.begin(), out.end(), kPartBreak, ' ');
    return out;
}

Signature signature(const Article& article) {
    thread_local Scratch scratch;
    scratch.joined.clear();
    // The title is left out: republishers rewrite headlines (the TTXVN fixture story carries
    // three), and with it the copies of one story score lower than template notices of
    // different days (measured on tests/fixtures/clusters).
    std::string_view lead = article.lead;
    if (!article.lead_prefix.empty() &&
        lead.substr(0, article.lead_prefix.size()) == std::string_view(article.lead_prefix)) {
        lead.remove_prefix(article.lead_prefix.size());
    }
    append_part(scratch.joined, lead);
    for (const std::string& paragraph : article.body) {
        append_part(scratch.joined, paragraph);
    }
    normalize_into(scratch.joined, scratch.normalized);

    Bins bins;
    bins.values.fill(std::numeric_limits<std::uint32_t>::max());
    std::string_view rest = scratch.normalized;
    while (!rest.empty()) {
        const std::size_t end = std::min(rest.find(kPartBreak), rest.size());
        std::string_view part = rest.substr(0, end);
        rest.remove_prefix(std::min(end + 1, rest.size()));
        scratch.words.clear();
        scratch.digit.clear();
        while (!part.empty()) {
            const std::size_t space = std::min(part.find(' '), part.size());
            const std::string_view word = part.substr(0, space);
            scratch.words.push_back(XXH3_64bits(word.data(), word.size()));
            const bool has_digit =
                std::any_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
            scratch.digit.push_back(has_digit ? 1 : 0);
            part.remove_prefix(std::min(space + 1, part.size()));
        }
        add_part_shingles(scratch, bins);
    }
    Signature s;
    if (bins.filled[0] == 0 && bins.filled[1] == 0) {
        return s;  // no shingle: empty, values all 0
    }
    densify(bins);
    s.values = bins.values;
    s.empty = false;
    return s;
}

}  // namespace baofeed::textkey_reference
