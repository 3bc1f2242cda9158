#include "core/textkey.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>

#include <utf8proc.h>
// Inlined: a word hash per syllable is on the hot path (same XXH3 as the library's).
#define XXH_INLINE_ALL
#include <xxhash.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/text.h"

namespace baofeed::textkey {
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

// The general path of normalize(): utf8proc_map (repair, NFC, case folding, ignorables) over the
// whole text, then WordWriter. Into `out` (cleared first); kPartBreak characters of `s` survive
// as part breaks.
void normalize_slow(std::string_view s, std::string& out) {
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

// ---- fast path ----------------------------------------------------------------------------
//
// A text is "fast" when it is well-formed UTF-8 of code points below kTableSize (plus U+FEFF)
// whose fold_table() kind is not kSlow: then every code point folds on its own and the words
// are the same as normalize_slow() gives (fold_table() is built with the same utf8proc_map
// call). Whether the fast path or the slow path handles a text is decided for the whole text
// (for signature(): for the lead and body together), exactly as before the fast path was
// streamed, so the result never depends on which path ran.

// fold_table() in the form scan_fast() consumes: the folded code point of a word character
// pre-encoded, and its tone class for the tone-placement rule.
struct FastEntry {
    char32_t cp = 0;           // kWord: the folded code point (Ð, ð -> đ); kSeparator: the input
    Kind kind = Kind::kSlow;   // as in fold_table()
    unsigned char length = 0;  // kWord: UTF-8 bytes of cp
    bool digit = false;        // kWord: cp is an ASCII digit
    signed char tone = -1;     // kWord: index in kTonedA/E/Y when cp is in one of them, else -1
    char tone_base = 0;        // 'a', 'e' or 'y' for those (the unaccented letter), else 0
    std::array<char, 4> utf8{};
};

std::size_t encode(char32_t cp, char* out) {
    std::string s;
    text::append_utf8(s, cp);
    std::copy(s.begin(), s.end(), out);
    return s.size();
}

std::array<FastEntry, kTableSize> make_fast_table() {
    const std::array<Folded, kTableSize>& fold = fold_table();
    std::array<FastEntry, kTableSize> table{};
    for (char32_t cp = 0; cp < kTableSize; ++cp) {
        const Folded& f = fold[cp];
        FastEntry& e = table[cp];
        e.kind = f.kind;
        e.cp = f.cp;
        if (f.kind != Kind::kWord) {
            continue;
        }
        e.cp = f.cp == U'ð' ? U'đ' : f.cp;  // as WordWriter::feed_word
        e.length = static_cast<unsigned char>(encode(e.cp, e.utf8.data()));
        e.digit = e.cp >= U'0' && e.cp <= U'9';
        const std::array<std::pair<const std::array<char32_t, 5>*, char>, 3> classes = {
            {{&kTonedA, 'a'}, {&kTonedE, 'e'}, {&kTonedY, 'y'}}};
        for (const auto& [toned, base] : classes) {
            const int tone = tone_of(*toned, e.cp);
            if (tone >= 0) {
                e.tone = static_cast<signed char>(tone);
                e.tone_base = base;
            }
        }
    }
    return table;
}

const std::array<FastEntry, kTableSize>& fast_table() {
    static const std::array<FastEntry, kTableSize> table = make_fast_table();
    return table;
}

// Word hash of signature(): XXH3-64 (no seed) of the word's bytes. Words are syllables, nearly
// always 16 bytes or shorter: those take XXH3's short-input function inlined here (the same
// function XXH3_64bits dispatches to, so the same value).
[[gnu::always_inline]] inline std::uint64_t word_hash(const char* bytes, std::size_t size) {
#if XXH_VERSION_NUMBER >= 800 && XXH_VERSION_NUMBER < 900
    if (size <= 16) {
        return XXH3_len_0to16_64b(reinterpret_cast<const xxh_u8*>(bytes), size, XXH3_kSecret, 0);
    }
#endif
    return XXH3_64bits(bytes, size);
}

// Grows the word buffer of scan_fast() (rarely: words longer than its initial size).
[[gnu::noinline]] char* grow(std::string& buffer) {
    buffer.resize(2 * buffer.size());
    return buffer.data();
}

// The fast path of normalisation as a stream: decodes `s` once, folds each code point from
// fast_table(), assembles each word in `buffer` (applying the tone-placement rule of
// WordWriter::end_word when it ends) and hands it to a sink:
//   sink.word(const char* bytes, std::size_t size, bool has_ascii_digit) per word, in order;
//   sink.part_end() at each kPartBreak and at the end of `s`.
// The words are exactly those normalize_slow() writes for a fast text. Returns false as soon as
// `s` turns out not to be fast; the sink has then received part of its words and the caller
// takes the slow path instead. `buffer` is scratch space (any size above 8).
template <class Sink>
[[gnu::always_inline]] inline bool scan_fast(std::string_view s, Sink& sink, std::string& buffer) {
    const FastEntry* const table = fast_table().data();
    const auto* p = bytes_of(s);
    const auto* const end = p + s.size();
    char* word = buffer.data();
    std::size_t capacity = buffer.size();
    std::size_t size = 0;             // bytes of the current word
    bool digit = false;               // it has an ASCII digit
    const FastEntry* last = nullptr;  // its last code point (nullptr: no word under way)
    std::size_t last_offset = 0;      // the byte offset of that code point in `word`

    // WordWriter::end_word on the word's last three code points, found in the bytes: the one
    // before `last` is "o" or "u" exactly when the byte before it is (ASCII bytes are whole
    // code points), and the one before that "q" exactly when the byte before that is.
    const auto end_word = [&]() {
        if (last == nullptr) {
            return;
        }
        if (last->tone >= 0 && last_offset >= 1) {
            const char prev = word[last_offset - 1];
            const bool open = last->tone_base == 'y' ? prev == 'u' : prev == 'o';
            if (open && (last_offset < 2 || word[last_offset - 2] != 'q')) {
                const auto tone = static_cast<std::size_t>(last->tone);
                size = last_offset - 1;
                size += encode(prev == 'o' ? kTonedO[tone] : kTonedU[tone], word + size);
                word[size++] = last->tone_base;
            }
        }
        sink.word(word, size, digit);
        size = 0;
        digit = false;
        last = nullptr;
    };

    while (p < end) {
        char32_t cp = *p;
        if (cp < 0x80) {
            ++p;
        } else if (cp >= 0xC2 && cp < 0xE0) {
            if (end - p < 2 || (p[1] & 0xC0U) != 0x80) {
                return false;
            }
            cp = ((cp & 0x1FU) << 6U) | (p[1] & 0x3FU);
            p += 2;
        } else if (cp >= 0xE0 && cp < 0xF0) {
            if (end - p < 3 || (p[1] & 0xC0U) != 0x80 || (p[2] & 0xC0U) != 0x80) {
                return false;
            }
            cp = ((cp & 0x0FU) << 12U) | (static_cast<char32_t>(p[1] & 0x3FU) << 6U) |
                 (p[2] & 0x3FU);
            p += 3;
            if (cp >= kTableSize) {
                if (cp == 0xFEFF) {
                    continue;  // BOM / zero width no-break space: ignorable
                }
                return false;  // beyond the table, or a surrogate
            }
            if (cp < 0x800) {
                return false;  // overlong
            }
        } else {
            return false;  // invalid, or beyond U+FFFF
        }
        const FastEntry& e = table[cp];
        if (e.kind == Kind::kWord) {
            if (size + 4 > capacity) {
                word = grow(buffer);
                capacity = buffer.size();
            }
            last = &e;
            last_offset = size;
            std::memcpy(word + size, e.utf8.data(), 4);
            size += e.length;
            digit = digit || e.digit;
        } else if (e.kind == Kind::kSeparator) {
            end_word();
            if (cp == static_cast<char32_t>(kPartBreak)) {
                sink.part_end();
            }
        } else if (e.kind != Kind::kIgnorable) {
            return false;
        }
    }
    end_word();
    sink.part_end();
    return true;
}

// scan_fast()'s word buffer, one per thread.
std::string& word_buffer() {
    thread_local std::string buffer(256, '\0');
    return buffer;
}

// Sink of normalize(): words separated by one space (part breaks are spaces there).
struct JoinSink {
    std::string& out;
    void word(const char* bytes, std::size_t size, bool /*has_digit*/) {
        if (!out.empty()) {
            out.push_back(' ');
        }
        out.append(bytes, size);
    }
    void part_end() {}
};

// ---- signature ----------------------------------------------------------------------------

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

    Bins() { values.fill(std::numeric_limits<std::uint32_t>::max()); }
};

// A shingle whose fmix64(shingle ^ kFamily.first) is `h`.
[[gnu::always_inline]] inline void add_hashed_shingle(std::uint64_t h, Bins& bins) {
    const auto bin = static_cast<std::size_t>(h >> kBinShift);
    const auto v = static_cast<std::uint32_t>(h);
    bins.values[bin] = std::min(bins.values[bin], v);
    bins.filled[bin / 64] |= std::uint64_t{1} << (bin % 64);
}

[[gnu::always_inline]] inline void add_shingle(std::uint64_t shingle, Bins& bins) {
    add_hashed_shingle(fmix64(shingle ^ kFamily.first), bins);
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

constexpr std::uint64_t kChainStep = 0x9E3779B97F4A7C15ULL;    // shingle hash: per-word step
constexpr std::uint64_t kReplicaStep = 0xD6E8FEB86659FD93ULL;  // replica r adds r times this

// The shingles of one part, from its word hashes and has-digit flags (n >= 1 words): every run
// of kShingleWords consecutive words, or the whole part when it is shorter; a shingle with a
// digit is added kDigitWeight times (as distinct replicas).
void add_part_shingles(const std::uint64_t* words, const unsigned char* digits, std::size_t n,
                       Bins& bins) {
    const auto add = [&](std::uint64_t h, bool digit) {
        const int replicas = digit ? kDigitWeight : 1;
        for (int r = 0; r < replicas; ++r) {
            add_shingle(fmix64(h + static_cast<std::uint64_t>(r) * kReplicaStep), bins);
        }
    };
    if (n < kShingleWords) {  // the whole part is the shingle
        std::uint64_t h = n;
        bool digit = false;
        for (std::size_t j = 0; j < n; ++j) {
            h = fmix64(h ^ words[j]) + kChainStep;
            digit = digit || digits[j] != 0;
        }
        add(h, digit);
        return;
    }
    static_assert(kShingleWords == 4, "unrolled below");
    for (std::size_t start = 0; start + kShingleWords <= n; ++start) {
        std::uint64_t h = kShingleWords;
        h = fmix64(h ^ words[start]) + kChainStep;
        h = fmix64(h ^ words[start + 1]) + kChainStep;
        h = fmix64(h ^ words[start + 2]) + kChainStep;
        h = fmix64(h ^ words[start + 3]) + kChainStep;
        add(h, (digits[start] | digits[start + 1] | digits[start + 2] | digits[start + 3]) != 0);
    }
}

// Sink of signature(): keeps the hash (word_hash()) and digit flag of each word of the part;
// at the end of the part, its shingles into the bins (add_part_shingles()).
class ShingleSink {
  public:
    // Scratch space, kept between calls (the sizes are the capacity).
    struct Buffers {
        std::vector<std::uint64_t> words;
        std::vector<unsigned char> digits;
    };

    ShingleSink(Bins& bins, Buffers& buffers) : bins_(bins), buffers_(buffers) {
        if (buffers_.words.size() < 256) {
            buffers_.words.resize(256);
            buffers_.digits.resize(256);
        }
        reload();
    }

    [[gnu::always_inline]] void word(const char* bytes, std::size_t size, bool has_digit) {
        hashed_word(word_hash(bytes, size), has_digit);
    }

    // A word given by its word_hash().
    [[gnu::always_inline]] void hashed_word(std::uint64_t hash, bool has_digit) {
        if (count_ == capacity_) {
            grow();
        }
        words_[count_] = hash;
        digits_[count_] = has_digit ? 1 : 0;
        ++count_;
    }

    void part_end() {
        const std::size_t n = count_;
        count_ = 0;
        if (n == 0) {
            return;
        }
        add_part_shingles(words_, digits_, n, bins_);
    }

  private:
    void reload() {
        words_ = buffers_.words.data();
        digits_ = buffers_.digits.data();
        capacity_ = buffers_.words.size();
    }

    [[gnu::noinline]] void grow() {
        buffers_.words.resize(2 * buffers_.words.size());
        buffers_.digits.resize(2 * buffers_.digits.size());
        reload();
    }

    Bins& bins_;
    Buffers& buffers_;
    std::uint64_t* words_ = nullptr;   // word hashes of the part
    unsigned char* digits_ = nullptr;  // per word: 1 when it has an ASCII digit
    std::size_t capacity_ = 0;
    std::size_t count_ = 0;  // words of the part so far
};

// ---- token cache --------------------------------------------------------------------------
//
// signature()'s fast path works on tokens: maximal runs of bytes that are not ASCII separators
// (a token is ASCII letters and digits and any non-ASCII bytes). An ASCII separator ends a word
// and cannot be part of a multi-byte sequence, so the words of a text are the words of its
// tokens, each normalised on its own, and a token's words depend on its bytes only. News text
// repeats a few thousand syllables, so each thread keeps the result of its recent tokens of up
// to 16 bytes that give at most one word: the word's hash and digit flag. A token seen before
// then costs a table probe instead of decoding, folding and hashing.

// Byte classes of the token scanner: 1 for the bytes of tokens, 0 for ASCII separators, from
// fast_table() (ASCII letters and digits are words, NUL is slow: both stay in tokens, and
// scan_fast() decides).
std::array<unsigned char, 256> make_token_bytes() {
    std::array<unsigned char, 256> bytes{};
    const std::array<FastEntry, kTableSize>& table = fast_table();
    for (std::size_t b = 0; b < bytes.size(); ++b) {
        bytes[b] = b >= 0x80 || table[b].kind != Kind::kSeparator ? 1 : 0;
    }
    return bytes;
}

const std::array<unsigned char, 256>& token_bytes() {
    static const std::array<unsigned char, 256> bytes = make_token_bytes();
    return bytes;
}

// The end of the token going on at `p`: the first ASCII separator at or after `p`, or `end`.
// With SSE2, sixteen bytes at a time: token bytes are the non-ASCII ones, ASCII letters and
// digits, and NUL (checked against token_bytes() once).
const unsigned char* token_end(const unsigned char* p, const unsigned char* end,
                               const unsigned char* token_byte) {
#ifdef __SSE2__
    static const bool simd = [] {
        const std::array<unsigned char, 256>& bytes = token_bytes();
        for (int b = 0; b < 256; ++b) {
            const bool alnum =
                (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
            if ((bytes[static_cast<std::size_t>(b)] != 0) != (b >= 0x80 || b == 0 || alnum)) {
                return false;
            }
        }
        return true;
    }();
    if (simd) {
        while (end - p >= 16) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            // Signed byte compares: shift each range to start at -128.
            const __m128i letter =
                _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)),
                                            _mm_set1_epi8(static_cast<char>(0x80 - 'a'))),
                               _mm_set1_epi8(-128 + 26));
            const __m128i digit =
                _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(static_cast<char>(0x80 - '0'))),
                               _mm_set1_epi8(-128 + 10));
            const __m128i nul = _mm_cmpeq_epi8(x, _mm_setzero_si128());
            // Bytes >= 0x80 have the top bit set: movemask counts them as token bytes too.
            const __m128i token = _mm_or_si128(_mm_or_si128(letter, digit), _mm_or_si128(nul, x));
            const auto separators = static_cast<unsigned>(~_mm_movemask_epi8(token)) & 0xFFFFU;
            if (separators != 0) {
                return p + std::countr_zero(separators);
            }
            p += 16;
        }
    }
