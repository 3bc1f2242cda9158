// libFuzzer target: the CSS selector parser. Any input either parses or throws SelectorError;
// a parsed selector can then be matched against a small page without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/selector.h"
#include "parsers/html_document.h"
#include "parsers/select.h"

namespace {
const baofeed::parsers::HtmlDocument& sample_page() {
    static const baofeed::parsers::HtmlDocument doc(
        "<html><head><meta property='og:title' content=x></head><body><div id=a class='x y'>"
        "<p class=x>1</p><p lang=vi-VN>2<span>3</span></p><ul><li>a<li>b</ul><table><tr><td>c"
        "</table><figure><img src=i.jpg data-src=j.jpg><figcaption>f</figcaption></figure>"
        "</div></body></html>");
    return doc;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const baofeed::parsers::Selector selector(baofeed::css::parse_selector(text));
        const auto& doc = sample_page();
        for (const GumboNode* n : selector.select_all(doc.root())) {
            (void)selector.matches(n);
        }
    } catch (const baofeed::css::SelectorError&) {
        // the documented answer to bad syntax
    }
    return 0;
}
