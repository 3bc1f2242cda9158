#include "parsers/generic.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/dates.h"
#include "core/text.h"
#include "parsers/html_document.h"

namespace baofeed::parsers {
namespace {

// JSON-LD blocks larger or deeper than this are ignored (nlohmann's parser recurses).
constexpr std::size_t kMaxJsonLdBytes = 1U << 20;
constexpr int kMaxJsonLdDepth = 64;
// A paragraph shorter than this (in non-space characters) is not scored.
constexpr int kMinParagraph = 25;
// Below this many characters the strict pass probably removed the article: retry leniently.
constexpr int kRetryBelow = 500;

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
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

std::string attr(const GumboNode* n, std::string_view name) {
    const char* v = attribute(n, name);
    return v == nullptr ? "" : std::string(v);
}

// Words of the class and id attributes, lower-case, split at spaces, '-' and '_'.
std::vector<std::string> name_words(const GumboNode* n) {
    std::vector<std::string> words;
    const std::string names = lower(attr(n, "class") + " " + attr(n, "id"));
    std::string cur;
    for (const char c : names) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            cur += c;
        } else if (!cur.empty()) {
            words.push_back(std::move(cur));
            cur.clear();
        }
    }
    if (!cur.empty()) {
        words.push_back(std::move(cur));
    }
    return words;
}

bool any_word(const std::vector<std::string>& words, std::initializer_list<std::string_view> set) {
    return std::any_of(words.begin(), words.end(), [&set](const std::string& w) {
        return std::find(set.begin(), set.end(), w) != set.end();
    });
}

bool any_substring(const std::string& hay, std::initializer_list<std::string_view> set) {
    return std::any_of(set.begin(), set.end(),
                       [&hay](std::string_view s) { return hay.find(s) != std::string::npos; });
}

std::string joined_names(const GumboNode* n) {
    return lower(attr(n, "class") + " " + attr(n, "id"));
}

bool is_positive_name(const std::string& names) {
    return any_substring(names, {"article", "body", "content", "entry", "main", "post", "text",
                                 "story", "blog", "noidung"});
}

bool is_negative_name(const std::string& names, const std::vector<std::string>& words) {
    if (any_substring(
            names, {"comment",    "related",    "share",     "sharing",    "social",    "footer",
                    "sidebar",    "widget",     "sponsor",   "promo",      "banner",    "outbrain",
                    "taboola",    "newsletter", "subscribe", "breadcrumb", "masthead",  "popup",
                    "cookie",     "lienquan",   "lien-quan", "quangcao",   "quang-cao", "binhluan",
                    "binh-luan",  "chuyen-muc", "tin-khac",  "toolbar",    "tool-bar",  "shoutbox",
                    "skyscraper", "disqus"})) {
        return true;
    }
    return any_word(words,
                    {"ad",     "ads",         "advert",  "advertisement", "adsbygoogle", "tags",
                     "tag",    "menu",        "nav",     "navbar",        "navigation",  "foot",
                     "meta",   "hidden",      "print",   "audio",         "player",      "rss",
                     "pager",  "pagination",  "keyword", "keywords",      "tools",       "author",
                     "byline", "signup",      "more",    "recommended",   "trending",    "popular",
                     "most",   "tinlienquan", "login"});
}

bool is_block(GumboTag tag) {
    switch (tag) {
        case GUMBO_TAG_ADDRESS:
        case GUMBO_TAG_ARTICLE:
        case GUMBO_TAG_ASIDE:
        case GUMBO_TAG_BLOCKQUOTE:
        case GUMBO_TAG_CENTER:
        case GUMBO_TAG_DD:
        case GUMBO_TAG_DETAILS:
        case GUMBO_TAG_DIR:
        case GUMBO_TAG_DIV:
        case GUMBO_TAG_DL:
        case GUMBO_TAG_DT:
        case GUMBO_TAG_FIELDSET:
        case GUMBO_TAG_FIGCAPTION:
        case GUMBO_TAG_FIGURE:
        case GUMBO_TAG_FOOTER:
        case GUMBO_TAG_FORM:
        case GUMBO_TAG_H1:
        case GUMBO_TAG_H2:
        case GUMBO_TAG_H3:
        case GUMBO_TAG_H4:
        case GUMBO_TAG_H5:
        case GUMBO_TAG_H6:
        case GUMBO_TAG_HEADER:
        case GUMBO_TAG_HGROUP:
        case GUMBO_TAG_HR:
        case GUMBO_TAG_LI:
        case GUMBO_TAG_MAIN:
        case GUMBO_TAG_MENU:
        case GUMBO_TAG_NAV:
        case GUMBO_TAG_OL:
        case GUMBO_TAG_P:
        case GUMBO_TAG_PRE:
        case GUMBO_TAG_SECTION:
        case GUMBO_TAG_TABLE:
        case GUMBO_TAG_TBODY:
        case GUMBO_TAG_TD:
        case GUMBO_TAG_TFOOT:
        case GUMBO_TAG_TH:
        case GUMBO_TAG_THEAD:
        case GUMBO_TAG_TR:
        case GUMBO_TAG_UL:
        case GUMBO_TAG_BODY:
            return true;
        default:
            return false;
    }
}

