#include "parsers/extract.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <set>
#include <unordered_set>
#include <utility>

#include "core/dates.h"
#include "core/text.h"
#include "core/url.h"
#include "parsers/generic.h"
#include "parsers/html_document.h"
#include "parsers/sanitize.h"
#include "parsers/select.h"

namespace baofeed::parsers {
namespace {

// A lead (sapo) longer than this is not one.
constexpr std::size_t kMaxLeadBytes = 1500;
// Marks a <br> inside collected text until paragraphs are split.
constexpr char kBreak = '\x1f';

using NodeSet = std::unordered_set<const GumboNode*>;

std::optional<Selector> compile(const std::string& text) {
    if (text.empty()) {
        return std::nullopt;
    }
    return Selector(text);
}

std::string trim(std::string_view s) {
    const char* ws = " \t\r\n\f";
    const std::size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) {
        return "";
    }
    const std::size_t e = s.find_last_not_of(ws);
    return std::string(s.substr(b, e - b + 1));
}

std::string text_of(const GumboNode* n) {
    return n == nullptr ? "" : text::clean(raw_text(n));
}

// text_of(n) != "", without building the text: a text node under `n` (as raw_text walks it)
// that is not all white space.
bool has_text(const GumboNode* n) {
    if (n == nullptr) {
        return false;
    }
    std::vector<const GumboNode*> stack{n};
    while (!stack.empty()) {
        const GumboNode* cur = stack.back();
        stack.pop_back();
        if (cur->type == GUMBO_NODE_TEXT || cur->type == GUMBO_NODE_CDATA) {
            if (!text::is_blank(cur->v.text.text)) {
                return true;
            }
            continue;
        }
        if (cur->type != GUMBO_NODE_ELEMENT && cur->type != GUMBO_NODE_TEMPLATE) {
            continue;
        }
        if (cur->type == GUMBO_NODE_TEMPLATE || cur->v.element.tag == GUMBO_TAG_SCRIPT ||
            cur->v.element.tag == GUMBO_TAG_STYLE || cur->v.element.tag == GUMBO_TAG_NOSCRIPT ||
            cur->v.element.tag == GUMBO_TAG_TEMPLATE) {
            continue;  // as raw_text skips them
        }
        const GumboVector& kids = cur->v.element.children;
        for (unsigned i = kids.length; i > 0; --i) {
            stack.push_back(static_cast<const GumboNode*>(kids.data[i - 1]));
        }
    }
    return false;
}

// text_of(n) when it is at most `max_bytes` long, else nullopt, without collecting and cleaning
// a long text: NFC shrinks a text at most threefold (Hangul L+V+T), so more than 3 * max_bytes
// bytes that are not ASCII white space cannot clean down to max_bytes.
std::optional<std::string> short_text_of(const GumboNode* n, std::size_t max_bytes) {
    if (n == nullptr) {
        return std::string();
    }
    std::string raw;
    std::size_t solid = 0;
    std::vector<const GumboNode*> stack{n};
    while (!stack.empty()) {
        const GumboNode* cur = stack.back();
        stack.pop_back();
        if (cur->type == GUMBO_NODE_TEXT || cur->type == GUMBO_NODE_CDATA) {
            for (const char* c = cur->v.text.text; *c != '\0'; ++c) {
                if (*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r' && *c != '\f') {
                    ++solid;
                }
            }
            if (solid > 3 * max_bytes) {
                return std::nullopt;
            }
            raw += cur->v.text.text;
            continue;
        }
        if (cur->type == GUMBO_NODE_WHITESPACE) {
            raw += ' ';
            continue;
        }
        if (cur->type != GUMBO_NODE_ELEMENT && cur->type != GUMBO_NODE_TEMPLATE) {
            continue;
        }
        if (cur->type == GUMBO_NODE_TEMPLATE || cur->v.element.tag == GUMBO_TAG_SCRIPT ||
            cur->v.element.tag == GUMBO_TAG_STYLE || cur->v.element.tag == GUMBO_TAG_NOSCRIPT ||
            cur->v.element.tag == GUMBO_TAG_TEMPLATE) {
            continue;  // as raw_text skips them
        }
        if (cur->v.element.tag == GUMBO_TAG_BR) {
            raw += '\n';
            continue;
        }
        const GumboVector& kids = cur->v.element.children;
        for (unsigned i = kids.length; i > 0; --i) {
            stack.push_back(static_cast<const GumboNode*>(kids.data[i - 1]));
        }
    }
    std::string t = text::clean(raw);
    if (t.size() > max_bytes) {
        return std::nullopt;
    }
    return t;
}

std::string attr_or_empty(const GumboNode* n, std::string_view name) {
    const char* v = attribute(n, name);
    return v == nullptr ? "" : std::string(v);
}

bool is_inside(const GumboNode* n, const GumboNode* ancestor) {
    for (const GumboNode* p = n; p != nullptr; p = p->parent) {
        if (p == ancestor) {
            return true;
        }
    }
    return false;
}

bool is_block_tag(std::string_view name) {
    static const std::set<std::string_view> kBlocks = {
        "address", "article", "aside", "blockquote", "caption",  "center",     "dd",     "details",
        "dialog",  "div",     "dl",    "dt",         "fieldset", "figcaption", "figure", "footer",
        "h1",      "h2",      "h3",    "h4",         "h5",       "h6",         "header", "hgroup",
        "hr",      "li",      "main",  "nav",        "ol",       "p",          "pre",    "section",
        "summary", "table",   "tbody", "td",         "tfoot",    "th",         "thead",  "tr",
        "ul",      "video",   "audio", "picture",    "menu"};
    return kBlocks.count(name) != 0;
}

bool always_removed(std::string_view name) {
    static const std::set<std::string_view> kJunk = {
        "script", "style", "noscript", "template", "iframe", "form",      "button",
        "select", "input", "textarea", "object",   "embed",  "figcaption"};
    return kJunk.count(name) != 0;
}

// The nearest block-level element containing n (n itself when it is one), not above `limit`.
const GumboNode* enclosing_block(const GumboNode* n, const GumboNode* limit) {
    for (const GumboNode* p = n; p != nullptr && p != limit; p = p->parent) {
        if (is_element(p) && is_block_tag(tag_name(p))) {
            return p;
        }
    }
    return n;
}

std::string resolve(std::string_view base, std::string_view ref) {
    const std::string r = trim(ref);
    if (r.empty()) {
        return "";
    }
    return url::resolve(base, r).value_or("");
}

std::string strip_fragment(std::string s) {
    const std::size_t hash = s.find('#');
    if (hash != std::string::npos) {
        s.erase(hash);
    }
    return s;
}

const GumboNode* find_meta(const std::vector<const GumboNode*>& all, std::string_view key) {
    for (const GumboNode* n : all) {
        if (n->v.element.tag != GUMBO_TAG_META) {
            continue;
        }
        const char* prop = attribute(n, "property");
        const char* name = attribute(n, "name");
        if ((prop != nullptr && key == prop) || (name != nullptr && key == name)) {
            return n;
        }
    }
    return nullptr;
}

std::string meta_content(const std::vector<const GumboNode*>& all, std::string_view key) {
    const GumboNode* n = find_meta(all, key);
    return n == nullptr ? "" : trim(attr_or_empty(n, "content"));
}

// Paragraph text collected between block boundaries, split at <br><br>.
class ParagraphCollector {
  public:
    void add_text(std::string_view s) { buffer_ += s; }
    void add_break() { buffer_ += kBreak; }

