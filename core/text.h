// UTF-8 text helpers (utf8proc). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace baofeed::text {

// Whether `s` is well-formed UTF-8 (RFC 3629, as valid_sequence_length below). Sixteen bytes at a
// time on CPUs with SSSE3 (checked once at run time), byte by byte otherwise.
bool is_valid_utf8(std::string_view s);

// The position of the first byte of s[from...] that is below `below` or equal to one of `bytes`
// (at most 8 of them), or s.size() when there is none. Sixteen bytes at a time: for escapers,
// whose text is mostly bytes they copy as they are.
std::size_t find_byte(std::string_view s, std::size_t from, unsigned char below,
                      std::string_view bytes);

// Length of the well-formed UTF-8 sequence starting at s[pos] (REQUIRES pos < s.size()), or 0
// when the bytes there are not one (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF, no truncated sequence). Inline: escapers call it per non-ASCII character to validate
// while they copy, instead of a separate is_valid_utf8 pass.
inline std::size_t valid_sequence_length(std::string_view s, std::size_t pos) {
    const auto b0 = static_cast<unsigned char>(s[pos]);
    if (b0 < 0x80U) {
        return 1;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80U;
    unsigned char hi = 0xBFU;
    if (b0 >= 0xC2U && b0 <= 0xDFU) {
        len = 2;
    } else if (b0 == 0xE0U) {
        len = 3;
        lo = 0xA0U;
    } else if (b0 == 0xEDU) {
        len = 3;
        hi = 0x9FU;
    } else if (b0 >= 0xE1U && b0 <= 0xEFU) {
        len = 3;
    } else if (b0 == 0xF0U) {
        len = 4;
        lo = 0x90U;
    } else if (b0 >= 0xF1U && b0 <= 0xF3U) {
        len = 4;
    } else if (b0 == 0xF4U) {
        len = 4;
        hi = 0x8FU;
    } else {
        return 0;
    }
    if (len > s.size() - pos) {
        return 0;
    }
    const auto b1 = static_cast<unsigned char>(s[pos + 1]);
    if (b1 < lo || b1 > hi) {
        return 0;
    }
    for (std::size_t i = 2; i < len; ++i) {
        if ((static_cast<unsigned char>(s[pos + i]) & 0xC0U) != 0x80U) {
            return 0;
        }
    }
    return len;
}

// Writes the UTF-8 encoding of `cp` at `out` (room for 4 bytes) and returns its length.
// REQUIRES: a valid code point (not a surrogate, at most U+10FFFF).
inline std::size_t encode_utf8(char32_t cp, char* out) {
    if (cp < 0x80) {
        out[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        out[0] = static_cast<char>(0xC0U | (cp >> 6U));
        out[1] = static_cast<char>(0x80U | (cp & 0x3FU));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = static_cast<char>(0xE0U | (cp >> 12U));
        out[1] = static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
        out[2] = static_cast<char>(0x80U | (cp & 0x3FU));
        return 3;
    }
    out[0] = static_cast<char>(0xF0U | (cp >> 18U));
    out[1] = static_cast<char>(0x80U | ((cp >> 12U) & 0x3FU));
    out[2] = static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
    out[3] = static_cast<char>(0x80U | (cp & 0x3FU));
    return 4;
}

// Appends the UTF-8 encoding of `cp`. REQUIRES: a valid code point (not a surrogate, at most
// U+10FFFF). Inline: decoders' hot loops call it per code point.
inline void append_utf8(std::string& out, char32_t cp) {
    char bytes[4];  // NOLINT(*-avoid-c-arrays)
    out.append(bytes, encode_utf8(cp, bytes));
}

// True when `s` is valid UTF-8 made only of code points that cannot change under NFC, in any
// order (so nfc(s) == s): one pass, no allocation. False says nothing: normalise with nfc().
bool is_quick_nfc(std::string_view s);

// NFC normalisation. Invalid UTF-8 sequences are replaced by U+FFFD first.
std::string nfc(std::string_view s);

// Collapses every run of Unicode white space (including U+00A0 and zero-width spaces) to one
// ASCII space and trims both ends.
std::string collapse_whitespace(std::string_view s);

// nfc + collapse_whitespace: the form of every stored text field.
std::string clean(std::string_view s);

// A-Z -> a-z, every other byte unchanged (for protocol tokens: tags, labels, schemes, hosts).
std::string ascii_lower(std::string_view s);

// Equal but for ASCII case (header names, tag names, charset labels). Inline: parsers call it
// on every tag.
inline bool ascii_iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        x = x >= 'A' && x <= 'Z' ? static_cast<char>(x - 'A' + 'a') : x;
        y = y >= 'A' && y <= 'Z' ? static_cast<char>(y - 'A' + 'a') : y;
        if (x != y) {
            return false;
        }
    }
    return true;
}

// True when s has no character other than white space.
bool is_blank(std::string_view s);

}  // namespace baofeed::text
