#include "parsers/links.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <zlib.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#include "core/charset.h"
#include "core/dates.h"
#include "core/text.h"
#include "core/url.h"
#include "parsers/html_document.h"
#include "parsers/select.h"

namespace baofeed::parsers {
namespace {

// Never the network, never entity expansion (XML_PARSE_NOENT is not set), never the DTD; the
// bytes are UTF-8 already (charset::to_utf8_xml), whatever the declaration said.
constexpr int kXmlOptions = XML_PARSE_NONET | XML_PARSE_IGNORE_ENC;

struct XmlDocDeleter {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;

// Captures libxml2's messages for one parse instead of letting them reach stderr. libxml2 2.9
// keeps the handlers in per-thread globals, so installing and restoring them around a call is
// safe when other threads parse at the same time.
class ErrorCapture {
  public:
    ErrorCapture()
        : saved_structured_(xmlStructuredError),
          saved_structured_ctx_(xmlStructuredErrorContext),
          saved_generic_(xmlGenericError),
          saved_generic_ctx_(xmlGenericErrorContext) {
        xmlSetStructuredErrorFunc(this, &ErrorCapture::on_error);
        xmlSetGenericErrorFunc(nullptr, &ErrorCapture::ignore);
    }
    ~ErrorCapture() {
        xmlSetStructuredErrorFunc(saved_structured_ctx_, saved_structured_);
        xmlSetGenericErrorFunc(saved_generic_ctx_, saved_generic_);
    }
    ErrorCapture(const ErrorCapture&) = delete;
    ErrorCapture& operator=(const ErrorCapture&) = delete;

    const std::string& first_error() const { return first_; }

  private:
    static void on_error(void* ctx, xmlErrorPtr error) {
        auto* self = static_cast<ErrorCapture*>(ctx);
        if (self == nullptr || error == nullptr || !self->first_.empty() ||
            error->level < XML_ERR_ERROR) {
            return;
        }
        std::string msg = error->message != nullptr ? error->message : "XML error";
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
            msg.pop_back();
        }
        self->first_ = "line " + std::to_string(error->line) + ": " + msg;
    }
    static void ignore(void* /*ctx*/, const char* /*msg*/, ...) {}

    xmlStructuredErrorFunc saved_structured_;
    void* saved_structured_ctx_;
    xmlGenericErrorFunc saved_generic_;
    void* saved_generic_ctx_;
    std::string first_;
};

std::string_view local_name(const xmlNode* n) {
    return n->name != nullptr ? std::string_view(reinterpret_cast<const char*>(n->name))
                              : std::string_view();
}

// Text and CDATA below `n`, iteratively. Entity references are not followed: entities are never
// expanded (no billion laughs through the back door).
std::string element_text(const xmlNode* n) {
    std::string out;
    std::vector<const xmlNode*> stack;
    for (const xmlNode* c = n->last; c != nullptr; c = c->prev) {
        stack.push_back(c);
    }
    while (!stack.empty()) {
        const xmlNode* cur = stack.back();
        stack.pop_back();
        if ((cur->type == XML_TEXT_NODE || cur->type == XML_CDATA_SECTION_NODE) &&
            cur->content != nullptr) {
            out += reinterpret_cast<const char*>(cur->content);
        } else if (cur->type == XML_ELEMENT_NODE) {
            for (const xmlNode* c = cur->last; c != nullptr; c = c->prev) {
                stack.push_back(c);
            }
        }
    }
    return out;
}

std::string attr(const xmlNode* n, const char* name) {
    for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
        if (a->name != nullptr && std::strcmp(reinterpret_cast<const char*>(a->name), name) == 0) {
            std::string out;
            for (const xmlNode* c = a->children; c != nullptr; c = c->next) {
                if (c->type == XML_TEXT_NODE && c->content != nullptr) {
                    out += reinterpret_cast<const char*>(c->content);
                }
            }
            return out;
        }
    }
    return "";
}

bool has_attr(const xmlNode* n, const char* name) {
    for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
        if (a->name != nullptr && std::strcmp(reinterpret_cast<const char*>(a->name), name) == 0) {
            return true;
        }
    }
    return false;
}

std::string trim(std::string_view s) {
    const char* ws = " \t\r\n";
    const std::size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) {
        return "";
    }
    const std::size_t e = s.find_last_not_of(ws);
    return std::string(s.substr(b, e - b + 1));
}