    void flush() {
        std::string piece;
        std::size_t i = 0;
        while (i < buffer_.size()) {
            if (buffer_[i] != kBreak) {
                piece += buffer_[i];
                ++i;
                continue;
            }
            // A run of breaks separated only by white space: two or more end the paragraph.
            int breaks = 0;
            std::size_t j = i;
            while (j < buffer_.size() &&
                   (buffer_[j] == kBreak || buffer_[j] == ' ' || buffer_[j] == '\n' ||
                    buffer_[j] == '\t' || buffer_[j] == '\r')) {
                if (buffer_[j] == kBreak) {
                    ++breaks;
                }
                ++j;
            }
            if (breaks >= 2) {
                emit(piece);
                piece.clear();
            } else {
                piece += ' ';
            }
            i = j;
        }
        emit(piece);
        buffer_.clear();
    }

    std::vector<std::string> take() { return std::move(paragraphs_); }

  private:
    void emit(const std::string& raw) {
        std::string cleaned = text::clean(raw);
        if (!cleaned.empty() && !text::is_blank(cleaned)) {
            paragraphs_.push_back(std::move(cleaned));
        }
    }

    std::string buffer_;
    std::vector<std::string> paragraphs_;
};

std::vector<std::string> body_paragraphs(const GumboNode* container, const NodeSet& removed) {
    ParagraphCollector out;
    // (node, leaving): leaving entries close a block element.
    std::vector<std::pair<const GumboNode*, bool>> stack;
    const auto push_children = [&stack](const GumboNode* n) {
        const GumboVector& kids = n->v.element.children;
        for (unsigned i = kids.length; i > 0; --i) {
            stack.emplace_back(static_cast<const GumboNode*>(kids.data[i - 1]), false);
        }
    };
    push_children(container);
    while (!stack.empty()) {
        const auto [n, leaving] = stack.back();
        stack.pop_back();
        if (leaving) {
            out.flush();
            continue;
        }
        if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA) {
            out.add_text(n->v.text.text);
            continue;
        }
        if (n->type == GUMBO_NODE_WHITESPACE) {
            out.add_text(" ");
            continue;
        }
        if (n->type != GUMBO_NODE_ELEMENT || removed.count(n) != 0) {
            continue;
        }
        const std::string name = tag_name(n);
        if (always_removed(name)) {
            continue;
        }
        if (name == "br") {
            out.add_break();
            continue;
        }
        if (is_block_tag(name)) {
            out.flush();
            stack.emplace_back(n, true);
        }
        push_children(n);
    }
    out.flush();
    return out.take();
}

