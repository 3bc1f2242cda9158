// One parsed HTML page. The only place that includes gumbo.h besides select.cpp/extract.cpp.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gumbo.h>

#include "core/selector.h"

namespace baofeed::parsers {

// Owns both the UTF-8 text and the Gumbo tree that points into it. Immutable after construction;
// distinct documents may be used on different threads. Not copyable or movable (the tree holds
// pointers into html_).
class HtmlDocument {
  public:
    static constexpr std::size_t kMaxBytes = 8U << 20;
    static constexpr long kMaxDepth = 1000;

    // Cheap pre-scan guarding Gumbo (slow on pathological input, recursive on destroy): "" when
    // the page is acceptable, else why it is refused (over kMaxBytes, or an estimated open-tag
    // nesting depth over kMaxDepth).
    static std::string check(std::string_view html);

    // REQUIRES: html is UTF-8 (charset::to_utf8 first). Never throws for bad input: a page that
    // check() refuses is not parsed, error() says why, and the tree is that of an empty page.
    // The page goes through strip_inert(html, skip) before the parse: the tree has no comments
    // and empty <script>/<style> elements (JSON-LD scripts keep their text), and the skip
    // regions that strip_inert could empty are empty.
    explicit HtmlDocument(std::string_view html, const std::vector<css::Compound>& skip = {});
    ~HtmlDocument();
    HtmlDocument(const HtmlDocument&) = delete;
    HtmlDocument& operator=(const HtmlDocument&) = delete;

    const GumboNode* root() const;                       // the <html> element
    const GumboNode* head() const;                       // may be null
    const GumboNode* body() const;                       // may be null
    const std::string& error() const { return error_; }  // "" when the page was parsed

  private:
    class Pool;  // the memory of the tree (html_document.cpp)

    std::string html_;  // must outlive output_
    std::string error_;
    std::unique_ptr<Pool> pool_;  // owns every byte of output_
    GumboOutput* output_ = nullptr;
};

// Byte-level pre-pass before Gumbo, whose cost grows with the bytes it tokenizes: returns `html`
// with the contents of <script> (except type="application/ld+json") and <style> emptied and
// every comment removed, tokenizing as an HTML parser does (case-insensitive tags, quoted
// attribute values, the script "escaped" states where `<!--<script>` hides a `</script>`,
// RCDATA/RAWTEXT elements such as <title> and <textarea> copied verbatim, <plaintext> ending the
// scan). Unterminated scripts, styles and comments run to the end, as in a parser. The visible
// text and the element structure of the page are unchanged.
std::string strip_inert(std::string_view html);

// strip_inert, and also the content of every "skip region": an element matching one of `skip`
// (SiteRules::skip, compiled by skip_patterns) that is a block (div, section, aside, header,
// footer, nav, article, ul, ol, dl, menu, figure, main, details, blockquote) keeps its start
// and end tags and loses everything between them, so that the parser never reads it. Only when
// that leaves the rest of the tree exactly as it was: the region's markup must be balanced
// (every element opened inside closed inside, but for the end tags a parser implies; no end tag
// of an element opened before it), hold no list item outside a list of its own, no <a> inside
// an open <a>, and none of form, html, head, body, frameset, template, svg, math, plaintext,
// button, nobr, select; else the region is kept as it is. Matching reads the start tag's name,
// id and class as written (character references are not decoded: such a region is kept).
std::string strip_inert(std::string_view html, const std::vector<css::Compound>& skip);

// SiteRules::skip -> the patterns strip_inert takes. Throws css::SelectorError for a selector
// that is not a list of compounds of a tag, #ids and .classes (no attributes, pseudo-classes or
// combinators).
std::vector<css::Compound> skip_patterns(const std::vector<std::string>& selectors);

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
// raw_text appended to `out`, also skipping every element below `n` for which skip() is true.
void append_raw_text(const GumboNode* n, std::string& out,
                     const std::function<bool(const GumboNode*)>& skip);

}  // namespace baofeed::parsers
