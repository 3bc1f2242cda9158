// Matching css::SelectorList against a Gumbo tree.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include <gumbo.h>

#include "core/selector.h"

namespace baofeed::parsers {

// A parsed selector, ready to match. Cheap to copy; thread-safe to use concurrently.
class Selector {
  public:
    // Throws css::SelectorError on bad syntax.
    explicit Selector(std::string_view text);
    explicit Selector(css::SelectorList list) : list_(std::move(list)) {}

    bool matches(const GumboNode* element) const;
    // Matches under `scope` (descendants only, not scope itself), in document order.
    std::vector<const GumboNode*> select_all(const GumboNode* scope) const;
    const GumboNode* select_first(const GumboNode* scope) const;  // nullptr if none

  private:
    css::SelectorList list_;
};

}  // namespace baofeed::parsers
