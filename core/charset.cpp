#include "core/charset.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <iconv.h>
#include <memory>
#include <new>
#include <optional>

#include "core/text.h"

namespace baofeed::charset {
namespace {

constexpr std::size_t kMetaScanBytes = 2048;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// RAII owner of an iconv conversion descriptor. One per call: iconv_t is not shareable.
class Iconv {
  public:
    Iconv(const std::string& to, const std::string& from)
        : cd_(iconv_open(to.c_str(), from.c_str())) {}
    ~Iconv() {
        if (ok()) {
            iconv_close(cd_);
        }
    }
    Iconv(const Iconv&) = delete;
    Iconv& operator=(const Iconv&) = delete;

    bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
    iconv_t get() const { return cd_; }

  private:
    iconv_t cd_;
};

using text::ascii_lower;

std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return out;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (is_space(s.front()) || s.front() == '"' || s.front() == '\'')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (is_space(s.back()) || s.back() == '"' || s.back() == '\'')) {
        s.remove_suffix(1);
    }
    return s;
}

// Label -> iconv name for the labels news sites use; anything else that looks like a label is
// handed to iconv upper-cased. nullopt for labels that cannot be an encoding name.
std::optional<std::string> iconv_name(std::string_view label) {
    const std::string l = ascii_lower(trim(label));
    if (l.empty() || l.size() > 40) {
        return std::nullopt;
    }
    for (char c : l) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                        c == '.' || c == ':';
        if (!ok) {
            return std::nullopt;
        }
    }
    struct Alias {
        std::string_view label;
        std::string_view name;
    };
    // As in the WHATWG Encoding standard, latin1 and ascii mean windows-1252.
    static constexpr std::array<Alias, 31> kAliases = {{
        {"utf-8", "UTF-8"},
        {"utf8", "UTF-8"},
        {"unicode-1-1-utf-8", "UTF-8"},
        {"x-unicode20utf8", "UTF-8"},
        {"windows-1258", "WINDOWS-1258"},
        {"cp1258", "WINDOWS-1258"},
        {"x-cp1258", "WINDOWS-1258"},
        {"windows-1252", "WINDOWS-1252"},
        {"cp1252", "WINDOWS-1252"},
        {"x-cp1252", "WINDOWS-1252"},
        {"latin1", "WINDOWS-1252"},
        {"latin-1", "WINDOWS-1252"},
        {"l1", "WINDOWS-1252"},
        {"iso-8859-1", "WINDOWS-1252"},
        {"iso8859-1", "WINDOWS-1252"},
        {"iso_8859-1", "WINDOWS-1252"},
        {"iso88591", "WINDOWS-1252"},
        {"ascii", "WINDOWS-1252"},
        {"us-ascii", "WINDOWS-1252"},
        {"ansi_x3.4-1968", "WINDOWS-1252"},
        {"utf-16", "UTF-16LE"},
        {"utf-16le", "UTF-16LE"},
        {"utf-16be", "UTF-16BE"},
        {"tcvn", "TCVN5712-1"},
        {"tcvn3", "TCVN5712-1"},
        {"tcvn-3", "TCVN5712-1"},
        {"tcvn5712-1", "TCVN5712-1"},
        {"tcvn-5712", "TCVN5712-1"},
        {"vn3", "TCVN5712-1"},
        {"viscii", "VISCII"},
        {"csviscii", "VISCII"},
    }};
    for (const Alias& a : kAliases) {
        if (l == a.label) {
            return std::string(a.name);
        }
    }
    return ascii_upper(l);
}