// Media (img, iframe, video) of the body and where they sit, for captions.
struct Media {
    const GumboNode* node;
    std::string src;
};

std::string image_src(const GumboNode* img, const SiteRules& rules) {
    for (const std::string& name : rules.image_src_attrs) {
        const std::string v = trim(attr_or_empty(img, name));
        if (!v.empty() && v.rfind("data:", 0) != 0) {
            return v;
        }
    }
    return "";
}

bool inside_noscript(const GumboNode* n, const GumboNode* limit) {
    for (const GumboNode* p = n->parent; p != nullptr && p != limit; p = p->parent) {
        if (is_element(p) && p->v.element.tag == GUMBO_TAG_NOSCRIPT) {
            return true;
        }
    }
    return false;
}

// The <noscript> beside a lazy image usually repeats it with a real src.
std::string noscript_fallback(const GumboNode* img, const SiteRules& rules) {
    const GumboNode* parent = img->parent;
    if (parent == nullptr) {
        return "";
    }
    for (const GumboNode* sib : element_children(parent)) {
        if (sib->v.element.tag != GUMBO_TAG_NOSCRIPT) {
            continue;
        }
        for (const GumboNode* inner : descendants(sib)) {
            if (inner->v.element.tag == GUMBO_TAG_IMG) {
                std::string s = image_src(inner, rules);
                if (s.empty()) {
                    s = trim(attr_or_empty(inner, "src"));
                }
                if (!s.empty() && s.rfind("data:", 0) != 0) {
                    return s;
                }
            }
        }
    }
    return "";
}

// Whether `ancestor` holds media other than `self`.
bool holds_other_media(const GumboNode* ancestor, const GumboNode* self,
                       const std::vector<const GumboNode*>& media) {
    return std::any_of(media.begin(), media.end(),
                       [&](const GumboNode* m) { return m != self && is_inside(m, ancestor); });
}

std::string find_caption(const GumboNode* node, const GumboNode* container,
                         const std::vector<const GumboNode*>& media,
                         const std::optional<Selector>& caption) {
    if (!caption) {
        return "";
    }
    const GumboNode* top = node;
    for (const GumboNode* a = node->parent; a != nullptr && a != container; a = a->parent) {
        top = a;
        if (holds_other_media(a, node, media)) {
            break;
        }
        if (const GumboNode* c = caption->select_first(a)) {
            return text_of(c);
        }
    }
    while (top->parent != nullptr && top->parent != container) {
        top = top->parent;
    }
    // The caption block right after the media's top-level block (e.g. p.pCaption after a table).
    if (top->parent == container) {
        const std::vector<const GumboNode*> sibs = element_children(container);
        const auto it = std::find(sibs.begin(), sibs.end(), top);
        if (it != sibs.end() && std::next(it) != sibs.end()) {
            const GumboNode* next = *std::next(it);
            if (caption->matches(next)) {
                return text_of(next);
            }
        }
    }
    return "";
}

std::optional<Timestamp> element_time(const GumboNode* n) {
    if (n == nullptr) {
        return std::nullopt;
    }
    for (const char* name : {"content", "datetime"}) {
        const std::string v = trim(attr_or_empty(n, name));
        if (!v.empty()) {
            if (auto t = dates::parse_any(v)) {
                return t;
            }
        }
    }
    const std::string visible = text_of(n);
    return visible.empty() ? std::nullopt : dates::parse_any(visible);
}

// Lower-case ASCII copy (Vietnamese letters outside ASCII are left as they are).
using text::ascii_lower;

// Whether a word of the class or id attribute (lower-case, split at anything not
// alphanumeric) is in `set`. Called on every element of a page: no allocation.
bool has_class_word(const GumboNode* n, std::initializer_list<std::string_view> set) {
    constexpr std::size_t kLongest = 32;  // longer words match nothing in any set
    for (const char* name : {"class", "id"}) {
        const char* value = attribute(n, name);
        if (value == nullptr) {
            continue;
        }
        std::array<char, kLongest> word{};
        std::size_t len = 0;
        bool too_long = false;
        for (const char* c = value;; ++c) {
            const auto u = static_cast<unsigned char>(*c);
            if (u != 0 && std::isalnum(u) != 0) {
                if (len < kLongest) {
                    word[len++] = static_cast<char>(std::tolower(u));
                } else {
                    too_long = true;
                }
                continue;
            }
            if (len > 0 && !too_long) {
                const std::string_view w(word.data(), len);
                if (std::find(set.begin(), set.end(), w) != set.end()) {
                    return true;
                }
            }
            len = 0;
            too_long = false;
            if (u == 0) {
                break;
            }
        }
    }
    return false;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && ascii_lower(s.substr(0, prefix.size())) == prefix;
}