FeedItem read_item(const xmlNode* item, bool atom, std::string_view base_url) {
    FeedItem out;
    std::string link;
    std::string guid_link;
    std::string published_text;
    std::string updated_text;
    if (!atom) {
        link = trim(attr(item, "about"));  // RDF rdf:about
    }
    for (const xmlNode* c = item->children; c != nullptr; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) {
            continue;
        }
        const std::string_view name = local_name(c);
        if (name == "title" && out.title.empty()) {
            out.title = text::clean(element_text(c));
        } else if (name == "link") {
            if (atom) {
                const std::string rel = attr(c, "rel");
                if ((rel.empty() || rel == "alternate") && link.empty()) {
                    link = trim(attr(c, "href"));
                }
            } else if (link.empty()) {
                // RSS <link>text</link>; an atom:link inside RSS carries href instead.
                link = has_attr(c, "href") ? trim(attr(c, "href")) : trim(element_text(c));
            }
        } else if (name == "guid" && !atom) {
            const std::string perma = attr(c, "isPermaLink");
            if (perma != "false") {
                guid_link = trim(element_text(c));
            }
        } else if (name == "pubDate" || name == "published" || name == "date" || name == "issued") {
            if (published_text.empty()) {
                published_text = trim(element_text(c));
            }
        } else if (name == "updated" || name == "modified") {
            if (updated_text.empty()) {
                updated_text = trim(element_text(c));
            }
        }
    }
    if (link.empty()) {
        link = guid_link;
    }
    if (!link.empty()) {
        out.link = url::resolve(base_url, link).value_or("");
    }
    if (!published_text.empty()) {
        out.published = dates::parse_any(published_text);
    }
    if (!out.published && !updated_text.empty()) {
        out.published = dates::parse_any(updated_text);
    }
    return out;
}

using text::ascii_lower;

// Is `token` one of the white-space separated words of `list`?
bool has_token(std::string_view list, std::string_view token) {
    std::size_t pos = 0;
    while (pos < list.size()) {
        const std::size_t start = list.find_first_not_of(" \t\r\n\f", pos);
        if (start == std::string_view::npos) {
            break;
        }
        std::size_t end = list.find_first_of(" \t\r\n\f", start);
        if (end == std::string_view::npos) {
            end = list.size();
        }
        if (list.substr(start, end - start) == token) {
            return true;
        }
        pos = end;
    }
    return false;
}

// A <link type> naming a feed: RSS, Atom or JSON Feed, parameters ("; charset=utf-8") ignored.
bool is_feed_type(std::string_view type) {
    std::string t = ascii_lower(type);
    const std::size_t semicolon = t.find(';');
    if (semicolon != std::string::npos) {
        t.erase(semicolon);
    }
    t = trim(t);
    return t == "application/rss+xml" || t == "application/atom+xml" ||
           t == "application/feed+json";
}

// The base URL of a page: its first <base href> resolved against the URL it was fetched from.
std::string document_base(const HtmlDocument& doc, std::string_view base_url) {
    for (const GumboNode* n : descendants(doc.root())) {
        if (n->v.element.tag != GUMBO_TAG_BASE) {
            continue;
        }
        const char* href = attribute(n, "href");
        if (href != nullptr && *href != '\0') {
            if (auto resolved = url::resolve(base_url, trim(href))) {
                return *resolved;
            }
        }
        break;
    }
    return std::string(base_url);
}

// Resolved http(s) links without fragments, each once, in the order added.
class LinkCollector {
  public:
    explicit LinkCollector(std::string base) : base_(std::move(base)) {}

    void add(std::string_view raw_ref) {
        const std::string ref = trim(raw_ref);
        if (ref.empty() || ref[0] == '#') {
            return;
        }
        auto resolved = url::resolve(base_, ref);
        if (!resolved) {
            return;
        }
        std::string link = std::move(*resolved);
        const std::size_t hash = link.find('#');
        if (hash != std::string::npos) {
            link.erase(hash);
        }
        if (seen_.insert(link).second) {
            links_.push_back(std::move(link));
        }
    }

    // The href of `n` when it is an <a href>.
    void add_anchor(const GumboNode* n) {
        if (!is_element(n) || n->v.element.tag != GUMBO_TAG_A) {
            return;
        }
        if (const char* href = attribute(n, "href")) {
            add(href);
        }
    }

    std::vector<std::string> take() { return std::move(links_); }

  private:
    std::string base_;
    std::set<std::string> seen_;
    std::vector<std::string> links_;
};

// --- Sitemaps ---