bool is_heading(GumboTag tag) {
    return tag == GUMBO_TAG_H1 || tag == GUMBO_TAG_H2 || tag == GUMBO_TAG_H3 ||
           tag == GUMBO_TAG_H4 || tag == GUMBO_TAG_H5 || tag == GUMBO_TAG_H6;
}

// Tags never part of an article's text.
bool is_junk_tag(GumboTag tag) {
    switch (tag) {
        case GUMBO_TAG_SCRIPT:
        case GUMBO_TAG_STYLE:
        case GUMBO_TAG_NOSCRIPT:
        case GUMBO_TAG_TEMPLATE:
        case GUMBO_TAG_NAV:
        case GUMBO_TAG_ASIDE:
        case GUMBO_TAG_FOOTER:
        case GUMBO_TAG_BUTTON:
        case GUMBO_TAG_SELECT:
        case GUMBO_TAG_INPUT:
        case GUMBO_TAG_TEXTAREA:
        case GUMBO_TAG_SVG:
        case GUMBO_TAG_MATH:
        case GUMBO_TAG_OBJECT:
        case GUMBO_TAG_EMBED:
        case GUMBO_TAG_HEADER:
        case GUMBO_TAG_MENU:
        case GUMBO_TAG_LABEL:
        case GUMBO_TAG_FIGCAPTION:
            return true;
        default:
            return false;
    }
}

bool is_hidden(const GumboNode* n) {
    if (attribute(n, "hidden") != nullptr) {
        return true;
    }
    if (lower(attr(n, "aria-hidden")) == "true") {
        return true;
    }
    std::string style = lower(attr(n, "style"));
    style.erase(std::remove(style.begin(), style.end(), ' '), style.end());
    return style.find("display:none") != std::string::npos ||
           style.find("visibility:hidden") != std::string::npos;
}

bool is_unlikely_role(const GumboNode* n) {
    const std::string role = lower(attr(n, "role"));
    return role == "menu" || role == "menubar" || role == "complementary" || role == "navigation" ||
           role == "alert" || role == "alertdialog" || role == "dialog" || role == "banner" ||
           role == "contentinfo";
}

// Non-space characters (code points) and commas of a text.
struct TextCount {
    int chars = 0;
    int commas = 0;
};

TextCount count_text(std::string_view s) {
    TextCount c;
    for (const char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if ((u & 0xC0U) == 0x80U || std::isspace(u) != 0) {
            continue;
        }
        ++c.chars;
        if (ch == ',') {
            ++c.commas;
        }
    }
    return c;
}

struct Stat {
    int text = 0;  // non-space characters under the element, junk excluded
    int link = 0;  // of which inside <a>
    int commas = 0;
    int inline_text = 0;  // characters not inside a block descendant
    int inline_commas = 0;
    int paragraphs = 0;        // <p> descendants, and <div>s holding only inline content and text
    bool block_child = false;  // has a (not excluded) block-level child element
    int images = 0;
    int list_items = 0;
    int inputs = 0;
    int embeds = 0;
    bool excluded = false;  // junk itself or inside junk
    bool junk_root = false;
    bool scored = false;
    double score = 0;
};

class Scorer {
  public:
    Scorer(const GumboNode* body, const std::string& title, bool strict)
        : body_(body), title_(title), strict_(strict) {}

    GenericBody run();