// Strips one pair of enclosing brackets: "(Theo TTXVN)" -> "Theo TTXVN".
std::string strip_brackets(std::string s) {
    while (s.size() >= 2 &&
           ((s.front() == '(' && s.back() == ')') || (s.front() == '[' && s.back() == ']'))) {
        s = trim(s.substr(1, s.size() - 2));
    }
    return s;
}

// Position and length of the first " - " / " – " / " — " in s at or after `from`.
std::pair<std::size_t, std::size_t> find_dash(std::string_view s, std::size_t from = 0) {
    std::pair<std::size_t, std::size_t> best{std::string_view::npos, 0};
    for (const std::string_view sep : {" - ", " – ", " — "}) {
        const std::size_t pos = s.find(sep, from);
        if (pos < best.first) {
            best = {pos, sep.size()};
        }
    }
    return best;
}

// A dateline/source prefix at the start of a lead: "BBK - ", "(TTXVN) - ", "(Chinhphu.vn) - ",
// "Hà Nội (TTXVN) - ". "" when there is none.
std::string find_lead_prefix(const std::string& lead) {
    const auto [pos, len] = find_dash(lead);
    if (pos == std::string::npos || pos == 0 || pos > 40) {
        return "";
    }
    const std::string head = lead.substr(0, pos);
    bool prefix = false;
    if (head.back() == ')' && head.find('(') != std::string::npos) {
        prefix = head.find_first_of(".!?") == std::string::npos || head.front() == '(';
    } else if (head.find(' ') == std::string::npos) {
        // One token in capitals ("BBK", "TTXVN", "VOV.VN"): ASCII letters all upper case.
        bool letters = false;
        prefix = true;
        for (const char c : head) {
            const auto u = static_cast<unsigned char>(c);
            if (std::isalpha(u) != 0) {
                letters = true;
                prefix = prefix && std::isupper(u) != 0;
            } else if (std::isdigit(u) == 0 && c != '.' && c != '/') {
                prefix = false;
            }
        }
        prefix = prefix && letters;
    }
    return prefix ? lead.substr(0, pos + len) : "";
}

}  // namespace

std::string normalize_byline(std::string_view raw) {
    std::string s = strip_brackets(text::clean(raw));
    // "Bài, ảnh, video: Ngọc Anh", "Tác giả: X": the names follow the label.
    const std::size_t colon = s.find(':');
    if (colon != std::string::npos && colon < 40) {
        s = trim(s.substr(colon + 1));
    }
    for (const std::string_view lead_word : {"theo ", "by ", "nguồn ", "nguồn: "}) {
        if (starts_with_ci(s, lead_word)) {
            s = trim(s.substr(lead_word.size()));
            break;
        }
    }
    s = strip_brackets(s);
    // "Quang Huy - Minh Đức", "A và B", "A, B" -> "A, B".
    std::vector<std::string> names;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t cut = s.size();
        std::size_t skip = 0;
        const auto [dash, dash_len] = find_dash(s, start);
        if (dash < cut) {
            cut = dash;
            skip = dash_len;
        }
        for (const std::string_view sep : {", ", " và ", " and ", " & ", "; ", " / "}) {
            const std::size_t pos = s.find(sep, start);
            if (pos < cut) {
                cut = pos;
                skip = sep.size();
            }
        }
        std::string name = trim(s.substr(start, cut - start));
        if (!name.empty()) {
            names.push_back(std::move(name));
        }
        if (cut >= s.size()) {
            break;
        }
        start = cut + skip;
    }
    std::string out;
    for (const std::string& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out;
}