// The sitemaps.org protocol: at most 50,000 URLs and 50 MiB (uncompressed) per sitemap.
constexpr std::size_t kMaxSitemapEntries = 50000;
constexpr std::size_t kMaxSitemapBytes = std::size_t{50} << 20;
constexpr std::string_view kMalformedXml = "malformed XML";

// Inflates a gzip stream (every member of a multi-member file) into `out`. "" on success, else
// why not: corrupt data, or more than `limit` bytes decompressed (a gzip bomb stops there).
std::string gunzip(std::string_view gz, std::size_t limit, std::string& out) {
    z_stream zs{};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        return "zlib: cannot initialise";
    }
    struct InflateEnd {
        void operator()(z_stream* z) const { inflateEnd(z); }
    };
    const std::unique_ptr<z_stream, InflateEnd> guard(&zs);
    // zlib does not write through next_in; its API predates const.
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
    zs.avail_in = static_cast<uInt>(std::min<std::size_t>(gz.size(), UINT32_MAX));
    std::array<char, 64 * 1024> buf{};
    while (true) {
        zs.next_out = reinterpret_cast<Bytef*>(buf.data());
        zs.avail_out = static_cast<uInt>(buf.size());
        const int rc = inflate(&zs, Z_NO_FLUSH);
        const std::size_t produced = buf.size() - zs.avail_out;
        if (out.size() + produced > limit) {
            return "sitemap larger than " + std::to_string(limit >> 20) + " MiB decompressed";
        }
        out.append(buf.data(), produced);
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0) {
                return "";
            }
            // Another gzip member follows (concatenated .gz files).
            if (inflateReset(&zs) != Z_OK) {
                return "zlib: cannot reset";
            }
            continue;
        }
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
            return "gzip stream truncated";
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return std::string("gzip: ") + (zs.msg != nullptr ? zs.msg : "corrupt data");
        }
    }
}

struct XmlReaderDeleter {
    void operator()(xmlTextReader* r) const { xmlFreeTextReader(r); }
};
using XmlReaderPtr = std::unique_ptr<xmlTextReader, XmlReaderDeleter>;

std::string_view reader_local_name(xmlTextReader* r) {
    const xmlChar* name = xmlTextReaderConstLocalName(r);
    return name != nullptr ? std::string_view(reinterpret_cast<const char*>(name))
                           : std::string_view();
}

// Streams a sitemap with xmlTextReader (memory stays flat whatever the size, and reading stops at
// the entry cap) into a SitemapParse. Depths: 0 root, 1 <url>/<sitemap>, 2 <loc>/<lastmod>/
// <news:news>, 3 <news:publication_date>/<news:title>.
class SitemapReader {
  public:
    SitemapReader(std::string_view base_url, SitemapParse& out) : base_(base_url), out_(out) {}

    void run(xmlTextReader* r) {
        int rc = 0;
        while ((rc = xmlTextReaderRead(r)) == 1) {
            if (!step(r)) {
                return;
            }
        }
        if (rc < 0 && out_.error.empty()) {
            out_.error = kMalformedXml;  // ErrorCapture usually has the precise message
        }
    }

    bool saw_root() const { return saw_root_; }

  private:
    enum class Field { none, loc, lastmod, published, title };