  private:
    Stat& stat(const GumboNode* n) { return stats_[index_.at(n)]; }
    const Stat* find(const GumboNode* n) const {
        const auto it = index_.find(n);
        return it == index_.end() ? nullptr : &stats_[it->second];
    }
    bool is_junk(const GumboNode* n) const;
    void measure();
    void score_paragraphs();
    const GumboNode* pick_top() const;
    std::vector<const GumboNode*> merge_siblings(const GumboNode* top) const;
    void clean(const std::vector<const GumboNode*>& parts, GenericBody& out) const;
    double final_score(const GumboNode* n) const;
    double link_density(const GumboNode* n) const;

    const GumboNode* body_;
    const std::string& title_;
    bool strict_;
    std::vector<const GumboNode*> all_;  // body and its elements, document order
    std::unordered_map<const GumboNode*, std::size_t> index_;
    std::vector<Stat> stats_;
    std::vector<const GumboNode*> candidates_;
};

bool Scorer::is_junk(const GumboNode* n) const {
    const GumboTag tag = n->v.element.tag;
    if (n == body_) {
        return false;
    }
    if (is_junk_tag(tag) || is_hidden(n)) {
        return true;
    }
    if (!strict_) {
        // Even without class hints, reader comments are never the article (they are what
        // outgrows a short post).
        const std::string names = joined_names(n);
        return (names.find("comment") != std::string::npos ||
                names.find("disqus") != std::string::npos) &&
               !is_positive_name(names);
    }
    if (is_unlikely_role(n)) {
        return true;
    }
    if (tag == GUMBO_TAG_A || tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HTML) {
        return false;
    }
    const std::string names = joined_names(n);
    if (names.size() <= 1) {
        return false;
    }
    const std::vector<std::string> words = name_words(n);
    return is_negative_name(names, words) && !is_positive_name(names);
}

void Scorer::measure() {
    all_.push_back(body_);
    for (const GumboNode* n : descendants(body_)) {
        all_.push_back(n);
    }
    stats_.resize(all_.size());
    index_.reserve(all_.size());
    for (std::size_t i = 0; i < all_.size(); ++i) {
        index_.emplace(all_[i], i);
    }
    // Top-down: exclusion is inherited.
    for (std::size_t i = 0; i < all_.size(); ++i) {
        const GumboNode* n = all_[i];
        Stat& s = stats_[i];
        const Stat* parent = i == 0 ? nullptr : find(n->parent);
        if (parent != nullptr && parent->excluded) {
            s.excluded = true;
        } else if (n->type == GUMBO_NODE_ELEMENT && is_junk(n)) {
            s.excluded = true;
            s.junk_root = true;
        }
    }
    // Bottom-up (reverse pre-order visits children before parents).
    for (std::size_t i = all_.size(); i > 0; --i) {
        const GumboNode* n = all_[i - 1];
        Stat& s = stats_[i - 1];
        if (s.excluded || n->type != GUMBO_NODE_ELEMENT) {
            continue;
        }
        const GumboTag tag = n->v.element.tag;
        const GumboVector& kids = n->v.element.children;
        for (unsigned k = 0; k < kids.length; ++k) {
            const auto* c = static_cast<const GumboNode*>(kids.data[k]);
            if (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_CDATA) {
                const TextCount t = count_text(c->v.text.text);
                s.text += t.chars;
                s.commas += t.commas;
                s.inline_text += t.chars;
                s.inline_commas += t.commas;
                continue;
            }
            if (c->type != GUMBO_NODE_ELEMENT) {
                continue;
            }
            const GumboTag ct = c->v.element.tag;
            if (ct == GUMBO_TAG_IMG) {
                ++s.images;
            } else if (ct == GUMBO_TAG_INPUT || ct == GUMBO_TAG_SELECT ||
                       ct == GUMBO_TAG_TEXTAREA) {
                ++s.inputs;
            } else if (ct == GUMBO_TAG_IFRAME || ct == GUMBO_TAG_EMBED || ct == GUMBO_TAG_OBJECT) {
                ++s.embeds;
            }
            const Stat& cs = stat(c);
            if (cs.excluded) {
                continue;
            }
            s.block_child = s.block_child || is_block(ct);
            // Readability turns a <div> without block children into a <p>: pages that write
            // every paragraph as a <div> have paragraphs too.
            const bool paragraph =
                ct == GUMBO_TAG_P || (ct == GUMBO_TAG_DIV && !cs.block_child && cs.text > 0);
            s.text += cs.text;
            s.link += cs.link;
            s.commas += cs.commas;
            s.paragraphs += cs.paragraphs + (paragraph ? 1 : 0);
            s.images += cs.images;
            s.list_items += cs.list_items + (ct == GUMBO_TAG_LI ? 1 : 0);
            s.inputs += cs.inputs;
            s.embeds += cs.embeds;
            if (!is_block(ct)) {
                s.inline_text += cs.inline_text;
                s.inline_commas += cs.inline_commas;
            }
        }
        if (tag == GUMBO_TAG_A) {
            s.link = s.text;
        }
    }
}