#endif
    while (p < end && token_byte[*p] != 0) {
        ++p;
    }
    return p;
}

constexpr std::size_t kMaxCachedToken = 16;

class TokenCache {
  public:
    struct Entry {
        std::uint64_t low = 0;   // token bytes 0-7, zero-padded (little-endian)
        std::uint64_t high = 0;  // token bytes 8-15, zero-padded
        std::uint64_t hash = 0;  // word_hash() of its word
        std::uint32_t size = 0;  // token bytes; 0: empty slot
        std::uint8_t words = 0;  // 0 or 1
        bool digit = false;      // the word has an ASCII digit
    };

    TokenCache() : slots_(kSlots) {}

    // The key of a token of 1 to kMaxCachedToken bytes at `p`; `readable` bytes may be read.
    static void key_of(const unsigned char* p, std::size_t size, std::size_t readable,
                       std::uint64_t& low, std::uint64_t& high) {
        if (readable >= 16) {  // two unaligned loads, masked to the token
            std::memcpy(&low, p, 8);
            std::memcpy(&high, p + 8, 8);
        } else {
            std::array<unsigned char, 16> padded{};
            std::memcpy(padded.data(), p, size);
            std::memcpy(&low, padded.data(), 8);
            std::memcpy(&high, padded.data() + 8, 8);
        }
        static_assert(std::endian::native == std::endian::little, "byte masks below");
        if (size < 8) {
            low &= (std::uint64_t{1} << (8 * size)) - 1;
            high = 0;
        } else if (size < 16) {
            high &= (std::uint64_t{1} << (8 * (size - 8))) - 1;
        }
    }

