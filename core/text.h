// UTF-8 text helpers (utf8proc). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace baofeed::text {

bool is_valid_utf8(std::string_view s);

// Appends the UTF-8 encoding of `cp`. REQUIRES: a valid code point (not a surrogate, at most
// U+10FFFF). Inline: decoders' hot loops call it per code point.
inline void append_utf8(std::string& out, char32_t cp) {
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