double tag_base_score(GumboTag tag) {
    switch (tag) {
        case GUMBO_TAG_DIV:
        case GUMBO_TAG_ARTICLE:
        case GUMBO_TAG_SECTION:
        case GUMBO_TAG_MAIN:
            return 5;
        case GUMBO_TAG_PRE:
        case GUMBO_TAG_TD:
        case GUMBO_TAG_BLOCKQUOTE:
            return 3;
        case GUMBO_TAG_ADDRESS:
        case GUMBO_TAG_OL:
        case GUMBO_TAG_UL:
        case GUMBO_TAG_DL:
        case GUMBO_TAG_DD:
        case GUMBO_TAG_DT:
        case GUMBO_TAG_LI:
        case GUMBO_TAG_FORM:
            return -3;
        case GUMBO_TAG_H1:
        case GUMBO_TAG_H2:
        case GUMBO_TAG_H3:
        case GUMBO_TAG_H4:
        case GUMBO_TAG_H5:
        case GUMBO_TAG_H6:
        case GUMBO_TAG_TH:
            return -5;
        default:
            return 0;
    }
}

void Scorer::score_paragraphs() {
    for (std::size_t i = 0; i < all_.size(); ++i) {
        const GumboNode* n = all_[i];
        const Stat& s = stats_[i];
        if (s.excluded || n->type != GUMBO_NODE_ELEMENT || s.inline_text < kMinParagraph) {
            continue;
        }
        const GumboTag tag = n->v.element.tag;
        const GumboNode* first = nullptr;  // the first ancestor credited
        switch (tag) {
            case GUMBO_TAG_P:
            case GUMBO_TAG_PRE:
            case GUMBO_TAG_TD:
            case GUMBO_TAG_BLOCKQUOTE:
            case GUMBO_TAG_H2:
            case GUMBO_TAG_H3:
            case GUMBO_TAG_H4:
            case GUMBO_TAG_H5:
            case GUMBO_TAG_H6:
                first = n->parent;
                break;
            case GUMBO_TAG_DIV:
            case GUMBO_TAG_SECTION:
            case GUMBO_TAG_ARTICLE:
            case GUMBO_TAG_MAIN:
            case GUMBO_TAG_CENTER:
            case GUMBO_TAG_FONT:
            case GUMBO_TAG_SPAN:
            case GUMBO_TAG_BODY:
                // Text directly in a container: an implicit paragraph inside it.
                first = n;
                break;
            default:
                continue;
        }
        if (tag == GUMBO_TAG_SPAN && n->parent != nullptr && find(n->parent) != nullptr &&
            find(n->parent)->inline_text >= s.inline_text) {
            continue;  // counted by its container
        }
        const double content =
            1.0 + s.inline_commas + std::min(static_cast<double>(s.inline_text) / 100.0, 3.0);
        int level = 0;
        for (const GumboNode* a = first; a != nullptr && level < 5; a = a->parent, ++level) {
            if (a->type != GUMBO_NODE_ELEMENT || index_.count(a) == 0) {
                break;
            }
            Stat& as = stat(a);
            if (!as.scored) {
                as.scored = true;
                as.score = tag_base_score(a->v.element.tag) + (strict_ ? class_weight(a) : 0);
                candidates_.push_back(a);
            }
            const double divider = level == 0 ? 1.0 : level == 1 ? 2.0 : level * 3.0;
            as.score += content / divider;
        }
    }
}

double Scorer::link_density(const GumboNode* n) const {
    const Stat* s = find(n);
    if (s == nullptr || s->text == 0) {
        return 0;
    }
    return static_cast<double>(s->link) / s->text;
}