    Entry& slot(std::uint64_t low, std::uint64_t high, std::size_t size) {
        const std::uint64_t h =
            (low * 0x9E3779B97F4A7C15ULL) ^ ((high + size) * 0xC2B2AE3D27D4EB4FULL);
        return slots_[static_cast<std::size_t>(h >> (64 - kSlotBits))];
    }

  private:
    static constexpr unsigned kSlotBits = 13;
    static constexpr std::size_t kSlots = std::size_t{1} << kSlotBits;  // 256 KiB a thread
    std::vector<Entry> slots_;
};

// Sink of a token's scan_fast(): forwards the words to signature()'s sink and keeps the last one
// for the cache.
struct TokenSink {
    ShingleSink& out;
    std::size_t words = 0;
    std::uint64_t hash = 0;
    bool digit = false;
    void word(const char* bytes, std::size_t size, bool has_digit) {
        hash = word_hash(bytes, size);
        digit = has_digit;
        ++words;
        out.hashed_word(hash, digit);
    }
    void part_end() {}
};

// The fast path of signature() for one text (the lead or a paragraph): its words to `sink` as
// scan_fast() would give them, through the token cache. Returns false, like scan_fast(), when
// the text is not fast.
bool sign_fast(std::string_view s, ShingleSink& sink, TokenCache& cache, std::string& buffer) {
    const unsigned char* const token_byte = token_bytes().data();
    const auto* p = bytes_of(s);
    const auto* const end = p + s.size();
    while (true) {
        while (p < end && token_byte[*p] == 0) {
            if (*p == static_cast<unsigned char>(kPartBreak)) {
                sink.part_end();
            }
            ++p;
        }
        if (p == end) {
            break;
        }
        const auto* q = token_end(p + 1, end, token_byte);
        const auto size = static_cast<std::size_t>(q - p);
        const std::string_view token(reinterpret_cast<const char*>(p), size);
        if (size > kMaxCachedToken) {
            TokenSink words{sink};
            if (!scan_fast(token, words, buffer)) {
                return false;
            }
        } else {
            std::uint64_t low = 0;
            std::uint64_t high = 0;
            TokenCache::key_of(p, size, static_cast<std::size_t>(end - p), low, high);
            TokenCache::Entry& e = cache.slot(low, high, size);
            if (e.size == size && e.low == low && e.high == high) {
                if (e.words != 0) {
                    sink.hashed_word(e.hash, e.digit);
                }
            } else {
                TokenSink words{sink};
                if (!scan_fast(token, words, buffer)) {
                    return false;
                }
                if (words.words <= 1) {
                    e = {low,
                         high,
                         words.hash,
                         static_cast<std::uint32_t>(size),
                         static_cast<std::uint8_t>(words.words),
                         words.digit};
                }
            }
        }
        p = q;
    }
    sink.part_end();
    return true;
}

