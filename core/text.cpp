#include "core/text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include <utf8proc.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>  // SSSE3, used behind a run-time check (valid_utf8_ssse3)
#endif

// Debian's libutf8proc.pc claims 2.6.0 for the 2.8.0 library (STYLE.md), so check the header.
static_assert(UTF8PROC_VERSION_MAJOR > 2 ||
                  (UTF8PROC_VERSION_MAJOR == 2 && UTF8PROC_VERSION_MINOR >= 8),
              "baofeed needs utf8proc >= 2.8");

namespace baofeed::text {
namespace {

constexpr utf8proc_int32_t kReplacement = 0xFFFD;

struct FreeDeleter {
    void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};
using MallocBuffer = std::unique_ptr<utf8proc_uint8_t, FreeDeleter>;

const utf8proc_uint8_t* bytes_of(std::string_view s) {
    return reinterpret_cast<const utf8proc_uint8_t*>(s.data());
}

// Decodes the code point at the front of `s`. Returns its length in bytes, or a value <= 0 for
// an invalid sequence (surrogates, overlongs, code points over U+10FFFF and truncated sequences
// included), as utf8proc_iterate does; inline, since every text pass calls it per code point.
[[gnu::always_inline]] inline utf8proc_ssize_t next_code_point(std::string_view s,
                                                               utf8proc_int32_t& cp) {
    const auto* p = bytes_of(s);
    const std::size_t n = s.size();
    if (n == 0) {
        return 0;
    }
    const utf8proc_int32_t b0 = p[0];
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    const auto continuation = [p](std::size_t i) { return (p[i] & 0xC0) == 0x80; };
    if (b0 < 0xC2) {
        return -1;  // a continuation byte, or an overlong two-byte lead
    }
    if (b0 < 0xE0) {
        if (n < 2 || !continuation(1)) {
            return -1;
        }
        cp = ((b0 & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (b0 < 0xF0) {
        if (n < 3 || !continuation(1) || !continuation(2)) {
            return -1;
        }
        cp = ((b0 & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return -1;  // overlong, or a surrogate
        }
        return 3;
    }
    if (b0 < 0xF5) {
        if (n < 4 || !continuation(1) || !continuation(2) || !continuation(3)) {
            return -1;
        }
        cp = ((b0 & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        if (cp < 0x10000 || cp > 0x10FFFF) {
            return -1;
        }
        return 4;
    }
    return -1;
}

void append_code_point(std::string& out, utf8proc_int32_t cp) {
    std::array<utf8proc_uint8_t, 4> buf{};
    const utf8proc_ssize_t n = utf8proc_encode_char(cp, buf.data());
    out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
}

// End of the run of ASCII bytes at s[from...]: sixteen bytes at a time with SSE2 (every x86-64
// has it), the first byte >= 0x80 of a block found by its mask; else eight at a time.
[[gnu::always_inline]] inline std::size_t skip_ascii(std::string_view s, std::size_t from) {
    std::size_t i = from;
#if defined(__SSE2__)
    while (i + 16 <= s.size()) {
        const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
        const auto high = static_cast<unsigned>(_mm_movemask_epi8(block));
        if (high != 0) {
            return i + static_cast<std::size_t>(__builtin_ctz(high));
        }
        i += 16;
    }
#endif
    constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
    while (i + 8 <= s.size()) {
        std::uint64_t word = 0;
        std::memcpy(&word, s.data() + i, 8);
        if ((word & kHighBits) != 0) {
            break;
        }
        i += 8;
    }
    while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) {
        ++i;
    }
    return i;
}

bool is_ascii_space(unsigned char c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0D);  // tab, line feed, vertical tab, form feed, CR
}

[[gnu::always_inline]] inline bool is_space(utf8proc_int32_t cp) {
    if (cp < 0x80) {
        return is_ascii_space(static_cast<unsigned char>(cp));
    }
    switch (cp) {
        case 0x85:    // next line
        case 0x180E:  // Mongolian vowel separator
        case 0x200B:  // zero width space
        case 0x2028:  // line separator
        case 0x2029:  // paragraph separator
        case 0x2060:  // word joiner
        case 0xFEFF:  // zero width no-break space / BOM
            return true;
        default:
            break;
    }
    // Zs (Unicode 15, as utf8proc 2.8): U+0020, U+00A0, U+1680, U+2000-200A, U+202F, U+205F,
    // U+3000. Listed rather than looked up: this runs for every code point of every text.
    return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

// Whether the unit at s[i] is white space, with its length in `len`: a valid sequence, or one
// byte of an invalid one (copied as it is by the callers, never white space).
[[gnu::always_inline]] inline bool space_at(std::string_view s, std::size_t i, std::size_t& len) {
    const auto c = static_cast<unsigned char>(s[i]);
    len = 1;
    if (c < 0x80) {
        return is_ascii_space(c);
    }
    const auto c1 = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0U;
    if ((c != 0xC2 && (c < 0xE1 || c > 0xE3) && c != 0xEF) ||
        (c == 0xE1 && c1 != 0x9A && c1 != 0xA0)) {
        // No white space code point starts with these bytes (U+0085, U+00A0: C2; U+1680: E1 9A;
        // U+180E: E1 A0; U+2000-U+2060: E2; U+3000: E3; U+FEFF: EF; Vietnamese letters are
        // E1 BA and E1 BB): step over the continuation bytes, which are never ASCII, so no
        // space is stepped over.
        while (i + len < s.size() && len < 4 &&
               (static_cast<unsigned char>(s[i + len]) & 0xC0U) == 0x80U) {
            ++len;
        }
        return false;
    }
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = next_code_point(s.substr(i), cp);
    if (n <= 0) {
        return false;
    }
    len = static_cast<std::size_t>(n);
    return is_space(cp);
}

// `s` with every invalid byte sequence replaced by U+FFFD (one per offending byte).
std::string replace_invalid(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    while (!s.empty()) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = next_code_point(s, cp);
        if (n <= 0) {
            append_code_point(out, kReplacement);
            s.remove_prefix(1);
        } else {
            out.append(s.substr(0, static_cast<std::size_t>(n)));
            s.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    return out;
}

// Code points below kQuickLimit for which a string made only of such code points (and ASCII)
// is already NFC: each has combining class 0 (so no reordering), is unchanged by NFC on its
// own (not a singleton, composition exclusion or non-starter decomposition: NFC_Quick_Check
// is not No), and never combines with a character before it (not NFC_Quick_Check=Maybe: no
// trailing element of any canonical decomposition, no Hangul medial vowel or final
// consonant). Such a string passes UAX #15's quick check with YES, which is exact. Decomposable
// characters only exist below U+30000; anything above takes the full path.
constexpr utf8proc_int32_t kQuickLimit = 0x30000;

class QuickCheckTable {
  public:
    QuickCheckTable() {
        std::array<utf8proc_int32_t, 32> decomposed{};
        for (utf8proc_int32_t cp = 0; cp < kQuickLimit; ++cp) {
            const utf8proc_property_t* p = utf8proc_get_property(cp);
            if (p->combining_class != 0) {
                mark(cp);
            }
            if (p->decomp_seqindex == UINT16_MAX || p->decomp_type != 0) {
                continue;  // no canonical decomposition
            }
            int boundclass = UTF8PROC_BOUNDCLASS_START;
            const utf8proc_ssize_t n = utf8proc_decompose_char(
                cp, decomposed.data(), static_cast<utf8proc_ssize_t>(decomposed.size()),
                UTF8PROC_DECOMPOSE, &boundclass);
            if (n <= 0 || static_cast<std::size_t>(n) > decomposed.size()) {
                mark(cp);
                continue;
            }
            for (utf8proc_ssize_t i = 1; i < n; ++i) {
                if (decomposed[static_cast<std::size_t>(i)] < kQuickLimit) {
                    mark(decomposed[static_cast<std::size_t>(i)]);
                }
            }
            if (!composes_to_itself(cp)) {
                mark(cp);
            }
        }
        // Hangul: LV + T and L + V compose algorithmically.
        for (utf8proc_int32_t cp = 0x1161; cp <= 0x1175; ++cp) {
            mark(cp);
        }
        for (utf8proc_int32_t cp = 0x11A8; cp <= 0x11C2; ++cp) {
            mark(cp);
        }
    }

    bool stable(utf8proc_int32_t cp) const {
        if (cp < 0 || cp >= kQuickLimit) {
            return false;
        }
        const auto i = static_cast<std::size_t>(cp);
        return ((unstable_[i / 64] >> (i % 64)) & 1U) == 0;
    }

  private:
    void mark(utf8proc_int32_t cp) {
        const auto i = static_cast<std::size_t>(cp);
        unstable_[i / 64] |= std::uint64_t{1} << (i % 64);
    }

    static bool composes_to_itself(utf8proc_int32_t cp) {
        std::array<utf8proc_uint8_t, 4> buf{};
        const utf8proc_ssize_t len = utf8proc_encode_char(cp, buf.data());
        utf8proc_uint8_t* raw = nullptr;
        const utf8proc_ssize_t n =
            utf8proc_map(buf.data(), len, &raw,
                         static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
        MallocBuffer owned(raw);
        return n == len && owned && std::equal(buf.begin(), buf.begin() + len, owned.get());
    }

    std::array<std::uint64_t, kQuickLimit / 64> unstable_{};
};

const QuickCheckTable& quick_check_table() {
    static const QuickCheckTable table;  // thread-safe initialisation
    return table;
}

// NFC of valid UTF-8 by utf8proc.
std::string normalise(std::string_view valid) {
    utf8proc_uint8_t* raw = nullptr;
    const utf8proc_ssize_t n =
        utf8proc_map(bytes_of(valid), static_cast<utf8proc_ssize_t>(valid.size()), &raw,
                     static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    MallocBuffer owned(raw);
    if (n == UTF8PROC_ERROR_NOMEM) {
        throw std::bad_alloc();
    }
    if (n < 0 || !owned) {
        // Cannot happen for valid input; keep the text rather than lose it.
        return std::string(valid);
    }
    return std::string(reinterpret_cast<const char*>(owned.get()), static_cast<std::size_t>(n));
}

}  // namespace

namespace {

// is_quick_nfc one code point at a time.
bool quick_nfc_scalar(std::string_view s) {
    const QuickCheckTable& table = quick_check_table();
    std::size_t i = skip_ascii(s, 0);
    while (i < s.size()) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = next_code_point(s.substr(i), cp);
        if (n <= 0 || !table.stable(cp)) {
            return false;
        }
        i = skip_ascii(s, i + static_cast<std::size_t>(n));
    }
    return true;
}

bool is_valid_utf8_scalar(std::string_view s) {
    std::size_t i = skip_ascii(s, 0);
    while (i < s.size()) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = next_code_point(s.substr(i), cp);
        if (n <= 0) {
            return false;
        }
        i = skip_ascii(s, i + static_cast<std::size_t>(n));
    }
    return true;
}

#if defined(__x86_64__)
// UTF-8 validation sixteen bytes at a time: the "lookup" algorithm of Keiser and Lemire
// ("Validating UTF-8 in less than one instruction per byte", 2021; simdjson, simdutf). Every
// error of a two-byte window (a byte and the one before it) is found by three table lookups on
// the nibbles, whose bits AND to non-zero only for an error; the third and fourth bytes of a
// sequence are required to be continuations through the bytes two and three back. The input is
// read in blocks of 16 with a zero-padded last block, so a sequence cut by the end of the text
// fails like one followed by ASCII. Blocks of ASCII only cost one test.
[[gnu::target("ssse3")]] bool valid_utf8_ssse3(std::string_view s) {
    constexpr char kTooShort = 1 << 0;
    constexpr char kTooLong = 1 << 1;
    constexpr char kOverlong3 = 1 << 2;
    constexpr char kTooLarge = 1 << 3;
    constexpr char kSurrogate = 1 << 4;
    constexpr char kOverlong2 = 1 << 5;
    constexpr char kTooLarge1000 = 1 << 6;
    constexpr char kOverlong4 = 1 << 6;
    constexpr char kTwoConts = static_cast<char>(1 << 7);
    constexpr char kCarry = kTooShort | kTooLong | kTwoConts;
    // By the high nibble of the first byte of the window.
    const __m128i byte1_high = _mm_setr_epi8(
        kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong,  // ASCII
        kTwoConts, kTwoConts, kTwoConts, kTwoConts,                                      // 10xx
        kTooShort | kOverlong2,                                                          // 1100
        kTooShort,                                                                       // 1101
        kTooShort | kOverlong3 | kSurrogate,                                             // 1110
        kTooShort | kTooLarge | kTooLarge1000 | kOverlong4);                             // 1111
    // By the low nibble of the first byte.
    const __m128i byte1_low =
        _mm_setr_epi8(kCarry | kOverlong3 | kOverlong2 | kOverlong4,  // xxxx0000
                      kCarry | kOverlong2,                            // xxxx0001
                      kCarry, kCarry,                                 // xxxx001x
                      kCarry | kTooLarge,                             // xxxx0100
                      kCarry | kTooLarge | kTooLarge1000,             // xxxx0101
                      kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000,
                      kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000,
                      kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000,
                      kCarry | kTooLarge | kTooLarge1000,
                      kCarry | kTooLarge | kTooLarge1000 | kSurrogate,  // xxxx1101
                      kCarry | kTooLarge | kTooLarge1000, kCarry | kTooLarge | kTooLarge1000);
    // By the high nibble of the second byte.
    const __m128i byte2_high = _mm_setr_epi8(
        kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort,
        kTooShort,                                                                    // ASCII
        kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge1000 | kOverlong4,  // 1000
        kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge,                   // 1001
        kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge,                   // 1010
        kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge,                   // 1011
        kTooShort, kTooShort, kTooShort, kTooShort);                                  // 11xx
    const __m128i low_nibble = _mm_set1_epi8(0x0F);
    const __m128i third_byte_bias = _mm_set1_epi8(static_cast<char>(0xE0 - 0x80));
    const __m128i fourth_byte_bias = _mm_set1_epi8(static_cast<char>(0xF0 - 0x80));
    const __m128i high_bit = _mm_set1_epi8(static_cast<char>(0x80));
    __m128i previous = _mm_setzero_si128();
    __m128i error = _mm_setzero_si128();
    std::array<char, 16> tail{};  // the last block, zero-padded: ends every sequence still open
    for (std::size_t i = 0;; i += 16) {
        const bool last = i + 16 > s.size();
        if (last) {
            std::memcpy(tail.data(), s.data() + i, s.size() - i);
        }
        const __m128i input =
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(last ? tail.data() : s.data() + i));
        if (_mm_movemask_epi8(_mm_or_si128(input, previous)) != 0) {  // else ASCII after ASCII
            const __m128i prev1 = _mm_alignr_epi8(input, previous, 15);
            const __m128i b1h =
                _mm_shuffle_epi8(byte1_high, _mm_and_si128(_mm_srli_epi16(prev1, 4), low_nibble));
            const __m128i b1l = _mm_shuffle_epi8(byte1_low, _mm_and_si128(prev1, low_nibble));
            const __m128i b2h =
                _mm_shuffle_epi8(byte2_high, _mm_and_si128(_mm_srli_epi16(input, 4), low_nibble));
            const __m128i special = _mm_and_si128(_mm_and_si128(b1h, b1l), b2h);
            const __m128i prev2 = _mm_alignr_epi8(input, previous, 14);
            const __m128i prev3 = _mm_alignr_epi8(input, previous, 13);
            const __m128i must_continue =
                _mm_and_si128(_mm_or_si128(_mm_subs_epu8(prev2, third_byte_bias),
                                           _mm_subs_epu8(prev3, fourth_byte_bias)),
                              high_bit);
            error = _mm_or_si128(error, _mm_xor_si128(must_continue, special));
            if (_mm_movemask_epi8(_mm_cmpeq_epi8(error, _mm_setzero_si128())) != 0xFFFF) {
                return false;
            }
        }
        if (last) {
            return true;
        }
        previous = input;
    }
}

bool cpu_has_ssse3() {
    static const bool has = __builtin_cpu_supports("ssse3") != 0;
    return has;
}
#endif

}  // namespace

std::size_t find_byte(std::string_view s, std::size_t from, unsigned char below,
                      std::string_view bytes) {
    std::size_t i = from;
#if defined(__SSE2__)
    constexpr std::size_t kMaxBytes = 8;
    __m128i wanted[kMaxBytes];  // NOLINT(*-avoid-c-arrays): std::array drops __m128i's attributes
    const std::size_t count = std::min(bytes.size(), kMaxBytes);
    for (std::size_t k = 0; k < count; ++k) {
        wanted[k] = _mm_set1_epi8(bytes[k]);
    }
    // x < below (unsigned) <=> min(x, below - 1) == x; below == 0 matches nothing.
    const __m128i limit = _mm_set1_epi8(static_cast<char>(below == 0 ? 0 : below - 1));
    for (; i + 16 <= s.size(); i += 16) {
        const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
        __m128i hit =
            below == 0 ? _mm_setzero_si128() : _mm_cmpeq_epi8(_mm_min_epu8(block, limit), block);
        for (std::size_t k = 0; k < count; ++k) {
            hit = _mm_or_si128(hit, _mm_cmpeq_epi8(block, wanted[k]));
        }
        const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
        if (mask != 0) {
            return i + static_cast<std::size_t>(__builtin_ctz(mask));
        }
    }
#endif
    for (; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < below || bytes.substr(0, 8).find(static_cast<char>(c)) != std::string_view::npos) {
            return i;
        }
    }
    return s.size();
}

bool is_valid_utf8(std::string_view s) {
#if defined(__x86_64__)
    if (s.size() >= 16 && cpu_has_ssse3()) {
        return valid_utf8_ssse3(s);
    }
#endif
    return is_valid_utf8_scalar(s);
}

namespace {

#if defined(__SSE2__)
// For valid UTF-8 `s`, a mask of the bytes of s[i, i + 16) that start a code point this block
// test cannot vouch for: lead bytes from CC up, except E1 B8-BB (U+1E00-U+1EFF, the Vietnamese
// letters) and E2 80 82-BF (U+2002-U+203F: spaces, dashes, quotes, ellipsis). Every other byte
// is ASCII, a continuation byte or the lead of U+0080-U+02FF, and all of U+0000-U+02FF,
// U+1E00-U+1EFF and U+2002-U+203F are stable code points (QuickCheckTable; text_test checks the
// ranges against it). Reads s[i + 17]: REQUIRES i + 18 <= s.size().
unsigned unsure_leads(std::string_view s, std::size_t i) {
    const auto* p = s.data() + i;
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i n1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
    const __m128i n2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2));
    const auto at_least = [](__m128i v, int low) {  // v >= low, unsigned
        return _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(static_cast<char>(low))), v);
    };
    const auto at_most = [](__m128i v, int high) {  // v <= high, unsigned
        return _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(static_cast<char>(high))), v);
    };
    const auto equals = [](__m128i v, int value) {
        return _mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(value)));
    };
    const __m128i latin_extended_additional =
        _mm_and_si128(equals(b, 0xE1), _mm_and_si128(at_least(n1, 0xB8), at_most(n1, 0xBB)));
    const __m128i punctuation = _mm_and_si128(_mm_and_si128(equals(b, 0xE2), equals(n1, 0x80)),
                                              _mm_and_si128(at_least(n2, 0x82), at_most(n2, 0xBF)));
    const __m128i unsure =
        _mm_andnot_si128(_mm_or_si128(latin_extended_additional, punctuation), at_least(b, 0xCC));
    return static_cast<unsigned>(_mm_movemask_epi8(unsure));
}
#endif

}  // namespace