double Scorer::final_score(const GumboNode* n) const {
    const Stat* s = find(n);
    if (s == nullptr || !s->scored) {
        return 0;
    }
    return s->score * (1.0 - link_density(n));
}

const GumboNode* Scorer::pick_top() const {
    std::vector<std::pair<double, const GumboNode*>> ranked;
    ranked.reserve(candidates_.size());
    for (const GumboNode* c : candidates_) {
        ranked.emplace_back(final_score(c), c);
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    if (ranked.empty()) {
        return body_;
    }
    const GumboNode* top = ranked.front().second;
    const double top_score = ranked.front().first;
    // Several near-best candidates under one ancestor: the article is split into blocks.
    std::vector<const GumboNode*> alternatives;
    for (std::size_t i = 1; i < ranked.size() && i < 5; ++i) {
        if (top_score > 0 && ranked[i].first / top_score >= 0.75) {
            alternatives.push_back(ranked[i].second);
        }
    }
    if (alternatives.size() >= 3) {
        // Only ancestors below the body: above it (<html>) nothing was measured.
        for (const GumboNode* p = top->parent; p != nullptr && p != body_ && find(p) != nullptr;
             p = p->parent) {
            int holding = 0;
            for (const GumboNode* alt : alternatives) {
                for (const GumboNode* q = alt->parent; q != nullptr; q = q->parent) {
                    if (q == p) {
                        ++holding;
                        break;
                    }
                }
            }
            if (holding >= 3) {
                top = p;
                break;
            }
        }
    }
    // Climb while the parent scores as well (the content spans it).
    double last = final_score(top);
    const double threshold = last / 3.0;
    for (const GumboNode* p = top->parent; p != nullptr && top != body_; p = p->parent) {
        if (p->type != GUMBO_NODE_ELEMENT || index_.count(p) == 0) {
            break;
        }
        const Stat& ps = stats_[index_.at(p)];
        if (!ps.scored) {
            if (p == body_) {
                break;
            }
            continue;
        }
        const double parent_score = final_score(p);
        if (parent_score < threshold) {
            break;
        }
        if (parent_score > last) {
            top = p;
            break;
        }
        last = parent_score;
        if (p == body_) {
            break;
        }
    }
    // A lone child says nothing more than its parent.
    while (top != body_ && top->parent != nullptr && index_.count(top->parent) != 0) {
        int element_kids = 0;
        for (const GumboNode* c : element_children(top->parent)) {
            if (!find(c)->excluded) {
                ++element_kids;
            }
        }
        if (element_kids != 1) {
            break;
        }
        top = top->parent;
    }
    return top;
}

std::vector<const GumboNode*> Scorer::merge_siblings(const GumboNode* top) const {
    if (top == body_ || top->parent == nullptr || index_.count(top->parent) == 0) {
        return {top};
    }
    const double top_score = final_score(top);
    const double threshold = std::max(10.0, top_score * 0.2);
    const std::string top_class = attr(top, "class");
    std::vector<const GumboNode*> parts;
    for (const GumboNode* sib : element_children(top->parent)) {
        if (sib == top) {
            parts.push_back(sib);
            continue;
        }
        const Stat* s = find(sib);
        if (s == nullptr || s->excluded) {
            continue;
        }
        double bonus = 0;
        if (!top_class.empty() && attr(sib, "class") == top_class) {
            bonus = top_score * 0.2;
        }
        bool append = s->scored && final_score(sib) + bonus >= threshold;
        if (!append && sib->v.element.tag == GUMBO_TAG_P) {
            const double density = link_density(sib);
            if (s->text > 80 && density < 0.25) {
                append = true;
            } else if (s->text > 0 && s->text <= 80 && density == 0) {
                const std::string t = trim(raw_text(sib));
                append = !t.empty() && (t.back() == '.' || t.ends_with("。"));
            }
        }
        if (append) {
            parts.push_back(sib);
        }
    }
    return parts;
}

bool inside(const GumboNode* n, GumboTag tag, const GumboNode* limit) {
    for (const GumboNode* p = n->parent; p != nullptr && p != limit; p = p->parent) {
        if (p->type == GUMBO_NODE_ELEMENT && p->v.element.tag == tag) {
            return true;
        }
    }
    return false;
}

// A short line starting like a call to action or a box label ("Read more", "Tags:").
bool starts_like_boilerplate(const std::string& text) {
    static constexpr std::array<std::string_view, 25> kPrefixes = {
        "advertisement", "read more",    "related:",   "share this",      "follow us",
        "sign up",       "subscribe",    "click here", "xem thêm",        "tin liên quan",
        "chia sẻ",       "nghe đọc bài", "bình luận",  "từ khóa",         "tags:",
        "see also",      "recommended",  "most read",  "see more",        "don't miss",
        "don’t miss",    "also read",    "read also",  "related stories", "đọc thêm"};
    const std::string l = lower(text.substr(0, 40));
    return std::any_of(kPrefixes.begin(), kPrefixes.end(),
                       [&l](std::string_view p) { return l.starts_with(p); });
}

void Scorer::clean(const std::vector<const GumboNode*>& parts, GenericBody& out) const {
    const std::string title_key = text::clean(title_);
    for (const GumboNode* part : parts) {
        for (const GumboNode* n : descendants(part)) {
            const Stat* s = find(n);
            if (s == nullptr) {
                continue;
            }
            if (s->junk_root) {
                out.junk.insert(n);
                continue;
            }
            if (s->excluded) {
                continue;
            }
            const GumboTag tag = n->v.element.tag;
            const int weight = strict_ ? class_weight(n) : 0;
            if (is_heading(tag)) {
                const std::string t = text::clean(raw_text(n));
                if (tag == GUMBO_TAG_H1 || (!title_key.empty() && t == title_key) || weight < 0 ||
                    link_density(n) > 0.33) {
                    out.junk.insert(n);
                }
                continue;
            }
            if (strict_ && (tag == GUMBO_TAG_P || tag == GUMBO_TAG_DIV || tag == GUMBO_TAG_LI ||
                            tag == GUMBO_TAG_SPAN)) {
                // "Read more" alone, or followed by the headlines it links to.
                const bool short_line = s->text > 0 && s->text < 60;
                const bool link_line = s->text > 0 && s->text < 400 && link_density(n) >= 0.5;
                if ((short_line || link_line) && s->images == 0) {
                    const std::string t = text::clean(raw_text(n));
                    if (starts_like_boilerplate(t)) {
                        out.junk.insert(n);
                        continue;
                    }
                }
            }
            const bool conditional = tag == GUMBO_TAG_TABLE || tag == GUMBO_TAG_UL ||
                                     tag == GUMBO_TAG_OL || tag == GUMBO_TAG_DIV ||
                                     tag == GUMBO_TAG_SECTION || tag == GUMBO_TAG_DL ||
                                     tag == GUMBO_TAG_FIELDSET || tag == GUMBO_TAG_FORM;
            if (!conditional || !strict_) {
                continue;
            }
            const double score = s->scored ? s->score : 0.0;
            if (weight + score < 0) {
                out.junk.insert(n);
                continue;
            }
            if (s->commas >= 10) {
                continue;
            }
            const bool is_list = tag == GUMBO_TAG_UL || tag == GUMBO_TAG_OL;
            const double density = link_density(n);
            const bool in_figure = inside(n, GUMBO_TAG_FIGURE, part);
            const int p = s->paragraphs;
            const int img = s->images;
            const int li = s->list_items - 100;
            const bool remove = (img > 1 && static_cast<double>(p) / img < 0.5 && !in_figure) ||
                                (!is_list && li > p) || (s->inputs > p / 3) ||
                                (!is_list && s->text < kMinParagraph && (img == 0 || img > 2) &&
                                 !in_figure && s->embeds == 0) ||
                                (!is_list && weight < 25 && density > 0.2) ||
                                (weight >= 25 && density > 0.5) || (is_list && density > 0.5);
            if (remove) {
                out.junk.insert(n);
            }
        }
    }
}

GenericBody Scorer::run() {
    measure();
    score_paragraphs();
    const GumboNode* top = pick_top();
    GenericBody out;
    out.parts = merge_siblings(top);
    if (out.parts.size() == 1) {
        // The same text from the innermost wrapper: a page-wide <form> (ASP.NET) or a lone
        // <div> adds nothing but risks being dropped as a whole.
        const GumboNode* part = out.parts.front();
        while (true) {
            const GumboNode* only = nullptr;
            int kept = 0;
            bool own_text = false;
            const GumboVector& kids = part->v.element.children;
            for (unsigned k = 0; k < kids.length; ++k) {
                const auto* c = static_cast<const GumboNode*>(kids.data[k]);
                if (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_CDATA) {
                    own_text = true;
                } else if (c->type == GUMBO_NODE_ELEMENT && find(c) != nullptr &&
                           !find(c)->excluded) {
                    only = c;
                    ++kept;
                }
            }
            if (own_text || kept != 1 || only->v.element.tag == GUMBO_TAG_P) {
                break;
            }
            part = only;
        }
        out.parts.front() = part;
    }
    clean(out.parts, out);
    return out;
}

// Characters of text the body would yield (junk excluded), to compare passes.
int yield_of(const GenericBody& b) {
    int total = 0;
    for (const GumboNode* part : b.parts) {
        std::string text;
        append_raw_text(part, text, [&b](const GumboNode* n) { return b.junk.count(n) != 0; });
        total += count_text(text).chars;
    }
    return total;
}

// ---------------------------------------------------------------- metadata --

bool json_too_deep(std::string_view s) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonLdDepth) {
                return true;
            }
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

