#include "parsers/sanitize.h"

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/text.h"
#include "core/url.h"
#include "parsers/html_document.h"

namespace baofeed::parsers {
namespace {

// What the serializer does with an element it meets.
enum class Action {
    drop,           // the element and everything under it disappear
    unwrap_inline,  // the tag disappears, the content stays (span, font, picture, ...)
    unwrap_block,   // as unwrap_inline, but the element separates what is before and after it
    noscript,       // only the images inside are looked at, and only those not already shown
    inline_keep,    // a, b, strong, ...: phrasing element kept with its allowed attributes
    block_keep,     // p, h2-h6, ul, ol, blockquote, pre, figure, figcaption, table
    list_item,
    table_section,  // thead, tbody, tfoot
    table_caption,
    table_row,
    table_cell,
    img,
    br,
    hr,
    iframe,
    video,
    source,
};

struct TagRule {
    Action action;
    const char* emit;  // the tag written out for *_keep and structural actions
};

TagRule rule_for(const GumboNode* node) {
    switch (node->v.element.tag) {
        // Active content, metadata, embedded documents, forms: gone with their content.
        case GUMBO_TAG_SCRIPT:
        case GUMBO_TAG_STYLE:
        case GUMBO_TAG_TEMPLATE:
        case GUMBO_TAG_HEAD:
        case GUMBO_TAG_TITLE:
        case GUMBO_TAG_META:
        case GUMBO_TAG_LINK:
        case GUMBO_TAG_BASE:
        case GUMBO_TAG_OBJECT:
        case GUMBO_TAG_EMBED:
        case GUMBO_TAG_APPLET:
        case GUMBO_TAG_PARAM:
        case GUMBO_TAG_SVG:
        case GUMBO_TAG_MATH:
        case GUMBO_TAG_FORM:
        case GUMBO_TAG_INPUT:
        case GUMBO_TAG_BUTTON:
        case GUMBO_TAG_SELECT:
        case GUMBO_TAG_TEXTAREA:
        case GUMBO_TAG_OPTION:
        case GUMBO_TAG_OPTGROUP:
        case GUMBO_TAG_DATALIST:
        case GUMBO_TAG_OUTPUT:
        case GUMBO_TAG_KEYGEN:
        case GUMBO_TAG_FRAME:
        case GUMBO_TAG_FRAMESET:
        case GUMBO_TAG_NOFRAMES:
        case GUMBO_TAG_NOEMBED:
        case GUMBO_TAG_CANVAS:
        case GUMBO_TAG_AUDIO:
        case GUMBO_TAG_TRACK:
        case GUMBO_TAG_MAP:
        case GUMBO_TAG_AREA:
        case GUMBO_TAG_COL:
        case GUMBO_TAG_COLGROUP:
        case GUMBO_TAG_PLAINTEXT:
        case GUMBO_TAG_XMP:
        case GUMBO_TAG_ISINDEX:
        case GUMBO_TAG_MENUITEM:
            return {Action::drop, nullptr};
        case GUMBO_TAG_NOSCRIPT:
            return {Action::noscript, nullptr};

        case GUMBO_TAG_A:
            return {Action::inline_keep, "a"};
        case GUMBO_TAG_B:
            return {Action::inline_keep, "b"};
        case GUMBO_TAG_STRONG:
            return {Action::inline_keep, "strong"};
        case GUMBO_TAG_I:
            return {Action::inline_keep, "i"};
        case GUMBO_TAG_EM:
            return {Action::inline_keep, "em"};
        case GUMBO_TAG_U:
            return {Action::inline_keep, "u"};
        case GUMBO_TAG_S:
            return {Action::inline_keep, "s"};
        case GUMBO_TAG_STRIKE:
            return {Action::inline_keep, "s"};
        case GUMBO_TAG_SUB:
            return {Action::inline_keep, "sub"};
        case GUMBO_TAG_SUP:
            return {Action::inline_keep, "sup"};
        case GUMBO_TAG_SMALL:
            return {Action::inline_keep, "small"};
        case GUMBO_TAG_MARK:
            return {Action::inline_keep, "mark"};
        case GUMBO_TAG_CODE:
            return {Action::inline_keep, "code"};

        case GUMBO_TAG_P:
            return {Action::block_keep, "p"};
        case GUMBO_TAG_H1:  // the page's title lives elsewhere; a body h1 is a section heading
        case GUMBO_TAG_H2:
            return {Action::block_keep, "h2"};
        case GUMBO_TAG_H3:
            return {Action::block_keep, "h3"};
        case GUMBO_TAG_H4:
            return {Action::block_keep, "h4"};
        case GUMBO_TAG_H5:
            return {Action::block_keep, "h5"};
        case GUMBO_TAG_H6:
            return {Action::block_keep, "h6"};
        case GUMBO_TAG_UL:
            return {Action::block_keep, "ul"};
        case GUMBO_TAG_OL:
            return {Action::block_keep, "ol"};
        case GUMBO_TAG_BLOCKQUOTE:
            return {Action::block_keep, "blockquote"};
        case GUMBO_TAG_PRE:
            return {Action::block_keep, "pre"};
        case GUMBO_TAG_FIGURE:
            return {Action::block_keep, "figure"};
        case GUMBO_TAG_FIGCAPTION:
            return {Action::block_keep, "figcaption"};
        case GUMBO_TAG_TABLE:
            return {Action::block_keep, "table"};
        case GUMBO_TAG_LI:
            return {Action::list_item, "li"};
        case GUMBO_TAG_THEAD:
            return {Action::table_section, "thead"};
        case GUMBO_TAG_TBODY:
            return {Action::table_section, "tbody"};
        case GUMBO_TAG_TFOOT:
            return {Action::table_section, "tfoot"};
        case GUMBO_TAG_CAPTION:
            return {Action::table_caption, "caption"};
        case GUMBO_TAG_TR:
            return {Action::table_row, "tr"};
        case GUMBO_TAG_TD:
            return {Action::table_cell, "td"};
        case GUMBO_TAG_TH:
            return {Action::table_cell, "th"};
        case GUMBO_TAG_IMG:
        case GUMBO_TAG_IMAGE:
            return {Action::img, "img"};
        case GUMBO_TAG_BR:
            return {Action::br, "br"};
        case GUMBO_TAG_HR:
            return {Action::hr, "hr"};
        case GUMBO_TAG_IFRAME:
            return {Action::iframe, "iframe"};
        case GUMBO_TAG_VIDEO:
            return {Action::video, "video"};
        case GUMBO_TAG_SOURCE:
            return {Action::source, "source"};

        // Block containers whose tag goes but whose boundary separates paragraphs.
        case GUMBO_TAG_DIV:
        case GUMBO_TAG_SECTION:
        case GUMBO_TAG_ARTICLE:
        case GUMBO_TAG_MAIN:
        case GUMBO_TAG_HEADER:
        case GUMBO_TAG_FOOTER:
        case GUMBO_TAG_ASIDE:
        case GUMBO_TAG_NAV:
        case GUMBO_TAG_CENTER:
        case GUMBO_TAG_ADDRESS:
        case GUMBO_TAG_DETAILS:
        case GUMBO_TAG_SUMMARY:
        case GUMBO_TAG_DL:
        case GUMBO_TAG_DT:
        case GUMBO_TAG_DD:
        case GUMBO_TAG_FIELDSET:
        case GUMBO_TAG_LEGEND:
        case GUMBO_TAG_HGROUP:
        case GUMBO_TAG_MENU:
        case GUMBO_TAG_DIR:
        case GUMBO_TAG_LISTING:
        case GUMBO_TAG_MARQUEE:
        case GUMBO_TAG_HTML:
        case GUMBO_TAG_BODY:
            return {Action::unwrap_block, nullptr};
        default:
            break;
    }
    if (node->v.element.tag_namespace != GUMBO_NAMESPACE_HTML) {
        return {Action::drop, nullptr};  // stray SVG/MathML content
    }
    if (node->v.element.tag == GUMBO_TAG_UNKNOWN) {
        // HTML5 tags newer than Gumbo's enum (picture stays inline).
        const std::string name = tag_name(node);
        if (name == "dialog" || name == "search") {
            return {Action::unwrap_block, nullptr};
        }
    }
    return {Action::unwrap_inline, nullptr};
}

// Whitespace for the "is this element empty" test: ASCII space, NBSP, zero-width space, BOM.
bool blank(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            ++i;
        } else if (text.compare(i, 2, "\xC2\xA0") == 0) {
            i += 2;
        } else if (text.compare(i, 3, "\xE2\x80\x8B") == 0 ||
                   text.compare(i, 3, "\xEF\xBB\xBF") == 0) {
            i += 3;
        } else {
            return false;
        }
    }
    return true;
}