// Certain by QuickCheckTable; false means "normalise": the text may still be NFC.
bool is_quick_nfc(std::string_view s) {
#if defined(__SSE2__)
    if (s.size() >= 64) {
        // Valid text sixteen bytes at a time; only the code points the block test cannot vouch
        // for are looked up, one by one.
        if (!is_valid_utf8(s)) {
            return false;
        }
        const QuickCheckTable& table = quick_check_table();
        std::size_t i = 0;
        while (i + 18 <= s.size()) {
            const unsigned mask = unsure_leads(s, i);
            if (mask == 0) {
                i += 16;
                continue;
            }
            const std::size_t lead = i + static_cast<std::size_t>(__builtin_ctz(mask));
            utf8proc_int32_t cp = 0;
            const utf8proc_ssize_t n = next_code_point(s.substr(lead), cp);
            if (n <= 0 || !table.stable(cp)) {
                return false;
            }
            i = lead + static_cast<std::size_t>(n);
        }
        while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0U) == 0x80U) {
            --i;  // back to the start of the code point the last block ended in
        }
        return quick_nfc_scalar(s.substr(i));
    }
#endif
    return quick_nfc_scalar(s);
}

std::string nfc(std::string_view s) {
    if (is_quick_nfc(s)) {
        return std::string(s);  // ASCII, or composed text with nothing that could change
    }
    const std::string valid = is_valid_utf8(s) ? std::string(s) : replace_invalid(s);
    // NFC(a + b) == NFC(a) + NFC(b) when b starts with a stable code point (a starter that is
    // unchanged by NFC and never combines with what precedes it, UAX #15 section 9): only the
    // runs around unstable code points, from the stable one before them, need utf8proc.
    const QuickCheckTable& table = quick_check_table();
    const std::string_view v = valid;
    std::string out;
    out.reserve(v.size());
    std::size_t copied = 0;       // v[0, copied) is in `out`
    std::size_t last_stable = 0;  // start of the last stable code point at or after `copied`
    std::size_t i = 0;
    while (i < v.size()) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = next_code_point(v.substr(i), cp);
        const std::size_t len = n <= 0 ? 1 : static_cast<std::size_t>(n);  // n > 0: valid text
        if (table.stable(cp)) {
            last_stable = i;
            i += len;
            continue;
        }
        std::size_t end = i + len;  // the run ends before the next stable code point
        while (end < v.size()) {
            utf8proc_int32_t next = 0;
            const utf8proc_ssize_t m = next_code_point(v.substr(end), next);
            if (m <= 0 || table.stable(next)) {
                break;
            }
            end += static_cast<std::size_t>(m);
        }
        out.append(v.substr(copied, last_stable - copied));
        out += normalise(v.substr(last_stable, end - last_stable));
        copied = end;
        last_stable = end;
        i = end;
    }
    out.append(v.substr(copied));
    return out;
}

std::string collapse_whitespace(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    // Text between single ASCII spaces, the common case, is copied in one run with its spaces;
    // the run is cut only at white space that changes (a longer run, another space character,
    // either end).
    std::size_t from = 0;  // s[from, i) is copied as it is
    std::size_t i = 0;
    std::size_t len = 0;
    while (i < s.size()) {
        if (!space_at(s, i, len)) {
            i += len;
            continue;
        }
        std::size_t end = i + len;
        while (end < s.size() && space_at(s, end, len)) {
            end += len;
        }
        if (end == i + 1 && s[i] == ' ' && i > from && end < s.size()) {
            i = end;  // one space between two words: stays in the run
            continue;
        }
        out.append(s.substr(from, i - from));
        if (end < s.size() && !out.empty()) {
            out.push_back(' ');
        }
        from = end;
        i = end;
    }
    out.append(s.substr(from));
    return out;
}

std::string clean(std::string_view s) {
    return collapse_whitespace(nfc(s));
}

bool is_blank(std::string_view s) {
    while (!s.empty()) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = next_code_point(s, cp);
        if (n <= 0 || !is_space(cp)) {
            return false;
        }
        s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

}  // namespace baofeed::text