bool is_article_type(const nlohmann::json& type) {
    const auto article_like = [](const std::string& t) {
        return t.ends_with("Article") || t == "BlogPosting" || t == "LiveBlogPosting" ||
               t == "Report";
    };
    if (type.is_string()) {
        return article_like(type.get<std::string>());
    }
    if (type.is_array()) {
        return std::any_of(type.begin(), type.end(), [&](const nlohmann::json& t) {
            return t.is_string() && article_like(t.get<std::string>());
        });
    }
    return false;
}

std::string json_string(const nlohmann::json& obj, const char* key) {
    const auto it = obj.find(key);
    if (it == obj.end()) {
        return "";
    }
    if (it->is_string()) {
        return text::clean(it->get<std::string>());
    }
    if (it->is_array() && !it->empty() && it->front().is_string()) {
        return text::clean(it->front().get<std::string>());
    }
    return "";
}

// author: "Name", {"name": ...}, or an array of either.
std::string json_names(const nlohmann::json& value) {
    std::vector<std::string> names;
    const auto add = [&names](const nlohmann::json& v) {
        std::string name;
        if (v.is_string()) {
            name = text::clean(v.get<std::string>());
        } else if (v.is_object()) {
            name = json_string(v, "name");
        }
        if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
            names.push_back(std::move(name));
        }
    };
    if (value.is_array()) {
        for (const nlohmann::json& v : value) {
            add(v);
        }
    } else {
        add(value);
    }
    std::string out;
    for (const std::string& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out;
}

