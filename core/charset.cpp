#include "core/charset.h"

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

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

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

}  // namespace

std::string declared_charset(std::string_view bytes, std::string_view content_type) {
    std::string label = charset_param(content_type);
    if (label.empty()) {
        label = sniffed_charset(bytes);
    }
    return label;
}

std::string to_utf8(std::string_view bytes, std::string_view content_type) {
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
    // 2. Valid UTF-8 passes through, whatever the label says.
    if (text::is_valid_utf8(bytes)) {
        return text::nfc(bytes);
    }
    // 3-4. The HTTP header, then the document's own declaration.
    for (const std::string& label : {charset_param(content_type), sniffed_charset(bytes)}) {
        if (label.empty()) {
            continue;
        }
        if (const auto name = iconv_name(label)) {
            if (auto decoded = decode(bytes, *name)) {
                return *std::move(decoded);
            }
        }
    }
    // 5. The web's default legacy encoding.
    if (auto decoded = decode(bytes, "WINDOWS-1252")) {
        return *std::move(decoded);
    }
    return text::nfc(bytes);  // iconv without windows-1252: keep text, invalid bytes -> U+FFFD
}

}  // namespace baofeed::charset
