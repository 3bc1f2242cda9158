#include "parsers/html_document.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "core/selector.h"
#include "core/text.h"

namespace baofeed::parsers {
namespace {

using text::ascii_iequals;

// Elements that never get a closing tag, so they do not deepen the tree.
bool is_void_tag(std::string_view name) {
    static constexpr std::string_view kVoid[] = {"area",  "base",   "br",    "col",  "embed",
                                                 "hr",    "img",    "input", "link", "meta",
                                                 "param", "source", "track", "wbr"};
    for (const std::string_view v : kVoid) {
        if (ascii_iequals(name, v)) {
            return true;
        }
    }
    return false;
}

// Elements whose end tag is commonly omitted; an unclosed run of them is auto-closed by the
// parser instead of nesting, so they are not counted.
bool is_self_closing_sibling(std::string_view name) {
    static constexpr std::string_view kImplied[] = {
        "p", "li", "dt", "dd", "option", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup"};
    for (const std::string_view v : kImplied) {
        if (ascii_iequals(name, v)) {
            return true;
        }
    }
    return false;
}

// How many levels an open element of this name adds to the tree Gumbo builds. A table holds
// anything only inside tbody/tr/td (whose own tags are not counted), a list inside li, a dl
// inside dd.
long nesting_weight(std::string_view name) {
    if (ascii_iequals(name, "table")) {
        return 4;
    }
    if (ascii_iequals(name, "ul") || ascii_iequals(name, "ol") || ascii_iequals(name, "dl") ||
        ascii_iequals(name, "menu") || ascii_iequals(name, "dir")) {
        return 2;
    }
    return 1;
}

bool skipped_for_text(const GumboNode* n) {
    if (n->type == GUMBO_NODE_TEMPLATE) {
        return true;
    }
    if (n->type != GUMBO_NODE_ELEMENT) {
        return false;
    }
    switch (n->v.element.tag) {
        case GUMBO_TAG_SCRIPT:
        case GUMBO_TAG_STYLE:
        case GUMBO_TAG_NOSCRIPT:
        case GUMBO_TAG_TEMPLATE:
            return true;
        default:
            return false;
    }
}

const GumboVector* children_of(const GumboNode* n) {
    if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE) {
        return &n->v.element.children;
    }
    if (n->type == GUMBO_NODE_DOCUMENT) {
        return &n->v.document.children;
    }
    return nullptr;
}

const GumboNode* child_at(const GumboVector* v, unsigned i) {
    return static_cast<const GumboNode*>(v->data[i]);
}

bool is_html_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool starts_with_ci(std::string_view h, std::size_t at, std::string_view word) {
    return at + word.size() <= h.size() && ascii_iequals(h.substr(at, word.size()), word);
}

// Whether an end or start tag name stops at `at` (so "</scriptx" is not "</script").
bool name_stops(std::string_view h, std::size_t at) {
    return at < h.size() && (is_html_space(h[at]) || h[at] == '/' || h[at] == '>');
}

// Position just past the '>' of a tag whose name ends at `at`, skipping attributes and their
// quoted values; npos when the tag is not closed before the end.
std::size_t tag_end(std::string_view h, std::size_t at) {
    const std::size_t n = h.size();
    std::size_t k = at;
    while (true) {
        while (k < n && (is_html_space(h[k]) || h[k] == '/')) {
            ++k;
        }
        if (k >= n) {
            return std::string_view::npos;
        }
        if (h[k] == '>') {
            return k + 1;
        }
        ++k;  // the first character of a name may be anything, even '='
        while (k < n && !is_html_space(h[k]) && h[k] != '/' && h[k] != '>' && h[k] != '=') {
            ++k;
        }
        while (k < n && is_html_space(h[k])) {
            ++k;
        }
        if (k < n && h[k] == '=') {
            ++k;
            while (k < n && is_html_space(h[k])) {
                ++k;
            }
            if (k < n && (h[k] == '"' || h[k] == '\'')) {
                const std::size_t close = h.find(h[k], k + 1);
                if (close == std::string_view::npos) {
                    return std::string_view::npos;
                }
                k = close + 1;
            } else {
                while (k < n && !is_html_space(h[k]) && h[k] != '>') {
                    ++k;
                }
            }
        }
    }
}

// Start of the "</script" that ends script data beginning at `from`, following the HTML
// tokenizer's escaped and double-escaped states; npos when the script runs to the end.
std::size_t script_end(std::string_view h, std::size_t from) {
    enum class State { data, escaped, double_escaped };
    State state = State::data;
    const std::size_t n = h.size();
    std::size_t j = from;
    while (j < n) {
        j = h.find_first_of("<-", j);
        if (j == std::string_view::npos) {
            break;
        }
        if (h[j] == '-') {
            if (state != State::data && h.compare(j, 3, "-->") == 0) {
                state = State::data;
                j += 3;
            } else {
                ++j;
            }
            continue;
        }
        if (starts_with_ci(h, j, "</script") && name_stops(h, j + 8)) {
            if (state != State::double_escaped) {
                return j;
            }
            state = State::escaped;
            j += 8;
            continue;
        }
        if (state == State::data && h.compare(j, 4, "<!--") == 0) {
            state = State::escaped;
            j += 2;  // "<!-->" closes at once: let "-->" match from the dashes
            continue;
        }
        if (state == State::escaped && starts_with_ci(h, j, "<script") && name_stops(h, j + 7)) {
            state = State::double_escaped;
            j += 7;
            continue;
        }
        ++j;
    }
    return std::string_view::npos;
}

// Start of the "</name" closing a RAWTEXT/RCDATA element, or npos.
std::size_t raw_end(std::string_view h, std::size_t from, std::string_view name) {
    std::size_t j = from;
    while (true) {
        j = h.find("</", j);
        if (j == std::string_view::npos) {
            return j;
        }
        if (starts_with_ci(h, j + 2, name) && name_stops(h, j + 2 + name.size())) {
            return j;
        }
        j += 2;
    }
}

// Position just past the comment starting at `at` ("<!--"), or the end of the text.
std::size_t comment_end(std::string_view h, std::size_t at) {
    std::size_t j = at + 4;
    if (j < h.size() && h[j] == '>') {
        return j + 1;  // "<!-->"
    }
    if (h.compare(j, 2, "->") == 0) {
        return j + 2;  // "<!--->"
    }
    while (true) {
        const std::size_t dash = h.find("--", j);
        if (dash == std::string_view::npos) {
            return h.size();
        }
        if (h.compare(dash + 2, 1, ">") == 0) {
            return dash + 3;
        }
        if (h.compare(dash + 2, 2, "!>") == 0) {
            return dash + 4;
        }
        j = dash + 1;
    }
}

// The attributes of a start tag `tag` ("<name ...>"), as tag_end() reads them: f(name, value)
// for each, value "" when absent. Values are raw (character references not decoded).
template <class F>
void for_each_attribute(std::string_view tag, std::size_t name_end, F&& f) {
    const std::size_t n = tag.size();
    std::size_t k = name_end;
    while (true) {
        while (k < n && (is_html_space(tag[k]) || tag[k] == '/')) {
            ++k;
        }
        if (k >= n || tag[k] == '>') {
            return;
        }
        const std::size_t name_start = k;
        ++k;
        while (k < n && !is_html_space(tag[k]) && tag[k] != '/' && tag[k] != '>' && tag[k] != '=') {
            ++k;
        }
        const std::string_view name = tag.substr(name_start, k - name_start);
        while (k < n && is_html_space(tag[k])) {
            ++k;
        }
        std::string_view value;
        if (k < n && tag[k] == '=') {
            ++k;
            while (k < n && is_html_space(tag[k])) {
                ++k;
            }
            if (k < n && (tag[k] == '"' || tag[k] == '\'')) {
                const std::size_t close = tag.find(tag[k], k + 1);
                const std::size_t stop = close == std::string_view::npos ? n : close;
                value = tag.substr(k + 1, stop - k - 1);
                k = stop + 1;
            } else {
                const std::size_t start = k;
                while (k < n && !is_html_space(tag[k]) && tag[k] != '>') {
                    ++k;
                }
                value = tag.substr(start, k - start);
            }
        }
        f(name, value);
    }
}

bool has_word(std::string_view list, std::string_view word) {
    std::size_t i = 0;
    while (i < list.size()) {
        while (i < list.size() && is_html_space(list[i])) {
            ++i;
        }
        const std::size_t start = i;
        while (i < list.size() && !is_html_space(list[i])) {
            ++i;
        }
        if (i > start && list.substr(start, i - start) == word) {
            return true;
        }
    }
    return false;
}

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
    for (const std::string_view n : names) {
        if (ascii_iequals(name, n)) {
            return true;
        }
    }
    return false;
}

// Elements a skip region may be: blocks whose start tag closes an open <p> (so the region's
// content cannot) and stops nothing it holds from reaching outside (see region_end()).
bool is_region_tag(std::string_view name) {
    return is_one_of(name, {"div", "section", "aside", "header", "footer", "nav", "article", "ul",
                            "ol", "dl", "menu", "figure", "main", "details", "blockquote"});
}

// Content that makes the tree outside a region depend on what is inside it (form, body and
// html merge, foreign content, <button>/<nobr> closing an outer one, <select> and <template>
// modes, <plaintext>): a region holding any of these is kept.
bool is_region_breaker(std::string_view name) {
    return is_one_of(
        name, {"form", "html", "head", "body", "frameset", "frame", "template", "svg", "math",
               "plaintext", "button", "nobr", "select", "image", "isindex", "keygen"});
}

// End tags the parser supplies when a later end tag closes their parent.
bool is_implied_end(std::string_view name) {
    return is_one_of(name, {"p", "li", "dd", "dt", "option", "optgroup", "rb", "rp", "rt", "rtc",
                            "tbody", "thead", "tfoot", "tr", "td", "th", "colgroup", "caption"});
}

bool is_list_container(std::string_view name) {
    return is_one_of(name, {"ul", "ol", "menu", "dl"});
}

// Start of the end tag closing the region element `region` whose start tag ends at `from`, when
// the markup between is balanced so that emptying the region leaves the rest of the tree as it
// was: every element opened inside is closed inside (end tags the parser would imply excepted),
// no end tag closes anything opened before the region, no <li>/<dd>/<dt> outside a list opened
// inside, no <a> while an <a> is open outside (`outer_a`), nothing is_region_breaker(). npos
// otherwise (the region is then kept).
std::size_t region_end(std::string_view h, std::size_t from, std::string_view region,
                       bool outer_a) {
    std::vector<std::string_view> open{region};
    const std::size_t n = h.size();
    std::size_t i = from;
    while (i < n) {
        const std::size_t lt = h.find('<', i);
        if (lt == std::string_view::npos) {
            return lt;
        }
        i = lt;
        if (h.compare(i, 4, "<!--") == 0) {
            i = comment_end(h, i);
            continue;
        }
        const bool end_tag = i + 1 < n && h[i + 1] == '/';
        const std::size_t name_start = i + (end_tag ? 2 : 1);
        if (name_start >= n || std::isalpha(static_cast<unsigned char>(h[name_start])) == 0) {
            if ((i + 1 < n && (h[i + 1] == '!' || h[i + 1] == '?')) || end_tag) {
                const std::size_t gt = h.find('>', i);  // doctype, CDATA, bogus comment
                if (gt == std::string_view::npos) {
                    return gt;
                }
                i = gt + 1;
            } else {
                ++i;  // a '<' in text
            }
            continue;
        }
        std::size_t name_end = name_start;
        while (name_end < n && !is_html_space(h[name_end]) && h[name_end] != '/' &&
               h[name_end] != '>') {
            ++name_end;
        }
        const std::string_view name = h.substr(name_start, name_end - name_start);
        const std::size_t close = tag_end(h, name_end);
        if (close == std::string_view::npos) {
            return close;
        }
        if (end_tag) {
            while (!ascii_iequals(open.back(), name) && is_implied_end(open.back()) &&
                   open.size() > 1) {
                open.pop_back();
            }
            if (!ascii_iequals(open.back(), name)) {
                return std::string_view::npos;  // closes something else: keep the region
            }
            open.pop_back();
            if (open.empty()) {
                return i;
            }
            i = close;
            continue;
        }
        i = close;
        if (is_region_breaker(name) || (outer_a && ascii_iequals(name, "a"))) {
            return std::string_view::npos;
        }
        if (is_one_of(name, {"li", "dd", "dt"}) &&
            std::none_of(open.begin() + 1, open.end(), is_list_container)) {
            return std::string_view::npos;
        }
        if (is_void_tag(name)) {
            continue;
        }
        if (ascii_iequals(name, "script")) {
            const std::size_t stop = script_end(h, i);
            if (stop == std::string_view::npos) {
                return stop;
            }
            i = stop;  // its end tag comes next
            open.push_back(name);
            continue;
        }
        for (const std::string_view raw :
             {"style", "title", "textarea", "xmp", "iframe", "noembed", "noframes"}) {
            if (ascii_iequals(name, raw)) {
                const std::size_t stop = raw_end(h, i, raw);
                if (stop == std::string_view::npos) {
                    return stop;
                }
                i = stop;
                break;
            }
        }
        open.push_back(name);
    }
    return std::string_view::npos;
}

// Whether a start tag matches one of the skip patterns (tag name, ids, classes).
bool matches_skip(std::string_view tag, std::size_t name_end, std::string_view name,
                  const std::vector<css::Compound>& skip) {
    std::string_view id;
    std::string_view classes;
    bool has_id = false;
    bool has_class = false;
    for_each_attribute(tag, name_end, [&](std::string_view attr, std::string_view value) {
        if (!has_id && ascii_iequals(attr, "id")) {
            id = value;
            has_id = true;
        } else if (!has_class && ascii_iequals(attr, "class")) {
            classes = value;
            has_class = true;
        }
    });
    for (const css::Compound& c : skip) {
        if (!c.tag.empty() && c.tag != "*" && !ascii_iequals(c.tag, name)) {
            continue;
        }
        const bool ids = std::all_of(c.ids.begin(), c.ids.end(),
                                     [&](const std::string& want) { return has_id && id == want; });
        const bool words =
            std::all_of(c.classes.begin(), c.classes.end(),
                        [&](const std::string& want) { return has_word(classes, want); });
        if (ids && words) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::vector<css::Compound> skip_patterns(const std::vector<std::string>& selectors) {
    std::vector<css::Compound> out;
    for (const std::string& text : selectors) {
        for (css::Complex& complex : css::parse_selector(text)) {
            const css::Compound& c = complex.compounds.front();
            if (complex.compounds.size() != 1 || !c.attributes.empty() || !c.pseudos.empty()) {
                throw css::SelectorError("'" + text +
                                         "': a skip region is named by tag, #id and .class only");
            }
            out.push_back(std::move(complex.compounds.front()));
        }
    }
    return out;
}

std::string strip_inert(std::string_view h) {
    return strip_inert(h, {});
}

std::string strip_inert(std::string_view h, const std::vector<css::Compound>& skip) {
    std::string out;
    out.reserve(h.size() / 2);
    const std::size_t n = h.size();
    std::size_t i = 0;
    std::size_t open_a = 0;  // <a> start tags minus end tags so far (see region_end())
    while (i < n) {
        const std::size_t lt = h.find('<', i);
        if (lt == std::string_view::npos) {
            out.append(h.substr(i));
            break;
        }
        out.append(h.substr(i, lt - i));
        i = lt;
        if (h.compare(i, 4, "<!--") == 0) {
            i = comment_end(h, i);
            continue;
        }
        const bool end_tag = i + 1 < n && h[i + 1] == '/';
        const std::size_t name_start = i + (end_tag ? 2 : 1);
        const bool bogus = i + 1 < n && (h[i + 1] == '!' || h[i + 1] == '?');
        if (bogus || (end_tag && name_start < n && h[name_start] != '>' &&
                      std::isalpha(static_cast<unsigned char>(h[name_start])) == 0)) {
            // Doctype, CDATA or a bogus comment: kept as it is, up to its '>'.
            const std::size_t gt = h.find('>', i);
            const std::size_t stop = gt == std::string_view::npos ? n : gt + 1;
            out.append(h.substr(i, stop - i));
            i = stop;
            continue;
        }
        if (name_start >= n || std::isalpha(static_cast<unsigned char>(h[name_start])) == 0) {
            out += '<';  // a '<' in text
            ++i;
            continue;
        }
        std::size_t name_end = name_start;
        while (name_end < n && !is_html_space(h[name_end]) && h[name_end] != '/' &&
               h[name_end] != '>') {
            ++name_end;
        }
        const std::size_t close = tag_end(h, name_end);
        if (close == std::string_view::npos) {
            out.append(h.substr(i));  // a tag cut by the end of the page: the parser drops it
            break;
        }
        const std::size_t tag_start = i;
        const std::string_view tag = h.substr(i, close - i);
        out.append(tag);
        i = close;
        const std::string_view name = h.substr(name_start, name_end - name_start);
        if (ascii_iequals(name, "a")) {
            open_a = end_tag ? (open_a > 0 ? open_a - 1 : 0) : open_a + 1;
        }
        if (end_tag) {
            continue;
        }
        if (!skip.empty() && is_region_tag(name) &&
            matches_skip(tag, name_end - tag_start, name, skip)) {
            const std::size_t stop = region_end(h, i, name, open_a > 0);
            if (stop != std::string_view::npos) {
                i = stop;  // the content goes; the end tag is copied next
                continue;
            }
        }
        if (ascii_iequals(name, "script")) {
            const std::size_t stop = script_end(h, i);
            std::string lowered(tag);
            for (char& c : lowered) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            const std::size_t end = stop == std::string_view::npos ? n : stop;
            if (lowered.find("application/ld+json") != std::string::npos) {
                out.append(h.substr(i, end - i));
            }
            i = end;
        } else if (ascii_iequals(name, "style")) {
            const std::size_t stop = raw_end(h, i, "style");
            i = stop == std::string_view::npos ? n : stop;
        } else if (ascii_iequals(name, "plaintext")) {
            out.append(h.substr(i));
            break;
        } else {
            for (const std::string_view raw :
                 {"title", "textarea", "xmp", "iframe", "noembed", "noframes"}) {
                if (ascii_iequals(name, raw)) {
                    const std::size_t stop = raw_end(h, i, raw);
                    const std::size_t end = stop == std::string_view::npos ? n : stop;
                    out.append(h.substr(i, end - i));
                    i = end;
                    break;
                }
            }
        }
    }
    return out;
}

std::string HtmlDocument::check(std::string_view html) {
    if (html.size() > kMaxBytes) {
        return "page too large (" + std::to_string(html.size()) + " bytes)";
    }
    // Counts start tags minus end tags, ignoring void and auto-closing elements, comments and the
    // contents of script/style. An estimate, but it bounds the depth Gumbo will build.
    long depth = 0;
    long max_depth = 0;
    long foreign = 0;  // open <svg>/<math>: only there does "<x/>" close itself
    std::size_t i = 0;
    const std::size_t n = html.size();
    while (i < n) {
        const std::size_t lt = html.find('<', i);
        if (lt == std::string_view::npos || lt + 1 >= n) {
            break;
        }
        i = lt + 1;
        if (html.compare(i, 3, "!--") == 0) {
            const std::size_t end = html.find("-->", i + 3);
            i = end == std::string_view::npos ? n : end + 3;
            continue;
        }
        const bool closing = html[i] == '/';
        if (closing) {
            ++i;
        }
        const std::size_t name_start = i;
        while (i < n &&
               (std::isalnum(static_cast<unsigned char>(html[i])) != 0 || html[i] == '-')) {
            ++i;
        }
        if (i == name_start || std::isalpha(static_cast<unsigned char>(html[name_start])) == 0) {
            continue;
        }
        const std::string_view name = html.substr(name_start, i - name_start);
        const std::size_t gt = html.find('>', i);
        if (gt == std::string_view::npos) {
            break;
        }
        const bool self_closed = gt > 0 && html[gt - 1] == '/';
        i = gt + 1;
        if (is_void_tag(name) || is_self_closing_sibling(name)) {
            continue;
        }
        const long weight = nesting_weight(name);
        const bool foreign_root = ascii_iequals(name, "svg") || ascii_iequals(name, "math");
        if (closing) {
            depth = depth > weight ? depth - weight : 0;
            if (foreign_root && foreign > 0) {
                --foreign;
            }
            continue;
        }
        if (ascii_iequals(name, "script") || ascii_iequals(name, "style")) {
            const std::string close = std::string("</") + std::string(name);
            std::size_t j = i;
            while (j < n) {
                const std::size_t c = html.find("</", j);
                if (c == std::string_view::npos) {
                    j = n;
                    break;
                }
                if (ascii_iequals(html.substr(c, close.size()), close)) {
                    j = c;
                    break;
                }
                j = c + 2;
            }
            i = j;
            continue;
        }
        // In HTML "<div/>" opens a div like "<div>"; the slash closes only foreign elements.
        if (self_closed && (foreign > 0 || foreign_root)) {
            continue;
        }
        if (foreign_root) {
            ++foreign;
        }
        depth += weight;
        if (depth > max_depth) {
            max_depth = depth;
        }
        if (max_depth > kMaxDepth) {
            return "page nests tags too deeply (over " + std::to_string(kMaxDepth) + ")";
        }
    }
    return "";
}

// Gumbo allocates and frees every token, tag, attribute and text buffer through the options'
// allocator: with malloc that is a large share of a parse, and gumbo_destroy_output then walks
// the whole tree (recursively) to free it node by node. This pool serves Gumbo instead: blocks
// of up to kLargest bytes come in power-of-two size classes carved from big chunks, freed ones
// are recycled by class, larger ones are malloc'ed and linked so that they can be freed one by
// one or all at once. The whole tree is released with the pool, no tree walk. One pool per
// document, used by one thread at a time (the document's constructor).
class HtmlDocument::Pool {
  public:
    Pool() = default;
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    ~Pool() {
        while (large_ != nullptr) {
            Large* next = large_->next;
            std::free(large_);
            large_ = next;
        }
    }

    static void* allocate(void* self, std::size_t size) {
        return static_cast<Pool*>(self)->allocate(size);
    }
    static void deallocate(void* self, void* ptr) { static_cast<Pool*>(self)->deallocate(ptr); }

  private:
    static constexpr std::size_t kMinShift = 4;  // 16-byte blocks
    static constexpr std::size_t kClasses = 9;   // up to 4096 bytes
    static constexpr std::size_t kLargest = std::size_t{1} << (kMinShift + kClasses - 1);
    static constexpr std::size_t kLargeClass = kClasses;
    static constexpr std::size_t kHeader = 16;  // keeps payloads 16-byte aligned
    static constexpr std::size_t kChunkBytes = 256U << 10;

    // A large block: [Large][payload]; the class word sits just before every payload.
    struct Large {
        Large* prev;
        Large* next;
        std::size_t unused;
        std::size_t size_class;
    };
    static_assert(sizeof(Large) % kHeader == 0);

    struct FreeBlock {
        FreeBlock* next;
    };

    static std::size_t& class_of(void* payload) {
        return *reinterpret_cast<std::size_t*>(static_cast<char*>(payload) - sizeof(std::size_t));
    }

    static void* checked(void* p) {
        if (p == nullptr) {
            std::abort();  // Gumbo cannot handle a failed allocation, nor an exception
        }
        return p;
    }

    void* allocate(std::size_t size) {
        if (size > kLargest) {
            auto* block = static_cast<Large*>(checked(std::malloc(sizeof(Large) + size)));
            block->prev = nullptr;
            block->next = large_;
            block->size_class = kLargeClass;
            if (large_ != nullptr) {
                large_->prev = block;
            }
            large_ = block;
            return block + 1;
        }
        std::size_t cls = 0;
        while ((std::size_t{1} << (kMinShift + cls)) < size) {
            ++cls;
        }
        if (FreeBlock* f = free_[cls]) {
            free_[cls] = f->next;
            return f;
        }
        const std::size_t need = kHeader + (std::size_t{1} << (kMinShift + cls));
        if (static_cast<std::size_t>(end_ - next_) < need) {
            chunks_.emplace_back(new std::max_align_t[kChunkBytes / sizeof(std::max_align_t)]);
            next_ = reinterpret_cast<char*>(chunks_.back().get());
            end_ = next_ + kChunkBytes;
        }
        void* payload = next_ + kHeader;
        next_ += need;
        class_of(payload) = cls;
        return payload;
    }

    void deallocate(void* ptr) {
        if (ptr == nullptr) {
            return;
        }
        const std::size_t cls = class_of(ptr);
        if (cls == kLargeClass) {
            Large* block = static_cast<Large*>(ptr) - 1;
            if (block->prev != nullptr) {
                block->prev->next = block->next;
            } else {
                large_ = block->next;
            }
            if (block->next != nullptr) {
                block->next->prev = block->prev;
            }
            std::free(block);
            return;
        }
        auto* f = static_cast<FreeBlock*>(ptr);
        f->next = free_[cls];
        free_[cls] = f;
    }

    std::vector<std::unique_ptr<std::max_align_t[]>> chunks_;
    char* next_ = nullptr;
    char* end_ = nullptr;
    std::array<FreeBlock*, kClasses> free_{};
    Large* large_ = nullptr;
};

HtmlDocument::HtmlDocument(std::string_view html, const std::vector<css::Compound>& skip)
    : html_(strip_inert(html, skip)), error_(check(html_)), pool_(std::make_unique<Pool>()) {
    if (!error_.empty()) {
        html_.clear();
    }
    GumboOptions options = kGumboDefaultOptions;
    options.allocator = &Pool::allocate;
    options.deallocator = &Pool::deallocate;
    options.userdata = pool_.get();
    // The defaults record every parse error, each with a copy of the open-element stack: real
    // pages have thousands of them and nobody reads them here.
    options.max_errors = 0;
    output_ = gumbo_parse_with_options(&options, html_.data(), html_.size());
}

// The pool releases the tree: no gumbo_destroy_output (and none of its recursion).
HtmlDocument::~HtmlDocument() = default;

const GumboNode* HtmlDocument::root() const {
    return output_->root;
}

namespace {
const GumboNode* html_child(const GumboNode* root, GumboTag tag) {
    if (root == nullptr || root->type != GUMBO_NODE_ELEMENT) {
        return nullptr;
    }
    const GumboVector& kids = root->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) {
        const GumboNode* c = child_at(&kids, i);
        if (c->type == GUMBO_NODE_ELEMENT && c->v.element.tag == tag) {
            return c;
        }
    }
    return nullptr;
}
}  // namespace

const GumboNode* HtmlDocument::head() const {
    return html_child(output_->root, GUMBO_TAG_HEAD);
}
const GumboNode* HtmlDocument::body() const {
    return html_child(output_->root, GUMBO_TAG_BODY);
}

bool is_element(const GumboNode* n) {
    return n != nullptr && n->type == GUMBO_NODE_ELEMENT;
}

std::string tag_name(const GumboNode* n) {
    if (n == nullptr || (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE)) {
        return "";
    }
    const GumboElement& el = n->v.element;
    std::string name;
    if (el.tag != GUMBO_TAG_UNKNOWN) {
        name = gumbo_normalized_tagname(el.tag);
    } else {
        GumboStringPiece piece = el.original_tag;
        gumbo_tag_from_original_text(&piece);
        name.assign(piece.data, piece.length);
    }
    for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return name;
}

const char* attribute(const GumboNode* n, std::string_view name) {
    if (n == nullptr || (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE)) {
        return nullptr;
    }
    const GumboVector& attrs = n->v.element.attributes;
    for (unsigned i = 0; i < attrs.length; ++i) {
        const auto* a = static_cast<const GumboAttribute*>(attrs.data[i]);
        if (ascii_iequals(a->name, name)) {
            return a->value;
        }
    }
    return nullptr;
}

std::vector<const GumboNode*> element_children(const GumboNode* n) {
    std::vector<const GumboNode*> out;
    const GumboVector* kids = n == nullptr ? nullptr : children_of(n);
    if (kids == nullptr) {
        return out;
    }
    for (unsigned i = 0; i < kids->length; ++i) {
        const GumboNode* c = child_at(kids, i);
        if (c->type == GUMBO_NODE_ELEMENT) {
            out.push_back(c);
        }
    }
    return out;
}

std::vector<const GumboNode*> descendants(const GumboNode* root) {
    std::vector<const GumboNode*> out;
    if (root == nullptr) {
        return out;
    }
    // Explicit stack of (node, next child index) gives document order without recursion.
    std::vector<std::pair<const GumboNode*, unsigned>> stack;
    stack.emplace_back(root, 0U);
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        const GumboVector* kids = children_of(node);
        if (kids == nullptr || next >= kids->length) {
            stack.pop_back();
            continue;
        }
        const GumboNode* c = child_at(kids, next);
        ++next;
        if (c->type == GUMBO_NODE_ELEMENT) {
            out.push_back(c);
            stack.emplace_back(c, 0U);
        } else if (c->type == GUMBO_NODE_TEMPLATE) {
            stack.emplace_back(c, 0U);
        }
    }
    return out;
}

void append_raw_text(const GumboNode* n, std::string& out,
                     const std::function<bool(const GumboNode*)>& skip) {
    if (n == nullptr) {
        return;
    }
    std::vector<const GumboNode*> stack{n};
    while (!stack.empty()) {
        const GumboNode* cur = stack.back();
        stack.pop_back();
        switch (cur->type) {
            case GUMBO_NODE_TEXT:
            case GUMBO_NODE_CDATA:
                out += cur->v.text.text;
                continue;
            case GUMBO_NODE_WHITESPACE:
                out += ' ';
                continue;
            case GUMBO_NODE_COMMENT:
                continue;
            default:
                break;
        }
        if (skipped_for_text(cur) || (skip && cur != n && skip(cur))) {
            continue;
        }
        if (cur->type == GUMBO_NODE_ELEMENT && cur->v.element.tag == GUMBO_TAG_BR) {
            out += '\n';
            continue;
        }
        const GumboVector* kids = children_of(cur);
        if (kids == nullptr) {
            continue;
        }
        for (unsigned i = kids->length; i > 0; --i) {
            stack.push_back(child_at(kids, i - 1));
        }
    }
}

std::string raw_text(const GumboNode* n) {
    std::string out;
    append_raw_text(n, out, nullptr);
    return out;
}

}  // namespace baofeed::parsers