void read_json_ld(const GumboNode* script, PageMetadata& meta) {
    std::string body;
    const GumboVector& kids = script->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) {
        const auto* c = static_cast<const GumboNode*>(kids.data[i]);
        if (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_WHITESPACE ||
            c->type == GUMBO_NODE_CDATA) {
            body += c->v.text.text;
        }
    }
    if (body.size() > kMaxJsonLdBytes || json_too_deep(body)) {
        return;
    }
    const nlohmann::json root = nlohmann::json::parse(body, nullptr, false);
    if (root.is_discarded()) {
        return;
    }
    std::vector<const nlohmann::json*> stack{&root};
    while (!stack.empty()) {
        const nlohmann::json* cur = stack.back();
        stack.pop_back();
        if (cur->is_array()) {
            for (auto it = cur->rbegin(); it != cur->rend(); ++it) {
                stack.push_back(&*it);
            }
            continue;
        }
        if (!cur->is_object()) {
            continue;
        }
        const auto type_it = cur->find("@type");
        if (type_it != cur->end() && is_article_type(*type_it)) {
            const auto fill = [](std::string& field, std::string value) {
                if (field.empty()) {
                    field = std::move(value);
                }
            };
            fill(meta.title, json_string(*cur, "headline"));
            fill(meta.section, json_string(*cur, "articleSection"));
            fill(meta.description, json_string(*cur, "description"));
            if (const auto a = cur->find("author"); a != cur->end()) {
                fill(meta.author, json_names(*a));
            }
            if (const auto p = cur->find("publisher"); p != cur->end() && p->is_object()) {
                fill(meta.site_name, json_string(*p, "name"));
            }
            if (!meta.published) {
                meta.published = dates::parse_any(json_string(*cur, "datePublished"));
            }
            if (!meta.modified) {
                meta.modified = dates::parse_any(json_string(*cur, "dateModified"));
            }
        }
        const auto graph = cur->find("@graph");
        if (graph != cur->end()) {
            stack.push_back(&*graph);
        }
    }
}

}  // namespace

