// libFuzzer target: selector matching and article extraction with random rules. The input is
// "<rules>\n<html>": the first line holds up to eight selectors separated by '|' (title, lead,
// body, author, published, caption, next_page, remove); the rest is the page. A selector that
// does not parse is left empty, as config loading would have refused it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/selector.h"
#include "fuzz/sanitized_shape.h"
#include "parsers/extract.h"

namespace {

std::string valid_or_empty(std::string_view s) {
    try {
        (void)baofeed::css::parse_selector(s);
        return std::string(s);
    } catch (const baofeed::css::SelectorError&) {
        return "";
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t nl = input.find('\n');
    const std::string_view head =
        nl == std::string_view::npos ? std::string_view() : input.substr(0, nl);
    const std::string_view html = nl == std::string_view::npos ? input : input.substr(nl + 1);

    std::vector<std::string> fields;
    std::size_t start = 0;
    while (start <= head.size() && fields.size() < 8) {
        std::size_t bar = head.find('|', start);
        if (bar == std::string_view::npos) {
            bar = head.size();
        }
        fields.push_back(valid_or_empty(head.substr(start, bar - start)));
        start = bar + 1;
    }
    fields.resize(8);
    baofeed::SiteRules rules;
    rules.title = fields[0];
    rules.lead = fields[1];
    rules.body = fields[2];
    rules.author = fields[3];
    rules.published = fields[4];
    rules.caption = fields[5];
    rules.next_page = fields[6];
    if (!fields[7].empty()) {
        rules.remove.push_back(fields[7]);
    }

    const baofeed::parsers::Extraction e =
        baofeed::parsers::extract_article(html, "http://fuzz.test/a/b.html", rules);
    if (e.ok) {
        const std::string shape = baofeed::testing::sanitized_shape_error(e.article.html);
        if (!shape.empty()) {
            std::abort();  // the sanitized body broke its promise
        }
    }
    baofeed::parsers::Extraction first = e;
    baofeed::parsers::append_page(first, e);
    return 0;
}
