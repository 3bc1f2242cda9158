// One parsed HTML page. The only place that includes gumbo.h besides select.cpp/extract.cpp.
#pragma once

#include <gumbo.h>

#include <string>
#include <string_view>
#include <vector>

namespace baofeed::parsers {

// Owns both the UTF-8 text and the Gumbo tree that points into it. Immutable after construction;
// distinct documents may be used on different threads. Not copyable or movable (the tree holds
// pointers into html_).
class HtmlDocument {
public:
    // REQUIRES: html is UTF-8 (charset::to_utf8 first).
    explicit HtmlDocument(std::string html);
    ~HtmlDocument();
    HtmlDocument(const HtmlDocument&) = delete;
    HtmlDocument& operator=(const HtmlDocument&) = delete;

    const GumboNode* root() const;  // the <html> element
    const GumboNode* head() const;  // may be null
    const GumboNode* body() const;  // may be null

private:
    std::string html_;  // must outlive output_
    GumboOutput* output_ = nullptr;
};

// Non-recursive helpers over a Gumbo tree. Node pointers stay valid while the document lives.
bool is_element(const GumboNode* n);
// Lower-case tag name, from the source text for tags Gumbo does not know (e.g. "picture").
std::string tag_name(const GumboNode* n);
// Attribute value, or nullptr when absent.
const char* attribute(const GumboNode* n, std::string_view name);
// Element children in order.
std::vector<const GumboNode*> element_children(const GumboNode* n);
// Every element under `root` (excluding root) in document order, iteratively.
std::vector<const GumboNode*> descendants(const GumboNode* root);
// Visible text under `n` (skips script/style/template/noscript and comments), raw: whitespace not
// collapsed, entities already decoded by Gumbo. <br> becomes "\n".
std::string raw_text(const GumboNode* n);

}  // namespace baofeed::parsers