    // false: stop reading.
    bool step(xmlTextReader* r) {
        const int type = xmlTextReaderNodeType(r);
        const int depth = xmlTextReaderDepth(r);
        if (type == XML_READER_TYPE_ELEMENT) {
            const std::string_view name = reader_local_name(r);
            const bool empty = xmlTextReaderIsEmptyElement(r) == 1;
            if (depth == 0) {
                saw_root_ = true;
                if (name != "urlset" && name != "sitemapindex") {
                    out_.error = "not a sitemap";
                    return false;
                }
                out_.is_index = name == "sitemapindex";
                out_.ok = true;
                return true;
            }
            if (depth == 1) {
                in_entry_ = name == (out_.is_index ? "sitemap" : "url");
                if (in_entry_ && out_.entries.size() >= kMaxSitemapEntries) {
                    out_.error = "more than " + std::to_string(kMaxSitemapEntries) +
                                 " entries: the rest is ignored";
                    return false;
                }
                in_news_ = false;
                entry_ = SitemapEntry{};
                loc_.clear();
                lastmod_.clear();
                published_.clear();
                if (in_entry_ && empty) {
                    in_entry_ = false;  // <url/>: nothing to keep
                }
                return true;
            }
            if (!in_entry_) {
                return true;
            }
            if (depth == 2) {
                in_news_ = name == "news" && !empty;
                field_ = name == "loc"       ? Field::loc
                         : name == "lastmod" ? Field::lastmod
                                             : Field::none;
            } else if (depth == 3 && in_news_) {
                field_ = name == "publication_date" ? Field::published
                         : name == "title"          ? Field::title
                                                    : Field::none;
            } else {
                field_ = Field::none;
            }
            if (empty) {
                field_ = Field::none;
            }
            return true;
        }
        if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
            type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
            if (field_ != Field::none) {
                const xmlChar* value = xmlTextReaderConstValue(r);
                if (value != nullptr) {
                    target().append(reinterpret_cast<const char*>(value));
                }
            }
            return true;
        }
        if (type != XML_READER_TYPE_END_ELEMENT) {
            return true;
        }
        if (depth >= 2) {
            field_ = Field::none;
            if (depth == 2) {
                in_news_ = false;
            }
            return true;
        }
        if (depth == 1 && in_entry_) {
            in_entry_ = false;
            return finish_entry();
        }
        return true;
    }

    std::string& target() {
        switch (field_) {
            case Field::loc:
                return loc_;
            case Field::lastmod:
                return lastmod_;
            case Field::published:
                return published_;
            case Field::title:
            case Field::none:
                break;
        }
        return entry_.title;
    }

    bool finish_entry() {
        const std::string loc = trim(loc_);
        auto resolved = loc.empty() ? std::nullopt : url::resolve(base_, loc);
        if (!resolved) {
            return true;  // an entry without a usable <loc> is skipped
        }
        entry_.loc = std::move(*resolved);
        if (const std::string t = trim(lastmod_); !t.empty()) {
            entry_.lastmod = dates::parse_any(t);
        }
        if (const std::string t = trim(published_); !t.empty()) {
            entry_.published = dates::parse_any(t);
        }
        entry_.title = text::clean(entry_.title);
        out_.entries.push_back(std::move(entry_));
        entry_ = SitemapEntry{};
        return true;
    }

    std::string base_;
    SitemapParse& out_;
    bool saw_root_ = false;
    bool in_entry_ = false;
    bool in_news_ = false;
    Field field_ = Field::none;
    SitemapEntry entry_;
    std::string loc_;
    std::string lastmod_;
    std::string published_;
};
}  // namespace

FeedParse parse_feed(std::string_view bytes, std::string_view base_url) {
    FeedParse result;
    if (bytes.empty()) {
        result.error = "empty document";
        return result;
    }
    if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) {
        result.error = "document too large";
        return result;
    }
    // Bytes decide the encoding before any label (BOM, UTF-16 NUL pattern, valid UTF-8), then
    // the declaration; libxml2 then reads UTF-8 and ignores the (rewritten) declaration.
    const std::string utf8 = charset::to_utf8_xml(bytes);
    if (utf8.size() > static_cast<std::size_t>(INT32_MAX)) {
        result.error = "document too large";
        return result;
    }
    const int options = kXmlOptions | XML_PARSE_RECOVER | XML_PARSE_NOCDATA;
    XmlDocPtr doc;
    std::string xml_error;
    {
        ErrorCapture capture;
        doc.reset(
            xmlReadMemory(utf8.data(), static_cast<int>(utf8.size()), nullptr, "UTF-8", options));
        xml_error = capture.first_error();
    }
    const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (root == nullptr) {
        result.error = xml_error.empty() ? "not XML" : xml_error;
        return result;
    }
    const std::string_view root_name = local_name(root);
    const bool atom = root_name == "feed";
    if (root_name != "rss" && root_name != "RDF" && !atom) {
        result.error = "not a feed";
        return result;
    }
    const std::string_view item_name = atom ? "entry" : "item";
    // Items live under <channel> (RSS 2.0), beside it (RSS 1.0) or under the root (Atom): walk
    // the whole tree in document order, iteratively, without descending into items.
    std::vector<const xmlNode*> ordered;
    std::vector<const xmlNode*> stack{root};
    while (!stack.empty()) {
        const xmlNode* cur = stack.back();
        stack.pop_back();
        if (cur != root && local_name(cur) == item_name) {
            ordered.push_back(cur);
            continue;
        }
        for (const xmlNode* c = cur->last; c != nullptr; c = c->prev) {
            if (c->type == XML_ELEMENT_NODE) {
                stack.push_back(c);
            }
        }
    }
    for (const xmlNode* item : ordered) {
        FeedItem fi = read_item(item, atom, base_url);
        if (!fi.link.empty()) {
            result.items.push_back(std::move(fi));
        }
    }
    result.ok = true;
    return result;
}