// The story text: the lead without its lead_prefix.
std::string_view story_lead(const Article& article) {
    std::string_view lead = article.lead;
    if (!article.lead_prefix.empty() &&
        lead.substr(0, article.lead_prefix.size()) == std::string_view(article.lead_prefix)) {
        lead.remove_prefix(article.lead_prefix.size());
    }
    return lead;
}

// signature()'s slow path: lead and paragraphs joined with part breaks, normalize_slow(), the
// words of each part to the sink. Working buffers reused by every call on the thread.
void sign_slow(const Article& article, ShingleSink& sink) {
    thread_local std::string joined;
    thread_local std::string normalized;
    joined.clear();
    // A stray part break inside a field only splits a shingle; the text is kept as it is.
    joined.append(story_lead(article));
    joined.push_back(kPartBreak);
    for (const std::string& paragraph : article.body) {
        joined.append(paragraph);
        joined.push_back(kPartBreak);
    }
    normalize_slow(joined, normalized);
    std::string_view rest = normalized;
    while (!rest.empty()) {
        const std::size_t end = std::min(rest.find(kPartBreak), rest.size());
        std::string_view part = rest.substr(0, end);
        rest.remove_prefix(std::min(end + 1, rest.size()));
        while (!part.empty()) {
            const std::size_t space = std::min(part.find(' '), part.size());
            const std::string_view word = part.substr(0, space);
            sink.word(word.data(), word.size(), std::any_of(word.begin(), word.end(), [](char c) {
                          return c >= '0' && c <= '9';
                      }));
            part.remove_prefix(std::min(space + 1, part.size()));
        }
        sink.part_end();
    }
}