bool ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// Appends `text` escaped for element content (attribute = false) or a double-quoted attribute
// value. NUL and other C0 controls (but tab, LF, CR) are dropped; outside <pre> (collapse)
// whitespace runs become one space.
void append_escaped(std::string& out, std::string_view text, bool attribute, bool collapse) {
    // A run of whitespace continues across text nodes.
    bool in_space = collapse && !out.empty() && ascii_space(out.back());
    // Bytes copied as they are come in runs, appended in one go.
    const auto special = [&](unsigned char c) {
        if (c >= 0x80) {
            return false;
        }
        if (c == '&' || c == '<' || c == '>' || c == 0x7F || (collapse && ascii_space(c))) {
            return true;
        }
        if (c == '"') {
            return attribute;
        }
        return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
    };
    out.reserve(out.size() + text.size());
    std::size_t run = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (!special(static_cast<unsigned char>(ch))) {
            continue;
        }
        if (run < i) {
            out.append(text.substr(run, i - run));
            in_space = false;
        }
        run = i + 1;
        if (collapse && ascii_space(ch)) {
            if (!in_space) {
                out.push_back(' ');
            }
            in_space = true;
            continue;
        }
        in_space = false;
        switch (ch) {
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
            default:
                break;  // C0 controls and DEL are dropped
        }
    }
    out.append(text.substr(run));
}