namespace {

std::vector<std::string> anchors_of(const HtmlDocument& doc, std::string_view base_url) {
    LinkCollector links(document_base(doc, base_url));
    for (const GumboNode* n : descendants(doc.root())) {
        links.add_anchor(n);
    }
    return links.take();
}

std::vector<std::string> selected_anchors_of(const HtmlDocument& doc, std::string_view base_url,
                                             const Selector& select) {
    LinkCollector links(document_base(doc, base_url));
    for (const GumboNode* match : select.select_all(doc.root())) {
        links.add_anchor(match);
        for (const GumboNode* n : descendants(match)) {
            links.add_anchor(n);
        }
    }
    return links.take();
}

std::vector<std::string> feeds_of(const HtmlDocument& doc, std::string_view base_url) {
    LinkCollector links(document_base(doc, base_url));
    for (const GumboNode* n : descendants(doc.root())) {
        if (n->v.element.tag != GUMBO_TAG_LINK) {
            continue;
        }
        const char* rel = attribute(n, "rel");
        const char* type = attribute(n, "type");
        const char* href = attribute(n, "href");
        if (rel == nullptr || type == nullptr || href == nullptr ||
            !has_token(ascii_lower(rel), "alternate") || !is_feed_type(type)) {
            continue;
        }
        links.add(href);
    }
    return links.take();
}

}  // namespace

std::vector<std::string> page_links(std::string_view html, std::string_view base_url) {
    const HtmlDocument doc{html};
    if (!doc.error().empty()) {
        return {};
    }
    return anchors_of(doc, base_url);
}

std::vector<std::string> selected_links(std::string_view html, std::string_view base_url,
                                        std::string_view selector) {
    const Selector select(selector);  // throws css::SelectorError before any parsing
    const HtmlDocument doc{html};
    if (!doc.error().empty()) {
        return {};
    }
    return selected_anchors_of(doc, base_url, select);
}

std::vector<std::string> discover_feeds(std::string_view html, std::string_view base_url) {
    const HtmlDocument doc{html};
    if (!doc.error().empty()) {
        return {};
    }
    return feeds_of(doc, base_url);
}

PageLinks read_page_links(std::string_view html, std::string_view base_url,
                          std::string_view selector, bool feeds) {
    std::optional<Selector> select;
    if (!selector.empty()) {
        select.emplace(selector);  // throws css::SelectorError before any parsing
    }
    PageLinks out;
    const HtmlDocument doc{html};
    if (!doc.error().empty()) {
        return out;
    }
    out.links = anchors_of(doc, base_url);
    if (select) {
        out.selected = selected_anchors_of(doc, base_url, *select);
    }
    if (feeds) {
        out.feeds = feeds_of(doc, base_url);
    }
    return out;
}

SitemapParse parse_sitemap(std::string_view bytes, std::string_view base_url) {
    SitemapParse result;
    std::string inflated;
    if (bytes.starts_with("\x1F\x8B")) {
        std::string error = gunzip(bytes, kMaxSitemapBytes, inflated);
        if (!error.empty()) {
            result.error = std::move(error);
            return result;
        }
        bytes = inflated;
    }
    if (bytes.empty()) {
        result.error = "empty document";
        return result;
    }
    if (bytes.size() > kMaxSitemapBytes) {
        result.error = "sitemap larger than " + std::to_string(kMaxSitemapBytes >> 20) + " MiB";
        return result;
    }
    const std::string utf8 = charset::to_utf8_xml(bytes);
    inflated.clear();
    inflated.shrink_to_fit();
    if (utf8.size() > static_cast<std::size_t>(INT32_MAX)) {
        result.error = "document too large";
        return result;
    }
    SitemapReader reader(base_url, result);
    {
        ErrorCapture capture;
        XmlReaderPtr xml(xmlReaderForMemory(utf8.data(), static_cast<int>(utf8.size()), nullptr,
                                            "UTF-8", kXmlOptions));
        if (!xml) {
            result.error = "cannot create an XML reader";
            return result;
        }
        reader.run(xml.get());
        const bool generic = result.error.empty() || result.error == kMalformedXml;
        if (generic && !capture.first_error().empty()) {
            result.error = capture.first_error();
        }
    }
    if (result.error.empty() && !reader.saw_root()) {
        result.error = "not XML";
    }
    return result;
}

}  // namespace baofeed::parsers
