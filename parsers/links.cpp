#include "parsers/links.h"

#include <cstring>
#include <memory>
#include <set>
#include <utility>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "core/dates.h"
#include "core/text.h"
#include "core/url.h"
#include "parsers/html_document.h"

namespace baofeed::parsers {
namespace {

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
    // Valid UTF-8 (or a UTF-8 BOM) wins over a declaration that lies.
    const bool utf8_bom = bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF";
    const char* encoding = utf8_bom || text::is_valid_utf8(bytes) ? "UTF-8" : nullptr;
    const int options = XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOCDATA;
    XmlDocPtr doc;
    std::string xml_error;
    {
        ErrorCapture capture;
        doc.reset(xmlReadMemory(bytes.data(), static_cast<int>(bytes.size()), nullptr, encoding,
                                options));
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

std::vector<std::string> page_links(std::string_view html, std::string_view base_url) {
    std::vector<std::string> out;
    const HtmlDocument doc{std::string(html)};
    if (!doc.error().empty()) {
        return out;
    }
    std::string base(base_url);
    for (const GumboNode* n : descendants(doc.root())) {
        if (n->v.element.tag == GUMBO_TAG_BASE) {
            const char* href = attribute(n, "href");
            if (href != nullptr && *href != '\0') {
                if (auto resolved = url::resolve(base_url, trim(href))) {
                    base = *resolved;
                }
            }
            break;
        }
    }
    std::set<std::string> seen;
    for (const GumboNode* n : descendants(doc.root())) {
        if (n->v.element.tag != GUMBO_TAG_A) {
            continue;
        }
        const char* href = attribute(n, "href");
        if (href == nullptr) {
            continue;
        }
        const std::string ref = trim(href);
        if (ref.empty() || ref[0] == '#') {
            continue;
        }
        auto resolved = url::resolve(base, ref);
        if (!resolved) {
            continue;
        }
        std::string link = std::move(*resolved);
        const std::size_t hash = link.find('#');
        if (hash != std::string::npos) {
            link.erase(hash);
        }
        if (seen.insert(link).second) {
            out.push_back(std::move(link));
        }
    }
    return out;
}

}  // namespace baofeed::parsers
