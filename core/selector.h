// CSS selector syntax: text -> SelectorList. Matching against a parse tree lives in parsers/.
// Supported: type (`div`, `*`), `.class`, `#id`, `[attr]`, `[attr=v]`, `[attr~=v]`, `[attr^=v]`,
// `[attr$=v]`, `[attr*=v]` (values quoted or bare), `:not(<compound list>)`, `:first-child`,
// `:last-child`, `:first-of-type`, `:last-of-type`, descendant (` `) and child (`>`) combinators,
// and lists (`a, b`). Pure; thread-safe.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace baofeed::css {

class SelectorError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct AttributeTest {
    enum class Op { exists, equals, includes_word, prefix, suffix, contains };
    std::string name;  // lower-case
    Op op = Op::exists;
    std::string value;
};

struct Compound;

struct PseudoClass {
    enum class Kind { not_, first_child, last_child, first_of_type, last_of_type };
    Kind kind = Kind::not_;
    std::vector<Compound> negated;  // for :not(), any of these
};

// One compound selector: every test must hold for the same element.
struct Compound {
    std::string tag;  // lower-case; "" or "*" matches any element
    std::vector<std::string> ids;
    std::vector<std::string> classes;
    std::vector<AttributeTest> attributes;
    std::vector<PseudoClass> pseudos;
};

enum class Combinator { descendant, child };

// compounds[0] (comb[0]) compounds[1] ... ; combinators.size() == compounds.size() - 1.
struct Complex {
    std::vector<Compound> compounds;
    std::vector<Combinator> combinators;
};

using SelectorList = std::vector<Complex>;

// Throws SelectorError naming the offset and the reason for any syntax it does not support.
SelectorList parse_selector(std::string_view text);

}  // namespace baofeed::css
