#include "publish/xml_text.h"

#include <cstddef>

#include "core/text.h"

namespace baofeed::publish {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_forbidden_ascii(unsigned char byte) {
    return byte < 0x20U && byte != '\t' && byte != '\n' && byte != '\r';
}

// U+FFFE and U+FFFF are EF BF BE and EF BF BF.
bool is_forbidden_noncharacter(std::string_view seq) {
    return seq.size() == 3 && seq[0] == '\xEF' && seq[1] == '\xBF' &&
           (seq[2] == '\xBE' || seq[2] == '\xBF');
}

// What append_clean writes for an ASCII byte it does not copy: the entity of an XML special,
// nothing for a forbidden control character.
void append_replacement(std::string& out, unsigned char byte) {
    switch (byte) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:  // a forbidden control character: dropped
            break;
    }
}

// append_clean for text that is valid UTF-8: only control characters, the XML specials (when
// `escape`) and EF (the lead byte of U+FFFE and U+FFFF) need a look; the runs between them,
// found sixteen bytes at a time, are copied as they are.
void append_clean_valid(std::string& out, std::string_view text, bool escape) {
    const std::string_view wanted = escape ? std::string_view("\xEF&<>\"'") : "\xEF";
    std::size_t run = 0;  // text[run, pos) is kept and not copied yet
    std::size_t pos = 0;
    for (;;) {
        pos = text::find_byte(text, pos, 0x20, wanted);
        if (pos == text.size()) {
            break;
        }
        const auto byte = static_cast<unsigned char>(text[pos]);
        if (byte == 0xEFU) {
            if (!is_forbidden_noncharacter(text.substr(pos, 3))) {
                ++pos;  // the rest of the sequence: continuation bytes, never wanted
                continue;
            }
            out.append(text.substr(run, pos - run));
            pos += 3;
            run = pos;
            continue;
        }
        if (byte < 0x20U && !is_forbidden_ascii(byte)) {
            ++pos;
            continue;
        }
        out.append(text.substr(run, pos - run));
        append_replacement(out, byte);
        ++pos;
        run = pos;
    }
    out.append(text.substr(run));
}

// Appends `text` to `out` with what strip_xml_invalid removes removed and, when `escape`, the
// five XML specials escaped. One pass: a run of bytes that stay as they are (printable ASCII,
// which is most of the text, and well-formed sequences) is copied in one go. Valid text (all
// text from the store) takes append_clean_valid after one validation pass.
void append_clean(std::string& out, std::string_view text, bool escape) {
    if (text.size() >= 64 && text::is_valid_utf8(text)) {
        append_clean_valid(out, text, escape);
        return;
    }
    std::size_t run = 0;  // text[run, pos) is kept and not copied yet
    std::size_t pos = 0;
    const std::size_t size = text.size();
    while (pos < size) {
        const auto byte = static_cast<unsigned char>(text[pos]);
        if (byte >= 0x80U) {
            const std::size_t len = text::valid_sequence_length(text, pos);
            if (len != 0 && !is_forbidden_noncharacter(text.substr(pos, len))) {
                pos += len;
                continue;
            }
            out.append(text.substr(run, pos - run));
            if (len == 0) {
                out += kReplacement;
                ++pos;
            } else {
                pos += len;
            }
            run = pos;
            continue;
        }
        const bool special =
            escape && (byte == '&' || byte == '<' || byte == '>' || byte == '"' || byte == '\'');
        if (!special && !is_forbidden_ascii(byte)) {
            ++pos;
            continue;
        }
        out.append(text.substr(run, pos - run));
        append_replacement(out, byte);
        ++pos;
        run = pos;
    }
    out.append(text.substr(run));
}

}  // namespace

std::string strip_xml_invalid(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_clean(out, text, false);
    return out;
}

std::string escape_text(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 16);
    append_clean(out, text, true);
    return out;
}

std::string wrap_cdata(std::string_view content) {
    constexpr std::string_view kTerminator = "]]>";
    std::string out = "<![CDATA[";
    std::size_t start = 0;
    while (true) {
        const std::size_t hit = content.find(kTerminator, start);
        if (hit == std::string_view::npos) {
            out += content.substr(start);
            break;
        }
        // Close the section after "]]" and reopen it before ">".
        out += content.substr(start, hit + 2 - start);
        out += "]]><![CDATA[";
        start = hit + 2;
    }
    out += "]]>";
    return out;
}

bool is_http_url(std::string_view url) {
    auto starts_with_nocase = [url](std::string_view prefix) {
        if (url.size() <= prefix.size()) {
            return false;
        }
        for (std::size_t i = 0; i < prefix.size(); ++i) {
            char c = url[i];
            if (c >= 'A' && c <= 'Z') {
                c = static_cast<char>(c - 'A' + 'a');
            }
            if (c != prefix[i]) {
                return false;
            }
        }
        return true;
    };
    return starts_with_nocase("http://") || starts_with_nocase("https://");
}

}  // namespace baofeed::publish