// A width/height/colspan/rowspan value: 1-5 digits, optionally a percentage.
bool dimension(const char* value) {
    if (value == nullptr) {
        return false;
    }
    const std::string_view v(value);
    std::size_t digits = 0;
    while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') {
        ++digits;
    }
    if (digits == 0 || digits > 5) {
        return false;
    }
    return digits == v.size() || (digits + 1 == v.size() && v[digits] == '%');
}

bool table_structural(std::string_view tag) {
    return tag == "table" || tag == "thead" || tag == "tbody" || tag == "tfoot" || tag == "tr";
}

// An element written to the output and not yet closed.
struct Open {
    const char* tag;
    std::size_t start;          // out_ size before its start tag (to drop it when empty)
    std::size_t content_start;  // out_ size after its start tag
    bool has_content = false;   // visible text or a kept element inside
    bool implicit = false;      // a <p> opened around loose inline content at the top level
};

// A source node being walked.
struct Frame {
    const GumboNode* node;
    unsigned next = 0;
    Action action = Action::unwrap_inline;
    bool emitted = false;  // pushed an Open
};

class Serializer {
  public:
    Serializer(std::string_view base_url, const std::function<bool(const GumboNode*)>& skip,
               const SanitizeOptions& options)
        : base_url_(base_url), skip_(skip), options_(options) {}

    std::string run(const GumboNode* container) {
        walk_.push_back({container, 0, Action::unwrap_block, false});
        while (!walk_.empty()) {
            Frame& top = walk_.back();
            const GumboVector* kids = children(top.node);
            if (kids == nullptr || top.next >= kids->length) {
                const Frame done = top;
                walk_.pop_back();
                leave(done);
                continue;
            }
            const auto* child = static_cast<const GumboNode*>(kids->data[top.next]);
            ++top.next;
            visit(child);  // may push onto walk_: `top` is not used after this
        }
        close_implicit();
        while (!out_.empty() && ascii_space(out_.back())) {
            out_.pop_back();
        }
        return std::move(out_);
    }