int class_weight(const GumboNode* element) {
    const std::string names = joined_names(element);
    if (names.size() <= 1) {
        return 0;
    }
    int weight = 0;
    if (is_positive_name(names)) {
        weight += 25;
    }
    if (is_negative_name(names, name_words(element))) {
        weight -= 25;
    }
    return weight;
}

PageMetadata read_metadata(const std::vector<const GumboNode*>& all) {
    PageMetadata meta;
    std::unordered_map<std::string, std::string> metas;  // first content per property/name
    for (const GumboNode* n : all) {
        const GumboTag tag = n->v.element.tag;
        if (tag == GUMBO_TAG_SCRIPT) {
            if (lower(trim(attr(n, "type"))) == "application/ld+json") {
                read_json_ld(n, meta);
            }
            continue;
        }
        if (tag != GUMBO_TAG_META) {
            continue;
        }
        const std::string content = trim(attr(n, "content"));
        if (content.empty()) {
            continue;
        }
        for (const char* key_attr : {"property", "name", "itemprop"}) {
            const std::string key = lower(trim(attr(n, key_attr)));
            if (!key.empty()) {
                metas.emplace(key, content);
            }
        }
    }
    const auto first = [&metas](std::initializer_list<const char*> keys) -> std::string {
        for (const char* k : keys) {
            const auto it = metas.find(k);
            if (it != metas.end()) {
                return text::clean(it->second);
            }
        }
        return "";
    };
    if (meta.title.empty()) {
        meta.title = first({"og:title", "twitter:title", "headline", "title"});
    }
    if (meta.author.empty()) {
        meta.author = first({"author", "article:author", "dc.creator", "byl", "sailthru.author"});
        // Profile URLs are not names.
        if (meta.author.starts_with("http://") || meta.author.starts_with("https://")) {
            meta.author.clear();
        }
    }
    if (meta.section.empty()) {
        meta.section = first({"article:section", "section", "category"});
    }
    if (meta.description.empty()) {
        meta.description = first({"og:description", "description", "twitter:description"});
    }
    if (meta.site_name.empty()) {
        meta.site_name = first({"og:site_name", "application-name"});
    }
    if (!meta.published) {
        const std::string p = first({"article:published_time", "datepublished", "pubdate",
                                     "publishdate", "date", "dc.date.issued", "og:published_time"});
        if (!p.empty()) {
            meta.published = dates::parse_any(p);
        }
    }
    if (!meta.modified) {
        const std::string m =
            first({"article:modified_time", "datemodified", "og:updated_time", "lastmod"});
        if (!m.empty()) {
            meta.modified = dates::parse_any(m);
        }
    }
    if (!meta.published) {
        for (const GumboNode* n : all) {
            if (n->v.element.tag == GUMBO_TAG_TIME) {
                const std::string dt = trim(attr(n, "datetime"));
                if (!dt.empty()) {
                    meta.published = dates::parse_any(dt);
                    if (meta.published) {
                        break;
                    }
                }
            }
        }
    }
    return meta;
}

GenericBody find_generic_body(const GumboNode* body, const std::string& title) {
    if (body == nullptr) {
        return {};
    }
    GenericBody strict = Scorer(body, title, true).run();
    const int strict_yield = yield_of(strict);
    if (strict_yield >= kRetryBelow) {
        return strict;
    }
    // The class hints may have removed the article itself: retry without them, and keep that
    // result only when it finds a real article many times longer (a short notice stays with the
    // strict pass).
    GenericBody lenient = Scorer(body, title, false).run();
    const int lenient_yield = yield_of(lenient);
    if (lenient_yield >= kRetryBelow && strict_yield * 4 < lenient_yield) {
        return lenient;
    }
    return strict;
}

}  // namespace baofeed::parsers