// Decodes with iconv; each undecodable byte (or UTF-16 unit) becomes U+FFFD.
// nullopt when iconv does not know the encoding.
std::optional<std::string> decode(std::string_view bytes, const std::string& from) {
    if (from == "UTF-8") {
        return text::nfc(bytes);  // replaces invalid sequences
    }
    Iconv cd("UTF-8", from);
    if (!cd.ok()) {
        return std::nullopt;
    }
    const std::size_t unit = from.starts_with("UTF-16") ? 2 : 1;
    std::string out;
    out.reserve(bytes.size() * 2);
    std::array<char, 8192> buf{};
    // POSIX iconv takes char** for the input though it never writes through it.
    char* in = const_cast<char*>(bytes.data());
    std::size_t in_left = bytes.size();
    while (in_left > 0) {
        char* o = buf.data();
        std::size_t o_left = buf.size();
        const std::size_t rc = iconv(cd.get(), &in, &in_left, &o, &o_left);
        out.append(buf.data(), buf.size() - o_left);
        if (rc != static_cast<std::size_t>(-1)) {
            continue;
        }
        if (errno == E2BIG) {
            continue;
        }
        if (errno == EILSEQ || errno == EINVAL) {
            // Invalid or truncated input: replace one unit and resynchronise.
            out.append(kReplacement);
            const std::size_t skip = std::min(unit, in_left);
            in += skip;
            in_left -= skip;
            iconv(cd.get(), nullptr, nullptr, nullptr, nullptr);
            continue;
        }
        return std::nullopt;  // unexpected iconv failure
    }
    // Flush any state (stateful encodings and glibc's buffered cp1258 base letter).
    char* o = buf.data();
    std::size_t o_left = buf.size();
    iconv(cd.get(), nullptr, nullptr, &o, &o_left);
    out.append(buf.data(), buf.size() - o_left);
    return text::nfc(out);
}

// The charset parameter of a Content-Type header value.
std::string charset_param(std::string_view content_type) {
    std::size_t pos = 0;
    while ((pos = content_type.find(';', pos)) != std::string_view::npos) {
        ++pos;
        std::size_t end = content_type.find(';', pos);
        if (end == std::string_view::npos) {
            end = content_type.size();
        }
        const std::string_view param = content_type.substr(pos, end - pos);
        const std::size_t eq = param.find('=');
        if (eq != std::string_view::npos && ascii_lower(trim(param.substr(0, eq))) == "charset") {
            return ascii_lower(trim(param.substr(eq + 1)));
        }
    }
    return {};
}

// The value after "charset" [spaces] "=" [spaces] [quote] in `s`, starting the search at `from`.
std::string value_after_charset(std::string_view s, std::size_t from) {
    while ((from = s.find("charset", from)) != std::string_view::npos) {
        std::size_t p = from + 7;
        while (p < s.size() && is_space(s[p])) {
            ++p;
        }
        if (p >= s.size() || s[p] != '=') {
            from = p;
            continue;
        }
        ++p;
        while (p < s.size() && (is_space(s[p]) || s[p] == '"' || s[p] == '\'')) {
            ++p;
        }
        std::size_t end = p;
        while (end < s.size() && !is_space(s[end]) && s[end] != '"' && s[end] != '\'' &&
               s[end] != ';' && s[end] != '>' && s[end] != '/') {
            ++end;
        }
        if (end > p) {
            return std::string(s.substr(p, end - p));
        }
        from = end;
    }
    return {};
}

// <meta charset>, <meta http-equiv=Content-Type content="...; charset=..."> or the encoding of
// an <?xml ...?> declaration, in the first kMetaScanBytes bytes.
std::string sniffed_charset(std::string_view bytes) {
    const std::string head = ascii_lower(bytes.substr(0, kMetaScanBytes));
    std::string_view h(head);
    std::size_t start = 0;
    while (start < h.size() && is_space(h[start])) {
        ++start;
    }
    if (h.substr(start).starts_with("<?xml")) {
        const std::size_t end = h.find("?>", start);
        const std::string_view decl =
            h.substr(start, end == std::string_view::npos ? h.npos : end - start);
        const std::size_t enc = decl.find("encoding");
        if (enc != std::string_view::npos) {
            std::size_t p = decl.find('=', enc);
            if (p != std::string_view::npos) {
                ++p;
                while (p < decl.size() &&
                       (is_space(decl[p]) || decl[p] == '"' || decl[p] == '\'')) {
                    ++p;
                }
                std::size_t q = p;
                while (q < decl.size() && !is_space(decl[q]) && decl[q] != '"' && decl[q] != '\'') {
                    ++q;
                }
                if (q > p) {
                    return std::string(decl.substr(p, q - p));
                }
            }
        }
    }
    std::size_t pos = 0;
    while ((pos = h.find("<meta", pos)) != std::string_view::npos) {
        std::size_t end = h.find('>', pos);
        if (end == std::string_view::npos) {
            end = h.size();
        }
        const std::string_view tag = h.substr(pos, end - pos);
        pos = end;
        std::string value = value_after_charset(tag, 0);
        if (value.empty()) {
            continue;
        }
        // The HTML prescan reads a UTF-16 label in <meta> as UTF-8: the bytes that spelt it
        // out were ASCII, so they cannot be UTF-16.
        if (value.starts_with("utf-16")) {
            value = "utf-8";
        }
        return value;
    }
    return {};
}