  private:
    static const GumboVector* children(const GumboNode* n) {
        if (n->type == GUMBO_NODE_ELEMENT) {
            return &n->v.element.children;
        }
        if (n->type == GUMBO_NODE_DOCUMENT) {
            return &n->v.document.children;
        }
        return nullptr;
    }

    std::string_view context() const {
        return opened_.empty() ? std::string_view() : std::string_view(opened_.back().tag);
    }
    bool at_top() const { return opened_.empty(); }
    bool top_is_implicit() const { return !opened_.empty() && opened_.back().implicit; }
    // Inside p, h2-h6 or pre only phrasing content may follow: a block there would be moved
    // out of it by an HTML parser.
    bool phrasing_only() const { return phrasing_depth_ > 0; }
    bool in_table_structure() const { return table_structural(context()); }
    bool in_video() const { return context() == "video"; }
    bool in_pre() const { return pre_depth_ > 0; }

    static bool phrasing_tag(std::string_view tag) {
        return tag == "p" || tag == "pre" ||
               (tag.size() == 2 && tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6');
    }

    void mark_content() {
        if (!opened_.empty()) {
            opened_.back().has_content = true;
        }
    }

    // Writes a start tag (attributes already serialized) and records it as open.
    void open(const char* tag, const std::string& attrs, bool implicit = false) {
        Open o{tag, out_.size(), 0, false, implicit};
        out_ += '<';
        out_ += tag;
        out_ += attrs;
        out_ += '>';
        if (std::string_view(tag) == "pre") {
            out_ += '\n';  // a parser drops one newline after <pre>: keep the text's own
            ++pre_depth_;
        }
        if (phrasing_tag(tag)) {
            ++phrasing_depth_;
        }
        o.content_start = out_.size();
        opened_.push_back(o);
    }

    // Closes the innermost open element, or drops it when nothing visible ended up inside.
    void close() {
        const Open o = opened_.back();
        opened_.pop_back();
        const std::string_view tag(o.tag);
        if (tag == "pre") {
            --pre_depth_;
        }
        if (phrasing_tag(tag)) {
            --phrasing_depth_;
        }
        const bool keep_empty = tag == "td" || tag == "th";
        if (!o.has_content && !keep_empty) {
            const bool had_space = out_.size() > o.content_start;
            out_.resize(o.start);
            if (had_space) {
                separate();
            }
            return;
        }
        out_ += "</";
        out_ += tag;
        out_ += '>';
        // Blocks on lines of their own, for people reading the output, where a parser ignores
        // the newline (elsewhere it would be a space in the text).
        if (!is_inline(tag) &&
            (at_top() || in_table_structure() || context() == "ul" || context() == "ol")) {
            out_ += '\n';
        }
        mark_content();
    }

    static bool is_inline(std::string_view tag) {
        return tag == "a" || tag == "b" || tag == "strong" || tag == "i" || tag == "em" ||
               tag == "u" || tag == "s" || tag == "sub" || tag == "sup" || tag == "small" ||
               tag == "mark" || tag == "code" || tag == "video";
    }

    void open_implicit_if_top() {
        if (at_top()) {
            open("p", "", true);
        }
    }
    void close_implicit() {
        if (top_is_implicit()) {
            close();
        }
    }

    // A word boundary where a block element was unwrapped.
    void separate() {
        if (at_top() || in_table_structure() || in_video() || context() == "ul" ||
            context() == "ol") {
            return;
        }
        if (!out_.empty() && !ascii_space(out_.back())) {
            out_ += ' ';
        }
    }

    void block_boundary() {
        if (top_is_implicit()) {
            close_implicit();
        } else {
            separate();
        }
    }

    std::optional<std::string> resolve(const char* value) const {
        if (value == nullptr) {
            return std::nullopt;
        }
        auto resolved = url::resolve(base_url_, value);
        if (!resolved) {
            // Without a usable base, absolute http(s) URLs still stand on their own.
            resolved = url::resolve(value, value);
        }
        if (!resolved || !text::is_valid_utf8(*resolved)) {
            // curl decodes %-escapes in host names: "%AC" would come back as a lone byte.
            return std::nullopt;
        }
        // "#" resolves to the page with an empty fragment, which means the page itself.
        if (resolved->ends_with('#')) {
            resolved->pop_back();
        }
        return resolved;
    }

    bool iframe_host_allowed(const std::string& src) const {
        const std::string host = url::host(src);
        if (host.empty()) {
            return false;
        }
        for (const std::string& allowed : options_.iframe_hosts) {
            if (allowed.empty()) {
                continue;
            }
            if (allowed.front() == '.') {
                if (host.size() > allowed.size() && host.ends_with(allowed)) {
                    return true;
                }
                if (host == std::string_view(allowed).substr(1)) {
                    return true;
                }
            } else if (host == allowed) {
                return true;
            }
        }
        return false;
    }

    static void append_attr(std::string& attrs, std::string_view name, std::string_view value) {
        attrs += ' ';
        attrs += name;
        attrs += "=\"";
        append_escaped(attrs, value, true, false);
        attrs += '"';
    }

    static void copy_text_attr(std::string& attrs, const GumboNode* node, std::string_view name) {
        const char* v = attribute(node, name);
        if (v != nullptr && !blank(v)) {
            append_attr(attrs, name, v);
        }
    }

    static void copy_dimension_attr(std::string& attrs, const GumboNode* node,
                                    std::string_view name) {
        const char* v = attribute(node, name);
        if (dimension(v)) {
            append_attr(attrs, name, v);
        }
    }

    // The first URL of a srcset ("a.jpg 1x, b.jpg 2x").
    static std::string first_srcset_url(std::string_view srcset) {
        std::size_t i = 0;
        while (i < srcset.size() && (ascii_space(srcset[i]) || srcset[i] == ',')) {
            ++i;
        }
        std::size_t j = i;
        while (j < srcset.size() && !ascii_space(srcset[j])) {
            ++j;
        }
        std::string_view first = srcset.substr(i, j - i);
        if (first.ends_with(',')) {
            first.remove_suffix(1);
        }
        return std::string(first);
    }

    // The image's real address: a lazy-loading attribute first, then src, then the first srcset
    // candidate. data:, javascript: and anything else that is not http(s) never qualifies.
    std::optional<std::string> image_src(const GumboNode* node) const {
        for (const char* name :
             {"data-src", "data-original", "data-photo-original-src", "data-lazy-src", "src"}) {
            if (auto r = resolve(attribute(node, name))) {
                return r;
            }
        }
        for (const char* name : {"data-srcset", "srcset"}) {
            const char* set = attribute(node, name);
            if (set != nullptr) {
                const std::string first = first_srcset_url(set);
                if (auto r = resolve(first.c_str())) {
                    return r;
                }
            }
        }
        return std::nullopt;
    }

    void visit(const GumboNode* node) {
        switch (node->type) {
            case GUMBO_NODE_TEXT:
            case GUMBO_NODE_CDATA:
                text(node->v.text.text, false);
                return;
            case GUMBO_NODE_WHITESPACE:
                text(node->v.text.text, true);
                return;
            case GUMBO_NODE_ELEMENT:
                element(node);
                return;
            default:  // comments, templates, documents
                return;
        }
    }

    void text(const char* value, bool whitespace) {
        if (noscript_depth_ > 0 || in_video() || (in_table_structure() && !whitespace)) {
            return;
        }
        const std::string_view t(value);
        if (whitespace || blank(t)) {
            // Between blocks at the top level it means nothing; inside text it is a word break.
            if (at_top() || in_table_structure() || context() == "ul" || context() == "ol") {
                return;
            }
            if (in_pre()) {
                append_escaped(out_, t, false, false);
            } else if (!out_.empty() && !ascii_space(out_.back())) {
                out_ += ' ';
            }
            return;
        }
        open_implicit_if_top();
        append_escaped(out_, t, false, !in_pre());
        mark_content();
    }

    void push(const GumboNode* node, Action action, bool emitted) {
        walk_.push_back({node, 0, action, emitted});
    }

    void element(const GumboNode* node) {
        if (skip_ && skip_(node)) {
            return;
        }
        const TagRule rule = rule_for(node);
        Action action = rule.action;
        if (noscript_depth_ > 0) {
            // Inside <noscript> only images count (the lazy-loading fallback).
            if (action == Action::img) {
                image(node);
            } else if (action != Action::drop) {
                push(node, Action::unwrap_inline, false);
            }
            return;
        }
        if (in_video()) {
            if (action == Action::source) {
                video_source(node);
            }
            return;
        }
        const std::string_view ctx = context();
        // Elements whose place is fixed by their parent; anywhere else they are unwrapped.
        bool placed = false;
        switch (action) {
            case Action::list_item:
                placed = ctx == "ul" || ctx == "ol";
                break;
            case Action::table_section:
            case Action::table_caption:
                placed = ctx == "table";
                break;
            case Action::table_row:
                placed = ctx == "thead" || ctx == "tbody" || ctx == "tfoot";
                break;
            case Action::table_cell:
                placed = ctx == "tr";
                break;
            default:
                break;
        }
        // Nothing but the table's own parts may stand between table parts: a parser would move
        // it out of the table.
        if (in_table_structure() && !placed) {
            return;
        }
        if (action == Action::list_item || action == Action::table_section ||
            action == Action::table_caption || action == Action::table_row ||
            action == Action::table_cell) {
            action = placed ? Action::block_keep : Action::unwrap_block;
        }
        switch (action) {
            case Action::drop:
            case Action::source:  // outside <video> (e.g. <picture>): the <img> carries the image
                return;
            case Action::noscript:
                ++noscript_depth_;
                push(node, Action::noscript, false);
                return;
            case Action::unwrap_inline:
                push(node, Action::unwrap_inline, false);
                return;
            case Action::unwrap_block:
                block_boundary();
                push(node, Action::unwrap_block, false);
                return;
            case Action::inline_keep:
                inline_element(node, rule.emit);
                return;
            case Action::block_keep:
                block_element(node, rule.emit);
                return;
            case Action::img:
                image(node);
                return;
            case Action::br:
                if (ctx == "ul" || ctx == "ol") {
                    return;
                }
                open_implicit_if_top();
                out_ += "<br>";
                return;
            case Action::hr:
                close_implicit();
                if (phrasing_only() || context() == "ul" || context() == "ol") {
                    separate();
                    return;
                }
                out_ += "<hr>\n";
                mark_content();
                return;
            case Action::iframe:
                iframe(node);
                return;
            case Action::video:
                video(node);
                return;
            default:
                return;
        }
    }

    void inline_element(const GumboNode* node, const char* tag) {
        std::string attrs;
        if (std::string_view(tag) == "a") {
            const auto href = resolve(attribute(node, "href"));
            if (!href || in_link_) {
                push(node, Action::unwrap_inline, false);  // the link goes, its text stays
                return;
            }
            append_attr(attrs, "href", *href);
            copy_text_attr(attrs, node, "title");
        }
        open_implicit_if_top();
        open(tag, attrs);
        if (std::string_view(tag) == "a") {
            in_link_ = true;
        }
        push(node, Action::inline_keep, true);
    }

    void block_element(const GumboNode* node, const char* tag) {
        close_implicit();
        const std::string_view name(tag);
        const bool placed = name == "li" || name == "thead" || name == "tbody" || name == "tfoot" ||
                            name == "caption" || name == "tr" || name == "td" || name == "th";
        // Blocks cannot sit inside p/h*/pre, nor directly inside a list (but list items).
        if (!placed && (phrasing_only() || context() == "ul" || context() == "ol")) {
            separate();
            push(node, Action::unwrap_block, false);
            return;
        }
        std::string attrs;
        if (name == "td" || name == "th") {
            copy_dimension_attr(attrs, node, "colspan");
            copy_dimension_attr(attrs, node, "rowspan");
        }
        open(tag, attrs);
        push(node, Action::block_keep, true);
    }

    void image(const GumboNode* node) {
        if (context() == "ul" || context() == "ol") {
            return;
        }
        const auto src = image_src(node);
        if (!src) {
            return;
        }
        // The <noscript> copy of a lazy image that was already shown.
        if (!shown_images_.insert(*src).second && noscript_depth_ > 0) {
            return;
        }
        open_implicit_if_top();
        out_ += "<img";
        std::string attrs;
        append_attr(attrs, "src", *src);
        copy_text_attr(attrs, node, "alt");
        copy_dimension_attr(attrs, node, "width");
        copy_dimension_attr(attrs, node, "height");
        out_ += attrs;
        out_ += '>';
        mark_content();
    }

    void iframe(const GumboNode* node) {
        const auto src = resolve(attribute(node, "src"));
        if (!src || !iframe_host_allowed(*src) || context() == "ul" || context() == "ol") {
            return;
        }
        std::string attrs;
        append_attr(attrs, "src", *src);
        copy_dimension_attr(attrs, node, "width");
        copy_dimension_attr(attrs, node, "height");
        if (attribute(node, "allowfullscreen") != nullptr) {
            attrs += " allowfullscreen";
        }
        // Embeds run in a sandbox that still lets the player play.
        attrs += " sandbox=\"allow-scripts allow-same-origin allow-popups\"";
        open_implicit_if_top();
        out_ += "<iframe" + attrs + "></iframe>";
        mark_content();
    }

    void video(const GumboNode* node) {
        if (context() == "ul" || context() == "ol") {
            return;
        }
        std::string attrs;
        const auto src = resolve(attribute(node, "src"));
        if (src) {
            append_attr(attrs, "src", *src);
        }
        if (const auto poster = resolve(attribute(node, "poster"))) {
            append_attr(attrs, "poster", *poster);
        }
        copy_dimension_attr(attrs, node, "width");
        copy_dimension_attr(attrs, node, "height");
        attrs += " controls";
        open_implicit_if_top();
        open("video", attrs);
        if (src) {
            mark_content();
        }
        push(node, Action::video, true);
    }

    void video_source(const GumboNode* node) {
        const auto src = resolve(attribute(node, "src"));
        if (!src) {
            return;
        }
        std::string attrs;
        append_attr(attrs, "src", *src);
        copy_text_attr(attrs, node, "type");
        out_ += "<source" + attrs + '>';
        mark_content();
    }

    void leave(const Frame& f) {
        if (f.action == Action::noscript) {
            --noscript_depth_;
            return;
        }
        if (f.emitted) {
            if (std::string_view(opened_.back().tag) == "a") {
                in_link_ = false;
            }
            close();
            return;
        }
        if (f.action == Action::unwrap_block && walk_.size() > 0) {
            block_boundary();
        }
    }

    std::string_view base_url_;
    const std::function<bool(const GumboNode*)>& skip_;
    const SanitizeOptions& options_;
    std::string out_;
    std::vector<Open> opened_;
    std::vector<Frame> walk_;
    std::unordered_set<std::string> shown_images_;
    int phrasing_depth_ = 0;
    int pre_depth_ = 0;
    int noscript_depth_ = 0;
    bool in_link_ = false;
};

}  // namespace

std::string sanitize_html(const GumboNode* container, std::string_view base_url,
                          const std::function<bool(const GumboNode*)>& skip,
                          const SanitizeOptions& options) {
    if (container == nullptr) {
        return "";
    }
    Serializer serializer(base_url, skip, options);
    return serializer.run(container);
}

}  // namespace baofeed::parsers
