#include "core/text.h"

#include <array>
#include <cstdlib>
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

bool is_ascii(std::string_view s) {
    for (char c : s) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            return false;
        }
    }
    return true;
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

}  // namespace

bool is_valid_utf8(std::string_view s) {
    while (!s.empty()) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = next_code_point(s, cp);
        if (n <= 0) {
            return false;
        }
        s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string nfc(std::string_view s) {
    if (is_ascii(s)) {
        return std::string(s);  // ASCII is always NFC
    }
    const std::string valid = is_valid_utf8(s) ? std::string(s) : replace_invalid(s);
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
        return valid;
    }
    return std::string(reinterpret_cast<const char*>(owned.get()), static_cast<std::size_t>(n));
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

}  // namespace baofeed::text