enum class Utf16 { none, le, be };

// UTF-16 without a byte order mark, told by its NUL pattern: markup and ASCII text in UTF-16 have
// a zero high byte in nearly every code unit ("<\0?\0x\0m\0l\0" in LE). Vietnamese letters
// (U+1EA0..U+1EF9, U+00C0..U+01B0) have non-zero bytes on both sides, so a page of them still
// shows the pattern through its markup and spaces. UTF-8 and legacy code pages never contain NUL.
Utf16 sniff_utf16(std::string_view bytes) {
    const std::size_t pairs = std::min<std::size_t>(bytes.size(), 1024) / 2;
    if (pairs < 2) {
        return Utf16::none;
    }
    std::size_t even_nul = 0;
    std::size_t odd_nul = 0;
    for (std::size_t i = 0; i < pairs; ++i) {
        even_nul += bytes[2 * i] == '\0' ? 1 : 0;
        odd_nul += bytes[2 * i + 1] == '\0' ? 1 : 0;
    }
    // At least a quarter of the units look like ASCII, and the other side is almost never NUL.
    if (odd_nul * 4 >= pairs && even_nul * 8 <= odd_nul) {
        return Utf16::le;
    }
    if (even_nul * 4 >= pairs && odd_nul * 8 <= even_nul) {
        return Utf16::be;
    }
    return Utf16::none;
}

// For bytes that are not valid UTF-8 but are labelled UTF-8: true when they are UTF-8 with a few
// bad bytes (at least as many well-formed multi-byte sequences as invalid bytes), false when the
// label lies about a legacy code page (windows-1252 "café" has no multi-byte sequence at all).
bool mostly_utf8(std::string_view bytes) {
    std::size_t multibyte = 0;
    std::size_t invalid = 0;
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        std::size_t len = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
        }
        bool ok = len > 0 && i + len <= bytes.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            ok = (static_cast<unsigned char>(bytes[i + k]) & 0xC0) == 0x80;
        }
        if (ok) {
            ++multibyte;
            i += len;
        } else {
            ++invalid;
            ++i;
        }
    }
    return multibyte > 0 && multibyte >= invalid;
}

// Decodes by rules 3-5 of to_utf8: bytes that are neither BOM-marked, UTF-16 nor valid UTF-8.
std::string decode_by_label(std::string_view bytes, std::string_view content_type) {
    for (const std::string& label : {charset_param(content_type), sniffed_charset(bytes)}) {
        if (label.empty()) {
            continue;
        }
        const auto name = iconv_name(label);
        if (!name) {
            continue;
        }
        // A UTF-16/32 label on bytes without the UTF-16 pattern is a lie (VietnamBiz feeds);
        // a UTF-8 label on bytes that are mostly not UTF-8 is one too.
        if (name->starts_with("UTF-16") || name->starts_with("UTF-32") ||
            name->starts_with("UCS-")) {
            continue;
        }
        if (*name == "UTF-8" && !mostly_utf8(bytes)) {
            continue;
        }
        if (auto decoded = decode(bytes, *name)) {
            return *std::move(decoded);
        }
    }
    // The web's default legacy encoding.
    if (auto decoded = decode(bytes, "WINDOWS-1252")) {
        return *std::move(decoded);
    }
    return text::nfc(bytes);  // iconv without windows-1252: keep text, invalid bytes -> U+FFFD
}