void store_le32(std::uint32_t v, char* out) {
    for (int b = 0; b < 4; ++b) {
        out[b] = static_cast<char>((v >> (8 * b)) & 0xFFU);
    }
}

}  // namespace

std::string normalize(std::string_view text) {
    std::string out;
    JoinSink sink{out};
    if (scan_fast(text, sink, word_buffer())) {
        return out;
    }
    normalize_slow(text, out);
    // Part breaks are an internal device of signature(); in the public form they are spaces.
    std::replace(out.begin(), out.end(), kPartBreak, ' ');
    return out;
}

Signature signature(const Article& article) {
    // The title is left out: republishers rewrite headlines (the TTXVN fixture story carries
    // three), and with it the copies of one story score lower than template notices of
    // different days (measured on tests/fixtures/clusters).
    Bins bins;
    {
        thread_local ShingleSink::Buffers part;  // per thread: no allocation per article
        ShingleSink sink(bins, part);
        std::string& buffer = word_buffer();
        thread_local TokenCache cache;
        bool fast = sign_fast(story_lead(article), sink, cache, buffer);
        for (std::size_t i = 0; fast && i < article.body.size(); ++i) {
            fast = sign_fast(article.body[i], sink, cache, buffer);
        }
        if (!fast) {
            bins = Bins();  // start over on the slow path, for the whole text
            ShingleSink slow_sink(bins, part);
            sign_slow(article, slow_sink);
        }
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

std::vector<std::int64_t> band_keys(const Signature& s) {
    std::vector<std::int64_t> keys;
    if (s.empty) {
        return keys;
    }
    keys.reserve(kBands);
    std::array<char, kRows * 4> row_bytes{};
    for (int band = 0; band < kBands; ++band) {
        for (int r = 0; r < kRows; ++r) {
            store_le32(s.values[static_cast<std::size_t>(band * kRows + r)],
                       row_bytes.data() + 4 * r);
        }
        const XXH64_hash_t h = XXH3_64bits_withSeed(row_bytes.data(), row_bytes.size(),
                                                    static_cast<XXH64_hash_t>(band));
        keys.push_back(static_cast<std::int64_t>(h));
    }
    return keys;
}

double similarity(const Signature& a, const Signature& b) {
    if (a.empty || b.empty) {
        return 0.0;
    }
    int equal = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(kSignatureSize); ++i) {
        if (a.values[i] == b.values[i]) {
            ++equal;
        }
    }
    return static_cast<double>(equal) / kSignatureSize;
}

std::string to_bytes(const Signature& s) {
    if (s.empty) {
        return {};
    }
    std::string out(static_cast<std::size_t>(kSignatureSize) * 4, '\0');
    for (std::size_t i = 0; i < static_cast<std::size_t>(kSignatureSize); ++i) {
        store_le32(s.values[i], out.data() + 4 * i);
    }
    return out;
}

Signature from_bytes(std::string_view bytes) {
    Signature s;
    if (bytes.empty()) {
        return s;
    }
    if (bytes.size() != static_cast<std::size_t>(kSignatureSize) * 4) {
        throw std::invalid_argument("textkey: a stored signature must be " +
                                    std::to_string(kSignatureSize * 4) + " bytes, not " +
                                    std::to_string(bytes.size()));
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(kSignatureSize); ++i) {
        std::uint32_t v = 0;
        for (std::size_t b = 0; b < 4; ++b) {
            v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[4 * i + b]))
                 << (8 * b);
        }
        s.values[i] = v;
    }
    s.empty = false;
    return s;
}

}  // namespace baofeed::textkey
