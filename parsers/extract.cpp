#include "parsers/extract.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/dates.h"
#include "core/text.h"
#include "core/url.h"
#include "parsers/html_document.h"
#include "parsers/select.h"

namespace baofeed::parsers {
namespace {

// Marks a <br> inside collected text until paragraphs are split.
constexpr char kBreak = '\x1f';
// JSON-LD blocks larger or deeper than this are ignored (nlohmann's parser recurses).
constexpr std::size_t kMaxJsonLdBytes = 1U << 20;
constexpr int kMaxJsonLdDepth = 64;

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
    static const std::set<std::string> kTypes = {"NewsArticle", "Article", "ReportageNewsArticle"};
    if (type.is_string()) {
        return kTypes.count(type.get<std::string>()) != 0;
    }
    if (type.is_array()) {
        return std::any_of(type.begin(), type.end(), [](const nlohmann::json& t) {
            return t.is_string() && kTypes.count(t.get<std::string>()) != 0;
        });
    }
    return false;
}

struct JsonLdDates {
    std::string published;
    std::string modified;
};

JsonLdDates json_ld_dates(const std::vector<const GumboNode*>& all) {
    JsonLdDates out;
    for (const GumboNode* n : all) {
        if (n->v.element.tag != GUMBO_TAG_SCRIPT) {
            continue;
        }
        const char* type = attribute(n, "type");
        if (type == nullptr || trim(type) != "application/ld+json") {
            continue;
        }
        std::string body;
        const GumboVector& kids = n->v.element.children;
        for (unsigned i = 0; i < kids.length; ++i) {
            const auto* c = static_cast<const GumboNode*>(kids.data[i]);
            if (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_WHITESPACE ||
                c->type == GUMBO_NODE_CDATA) {
                body += c->v.text.text;
            }
        }
        if (body.size() > kMaxJsonLdBytes || json_too_deep(body)) {
            continue;
        }
        const nlohmann::json root = nlohmann::json::parse(body, nullptr, false);
        if (root.is_discarded()) {
            continue;
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
                const auto p = cur->find("datePublished");
                const auto m = cur->find("dateModified");
                if (out.published.empty() && p != cur->end() && p->is_string()) {
                    out.published = p->get<std::string>();
                }
                if (out.modified.empty() && m != cur->end() && m->is_string()) {
                    out.modified = m->get<std::string>();
                }
            }
            const auto graph = cur->find("@graph");
            if (graph != cur->end()) {
                stack.push_back(&*graph);
            }
        }
    }
    return out;
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

std::string strip_site_suffix(const std::string& title) {
    for (const std::string_view sep : {" | ", " - ", " – ", " — "}) {
        const std::size_t pos = title.rfind(sep);
        if (pos != std::string::npos && pos > 0) {
            return title.substr(0, pos);
        }
    }
    return title;
}

}  // namespace

Extraction extract_article(std::string_view html, std::string_view page_url,
                           const SiteRules& rules) {
    Extraction result;
    const HtmlDocument doc{std::string(html)};
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
    const std::optional<Selector> caption_sel = compile(rules.caption);
    const std::optional<Selector> next_sel = compile(rules.next_page);
    std::vector<Selector> remove_sels;
    for (const std::string& r : rules.remove) {
        if (!r.empty()) {
            remove_sels.emplace_back(r);
        }
    }

    const GumboNode* root = doc.root();
    const std::vector<const GumboNode*> all = descendants(root);
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

    // Title.
    if (title_sel) {
        article.title = text_of(title_sel->select_first(root));
    }
    if (article.title.empty()) {
        article.title = text::clean(meta_content(all, "og:title"));
    }
    if (article.title.empty()) {
        const auto h1 = std::find_if(all.begin(), all.end(), [](const GumboNode* n) {
            return n->v.element.tag == GUMBO_TAG_H1;
        });
        if (h1 != all.end()) {
            article.title = text_of(*h1);
        }
    }
    if (article.title.empty()) {
        const auto t = std::find_if(all.begin(), all.end(), [](const GumboNode* n) {
            return n->v.element.tag == GUMBO_TAG_TITLE;
        });
        if (t != all.end()) {
            article.title = strip_site_suffix(text_of(*t));
        }
    }

    const GumboNode* container = body_sel ? body_sel->select_first(root) : nullptr;
    const GumboNode* lead_node = lead_sel ? lead_sel->select_first(root) : nullptr;
    const GumboNode* author_node = author_sel ? author_sel->select_first(root) : nullptr;
    article.lead = text_of(lead_node);
    article.author = text_of(author_node);

    // Dates.
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
    const bool need_fallback_dates = !published || !modified;
    if (need_fallback_dates) {
        if (!published) {
            const std::string m = meta_content(all, "article:published_time");
            if (!m.empty()) {
                published = dates::parse_any(m);
            }
        }
        if (!modified) {
            const std::string m = meta_content(all, "article:modified_time");
            if (!m.empty()) {
                modified = dates::parse_any(m);
            }
        }
        if (!published || !modified) {
            const JsonLdDates ld = json_ld_dates(all);
            if (!published && !ld.published.empty()) {
                published = dates::parse_any(ld.published);
            }
            if (!modified && !ld.modified.empty()) {
                modified = dates::parse_any(ld.modified);
            }
        }
        if (!published) {
            for (const GumboNode* n : all) {
                if (n->v.element.tag == GUMBO_TAG_TIME) {
                    const std::string dt = trim(attr_or_empty(n, "datetime"));
                    if (!dt.empty()) {
                        published = dates::parse_any(dt);
                        if (published) {
                            break;
                        }
                    }
                }
            }
        }
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
            std::string word = rel.substr(start, i - start);
            std::transform(word.begin(), word.end(), word.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            canonical = canonical || word == "canonical";
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
    if (container == nullptr) {
        result.error = "no body";
        return result;
    }

    // Media, taken before anything is removed.
    const std::vector<const GumboNode*> in_body = descendants(container);
    std::vector<Media> images;
    std::vector<const GumboNode*> media_nodes;
    std::vector<const GumboNode*> video_nodes;
    for (const GumboNode* n : in_body) {
        const GumboTag tag = n->v.element.tag;
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
        } else if (tag == GUMBO_TAG_IFRAME || tag == GUMBO_TAG_VIDEO) {
            video_nodes.push_back(n);
            media_nodes.push_back(n);
        }
    }
    std::set<std::string> seen_images;
    for (const Media& m : images) {
        if (seen_images.insert(m.src).second) {
            article.images.push_back(
                {m.src, find_caption(m.node, container, media_nodes, caption_sel)});
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
        video.caption = find_caption(v, container, media_nodes, caption_sel);
        article.videos.push_back(std::move(video));
    }

    // Body text.
    NodeSet removed;
    for (const Selector& s : remove_sels) {
        for (const GumboNode* n : s.select_all(container)) {
            removed.insert(n);
        }
    }
    if (caption_sel) {
        for (const GumboNode* n : caption_sel->select_all(container)) {
            removed.insert(n);
        }
    }
    for (const GumboNode* n : {lead_node, author_node}) {
        if (n != nullptr && n != container && is_inside(n, container)) {
            removed.insert(enclosing_block(n, container));
        }
    }
    article.body = body_paragraphs(container, removed);
    if (article.body.empty() && article.images.empty() && article.videos.empty()) {
        result.error = "no body";
        return result;
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