// The byte-level rules shared by to_utf8 and to_utf8_xml.
std::string decode_any(std::string_view bytes, std::string_view content_type) {
    // 1. Byte order marks.
    if (bytes.starts_with("\xEF\xBB\xBF")) {
        return text::nfc(bytes.substr(3));
    }
    if (bytes.starts_with("\xFF\xFE")) {
        return decode(bytes.substr(2), "UTF-16LE").value_or(std::string());
    }
    if (bytes.starts_with("\xFE\xFF")) {
        return decode(bytes.substr(2), "UTF-16BE").value_or(std::string());
    }
    // 2. UTF-16 without a BOM (before the UTF-8 test: NULs are valid UTF-8).
    switch (sniff_utf16(bytes)) {
        case Utf16::le:
            return decode(bytes, "UTF-16LE").value_or(std::string());
        case Utf16::be:
            return decode(bytes, "UTF-16BE").value_or(std::string());
        case Utf16::none:
            break;
    }
    // 3. Valid UTF-8 passes through, whatever the label says (in one pass when it is in NFC
    // already, as nearly every page is).
    if (text::is_quick_nfc(bytes)) {
        return std::string(bytes);
    }
    if (text::is_valid_utf8(bytes)) {
        return text::nfc(bytes);
    }
    // 4-6. The HTTP header, the document's own declaration, windows-1252.
    return decode_by_label(bytes, content_type);
}

bool is_xml_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Rewrites the encoding pseudo-attribute of a leading <?xml ...?> declaration to "UTF-8" and
// drops white space before the declaration (which makes it ill-formed, and is common in feeds
// printed by PHP). Anything else is returned unchanged.
std::string relabel_xml_declaration(std::string doc) {
    std::size_t start = 0;
    while (start < doc.size() && is_xml_space(doc[start])) {
        ++start;
    }
    if (doc.compare(start, 5, "<?xml") != 0 || start + 5 >= doc.size() ||
        !is_xml_space(doc[start + 5])) {
        return doc;
    }
    doc.erase(0, start);
    const std::size_t end = doc.find("?>");
    if (end == std::string::npos) {
        return doc;
    }
    std::size_t pos = 5;
    while ((pos = doc.find("encoding", pos)) != std::string::npos && pos < end) {
        std::size_t p = pos + 8;
        pos = p;
        while (p < end && is_xml_space(doc[p])) {
            ++p;
        }
        if (p >= end || doc[p] != '=') {
            continue;
        }
        ++p;
        while (p < end && is_xml_space(doc[p])) {
            ++p;
        }
        if (p >= end || (doc[p] != '"' && doc[p] != '\'')) {
            continue;
        }
        const std::size_t close = doc.find(doc[p], p + 1);
        if (close == std::string::npos || close > end) {
            return doc;
        }
        doc.replace(p + 1, close - p - 1, "UTF-8");
        return doc;
    }
    return doc;
}
}  // namespace

std::string declared_charset(std::string_view bytes, std::string_view content_type) {
    std::string label = charset_param(content_type);
    if (label.empty()) {
        label = sniffed_charset(bytes);
    }
    return label;
}

std::string to_utf8(std::string_view bytes, std::string_view content_type) {
    return decode_any(bytes, content_type);
}

std::string to_utf8_moved(std::string bytes, std::string_view content_type) {
    const std::string_view view = bytes;
    if (!view.starts_with("\xEF\xBB\xBF") && sniff_utf16(view) == Utf16::none &&
        text::is_quick_nfc(view)) {
        return bytes;  // rule 3, with nothing to change
    }
    return decode_any(view, content_type);
}

std::string to_utf8_xml(std::string_view bytes, std::string_view content_type) {
    return relabel_xml_declaration(decode_any(bytes, content_type));
}

}  // namespace baofeed::charset