namespace {

// Visible publish time in elements named like a date ("Thứ năm, 19/12/2024 - 08:00").
std::optional<Timestamp> visible_date(const std::vector<const GumboNode*>& all,
                                      const GenericBody* generic) {
    for (const GumboNode* n : all) {
        if (!has_class_word(
                n, {"date", "time", "datetime", "publish", "published", "pubdate", "dateline",
                    "ngay", "ngaydang", "thoigian", "posted", "meta", "info", "detail"})) {
            continue;
        }
        if (generic != nullptr && generic->junk.count(n) != 0) {
            continue;
        }
        const std::optional<std::string> t = short_text_of(n, 200);
        if (!t || t->empty()) {
            continue;
        }
        if (auto when = dates::parse_vietnamese_text(*t)) {
            return when;
        }
    }
    return std::nullopt;
}

// The display name of the section, from the breadcrumb's last link that is not the article.
std::string breadcrumb_section(const std::vector<const GumboNode*>& all, const std::string& title) {
    for (const GumboNode* n : all) {
        if (!has_class_word(n, {"breadcrumb", "breadcrumbs", "breadcrum", "crumbs"})) {
            continue;
        }
        std::string last;
        for (const GumboNode* a : descendants(n)) {
            if (a->v.element.tag != GUMBO_TAG_A) {
                continue;
            }
            const std::string t = text_of(a);
            if (!t.empty() && t != title) {
                last = t;
            }
        }
        if (!last.empty()) {
            return last;
        }
    }
    return "";
}

bool similar_start(const std::string& a, const std::string& b) {
    const std::size_t n = std::min<std::size_t>({a.size(), b.size(), 60});
    return n >= 20 && a.compare(0, n, b, 0, n) == 0;
}

// Text of an element that is all inside <strong>/<b>: "<p><strong>Lead</strong></p>".
bool all_bold(const GumboNode* p) {
    const std::vector<const GumboNode*> kids = element_children(p);
    if (kids.size() != 1 ||
        (kids[0]->v.element.tag != GUMBO_TAG_STRONG && kids[0]->v.element.tag != GUMBO_TAG_B)) {
        return false;
    }
    return text_of(kids[0]) == text_of(p);
}

bool right_aligned(const GumboNode* n) {
    std::string style = ascii_lower(attr_or_empty(n, "style"));
    style.erase(std::remove(style.begin(), style.end(), ' '), style.end());
    return ascii_lower(attr_or_empty(n, "align")) == "right" ||
           style.find("text-align:right") != std::string::npos;
}

// The lead of a page without a lead rule: an element named like one (sapo, lead, summary, ...)
// that does not hold the body, else a first body paragraph all in bold that the page's
// description repeats.
const GumboNode* find_generic_lead(const std::vector<const GumboNode*>& all,
                                   const GenericBody& body, const std::string& description) {
    for (const GumboNode* n : all) {
        if (!has_class_word(n, {"sapo", "lead", "summary", "chapeau", "standfirst", "excerpt",
                                "teaser", "description", "intro", "abstract", "tomtat"})) {
            continue;
        }
        // A lead merged into the body as a sibling part is still the lead, unless it is all.
        const bool holds_body =
            std::any_of(body.parts.begin(), body.parts.end(), [n, &body](const GumboNode* p) {
                return is_inside(p, n) && (p != n || body.parts.size() == 1);
            });
        if (holds_body || body.junk.count(n) != 0) {
            continue;
        }
        // A lead is a paragraph or two: a block of many paragraphs named "...--lead" is the
        // article (or its first screen).
        const std::vector<const GumboNode*> inner = descendants(n);
        const auto paragraphs = std::count_if(inner.begin(), inner.end(), [](const GumboNode* d) {
            return d->v.element.tag == GUMBO_TAG_P;
        });
        const std::optional<std::string> t = short_text_of(n, kMaxLeadBytes);
        if (paragraphs > 2 || !t || t->size() < 20) {
            continue;
        }
        return n;
    }
    if (body.parts.empty() || description.empty()) {
        return nullptr;
    }
    for (const GumboNode* n : descendants(body.parts.front())) {
        if (n->v.element.tag != GUMBO_TAG_P || text_of(n).empty()) {
            continue;
        }
        if (all_bold(n) && similar_start(text_of(n), description)) {
            return n;
        }
        break;  // only the first paragraph
    }
    return nullptr;
}

// The byline of a page without an author rule: the last short paragraph of the body when it is
// right-aligned ("Quang Huy - Minh Đức"), else a short element named author/byline.
const GumboNode* find_generic_byline(const std::vector<const GumboNode*>& all,
                                     const GenericBody& body) {
    if (!body.parts.empty()) {
        const GumboNode* last = nullptr;
        const std::vector<const GumboNode*> inside = descendants(body.parts.back());
        for (auto it = inside.rbegin(); it != inside.rend() && last == nullptr; ++it) {
            const GumboNode* n = *it;
            if ((n->v.element.tag == GUMBO_TAG_P || n->v.element.tag == GUMBO_TAG_DIV) &&
                body.junk.count(n) == 0 && has_text(n)) {
                last = n;
            }
        }
        if (last != nullptr && right_aligned(last) && text_of(last).size() <= 60) {
            return last;
        }
    }
    for (const GumboNode* n : all) {
        if (!has_class_word(n, {"author", "byline", "tacgia", "writer"})) {
            continue;
        }
        const std::string t = text_of(n);
        if (!t.empty() && t.size() <= 80) {
            return n;
        }
    }
    return nullptr;
}

const GumboNode* first_with_tag(const std::vector<const GumboNode*>& all, GumboTag tag) {
    const auto it = std::find_if(all.begin(), all.end(),
                                 [tag](const GumboNode* n) { return n->v.element.tag == tag; });
    return it == all.end() ? nullptr : *it;
}

// The headline in <title>: the longest part between separators ("Báo X - Headline"), or the
// text of a heading or title-named element that <title> contains, when longer.
std::string title_from_title_tag(const std::vector<const GumboNode*>& all) {
    const std::string full = text_of(first_with_tag(all, GUMBO_TAG_TITLE));
    // Split at the strongest separator present only: "Bài - phụ | Báo X" -> "Bài - phụ".
    std::string best = full;
    for (const std::string_view sep : {" | ", " :: ", " » ", " – ", " — ", " - "}) {
        if (full.find(sep) == std::string::npos) {
            continue;
        }
        best.clear();
        std::size_t start = 0;
        while (start <= full.size()) {
            const std::size_t pos = full.find(sep, start);
            const std::size_t cut = pos == std::string::npos ? full.size() : pos;
            const std::string part = trim(full.substr(start, cut - start));
            if (part.size() > best.size()) {
                best = part;
            }
            if (pos == std::string::npos) {
                break;
            }
            start = pos + sep.size();
        }
        break;
    }
    for (const GumboNode* n : all) {
        const GumboTag tag = n->v.element.tag;
        const bool named = tag == GUMBO_TAG_H1 || tag == GUMBO_TAG_H2 ||
                           has_class_word(n, {"title", "headline", "tieude"});
        if (!named || tag == GUMBO_TAG_TITLE) {
            continue;
        }
        const std::string t = text_of(n);
        if (t.size() > best.size() && full.find(t) != std::string::npos) {
            best = t;
        }
    }
    return best;
}

}  // namespace

