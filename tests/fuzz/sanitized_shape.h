// The shape sanitize_html promises, checked on its output string: valid UTF-8, only allow-listed
// tags and attributes, balanced tags, escaped text and attribute values, http(s) URLs only. Shared
// by the unit tests and the sanitize fuzz target. Header-only, no dependencies beyond the standard
// library.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace baofeed::testing {

namespace shape_detail {

inline bool one_of(std::string_view s, std::initializer_list<std::string_view> list) {
    for (const std::string_view v : list) {
        if (s == v) {
            return true;
        }
    }
    return false;
}

inline bool allowed_tag(std::string_view tag) {
    return one_of(tag, {"p",   "br",     "h2",         "h3",    "h4",     "h5",     "h6",     "ul",
                        "ol",  "li",     "blockquote", "pre",   "code",   "b",      "strong", "i",
                        "em",  "u",      "s",          "sub",   "sup",    "small",  "mark",   "a",
                        "img", "figure", "figcaption", "table", "thead",  "tbody",  "tfoot",  "tr",
                        "th",  "td",     "caption",    "video", "source", "iframe", "hr"});
}

inline bool void_tag(std::string_view tag) {
    return one_of(tag, {"br", "img", "hr", "source"});
}

inline bool allowed_attribute(std::string_view tag, std::string_view name) {
    if (tag == "a") {
        return one_of(name, {"href", "title"});
    }
    if (tag == "img") {
        return one_of(name, {"src", "alt", "width", "height"});
    }
    if (tag == "td" || tag == "th") {
        return one_of(name, {"colspan", "rowspan"});
    }
    if (tag == "iframe") {
        return one_of(name, {"src", "width", "height", "allowfullscreen", "sandbox"});
    }
    if (tag == "video") {
        return one_of(name, {"src", "poster", "width", "height", "controls"});
    }
    if (tag == "source") {
        return one_of(name, {"src", "type"});
    }
    return false;
}

// "" when every '&' in `s` starts one of the entities the serializer writes.
inline std::string entity_error(std::string_view s) {
    for (std::size_t i = s.find('&'); i != std::string_view::npos; i = s.find('&', i + 1)) {
        const std::string_view rest = s.substr(i);
        if (!rest.starts_with("&amp;") && !rest.starts_with("&lt;") && !rest.starts_with("&gt;") &&
            !rest.starts_with("&quot;")) {
            return "unescaped '&' at: " + std::string(rest.substr(0, 20));
        }
    }
    return "";
}

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
inline bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        unsigned cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1FU;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0FU;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07U;
        } else {
            return false;
        }
        if (i + len > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3FU);
        }
        const unsigned min = len == 2 ? 0x80U : (len == 3 ? 0x800U : 0x10000U);
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
}

inline bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace shape_detail

// "" when `html` has the promised shape, else a description of the first problem.
inline std::string sanitized_shape_error(std::string_view html) {
    using namespace shape_detail;
    if (!valid_utf8(html)) {
        return "not valid UTF-8";
    }
    std::vector<std::string> open;
    std::size_t i = 0;
    while (i < html.size()) {
        const std::size_t lt = html.find('<', i);
        const std::string_view text =
            html.substr(i, lt == std::string_view::npos ? html.npos : lt - i);
        if (text.find('>') != std::string_view::npos) {
            return "raw '>' in text: " + std::string(text.substr(0, 40));
        }
        if (std::string e = entity_error(text); !e.empty()) {
            return e;
        }
        if (lt == std::string_view::npos) {
            break;
        }
        i = lt + 1;
        const bool closing = i < html.size() && html[i] == '/';
        if (closing) {
            ++i;
        }
        std::size_t name_end = i;
        while (name_end < html.size() && name_char(html[name_end])) {
            ++name_end;
        }
        const std::string tag(html.substr(i, name_end - i));
        if (!allowed_tag(tag)) {
            return "tag not allowed: <" + std::string(closing ? "/" : "") + tag + ">";
        }
        i = name_end;
        if (closing) {
            if (i >= html.size() || html[i] != '>') {
                return "malformed end tag </" + tag;
            }
            ++i;
            if (open.empty() || open.back() != tag) {
                return "unbalanced </" + tag +
                       "> (open: " + (open.empty() ? std::string("nothing") : open.back()) + ")";
            }
            open.pop_back();
            continue;
        }
        // Attributes: ( ' ' name ( '="' value '"' )? )* '>'
        while (true) {
            if (i >= html.size()) {
                return "unterminated <" + tag;
            }
            if (html[i] == '>') {
                ++i;
                break;
            }
            if (html[i] != ' ') {
                return "bad character in <" + tag + ">: " + std::string(1, html[i]);
            }
            ++i;
            const std::size_t attr_start = i;
            while (i < html.size() && (name_char(html[i]) || html[i] == '-')) {
                ++i;
            }
            const std::string name(html.substr(attr_start, i - attr_start));
            if (!allowed_attribute(tag, name)) {
                return "attribute not allowed: <" + tag + " " + name + ">";
            }
            if (i < html.size() && html[i] == '=') {
                if (i + 1 >= html.size() || html[i + 1] != '"') {
                    return "unquoted attribute " + name;
                }
                const std::size_t close = html.find('"', i + 2);
                if (close == std::string_view::npos) {
                    return "unterminated attribute " + name;
                }
                const std::string_view value = html.substr(i + 2, close - i - 2);
                if (value.find_first_of("<>") != std::string_view::npos) {
                    return "unescaped <> in attribute " + name;
                }
                if (std::string e = entity_error(value); !e.empty()) {
                    return e;
                }
                if ((name == "href" || name == "src" || name == "poster") &&
                    !value.starts_with("http://") && !value.starts_with("https://")) {
                    return "non-http URL in " + name + ": " + std::string(value.substr(0, 40));
                }
                i = close + 1;
            }
        }
        if (!void_tag(tag)) {
            open.push_back(tag);
        }
    }
    if (!open.empty()) {
        return "unclosed <" + open.back() + ">";
    }
    return "";
}

}  // namespace baofeed::testing
