#include "parsers/select.h"

#include <set>
#include <string>
#include <utility>

#include "parsers/html_document.h"

namespace baofeed::parsers {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool has_word(std::string_view list, std::string_view word) {
    if (word.empty()) {
        return false;
    }
    std::size_t i = 0;
    while (i < list.size()) {
        while (i < list.size() && is_space(list[i])) {
            ++i;
        }
        const std::size_t start = i;
        while (i < list.size() && !is_space(list[i])) {
            ++i;
        }
        if (i > start && list.substr(start, i - start) == word) {
            return true;
        }
    }
    return false;
}

const GumboNode* parent_element(const GumboNode* n) {
    const GumboNode* p = n->parent;
    return p != nullptr && p->type == GUMBO_NODE_ELEMENT ? p : nullptr;
}

// Element siblings of n, including n, in order; empty for the root.
std::vector<const GumboNode*> siblings(const GumboNode* n) {
    const GumboNode* p = n->parent;
    if (p == nullptr) {
        return {};
    }
    return element_children(p);
}

bool attribute_matches(const GumboNode* n, const css::AttributeTest& test) {
    const char* raw = attribute(n, test.name);
    if (raw == nullptr) {
        return false;
    }
    const std::string_view v(raw);
    const std::string_view want(test.value);
    using Op = css::AttributeTest::Op;
    switch (test.op) {
        case Op::exists:
            return true;
        case Op::equals:
            return v == want;
        case Op::includes_word:
            return has_word(v, want);
        case Op::prefix:
            return !want.empty() && v.substr(0, want.size()) == want;
        case Op::suffix:
            return !want.empty() && v.size() >= want.size() &&
                   v.substr(v.size() - want.size()) == want;
        case Op::contains:
            return !want.empty() && v.find(want) != std::string_view::npos;
    }
    return false;
}

bool compound_matches(const GumboNode* n, const css::Compound& c);

bool pseudo_matches(const GumboNode* n, const css::PseudoClass& p) {
    using Kind = css::PseudoClass::Kind;
    if (p.kind == Kind::not_) {
        for (const css::Compound& negated : p.negated) {
            if (compound_matches(n, negated)) {
                return false;
            }
        }
        return true;
    }
    const std::vector<const GumboNode*> sibs = siblings(n);
    if (sibs.empty()) {
        return false;
    }
    switch (p.kind) {
        case Kind::first_child:
            return sibs.front() == n;
        case Kind::last_child:
            return sibs.back() == n;
        case Kind::first_of_type:
        case Kind::last_of_type: {
            const std::string name = tag_name(n);
            const GumboNode* found = nullptr;
            for (const GumboNode* s : sibs) {
                if (tag_name(s) == name) {
                    found = s;
                    if (p.kind == Kind::first_of_type) {
                        break;
                    }
                }
            }
            return found == n;
        }
        case Kind::not_:
            break;
    }
    return false;
}

// :not() holds compounds without nested :not(), so this recursion is at most two levels deep.
bool compound_matches(const GumboNode* n, const css::Compound& c) {
    if (!is_element(n)) {
        return false;
    }
    if (!c.tag.empty() && c.tag != "*" && tag_name(n) != c.tag) {
        return false;
    }
    for (const std::string& id : c.ids) {
        const char* v = attribute(n, "id");
        if (v == nullptr || id != v) {
            return false;
        }
    }
    if (!c.classes.empty()) {
        const char* cls = attribute(n, "class");
        if (cls == nullptr) {
            return false;
        }
        for (const std::string& want : c.classes) {
            if (!has_word(cls, want)) {
                return false;
            }
        }
    }
    for (const css::AttributeTest& a : c.attributes) {
        if (!attribute_matches(n, a)) {
            return false;
        }
    }
    for (const css::PseudoClass& p : c.pseudos) {
        if (!pseudo_matches(n, p)) {
            return false;
        }
    }
    return true;
}

// Right-to-left with an explicit backtracking stack; `seen` keeps it linear in the depth.
bool complex_matches(const GumboNode* n, const css::Complex& cx) {
    if (cx.compounds.empty()) {
        return false;
    }
    const std::size_t last = cx.compounds.size() - 1;
    if (!compound_matches(n, cx.compounds[last])) {
        return false;
    }
    std::vector<std::pair<std::size_t, const GumboNode*>> stack{{last, n}};
    std::set<std::pair<std::size_t, const GumboNode*>> seen;
    while (!stack.empty()) {
        const auto [i, e] = stack.back();
        stack.pop_back();
        if (i == 0) {
            return true;
        }
        const css::Compound& want = cx.compounds[i - 1];
        if (cx.combinators[i - 1] == css::Combinator::child) {
            const GumboNode* p = parent_element(e);
            if (p != nullptr && compound_matches(p, want) && seen.insert({i - 1, p}).second) {
                stack.emplace_back(i - 1, p);
            }
            continue;
        }
        for (const GumboNode* a = parent_element(e); a != nullptr; a = parent_element(a)) {
            if (compound_matches(a, want) && seen.insert({i - 1, a}).second) {
                stack.emplace_back(i - 1, a);
            }
        }
    }
    return false;
}

}  // namespace

Selector::Selector(std::string_view text) : list_(css::parse_selector(text)) {}

bool Selector::matches(const GumboNode* element) const {
    if (!is_element(element)) {
        return false;
    }
    for (const css::Complex& cx : list_) {
        if (complex_matches(element, cx)) {
            return true;
        }
    }
    return false;
}

std::vector<const GumboNode*> Selector::select_all(const GumboNode* scope) const {
    std::vector<const GumboNode*> out;
    for (const GumboNode* n : descendants(scope)) {
        if (matches(n)) {
            out.push_back(n);
        }
    }
    return out;
}

const GumboNode* Selector::select_first(const GumboNode* scope) const {
    for (const GumboNode* n : descendants(scope)) {
        if (matches(n)) {
            return n;
        }
    }
    return nullptr;
}

}  // namespace baofeed::parsers
