#include "core/text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include <utf8proc.h>

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
// an invalid sequence (surrogates, overlongs and truncated sequences included).
utf8proc_ssize_t next_code_point(std::string_view s, utf8proc_int32_t& cp) {
    return utf8proc_iterate(bytes_of(s), static_cast<utf8proc_ssize_t>(s.size()), &cp);
}

void append_code_point(std::string& out, utf8proc_int32_t cp) {
    std::array<utf8proc_uint8_t, 4> buf{};
    const utf8proc_ssize_t n = utf8proc_encode_char(cp, buf.data());
    out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
}

// Length of the run of ASCII bytes at s[from...], eight bytes at a time.
std::size_t skip_ascii(std::string_view s, std::size_t from) {
    constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
    std::size_t i = from;
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

bool is_space(utf8proc_int32_t cp) {
    switch (cp) {
        case 0x09:    // tab
        case 0x0A:    // line feed
        case 0x0B:    // vertical tab
        case 0x0C:    // form feed
        case 0x0D:    // carriage return
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
    // Zs: U+0020, U+00A0, U+1680, U+2000-200A, U+202F, U+205F, U+3000.
    return utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
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

// True when `s` is valid UTF-8 and certainly NFC already (see QuickCheckTable). False means
// "normalise": the text may still be NFC.
bool is_quick_nfc(std::string_view s) {
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

bool is_valid_utf8(std::string_view s) {
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
    bool pending_space = false;
    while (!s.empty()) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = next_code_point(s, cp);
        const std::size_t len = n <= 0 ? 1 : static_cast<std::size_t>(n);
        if (n > 0 && is_space(cp)) {
            pending_space = true;
        } else {
            if (pending_space && !out.empty()) {
                out.push_back(' ');
            }
            pending_space = false;
            out.append(s.substr(0, len));  // invalid bytes are copied unchanged
        }
        s.remove_prefix(len);
    }
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