Extraction extract_article(std::string_view html, std::string_view page_url,
                           const SiteRules& rules) {
    Extraction result;
    const HtmlDocument doc{html, skip_patterns(rules.skip)};
    if (!doc.error().empty()) {
        result.error = doc.error();
        return result;
    }
    const std::optional<Selector> title_sel = compile(rules.title);
    const std::optional<Selector> lead_sel = compile(rules.lead);
    const std::optional<Selector> body_sel = compile(rules.body);
    const std::optional<Selector> author_sel = compile(rules.author);
    const std::optional<Selector> published_sel = compile(rules.published);
    const std::optional<Selector> published_text_sel = compile(rules.published_text);
    const std::optional<Selector> modified_sel = compile(rules.modified);
    const std::optional<Selector> rule_caption_sel = compile(rules.caption);
    const std::optional<Selector> next_sel = compile(rules.next_page);
    std::vector<Selector> remove_sels;
    for (const std::string& r : rules.remove) {
        if (!r.empty()) {
            remove_sels.emplace_back(r);
        }
    }

    const GumboNode* root = doc.root();
    const std::vector<const GumboNode*> all = descendants(root);
    const PageMetadata meta = read_metadata(all);
    Article& article = result.article;

    std::string base(page_url);
    for (const GumboNode* n : all) {
        if (n->v.element.tag == GUMBO_TAG_BASE) {
            const std::string b = resolve(page_url, attr_or_empty(n, "href"));
            if (!b.empty()) {
                base = b;
            }
            break;
        }
    }

    // Title: the rule, else the page's headline (og:title / JSON-LD) unless an <h1> is the same
    // headline without the site's suffix, else <h1>, else <title> without its suffix.
    if (title_sel) {
        article.title = text_of(title_sel->select_first(root));
    }
    if (article.title.empty()) {
        const GumboNode* h1 = nullptr;
        for (const GumboNode* n : all) {
            if (n->v.element.tag == GUMBO_TAG_H1 && !text_of(n).empty()) {
                h1 = n;
                break;
            }
        }
        const std::string h1_text = text_of(h1);
        if (!meta.title.empty()) {
            article.title =
                !h1_text.empty() && meta.title.starts_with(h1_text) ? h1_text : meta.title;
        } else {
            article.title = h1_text;
        }
    }
    if (article.title.empty()) {
        article.title = title_from_title_tag(all);
    }

    // The body container: the rule's, else the generic extractor's.
    std::vector<const GumboNode*> parts;
    NodeSet removed;
    GenericBody generic_body;
    if (body_sel) {
        if (const GumboNode* c = body_sel->select_first(root)) {
            parts.push_back(c);
        }
    }
    if (!parts.empty()) {
        std::string text;
        append_raw_text(parts.front(), text, nullptr);
        if (text::is_blank(text) && descendants(parts.front()).empty()) {
            parts.clear();
        }
    }
    if (parts.empty()) {
        const GumboNode* scope = doc.body() != nullptr ? doc.body() : root;
        generic_body = find_generic_body(scope, article.title);
        parts = generic_body.parts;
        removed.insert(generic_body.junk.begin(), generic_body.junk.end());
        result.generic = true;
    }
    const GenericBody* generic = result.generic ? &generic_body : nullptr;

    const GumboNode* lead_node = lead_sel ? lead_sel->select_first(root) : nullptr;
    const GumboNode* author_node = author_sel ? author_sel->select_first(root) : nullptr;
    if (generic != nullptr && !lead_sel) {
        lead_node = find_generic_lead(all, generic_body, meta.description);
    }
    if (generic != nullptr && !author_sel) {
        author_node = find_generic_byline(all, generic_body);
    }
    if (generic != nullptr && parts.size() > 1) {
        std::erase_if(parts,
                      [&](const GumboNode* p) { return p == lead_node || p == author_node; });
    }
    article.lead = text_of(lead_node);
    if (article.lead.empty() && generic != nullptr && !lead_sel) {
        article.lead = meta.description;
    }
    article.lead_prefix = find_lead_prefix(article.lead);
    article.author = normalize_byline(text_of(author_node));
    if (article.author.empty() && !author_sel && meta.author != meta.site_name) {
        article.author = normalize_byline(meta.author);
    }
    article.section = breadcrumb_section(all, article.title);
    if (article.section.empty()) {
        article.section = meta.section;
    }

    // Dates: rules, then JSON-LD / meta / <time>, then visible text.
    std::optional<Timestamp> published;
    if (published_sel) {
        published = element_time(published_sel->select_first(root));
    }
    if (!published && published_text_sel) {
        const std::string visible = text_of(published_text_sel->select_first(root));
        if (!visible.empty()) {
            published = dates::parse_vietnamese_text(visible);
        }
    }
    std::optional<Timestamp> modified;
    if (modified_sel) {
        modified = element_time(modified_sel->select_first(root));
    }
    if (!published) {
        published = meta.published;
    }
    if (!modified) {
        modified = meta.modified;
    }
    if (!published) {
        published = visible_date(all, generic);
    }
    article.published = published;
    if (modified && modified != published) {
        article.modified = modified;
    }

    // Canonical.
    for (const GumboNode* n : all) {
        if (n->v.element.tag != GUMBO_TAG_LINK) {
            continue;
        }
        const std::string rel = attr_or_empty(n, "rel");
        bool canonical = false;
        std::size_t i = 0;
        while (i < rel.size()) {
            while (i < rel.size() && rel[i] == ' ') {
                ++i;
            }
            const std::size_t start = i;
            while (i < rel.size() && rel[i] != ' ') {
                ++i;
            }
            canonical = canonical || ascii_lower(rel.substr(start, i - start)) == "canonical";
        }
        if (canonical) {
            result.declared_canonical = resolve(base, attr_or_empty(n, "href"));
            if (!result.declared_canonical.empty()) {
                break;
            }
        }
    }
    if (result.declared_canonical.empty()) {
        result.declared_canonical = resolve(base, meta_content(all, "og:url"));
    }

    // Next pages.
    if (next_sel) {
        const std::string self =
            strip_fragment(url::resolve(page_url, "").value_or(std::string(page_url)));
        std::set<std::string> seen{self, strip_fragment(std::string(page_url))};
        for (const GumboNode* a : next_sel->select_all(root)) {
            const std::string link = strip_fragment(resolve(base, attr_or_empty(a, "href")));
            if (!link.empty() && seen.insert(link).second) {
                result.next_pages.push_back(link);
            }
        }
    }

    if (article.title.empty()) {
        result.error = "no title";
        return result;
    }
    if (parts.empty()) {
        result.error = "no body";
        return result;
    }

    // Captions: the rule's elements, else the usual caption markups.
    const std::optional<Selector> caption_sel =
        rule_caption_sel ? rule_caption_sel
                         : std::optional<Selector>(Selector(
                               "figcaption, td.caption, td.desc, td.image_desc, p.pCaption, "
                               "[class*=caption], [class*=Caption]"));
    const auto in_junk = [&](const GumboNode* n, const GumboNode* part) {
        if (generic == nullptr) {
            return false;
        }
        for (const GumboNode* p = n; p != nullptr && p != part; p = p->parent) {
            if (generic_body.junk.count(p) != 0) {
                return true;
            }
        }
        return false;
    };

    // Media, taken before anything is removed.
    std::vector<Media> images;
    std::vector<const GumboNode*> media_nodes;
    std::vector<const GumboNode*> video_nodes;
    std::vector<const GumboNode*> media_part;  // the part holding each media node
    for (const GumboNode* container : parts) {
        const std::vector<const GumboNode*> in_body = descendants(container);
        for (const GumboNode* n : in_body) {
            const GumboTag tag = n->v.element.tag;
            if (tag != GUMBO_TAG_IMG && tag != GUMBO_TAG_IFRAME && tag != GUMBO_TAG_VIDEO) {
                continue;
            }
            if (in_junk(n, container)) {
                continue;
            }
            if (tag == GUMBO_TAG_IMG) {
                if (inside_noscript(n, container)) {
                    // A noscript copy of a lazy image beside it is not a second image.
                    const GumboNode* ns = n->parent;
                    while (ns != nullptr &&
                           !(is_element(ns) && ns->v.element.tag == GUMBO_TAG_NOSCRIPT)) {
                        ns = ns->parent;
                    }
                    const bool has_twin =
                        ns != nullptr && ns->parent != nullptr &&
                        std::any_of(in_body.begin(), in_body.end(), [&](const GumboNode* m) {
                            return m->v.element.tag == GUMBO_TAG_IMG && m->parent == ns->parent;
                        });
                    if (has_twin) {
                        continue;
                    }
                }
                std::string src = image_src(n, rules);
                if (src.empty()) {
                    src = noscript_fallback(n, rules);
                }
                src = resolve(base, src);
                if (src.empty()) {
                    continue;
                }
                images.push_back({n, src});
                media_nodes.push_back(n);
            } else {
                video_nodes.push_back(n);
                media_nodes.push_back(n);
            }
        }
    }
    const auto part_of = [&parts](const GumboNode* n) {
        for (const GumboNode* p : parts) {
            if (is_inside(n, p)) {
                return p;
            }
        }
        return parts.front();
    };
    std::set<std::string> seen_images;
    for (const Media& m : images) {
        if (seen_images.insert(m.src).second) {
            article.images.push_back(
                {m.src, find_caption(m.node, part_of(m.node), media_nodes, caption_sel)});
        }
    }
    std::set<std::string> seen_videos;
    for (const GumboNode* v : video_nodes) {
        Video video;
        std::string src = attr_or_empty(v, "src");
        if (trim(src).empty() && v->v.element.tag == GUMBO_TAG_VIDEO) {
            for (const GumboNode* s : element_children(v)) {
                if (s->v.element.tag == GUMBO_TAG_SOURCE &&
                    !trim(attr_or_empty(s, "src")).empty()) {
                    src = attr_or_empty(s, "src");
                    break;
                }
            }
        }
        video.src = resolve(base, src);
        if (video.src.empty() || !seen_videos.insert(video.src).second) {
            continue;
        }
        std::string poster = attr_or_empty(v, "poster");
        if (trim(poster).empty()) {
            poster = attr_or_empty(v, "data-poster");
        }
        video.poster = resolve(base, poster);
        video.caption = find_caption(v, part_of(v), media_nodes, caption_sel);
        article.videos.push_back(std::move(video));
    }

    // Body text.
    for (const GumboNode* container : parts) {
        for (const Selector& s : remove_sels) {
            for (const GumboNode* n : s.select_all(container)) {
                removed.insert(n);
            }
        }
        for (const GumboNode* n : caption_sel->select_all(container)) {
            removed.insert(n);
        }
        for (const GumboNode* n : {lead_node, author_node}) {
            if (n != nullptr && n != container && is_inside(n, container)) {
                removed.insert(enclosing_block(n, container));
            }
        }
    }
    for (const GumboNode* container : parts) {
        std::vector<std::string> paragraphs = body_paragraphs(container, removed);
        article.body.insert(article.body.end(), std::make_move_iterator(paragraphs.begin()),
                            std::make_move_iterator(paragraphs.end()));
    }
    // The lead printed again as the first paragraph.
    if (!article.body.empty() && !article.lead.empty()) {
        const std::string& first = article.body.front();
        const std::string bare_lead = article.lead.substr(article.lead_prefix.size());
        if (first == article.lead || first == bare_lead) {
            article.body.erase(article.body.begin());
        }
    }
    if (article.body.empty() && article.images.empty() && article.videos.empty()) {
        result.error = "no body";
        return result;
    }
    const auto skip = [&removed](const GumboNode* n) { return removed.count(n) != 0; };
    for (const GumboNode* container : parts) {
        article.html += sanitize_html(container, base, skip);
    }
    result.ok = true;
    return result;
}

void append_page(Extraction& into, const Extraction& page) {
    Article& a = into.article;
    if (a.author.empty()) {
        a.author = page.article.author;  // the byline usually closes the last page
    }
    a.body.insert(a.body.end(), page.article.body.begin(), page.article.body.end());
    for (const Image& img : page.article.images) {
        const bool known = std::any_of(a.images.begin(), a.images.end(),
                                       [&](const Image& i) { return i.src == img.src; });
        if (!known) {
            a.images.push_back(img);
        }
    }
    for (const Video& v : page.article.videos) {
        const bool known = std::any_of(a.videos.begin(), a.videos.end(),
                                       [&](const Video& i) { return i.src == v.src; });
        if (!known) {
            a.videos.push_back(v);
        }
    }
}

}  // namespace baofeed::parsers
